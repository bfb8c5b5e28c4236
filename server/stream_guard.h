// Bounds on the client streams (PushUpdate, SplitTraining) a coordinator
// holds, each of which occupies a server thread while it waits: at most
// `max_streams` at once, at most `max_per_device` per authenticated device,
// and none silent for longer than `idle_s` (a watchdog thread cancels it).
//
//   auto lease = guard.Open(ctx);        // RESOURCE_EXHAUSTED when full
//   if (!lease.ok()) return ToGrpcStatus(lease.status());
//   while (reader->Read(&m)) { (*lease)->Touch(); ... }
//   // once the caller is authenticated as `id`:
//   TANDEM_RETURN_IF_ERROR((*lease)->Bind(id));
//
// Thread-safe.
#ifndef TANDEM_SERVER_STREAM_GUARD_H_
#define TANDEM_SERVER_STREAM_GUARD_H_

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/clock.h"
#include "core/config.h"
#include "grpcpp/grpcpp.h"

namespace tandem::server {

struct StreamLimits {
  int max_streams = 512;
  int max_per_device = 2;
  double idle_s = 120;
};

// server.max_streams, max_streams_per_device, stream_idle_s.
inline StreamLimits StreamLimitsFor(const ServerConfig& s) {
  return {s.max_streams, s.max_streams_per_device, s.stream_idle_s};
}

class StreamGuard {
 public:
  class Lease;

  // `clock` outlives the guard.
  StreamGuard(StreamLimits limits, const Clock* clock = &RealClock());
  ~StreamGuard();  // stops the watchdog; every lease must be gone

  absl::StatusOr<std::unique_ptr<Lease>> Open(grpc::ServerContext* ctx);
  int open_streams() const;
  int64_t cancelled_idle() const { return cancelled_idle_.load(); }
  // Cancels every stream bound to `device` (a revoked device); returns how
  // many.
  int CancelDevice(const std::string& device);

 private:
  struct Entry {
    grpc::ServerContext* ctx;
    double last_s;
    std::string device;  // "" until Bind
  };
  void Watch();
  void Touch(Lease* lease);
  absl::Status Bind(Lease* lease, const std::string& device);
  void Close(Lease* lease);

  const StreamLimits limits_;
  const Clock& clock_;
  std::atomic<int64_t> cancelled_idle_{0};
  mutable absl::Mutex mu_;
  std::map<Lease*, Entry> open_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> per_device_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watchdog_;
};

// One open stream; closing it (destruction) frees its place.
class StreamGuard::Lease {
 public:
  ~Lease() { guard_->Close(this); }
  // A message arrived: the stream is not idle.
  void Touch() { guard_->Touch(this); }
  // The stream belongs to authenticated `device`: RESOURCE_EXHAUSTED if it
  // already holds max_per_device streams.
  absl::Status Bind(const std::string& device) {
    return guard_->Bind(this, device);
  }

 private:
  friend class StreamGuard;
  explicit Lease(StreamGuard* guard) : guard_(guard) {}
  StreamGuard* const guard_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_STREAM_GUARD_H_
