// PollWaiters: a device's task wakes its own long-polls only.
#include "server/poll_waiters.h"

#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace tandem::server {
namespace {

TEST(PollWaitersTest, WakeReachesOnlyThatDevicesPolls) {
  absl::Mutex mu;
  PollWaiters waiters;
  bool a_woken = false, b_woken = false, over = false;
  auto poll = [&](const std::string& id, bool* woken) {
    absl::MutexLock lock(&mu);
    absl::CondVar cv;
    waiters.Add(id, &cv);
    // Without a wake, only the 20 s deadline would end the wait.
    cv.WaitWithTimeout(&mu, absl::Seconds(20));
    waiters.Remove(id, &cv);
    *woken = true;
  };
  std::thread a(poll, "a", &a_woken), b(poll, "b", &b_woken);
  absl::SleepFor(absl::Milliseconds(100));  // both waiting
  {
    absl::MutexLock lock(&mu);
    waiters.Wake("a");
  }
  a.join();
  absl::SleepFor(absl::Milliseconds(100));
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(a_woken);
    EXPECT_FALSE(b_woken);
    waiters.Wake("a");  // no poll of a's left: nothing
    waiters.WakeAll();
    over = true;
  }
  b.join();
  EXPECT_TRUE(b_woken && over);
}

}  // namespace
}  // namespace tandem::server
