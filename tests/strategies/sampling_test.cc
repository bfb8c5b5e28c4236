#include "strategies/sampling.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

std::vector<std::string> Ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("dev" + std::to_string(100 + i));
  return ids;
}

size_t Count(const std::vector<std::string>& available, double fraction,
             int min_devices) {
  auto chosen = SampleDevices(available, fraction, min_devices, 1, 1);
  EXPECT_TRUE(chosen.ok()) << chosen.status();
  return chosen.ok() ? chosen->size() : 0;
}

TEST(SampleDevicesTest, Sizes) {
  EXPECT_EQ(Count(Ids(30), 0.1, 1), 3u);  // 0.1 * 30 is 3.0000000000000004
  EXPECT_EQ(Count(Ids(5), 0.5, 1), 3u);   // ceil(2.5)
  EXPECT_EQ(Count(Ids(30), 0.1, 5), 5u);  // min_devices wins
  EXPECT_EQ(Count(Ids(30), 1.0, 1), 30u);
  EXPECT_EQ(Count(Ids(7), 0.01, 1), 1u);
  EXPECT_EQ(Count(Ids(3), 0.5, 3), 3u);
}

TEST(SampleDevicesTest, SortedSubsetWithoutRepeats) {
  const std::vector<std::string> ids = Ids(50);
  auto chosen = SampleDevices(ids, 0.3, 1, 9, 4);
  ASSERT_TRUE(chosen.ok());
  EXPECT_TRUE(std::is_sorted(chosen->begin(), chosen->end()));
  EXPECT_EQ(std::adjacent_find(chosen->begin(), chosen->end()), chosen->end());
  for (const std::string& id : *chosen) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end());
  }
}

TEST(SampleDevicesTest, DeterministicFromSeedAndRoundOnly) {
  std::vector<std::string> ids = Ids(40);
  auto a = SampleDevices(ids, 0.25, 1, 17, 3);
  std::reverse(ids.begin(), ids.end());  // input order does not matter
  auto b = SampleDevices(ids, 0.25, 1, 17, 3);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // Different rounds and seeds choose differently (not all equal over 5).
  int same_round = 0;
  int same_seed = 0;
  for (int r = 4; r < 9; ++r) {
    same_round += *SampleDevices(ids, 0.25, 1, 17, r) == *a;
    same_seed += *SampleDevices(ids, 0.25, 1, 17 + r, 3) == *a;
  }
  EXPECT_LT(same_round, 5);
  EXPECT_LT(same_seed, 5);
}

TEST(SampleDevicesTest, RoughlyUniform) {
  // 2000 rounds choosing 1 of 4: each device about 500 times (sd 19.4).
  std::map<std::string, int> hits;
  for (int r = 0; r < 2000; ++r) {
    hits[SampleDevices(Ids(4), 0.25, 1, 5, r)->front()]++;
  }
  ASSERT_EQ(hits.size(), 4u);
  for (const auto& [id, n] : hits) EXPECT_NEAR(n, 500, 100) << id;
}

TEST(SampleDevicesTest, Errors) {
  EXPECT_EQ(SampleDevices(Ids(2), 0.5, 3, 1, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SampleDevices(Ids(5), 0, 1, 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleDevices(Ids(5), 1.5, 1, 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleDevices(Ids(5), 0.5, 0, 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleDevices({"a", "b", "a"}, 1, 1, 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tandem
