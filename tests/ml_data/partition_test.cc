#include "ml/data/partition.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/data/dataset.h"
#include "ml/data/idx_reader.h"
#include "ml/data/synthetic.h"

namespace tandem::data {
namespace {

using ::testing::HasSubstr;
using Parts = std::vector<std::vector<int64_t>>;

const std::vector<uint8_t>& FashionLabels() {
  static const std::vector<uint8_t>* labels = [] {
    auto read = ReadIdxLabels(std::string(kDefaultFashionMnistPath) +
                              "/train-labels-idx1-ubyte.gz");
    EXPECT_TRUE(read.ok()) << read.status();
    return new std::vector<uint8_t>(read.ok() ? *read : std::vector<uint8_t>{});
  }();
  return *labels;
}

std::vector<uint8_t> SyntheticLabels(int64_t n) {
  SyntheticOptions options;
  options.train_size = n;
  options.test_size = 0;
  options.height = options.width = 1;
  auto tt = MakeSyntheticDataset(options);
  EXPECT_TRUE(tt.ok()) << tt.status();
  return tt.ok() ? tt->train.labels : std::vector<uint8_t>{};
}

Parts Split(const std::vector<uint8_t>& labels, const PartitionOptions& o) {
  absl::StatusOr<Parts> parts = Partition(labels, 10, o);
  EXPECT_TRUE(parts.ok()) << parts.status();
  return parts.ok() ? *std::move(parts) : Parts{};
}

PartitionOptions Options(const std::string& kind, int partitions,
                         uint64_t seed = 1) {
  PartitionOptions o;
  o.kind = kind;
  o.num_partitions = partitions;
  o.seed = seed;
  return o;
}

// Every index in [0, n) exactly once, no partition empty, each sorted.
void ExpectExactCover(const Parts& parts, int64_t n, int partitions) {
  ASSERT_EQ(parts.size(), static_cast<size_t>(partitions));
  std::vector<int> seen(n, 0);
  int64_t total = 0;
  for (const auto& part : parts) {
    EXPECT_FALSE(part.empty());
    EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
    total += part.size();
    for (int64_t i : part) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, n);
      ++seen[i];
    }
  }
  EXPECT_EQ(total, n);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), n);
}

// Share of the most frequent class in each partition.
std::vector<double> TopClassShares(const std::vector<uint8_t>& labels,
                                   const Parts& parts) {
  std::vector<double> shares;
  for (const auto& part : parts) {
    std::vector<int> counts(10);
    for (int64_t i : part) ++counts[labels[i]];
    shares.push_back(*std::max_element(counts.begin(), counts.end()) /
                     static_cast<double>(part.size()));
  }
  return shares;
}

int DistinctClasses(const std::vector<uint8_t>& labels,
                    const std::vector<int64_t>& part) {
  std::set<uint8_t> classes;
  for (int64_t i : part) classes.insert(labels[i]);
  return classes.size();
}

TEST(PartitionTest, EveryKindCoversEachExampleOnce) {
  const std::vector<uint8_t>& labels = FashionLabels();
  ASSERT_EQ(labels.size(), 60000u);
  for (const std::string kind : {"iid", "dirichlet", "shards"}) {
    SCOPED_TRACE(kind);
    ExpectExactCover(Split(labels, Options(kind, 17)), 60000, 17);
  }
}

TEST(PartitionTest, SameSeedSameSplitOtherSeedOtherSplit) {
  const std::vector<uint8_t> labels = SyntheticLabels(2000);
  for (const std::string kind : {"iid", "dirichlet", "shards"}) {
    SCOPED_TRACE(kind);
    const Parts a = Split(labels, Options(kind, 8, 5));
    EXPECT_EQ(a, Split(labels, Options(kind, 8, 5)));
    EXPECT_NE(a, Split(labels, Options(kind, 8, 6)));
  }
}

