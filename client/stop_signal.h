// A device agent's stop request, and the one call in flight it cancels.
//
//   grpc::ClientContext ctx;
//   if (!stop.Track(&ctx)) return absl::CancelledError("stopping");
//   ... the call ...
//   stop.Untrack();
//
// Thread-safe: Request() may come from any thread (a signal handler's
// thread, the simulator).
#ifndef TANDEM_CLIENT_STOP_SIGNAL_H_
#define TANDEM_CLIENT_STOP_SIGNAL_H_

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "grpcpp/grpcpp.h"

namespace tandem::client {

class StopSignal {
 public:
  // Stops: the tracked call is cancelled, waits end, Track() refuses.
  void Request() {
    absl::MutexLock lock(&mu_);
    stop_.store(true);
    if (active_ != nullptr) active_->TryCancel();
  }
  bool requested() const { return stop_.load(); }
  // For loops that poll it (training checks it between batches).
  const std::atomic<bool>* flag() const { return &stop_; }

  // Registers `ctx` for cancellation; false if a stop was requested.
  bool Track(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu_);
    if (stop_.load()) return false;
    active_ = ctx;
    return true;
  }
  void Untrack() {
    absl::MutexLock lock(&mu_);
    active_ = nullptr;
  }

  // Waits `d` on `clock`, or until Request().
  void Sleep(const Clock& clock, absl::Duration d) {
    absl::MutexLock lock(&mu_);
    auto stopping = [this]() { return stop_.load(); };
    clock.AwaitWithDeadline(&mu_, absl::Condition(&stopping),
                            clock.NowSeconds() + absl::ToDoubleSeconds(d));
  }

 private:
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_STOP_SIGNAL_H_
