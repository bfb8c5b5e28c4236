// The PullTask long-polls waiting for a task, by device: opening a round
// wakes the devices it sampled, not the whole idle fleet (1,000 simulated
// devices each woken, each taking the coordinator's mutex, every round).
//
// A listener also hears of every device given a task (the simulator's
// dispatched devices, which do not long-poll).
//
// Not thread-safe: the Coordinator guards it with its mutex; each waiter
// waits on its own CondVar with that mutex.
#ifndef TANDEM_SERVER_POLL_WAITERS_H_
#define TANDEM_SERVER_POLL_WAITERS_H_

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace tandem::server {

class PollWaiters {
 public:
  // `cv` waits for `device`'s task until Remove.
  void Add(const std::string& device, absl::CondVar* cv) {
    waiting_.emplace(device, cv);
  }
  void Remove(const std::string& device, absl::CondVar* cv) {
    auto [first, last] = waiting_.equal_range(device);
    for (auto it = first; it != last; ++it) {
      if (it->second == cv) {
        waiting_.erase(it);
        return;
      }
    }
  }
  // `device` has a task.
  void Wake(const std::string& device) {
    auto [first, last] = waiting_.equal_range(device);
    for (auto it = first; it != last; ++it) it->second->Signal();
    if (listener_) listener_(device);
  }
  // Called by Wake, with the Coordinator's mutex held: must not block.
  void SetListener(std::function<void(const std::string&)> listener) {
    listener_ = std::move(listener);
  }
  // The run is over.
  void WakeAll() {
    for (auto& [device, cv] : waiting_) cv->Signal();
  }

 private:
  std::multimap<std::string, absl::CondVar*> waiting_;
  std::function<void(const std::string&)> listener_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_POLL_WAITERS_H_
