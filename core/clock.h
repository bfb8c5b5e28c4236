// Clocks: where every duration the policy or a report uses comes from.
//
// Code that reads the time or waits with a deadline takes a `const Clock&`
// (usually through its options, defaulting to RealClock()), so tests can
// drive it with a ManualClock instead of sleeping. ThreadCpuSeconds()
// measures the calling thread's CPU time, so simulated devices sharing cores
// do not slow each other's measured compute.
#ifndef TANDEM_CORE_CLOCK_H_
#define TANDEM_CORE_CLOCK_H_

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tandem {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since an arbitrary fixed point; monotonic. Thread-safe.
  virtual double NowSeconds() const = 0;
  // With `mu` held: waits until `cond` holds or this clock reaches
  // `deadline_s`, releasing `mu` meanwhile. Returns whether `cond` holds.
  virtual bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                 double deadline_s) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
  // With `mu` held: waits on `cv` until it is signalled or this clock
  // reaches `deadline_s` (or spuriously), releasing `mu` meanwhile. Unlike
  // AwaitWithDeadline, no condition is evaluated while waiting: for many
  // waiters on a busy mutex, which would evaluate all their conditions at
  // every unlock. The caller checks what it waits for in a loop.
  virtual void WaitWithDeadline(absl::CondVar* cv, absl::Mutex* mu,
                                double deadline_s) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
};

// Monotonic wall clock (steady_clock).
class WallClock : public Clock {
 public:
  double NowSeconds() const override;
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                         double deadline_s) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  void WaitWithDeadline(absl::CondVar* cv, absl::Mutex* mu,
                        double deadline_s) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
};

// The process's wall clock, for options that default to real time.
const Clock& RealClock();

// A clock that only moves when told to; for tests. Thread-safe. A waiter
// notices Advance() within a millisecond of real time.
class ManualClock : public Clock {
 public:
  double NowSeconds() const override;
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                         double deadline_s) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Wakes within a millisecond of real time to notice Advance().
  void WaitWithDeadline(absl::CondVar* cv, absl::Mutex* mu,
                        double deadline_s) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  void Advance(double seconds);

 private:
  std::atomic<double> now_{0};
};

// Monotonic seconds since an arbitrary fixed point (steady_clock); what
// WallClock returns, for code that needs no Clock object.
double MonotonicSeconds();

// CPU seconds used by the calling thread (CLOCK_THREAD_CPUTIME_ID).
double ThreadCpuSeconds();

// CPU seconds used by the whole process (CLOCK_PROCESS_CPUTIME_ID).
double ProcessCpuSeconds();

}  // namespace tandem

#endif  // TANDEM_CORE_CLOCK_H_
