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

double ManualClock::NowSeconds() const { return now_.load(); }

void ManualClock::Advance(double seconds) {
  double cur = now_.load();
  while (!now_.compare_exchange_weak(cur, cur + seconds)) {
  }
}

double ThreadCpuSeconds() { return ClockSeconds(CLOCK_THREAD_CPUTIME_ID); }
double ProcessCpuSeconds() { return ClockSeconds(CLOCK_PROCESS_CPUTIME_ID); }

}  // namespace tandem
