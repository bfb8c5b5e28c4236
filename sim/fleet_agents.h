// The simulated fleet's devices, in-process: the config's devices with
// their availability, the data partitions they train on, and FleetAgents,
// their DeviceAgents on their own threads. For RunSimulation and RunShard.
#ifndef TANDEM_SIM_FLEET_AGENTS_H_
#define TANDEM_SIM_FLEET_AGENTS_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "client/compute_gate.h"
#include "client/device_agent.h"
#include "client/model_pool.h"
#include "core/config.h"
#include "ml/data/dataset.h"
#include "ml/profile.h"
#include "sim/availability.h"
#include "sim/device_dispatcher.h"
#include "sim/device_links.h"

namespace tandem::sim {

struct SimDevice {
  std::string id;
  const DeviceClassConfig* cls;
  Availability availability;
  DeviceLinks links;  // traced links, if any
};

// Every partition of the training set, loaded once; a device trains on the
// one the coordinator assigned it (its index in the fleet).
using Partitions = std::vector<std::shared_ptr<const data::Dataset>>;

// Loads the data once and cuts it into the spec's partitions; *test gets
// the test set.
absl::StatusOr<Partitions> MakePartitions(
    const Config& c, std::shared_ptr<const data::Dataset>* test);

// The fleet's devices, each with its availability (the trace's intervals if
// it names the device, else its class's periods) and its traced links.
absl::StatusOr<std::vector<SimDevice>> MakeDevices(const Config& c);

// The partition the coordinator's DataSpec names.
client::DataProvider PartitionProvider(std::shared_ptr<const Partitions> parts);

// The config has a fleet, large enough for server.min_devices.
absl::Status CheckFleet(const Config& c);
// Every bandwidth event names a device of `devices` whose link is not
// traced.
absl::Status CheckBandwidthEvents(const Config& c,
                                  const std::vector<SimDevice>& devices);

grpc::ChannelArguments ChannelArgs(int64_t max_message_bytes);

// The agents of the fleet's devices `which` (indices into `devices`), each
// on a channel from `channel`, running from creation; at most
// fleet.concurrency train at once. `in_process`: the channels are gRPC's
// in-process ones, and the agents are dispatched (sim/device_dispatcher.h:
// served on a few threads when Notify says they have a task, idle at no
// cost); otherwise each runs on its own thread and long-polls.
class FleetAgents {
 public:
  FleetAgents(const Config& c, const std::vector<SimDevice>& devices,
              const std::vector<size_t>& which, bool wall_time, bool in_process,
              std::shared_ptr<const ml::ModelProfile> profile,
              client::DataProvider data,
              const std::function<std::shared_ptr<grpc::Channel>()>& channel);
  ~FleetAgents() { Stop(); }

  // Waits for every agent to end by itself (the coordinator said STOP, or
  // it gave up); returns how many ended with an error. Not for dispatched
  // agents, which end at Stop().
  int Wait();
  // Dispatched agents: `device` has a task (CoordinatorOptions::on_task).
  // Never blocks.
  void Notify(const std::string& device) {
    if (dispatcher_ != nullptr) dispatcher_->Notify(device);
  }
  // Asks every agent to stop, and waits for them.
  void Stop();
  size_t size() const { return agents_.size(); }

 private:
  client::ComputeGate gate_;
  client::ModelPool models_;  // shared by the agents: outlives them
  std::vector<std::unique_ptr<client::DeviceAgent>> agents_;
  std::vector<std::thread> threads_;
  std::unique_ptr<DeviceDispatcher> dispatcher_;  // in-process agents
  std::atomic<int> failed_{0};
};

}  // namespace tandem::sim

#endif  // TANDEM_SIM_FLEET_AGENTS_H_
