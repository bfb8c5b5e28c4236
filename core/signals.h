// Turning SIGINT/SIGTERM into a callback on an ordinary thread, so the
// callback may lock mutexes and cancel RPCs (a signal handler may not).
//
//   StopOnSignals stop([&] { agent.RequestStop(); });
//
// Construct it in main() before starting other threads: it blocks the signals
// in the calling thread, and threads started later inherit the mask.
#ifndef TANDEM_CORE_SIGNALS_H_
#define TANDEM_CORE_SIGNALS_H_

#include <functional>
#include <thread>

namespace tandem {

class StopOnSignals {
 public:
  explicit StopOnSignals(std::function<void()> on_signal);
  ~StopOnSignals();  // ends the waiting thread
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  std::thread waiter_;
};

}  // namespace tandem

#endif  // TANDEM_CORE_SIGNALS_H_
