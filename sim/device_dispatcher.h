// The simulator's in-process devices, served on a few threads: a device is
// served (DeviceAgent::Serve) when it has something to do, its first join
// and stage timing, then each task the coordinator gives it
// (CoordinatorOptions::on_task). An idle device holds no thread, call or
// heartbeat: a 1,000-device fleet costs its training, not its size.
//
// Devices with more training examples are served first (a round's longest
// trainings start early, not last). Thread-safe.
#ifndef TANDEM_SIM_DEVICE_DISPATCHER_H_
#define TANDEM_SIM_DEVICE_DISPATCHER_H_

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/device_agent.h"

namespace tandem::sim {

class DeviceDispatcher {
 public:
  // Serves every agent once (join, timing, first pull) on `threads`
  // threads; `agents` outlive the dispatcher.
  DeviceDispatcher(const std::vector<client::DeviceAgent*>& agents,
                   const std::vector<std::string>& ids, int threads);
  ~DeviceDispatcher() { Stop(); }

  // `device` has a task: serve it (again, if it is being served). Never
  // blocks; unknown ids are ignored.
  void Notify(const std::string& device);
  // Stops the agents and the threads, and waits for them.
  void Stop();
  // Agents whose service ended with an error.
  int failed() const { return failed_.load(); }

 private:
  struct Device {
    client::DeviceAgent* agent;
    int64_t examples = 0;  // its training set, once known
    bool queued = false, busy = false, again = false, done = false;
  };
  using Turn = std::pair<int64_t, std::string>;  // (-examples, id)

  void Work();
  void EnqueueLocked(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, Device> devices_ ABSL_GUARDED_BY(mu_);
  std::set<Turn> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> failed_{0};
  std::vector<std::thread> threads_;
};

}  // namespace tandem::sim

#endif  // TANDEM_SIM_DEVICE_DISPATCHER_H_
