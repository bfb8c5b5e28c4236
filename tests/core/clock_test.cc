#include "core/clock.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/device_model.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

// Burns CPU on the calling thread for `seconds` of wall time.
void Spin(double seconds) {
  WallClock wall;
  const double end = wall.NowSeconds() + seconds;
  volatile double sink = 0;
  while (wall.NowSeconds() < end) {
    for (int i = 0; i < 1000; ++i) sink = sink + i * 0.5;
  }
}

void Sleep(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

TEST(ClockTest, ThreadCpuGrowsWhileSpinning) {
  WallClock wall;
  const double wall0 = wall.NowSeconds();
  const double cpu0 = ThreadCpuSeconds();
  Spin(0.3);
  const double cpu = ThreadCpuSeconds() - cpu0;
  const double elapsed = wall.NowSeconds() - wall0;
  // Generous: even sharing a core with a compiler we get far more than 10%.
  EXPECT_GT(cpu, 0.03);
  // One thread cannot use more CPU time than wall time passed.
  EXPECT_LE(cpu, elapsed + 0.01);
}

TEST(ClockTest, ThreadCpuStandsStillWhileSleeping) {
  const double cpu0 = ThreadCpuSeconds();
  Sleep(0.3);
  EXPECT_LT(ThreadCpuSeconds() - cpu0, 0.05);
}

TEST(ClockTest, ThreadCpuIgnoresOtherThreads) {
  const double thread0 = ThreadCpuSeconds();
  const double process0 = ProcessCpuSeconds();
  std::thread worker([] { Spin(0.3); });
  worker.join();
  // The worker's CPU counts for the process but not for this thread.
  EXPECT_LT(ThreadCpuSeconds() - thread0, 0.05);
  EXPECT_GT(ProcessCpuSeconds() - process0, 0.03);
}

TEST(ClockTest, WallClockMovesForward) {
  WallClock wall;
  const double t0 = wall.NowSeconds();
  Sleep(0.05);
  EXPECT_GE(wall.NowSeconds() - t0, 0.045);
}

TEST(ClockTest, ManualClockMovesOnlyWhenAdvanced) {
  ManualClock clock;
  EXPECT_EQ(clock.NowSeconds(), 0.0);
  clock.Advance(1.5);
  EXPECT_EQ(clock.NowSeconds(), 1.5);
  EXPECT_EQ(clock.NowSeconds(), 1.5);

  // Concurrent advances are not lost (0.25 is exact in binary).
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) clock.Advance(0.25);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(clock.NowSeconds(), 1001.5);
}

TEST(DeviceModelTest, TransferSeconds) {
  DeviceModel m;
  m.bandwidth_mbps = 8;
  m.latency_ms = 5;
  // 1e6 bytes = 8e6 bits at 8e6 bit/s = 1 s, plus 5 ms latency.
  EXPECT_DOUBLE_EQ(m.TransferSeconds(1000000), 1.005);
  EXPECT_DOUBLE_EQ(m.TransferSeconds(0), 0.005);
  m.bandwidth_mbps = 100;
  m.latency_ms = 0;
  // 25 MB at 100 Mbit/s = 2 s.
  EXPECT_DOUBLE_EQ(m.TransferSeconds(25000000), 2.0);
}

TEST(DeviceModelTest, ComputeSecondsScalesBySlowdown) {
  DeviceModel m;
  EXPECT_DOUBLE_EQ(m.ComputeSeconds(2.5), 2.5);  // default slowdown 1
  m.slowdown = 4;
  EXPECT_DOUBLE_EQ(m.ComputeSeconds(2.5), 10.0);
}

TEST(DeviceModelTest, EnergyJoules) {
  DeviceModel m;
  EXPECT_EQ(m.EnergyJoules(10, 1, 1), 0.0);  // default powers are 0
  m.power_compute_w = 3.5;
  m.power_transmit_w = 1.25;
  m.power_receive_w = 0.75;
  // 10 s x 3.5 W + 1.005 s x 1.25 W + 0.5 s x 0.75 W
  //   = 35 + 1.25625 + 0.375 = 36.63125 J
  EXPECT_DOUBLE_EQ(m.EnergyJoules(10, 1.005, 0.5), 36.63125);
  // Each power multiplies its own duration, not another's.
  EXPECT_DOUBLE_EQ(m.EnergyJoules(0, 2, 0), 2.5);
  EXPECT_DOUBLE_EQ(m.EnergyJoules(0, 0, 2), 1.5);
}

TEST(ClockTest, ManualClockWaitEndsAtItsDeadline) {
  ManualClock clock;
  absl::Mutex mu;
  bool flag = false;
  std::thread advancer([&clock] {
    for (int i = 0; i < 20; ++i) {
      Sleep(0.002);
      clock.Advance(1);
    }
  });
  {
    absl::MutexLock lock(&mu);
    EXPECT_FALSE(
        clock.AwaitWithDeadline(&mu, absl::Condition(&flag), /*deadline_s=*/5));
    EXPECT_GE(clock.NowSeconds(), 5);
  }
  advancer.join();
}

TEST(ClockTest, WaitEndsWhenTheConditionHolds) {
  ManualClock manual;
  for (const Clock* clock :
       {static_cast<const Clock*>(&manual), &RealClock()}) {
    absl::Mutex mu;
    bool flag = false;
    std::thread setter([&] {
      Sleep(0.01);
      absl::MutexLock lock(&mu);
      flag = true;
    });
    {
      absl::MutexLock lock(&mu);
      EXPECT_TRUE(clock->AwaitWithDeadline(&mu, absl::Condition(&flag),
                                           clock->NowSeconds() + 60));
    }
    setter.join();
  }
}

// WaitWithDeadline, in the loop its callers use: ends when signalled, and
// at the deadline on either clock when not.
TEST(ClockTest, CondVarWaitEndsWhenSignalledOrAtTheDeadline) {
  ManualClock manual;
  for (const Clock* clock :
       {static_cast<const Clock*>(&manual), &RealClock()}) {
    absl::Mutex mu;
    absl::CondVar cv;
    bool flag = false;
    std::thread setter([&] {
      Sleep(0.01);
      absl::MutexLock lock(&mu);
      flag = true;
      cv.SignalAll();
    });
    {
      absl::MutexLock lock(&mu);
      const double deadline = clock->NowSeconds() + 60;
      const double t0 = MonotonicSeconds();
      while (!flag && clock->NowSeconds() < deadline) {
        clock->WaitWithDeadline(&cv, &mu, deadline);
      }
      EXPECT_TRUE(flag);
      EXPECT_LT(MonotonicSeconds() - t0, 5);
    }
    setter.join();
  }
  std::thread advancer([&manual] {
    for (int i = 0; i < 20; ++i) {
      Sleep(0.002);
      manual.Advance(1);
    }
  });
  absl::Mutex mu;
  absl::CondVar cv;
  {
    absl::MutexLock lock(&mu);
    const double deadline = manual.NowSeconds() + 5;
    while (manual.NowSeconds() < deadline) {
      manual.WaitWithDeadline(&cv, &mu, deadline);
    }
  }
  advancer.join();
  // The wall clock blocks until the deadline rather than spinning.
  absl::MutexLock lock(&mu);
  const double deadline = RealClock().NowSeconds() + 0.05;
  int waits = 0;
  while (RealClock().NowSeconds() < deadline) {
    RealClock().WaitWithDeadline(&cv, &mu, deadline);
    ++waits;
  }
  EXPECT_LT(waits, 10);
}

}  // namespace
}  // namespace tandem
