#include "server/stream_guard.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace tandem::server {

StreamGuard::StreamGuard(StreamLimits limits, const Clock* clock)
    : limits_(limits), clock_(*clock) {
  watchdog_ = std::thread([this] { Watch(); });
}

StreamGuard::~StreamGuard() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  watchdog_.join();
}

absl::StatusOr<std::unique_ptr<StreamGuard::Lease>> StreamGuard::Open(
    grpc::ServerContext* ctx) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(open_.size()) >= limits_.max_streams) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many open streams (server.max_streams = ", limits_.max_streams,
        ")"));
  }
  std::unique_ptr<Lease> lease(new Lease(this));
  open_[lease.get()] = {ctx, clock_.NowSeconds(), ""};
  return lease;
}

int StreamGuard::open_streams() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(open_.size());
}

void StreamGuard::Touch(Lease* lease) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(lease);
  if (it != open_.end()) it->second.last_s = clock_.NowSeconds();
}

absl::Status StreamGuard::Bind(Lease* lease, const std::string& device) {
  absl::MutexLock lock(&mu_);
  Entry& e = open_.at(lease);
  if (!e.device.empty()) return absl::OkStatus();
  auto it = per_device_.find(device);
  if (it != per_device_.end() && it->second >= limits_.max_per_device) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the device has too many open streams "
                     "(server.max_streams_per_device = ",
                     limits_.max_per_device, ")"));
  }
  ++per_device_[device];
  e.device = device;
  return absl::OkStatus();
}

void StreamGuard::Close(Lease* lease) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(lease);
  if (it == open_.end()) return;
  if (!it->second.device.empty()) {
    auto d = per_device_.find(it->second.device);
    if (--d->second == 0) per_device_.erase(d);
  }
  open_.erase(it);
}

int StreamGuard::CancelDevice(const std::string& device) {
  absl::MutexLock lock(&mu_);
  int cancelled = 0;
  for (auto& [lease, e] : open_) {
    if (e.ctx != nullptr && e.device == device) {
      e.ctx->TryCancel();
      e.ctx = nullptr;
      ++cancelled;
    }
  }
  return cancelled;
}

void StreamGuard::Watch() {
  const double period = std::clamp(limits_.idle_s / 4, 0.01, 1.0);
  absl::MutexLock lock(&mu_);
  auto stopping = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  while (!clock_.AwaitWithDeadline(&mu_, absl::Condition(&stopping),
                                   clock_.NowSeconds() + period)) {
    const double now = clock_.NowSeconds();
    for (auto& [lease, e] : open_) {
      if (e.ctx != nullptr && now - e.last_s > limits_.idle_s) {
        // Read() in the handler returns false; it then ends the stream.
        e.ctx->TryCancel();
        e.ctx = nullptr;
        cancelled_idle_.fetch_add(1);
        LogWarning(absl::StrCat("a stream was silent for more than ",
                                limits_.idle_s,
                                " s (server.stream_idle_s): cancelled"));
      }
    }
  }
}

}  // namespace tandem::server
