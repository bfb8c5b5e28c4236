#include "core/clock.h"

#include <time.h>

#include <atomic>
#include <chrono>

namespace tandem {
namespace {

double ClockSeconds(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) +
         1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

double MonotonicSeconds() {
  using std::chrono::duration;
  return duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double WallClock::NowSeconds() const { return MonotonicSeconds(); }

bool WallClock::AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                  double deadline_s) const {
  const double left = deadline_s - NowSeconds();
  if (left <= 0) return cond.Eval();
  return mu->AwaitWithTimeout(cond, absl::Seconds(left));
}

void WallClock::WaitWithDeadline(absl::CondVar* cv, absl::Mutex* mu,
                                 double deadline_s) const {
  const double left = deadline_s - NowSeconds();
  if (left > 0) cv->WaitWithTimeout(mu, absl::Seconds(left));
}

const Clock& RealClock() {
  static const WallClock* clock = new WallClock;
  return *clock;
}

double ManualClock::NowSeconds() const { return now_.load(); }

bool ManualClock::AwaitWithDeadline(absl::Mutex* mu,
                                    const absl::Condition& cond,
                                    double deadline_s) const {
  // Advance() does not signal the mutex: look again every millisecond.
  while (!cond.Eval()) {
    if (NowSeconds() >= deadline_s) return false;
    mu->AwaitWithTimeout(cond, absl::Milliseconds(1));
  }
  return true;
}

void ManualClock::WaitWithDeadline(absl::CondVar* cv, absl::Mutex* mu,
                                   double deadline_s) const {
  if (NowSeconds() < deadline_s) cv->WaitWithTimeout(mu, absl::Milliseconds(1));
}

void ManualClock::Advance(double seconds) {
  double cur = now_.load();
  while (!now_.compare_exchange_weak(cur, cur + seconds)) {
  }
}

double ThreadCpuSeconds() { return ClockSeconds(CLOCK_THREAD_CPUTIME_ID); }
double ProcessCpuSeconds() { return ClockSeconds(CLOCK_PROCESS_CPUTIME_ID); }

}  // namespace tandem
