#include "sim/device_dispatcher.h"

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace tandem::sim {

DeviceDispatcher::DeviceDispatcher(
    const std::vector<client::DeviceAgent*>& agents,
    const std::vector<std::string>& ids, int threads) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < agents.size(); ++i) {
    devices_[ids[i]].agent = agents[i];
    EnqueueLocked(ids[i]);
  }
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

void DeviceDispatcher::EnqueueLocked(const std::string& id) {
  Device& d = devices_.at(id);
  if (d.done) return;
  if (d.busy) {
    d.again = true;
  } else if (!d.queued) {
    d.queued = true;
    queue_.insert({-d.examples, id});
  }
}

void DeviceDispatcher::Notify(const std::string& device) {
  absl::MutexLock lock(&mu_);
  if (devices_.count(device) > 0) EnqueueLocked(device);
}

void DeviceDispatcher::Work() {
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  };
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(&ready));
    if (stopping_) return;
    const std::string id = queue_.begin()->second;
    queue_.erase(queue_.begin());
    Device& d = devices_.at(id);
    d.queued = false;
    d.busy = true;
    mu_.Unlock();
    absl::StatusOr<bool> more = d.agent->Serve();
    const int64_t examples = d.agent->training_examples();
    mu_.Lock();
    d.busy = false;
    d.examples = examples;
    if (!more.ok()) {
      LogWarning(absl::StrCat("device ", id, ": ", more.status().message()));
      failed_.fetch_add(1);
    }
    d.done = !more.ok() || !*more;
    if (d.again) {
      d.again = false;
      EnqueueLocked(id);
    }
  }
}

void DeviceDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [id, d] : devices_) d.agent->RequestStop();
  }
  for (std::thread& t : threads_) t.join();
}

}  // namespace tandem::sim
