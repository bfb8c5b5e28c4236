// The coordinator's auxiliary classifiers: a sample-weighted mean per split
// point, the same whatever order the devices' classifiers arrived in.
#include "server/aux_store.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ml/aux_classifier.h"

namespace tandem::server {
namespace {

std::unique_ptr<ml::Model> Mlp() {
  return ml::Model::Create("mlp", {1, 28, 28, 10}, 1).value();
}

TEST(AuxStoreTest, CommitReplacesTheClassifierByTheWeightedMean) {
  auto model = Mlp();
  AuxStore store(model.get(), 1);
  const size_t n = static_cast<size_t>(ml::AuxSize(*model, 1));
  const std::vector<float> initial = *store.Get(1);
  store.Add(1, "a", std::vector<float>(n, 1.0f), 1);
  store.Add(1, "b", std::vector<float>(n, 2.0f), 3);
  store.Discard();  // a failed round leaves the classifier as it was
  store.Commit();
  EXPECT_EQ(*store.Get(1), initial);
  store.Add(1, "a", std::vector<float>(n, 1.0f), 1);
  store.Add(1, "b", std::vector<float>(n, 2.0f), 3);
  store.Commit();
  EXPECT_EQ(*store.Get(1), std::vector<float>(n, 1.75f));  // (1 + 6) / 4
}

TEST(AuxStoreTest, MeanDoesNotDependOnArrivalOrder) {
  // 1 + 2^-60 rounds to 1 in double, so summing 1, 2^-60 and -1 in arrival
  // order gives 0 or 2^-60 / 3 depending on the order; in device-id order
  // it is always the same.
  auto model = Mlp();
  const size_t n = static_cast<size_t>(ml::AuxSize(*model, 1));
  const std::vector<std::pair<std::string, float>> updates = {
      {"a", 1.0f}, {"b", std::ldexp(1.0f, -60)}, {"c", -1.0f}};
  std::vector<int> order = {0, 1, 2};
  std::vector<std::vector<float>> means;
  do {
    AuxStore store(model.get(), 1);
    for (int i : order) {
      store.Add(1, updates[i].first, std::vector<float>(n, updates[i].second),
                1);
    }
    store.Commit();
    means.push_back(*store.Get(1));
  } while (std::next_permutation(order.begin(), order.end()));
  ASSERT_EQ(means.size(), 6u);
  for (const std::vector<float>& m : means) EXPECT_EQ(m, means[0]);
}

}  // namespace
}  // namespace tandem::server
