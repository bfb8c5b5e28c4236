// Turning SIGINT/SIGTERM into a callback on an ordinary thread, so the
// callback may lock mutexes and cancel RPCs (a signal handler may not).
//
//   StopOnSignals stop([&] { agent.RequestStop(); });
//
// The handler only writes a byte to a pipe (async-signal-safe); a watcher
// thread reads it and runs the callback. This works whichever thread the
// signal lands on, including threads that libraries (OpenBLAS, OpenMP,
// gRPC) start before main(). One instance per process.
#ifndef TANDEM_CORE_SIGNALS_H_
#define TANDEM_CORE_SIGNALS_H_

#include <functional>
#include <thread>

namespace tandem {

class StopOnSignals {
 public:
  // `on_hangup`, when set, runs on every SIGHUP (and the process goes on).
  explicit StopOnSignals(std::function<void()> on_signal,
                         std::function<void()> on_hangup = nullptr);
  ~StopOnSignals();  // restores default handling, ends the watcher
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  std::thread watcher_;
};

}  // namespace tandem

#endif  // TANDEM_CORE_SIGNALS_H_