TEST(PartitionTest, IidIsBalanced) {
  const std::vector<uint8_t>& labels = FashionLabels();
  const Parts parts = Split(labels, Options("iid", 20));
  for (const auto& part : parts) EXPECT_EQ(part.size(), 3000u);
  for (double share : TopClassShares(labels, parts)) EXPECT_LT(share, 0.2);
  // Sizes differ by at most one when n is not a multiple.
  const std::vector<uint8_t> synthetic = SyntheticLabels(1003);
  for (const auto& part : Split(synthetic, Options("iid", 10))) {
    EXPECT_GE(part.size(), 100u);
    EXPECT_LE(part.size(), 101u);
  }
  for (double share :
       TopClassShares(synthetic, Split(synthetic, Options("iid", 10)))) {
    EXPECT_LT(share, 0.2);
  }
}

TEST(PartitionTest, DirichletSmallAlphaIsSkewedLargeAlphaIsNot) {
  const std::vector<uint8_t>& labels = FashionLabels();
  auto mean_top_share = [&](double alpha) {
    PartitionOptions o = Options("dirichlet", 20);
    o.alpha = alpha;
    const std::vector<double> shares = TopClassShares(labels, Split(labels, o));
    double sum = 0;
    for (double s : shares) sum += s;
    return sum / shares.size();
  };
  EXPECT_GT(mean_top_share(0.1), 0.5);
  EXPECT_LT(mean_top_share(1000.0), 0.2);
}

TEST(PartitionTest, DirichletFillsEmptyPartitions) {
  // Tiny alpha puts each class almost entirely in one partition, so with as
  // many partitions as examples most draws leave partitions empty.
  const std::vector<uint8_t> labels = SyntheticLabels(40);
  PartitionOptions o = Options("dirichlet", 40);
  o.alpha = 1e-3;
  const Parts parts = Split(labels, o);
  ExpectExactCover(parts, 40, 40);
  for (const auto& part : parts) EXPECT_EQ(part.size(), 1u);
}

TEST(PartitionTest, ShardsGiveAboutShardsPerPartitionClasses) {
  const std::vector<uint8_t>& labels = FashionLabels();
  PartitionOptions o = Options("shards", 50);
  o.shards_per_partition = 2;
  const Parts parts = Split(labels, o);
  ExpectExactCover(parts, 60000, 50);
  // 100 shards of 600 examples over 10 classes of 6000: a shard holds one
  // class, so a partition holds at most 2.
  for (const auto& part : parts) {
    EXPECT_EQ(part.size(), 1200u);
    EXPECT_GE(DistinctClasses(labels, part), 1);
    EXPECT_LE(DistinctClasses(labels, part), 2);
  }
  o.shards_per_partition = 4;
  o.num_partitions = 10;
  for (const auto& part : Split(labels, o)) {
    EXPECT_LE(DistinctClasses(labels, part), 4);
  }
}

TEST(PartitionTest, OnePartitionTakesEverything) {
  const std::vector<uint8_t> labels = SyntheticLabels(30);
  for (const std::string kind : {"iid", "dirichlet", "shards"}) {
    const Parts parts = Split(labels, Options(kind, 1));
    ExpectExactCover(parts, 30, 1);
  }
}

TEST(PartitionTest, RejectsBadOptions) {
  const std::vector<uint8_t> labels = SyntheticLabels(10);
  EXPECT_EQ(Partition(labels, 10, Options("zipf", 2)).status().message(),
            "partition: unknown kind \"zipf\"; accepted: iid, dirichlet, "
            "shards");
  EXPECT_EQ(Partition(labels, 10, Options("iid", 0)).status().message(),
            "partition: num_partitions = 0 must be at least 1");
  EXPECT_EQ(Partition(labels, 10, Options("iid", 11)).status().message(),
            "partition: num_partitions = 11 is more than the 10 examples");
  PartitionOptions o = Options("dirichlet", 2);
  o.alpha = 0;
  EXPECT_THAT(Partition(labels, 10, o).status().message(),
              HasSubstr("alpha = 0 must be positive"));
  o = Options("shards", 3);
  o.shards_per_partition = 4;
  EXPECT_THAT(Partition(labels, 10, o).status().message(),
              HasSubstr("(12) at most the 10 examples"));
  EXPECT_THAT(Partition(labels, 5, Options("iid", 2)).status().message(),
              HasSubstr("is not below num_classes 5"));
  EXPECT_EQ(Partition({}, 10, Options("iid", 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tandem::data
