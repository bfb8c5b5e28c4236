#include "core/weights.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(WeightsLayoutTest, ComputesOffsets) {
  auto layout = WeightsLayout::Create(
      {{"a", {2, 3}}, {"b", {4}, TensorKind::kBuffer}, {"c", {}}});
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->total_floats(), 11);
  EXPECT_EQ(layout->tensors()[1].offset, 6);
  EXPECT_EQ(layout->tensors()[2].numel, 1);
  EXPECT_EQ(layout->Find("b"), 1);
  EXPECT_EQ(layout->Find("z"), -1);
}

TEST(WeightsLayoutTest, RejectsDuplicatesAndNegativeDims) {
  EXPECT_FALSE(WeightsLayout::Create({{"a", {2}}, {"a", {3}}}).ok());
  EXPECT_FALSE(WeightsLayout::Create({{"a", {-1}}}).ok());
  EXPECT_FALSE(WeightsLayout::Create({{"", {1}}}).ok());
}

TEST(WeightsLayoutTest, DescribesDifference) {
  auto a = WeightsLayout::Create({{"w", {2, 3}}}).value();
  auto b = WeightsLayout::Create({{"w", {3, 2}}}).value();
  EXPECT_NE(a, b);
  EXPECT_NE(a.DescribeDifference(b).find("shape"), std::string::npos);
  EXPECT_EQ(a.DescribeDifference(a), "");
}

TEST(WeightsTest, TensorViewsAndFiniteCheck) {
  Weights w(WeightsLayout::Create({{"a", {2}}, {"b", {3}}}).value());
  w.tensor(1)[2] = 5.0f;
  EXPECT_EQ(w.values()[4], 5.0f);
  EXPECT_TRUE(w.CheckFinite().ok());
  w.tensor(1)[0] = std::numeric_limits<float>::quiet_NaN();
  absl::Status s = w.CheckFinite();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'b'"), std::string::npos) << s;
}

}  // namespace
}  // namespace tandem
