// ComputeGate: the waiter with the most work goes first; ModelPool: a model
// given back is the next one taken.
#include "client/compute_gate.h"

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/model_pool.h"
#include "gtest/gtest.h"

namespace tandem::client {
namespace {

TEST(ComputeGateTest, MostWorkFirstThenArrivalOrder) {
  ComputeGate gate(1);
  gate.Acquire();  // held while the others line up
  absl::Mutex mu;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int work : {1, 5, 3, 5}) {
    waiters.emplace_back([&, work] {
      ComputeSlot slot(&gate, work);
      absl::MutexLock lock(&mu);
      order.push_back(work);
    });
    absl::SleepFor(absl::Milliseconds(50));  // each queued before the next
  }
  gate.Release();
  for (std::thread& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{5, 5, 3, 1}));
}

TEST(ComputeGateTest, SlotsBoundTheHolders) {
  ComputeGate gate(2);
  absl::Mutex mu;
  int inside = 0, most = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      ComputeSlot slot(&gate);
      {
        absl::MutexLock lock(&mu);
        most = std::max(most, ++inside);
      }
      absl::SleepFor(absl::Milliseconds(10));
      absl::MutexLock lock(&mu);
      --inside;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(most, 2);
}

TEST(ModelPoolTest, GivenBackModelIsTakenAgainPerNameAndInput) {
  ModelPool pool;
  const ml::InputShape mnist;
  auto first = pool.Take("mlp", mnist, 1);
  ASSERT_TRUE(first.ok()) << first.status();
  const ml::Model* kept = first->get();
  pool.Give(*std::move(first));
  ml::InputShape other = mnist;
  other.num_classes = 5;
  auto fresh = pool.Take("mlp", other, 1);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->get(), kept) << "another input: built anew";
  auto again = pool.Take("mlp", mnist, 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), kept);
  auto second = pool.Take("mlp", mnist, 2);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->get(), kept) << "one model, one holder";
  EXPECT_FALSE(pool.Take("nope", mnist, 1).ok());
}

}  // namespace
}  // namespace tandem::client
