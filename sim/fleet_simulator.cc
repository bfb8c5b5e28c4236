#include "sim/fleet_simulator.h"

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/compute_gate.h"
#include "client/device_agent.h"
#include "client/device_data.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"
#include "ml/profile.h"
#include "ml/runtime.h"
#include "offload/split_policy.h"
#include "server/coordinator.h"
#include "server/coordinator_service.h"
#include "sim/virtual_environment.h"
#include "strategies/attacks.h"

namespace tandem::sim {
namespace {

struct SimDevice {
  std::string id;
  const DeviceClassConfig* cls;
  Availability availability;
};

// Every partition of the training set, loaded once; a device trains on the
// one the coordinator assigned it (its index in the fleet).
using Partitions = std::vector<std::shared_ptr<const data::Dataset>>;

// Loads the data once and cuts it into the spec's partitions.
absl::StatusOr<Partitions> MakePartitions(
    const Config& c, std::shared_ptr<const data::Dataset>* test) {
  TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt,
                          data::LoadDataset(data::SourceForConfig(c)));
  *test = std::make_shared<const data::Dataset>(
      c.data.test_limit > 0 ? tt.test.Head(c.data.test_limit) : tt.test);
  data::Dataset train = c.data.train_limit > 0
                            ? tt.train.Head(c.data.train_limit)
                            : std::move(tt.train);
  TANDEM_ASSIGN_OR_RETURN(
      auto parts, client::PartitionForSpec(train, data::SpecForConfig(c)));
  Partitions out;
  for (data::Dataset& p : parts) {
    out.push_back(std::make_shared<const data::Dataset>(std::move(p)));
  }
  return out;
}

// The fleet's devices, each with its availability: the trace's intervals if
// it names the device, else its class's periods.
absl::StatusOr<std::vector<SimDevice>> MakeDevices(const Config& c) {
  AvailabilityTrace trace;
  if (!c.fleet.availability_trace.empty()) {
    TANDEM_ASSIGN_OR_RETURN(trace,
                            LoadAvailabilityTrace(c.fleet.availability_trace));
  }
  const std::vector<std::string> ids = data::FleetDeviceIds(c);
  std::vector<SimDevice> devices;
  for (const DeviceClassConfig& cls : c.fleet.classes) {
    for (int k = 0; k < cls.count; ++k) {
      const std::string& id = ids[devices.size()];
      auto it = trace.find(id);
      devices.push_back(
          {id, &cls,
           it != trace.end()
               ? Availability::Intervals(it->second)
               : Availability::Periodic(cls.online_s, cls.offline_s,
                                        c.seed * 1000 + devices.size())});
    }
  }
  return devices;
}

// The partition the coordinator's DataSpec names.
client::DataProvider PartitionProvider(
    std::shared_ptr<const Partitions> parts) {
  return [parts](const v1::DataSpec& spec)
             -> absl::StatusOr<std::shared_ptr<const data::Dataset>> {
    const int i = spec.partition_index();
    if (i < 0 || i >= static_cast<int>(parts->size())) {
      return absl::OutOfRangeError(
          absl::StrCat("partition ", i, " of ", parts->size()));
    }
    return (*parts)[static_cast<size_t>(i)];
  };
}

// Device `d`'s class as the agent's environment: virtual time (or measured
// wall time), its link in every round, dropout and attack.
std::unique_ptr<VirtualEnvironment> EnvironmentFor(
    const Config& c, const SimDevice& d, uint64_t seed, bool wall_time,
    std::shared_ptr<const ml::ModelProfile> compute_profile) {
  VirtualEnvironmentOptions v;
  v.model = d.cls->device;
  v.compute_profile = std::move(compute_profile);
  v.dropout = d.cls->dropout;
  v.availability = d.availability;
  v.seed = seed;
  v.wall_time = wall_time;
  v.resumed = !c.server.resume_from.empty();
  if (!c.fleet.bandwidth_events.empty()) {
    v.model_for_round = [base = v.model, fleet = c.fleet,
                         id = d.id](int64_t round) {
      DeviceModel m = base;
      m.bandwidth_mbps =
          BandwidthAt(fleet.bandwidth_events, id, round, base.bandwidth_mbps);
      return m;
    };
  }
  v.attack = ParseAttack(d.cls->attack).value();
  v.attack_scale = d.cls->attack_scale;
  return std::make_unique<VirtualEnvironment>(std::move(v));
}

client::DeviceAgentOptions AgentOptions(
    const Config& c, const SimDevice& d, size_t index,
    client::ComputeGate* gate, bool wall_time, bool in_process,
    std::shared_ptr<const ml::ModelProfile> compute_profile,
    client::DataProvider data) {
  client::DeviceAgentOptions o;
  o.device_id = d.id;
  o.device_class = d.cls->name;
  o.seed = c.seed * 1000 + index;
  o.compute_threads = 1;  // several simulated devices train at once
  o.gate = gate;
  o.data_provider = std::move(data);
  o.give_up_after = absl::Seconds(30);
  o.in_process_channel = in_process;
  o.environment =
      EnvironmentFor(c, d, o.seed, wall_time, std::move(compute_profile));
  return o;
}

absl::Status CheckFleet(const Config& c) {
  if (c.TotalDevices() == 0) {
    return absl::InvalidArgumentError(
        "config: $.fleet.classes: the simulator needs at least one device");
  }
  if (c.TotalDevices() < c.server.min_devices) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: $.server.min_devices: ", c.server.min_devices,
                     " devices needed but the fleet has ", c.TotalDevices()));
  }
  return absl::OkStatus();
}

absl::Status CheckBandwidthEvents(const Config& c,
                                  const std::vector<SimDevice>& devices) {
  for (size_t i = 0; i < c.fleet.bandwidth_events.size(); ++i) {
    const std::string& id = c.fleet.bandwidth_events[i].device;
    bool found = false;
    for (const SimDevice& d : devices) found = found || d.id == id;
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: $.fleet.bandwidth_events[", i, "].device: no device \"", id,
          "\" (devices are named <class>-NN, e.g. \"", devices[0].id, "\")"));
    }
  }
  return absl::OkStatus();
}

// The profile devices and tails are charged with under "profiled" compute.
absl::StatusOr<std::shared_ptr<const ml::ModelProfile>> ComputeProfile(
    const SimOptions& options, const data::Dataset& test) {
  if (options.compute_profile != nullptr) return options.compute_profile;
  TANDEM_ASSIGN_OR_RETURN(
      ml::ModelProfile profile,
      offload::ProfileOnOneCore(options.config, ml::InputShapeOf(test)));
  return std::make_shared<const ml::ModelProfile>(std::move(profile));
}

grpc::ChannelArguments ChannelArgs(int64_t max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(max_message_bytes));
  return args;
}

// The agents of the fleet's devices `which` (indices into `devices`), each
// on a channel from `channel`, running on their own threads from creation;
// at most fleet.concurrency train at once.
class FleetAgents {
 public:
  FleetAgents(const Config& c, const std::vector<SimDevice>& devices,
              const std::vector<size_t>& which, bool wall_time, bool in_process,
              std::shared_ptr<const ml::ModelProfile> profile,
              client::DataProvider data,
              const std::function<std::shared_ptr<grpc::Channel>()>& channel)
      : gate_(c.fleet.concurrency > 0 ? c.fleet.concurrency : ml::NumCores()) {
    for (size_t i : which) {
      agents_.push_back(std::make_unique<client::DeviceAgent>(
          AgentOptions(c, devices[i], i, &gate_, wall_time, in_process, profile,
                       data),
          channel()));
    }
    for (auto& agent : agents_) {
      threads_.emplace_back([this, a = agent.get()] {
        absl::Status s = a->Run();
        if (!s.ok()) {
          LogWarning(absl::StrCat("device: ", s.message()));
          failed_.fetch_add(1);
        }
      });
    }
  }
  ~FleetAgents() { Stop(); }

  // Waits for every agent to end by itself (the coordinator said STOP, or
  // it gave up); returns how many ended with an error.
  int Wait() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
    return failed_.load();
  }
  void Stop() {
    for (auto& agent : agents_) agent->RequestStop();
    Wait();
  }
  size_t size() const { return agents_.size(); }

 private:
  client::ComputeGate gate_;
  std::vector<std::unique_ptr<client::DeviceAgent>> agents_;
  std::vector<std::thread> threads_;
  std::atomic<int> failed_{0};
};

}  // namespace

std::string ProgressLine(const nlohmann::json& r, int total_rounds) {
  std::string acc = "  -   ";
  if (r.contains("accuracy")) {
    acc =
        absl::StrFormat("%6.2f%%  loss %.3f", 100 * r["accuracy"].get<double>(),
                        r["loss"].get<double>());
  }
  std::string line = absl::StrFormat(
      "round %d/%d  devices %d/%d  acc %s  round %.1f s  virtual %.1f s  "
      "wall %.1f s",
      r["round"].get<int>(), total_rounds, r.value("participants", 0),
      r.value("sampled", 0), acc, r.value("round_time_s", 0.0),
      r.value("virtual_time_s", 0.0), r.value("wall_time_s", 0.0));
  if (r.value("status", "") != "ok") {
    absl::StrAppend(&line, "  FAILED: ", r.value("reason", ""));
  }
  return line;
}

absl::StatusOr<SimResult> RunSimulation(const SimOptions& options) {
  const Config& c = options.config;
  TANDEM_RETURN_IF_ERROR(CheckFleet(c));
  std::shared_ptr<const data::Dataset> test;
  TANDEM_ASSIGN_OR_RETURN(Partitions parts, MakePartitions(c, &test));
  auto shared_parts = std::make_shared<const Partitions>(std::move(parts));
  TANDEM_ASSIGN_OR_RETURN(const std::vector<SimDevice> devices, MakeDevices(c));
  TANDEM_RETURN_IF_ERROR(CheckBandwidthEvents(c, devices));
  server::CoordinatorOptions co;
  co.config = c;
  // The simulated devices live in this process: no join tokens (nor TLS).
  co.config.server.tokens_file.clear();
  co.run_name = options.run_name;
  co.test_set = test;
  co.on_round = options.on_round;
  std::shared_ptr<const ml::ModelProfile> profile;
  if (c.fleet.compute_time == ComputeTime::kProfiled) {
    TANDEM_ASSIGN_OR_RETURN(profile, ComputeProfile(options, *test));
  }
  co.compute_profile = profile;
  co.tail_threads = 1;  // like the devices': results depend on the count
  co.await_devices = c.TotalDevices();
  co.virtual_time = !options.wall_time;
  TANDEM_ASSIGN_OR_RETURN(auto coordinator,
                          server::Coordinator::Create(std::move(co)));
  TANDEM_ASSIGN_OR_RETURN(
      auto grpc_server,
      server::CoordinatorServer::Start(coordinator.get(), "127.0.0.1:0",
                                       absl::Seconds(c.server.poll_timeout_s),
                                       {}, server::StreamLimitsFor(c.server)));
  ml::SetBlasThreads(1);
  std::vector<size_t> all(devices.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const int64_t max_bytes = grpc_server->max_message_bytes();
  FleetAgents agents(
      c, devices, all, options.wall_time, !options.loopback, profile,
      PartitionProvider(shared_parts), [&]() -> std::shared_ptr<grpc::Channel> {
        if (!options.loopback) return grpc_server->InProcessChannel();
        return grpc::CreateCustomChannel(
            absl::StrCat("127.0.0.1:", grpc_server->port()),
            grpc::InsecureChannelCredentials(), ChannelArgs(max_bytes));
      });
  ml::SetComputeThreads(c.server.threads);  // evaluation uses all cores
  auto summary = coordinator->Run();
  agents.Stop();
  grpc_server->Shutdown();
  if (!summary.ok()) return summary.status();
  return SimResult{*summary, coordinator->run_dir()};
}

absl::StatusOr<ShardResult> RunShard(const SimOptions& options,
                                     const ShardSpec& shard) {
  const Config& c = options.config;
  TANDEM_RETURN_IF_ERROR(CheckFleet(c));
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard ", shard.index, "/", shard.count, ": need 0 <= I < N"));
  }
  std::shared_ptr<const data::Dataset> test;
  TANDEM_ASSIGN_OR_RETURN(Partitions parts, MakePartitions(c, &test));
  auto shared_parts = std::make_shared<const Partitions>(std::move(parts));
  TANDEM_ASSIGN_OR_RETURN(const std::vector<SimDevice> devices, MakeDevices(c));
  TANDEM_RETURN_IF_ERROR(CheckBandwidthEvents(c, devices));
  std::shared_ptr<const ml::ModelProfile> profile;
  if (c.fleet.compute_time == ComputeTime::kProfiled) {
    TANDEM_ASSIGN_OR_RETURN(profile, ComputeProfile(options, *test));
  }
  const size_t n = devices.size();
  std::vector<size_t> slice;
  for (size_t i = n * shard.index / shard.count;
       i < n * (shard.index + 1) / shard.count; ++i) {
    slice.push_back(i);
  }
  ml::SetBlasThreads(1);
  // One connection for the shard's devices: a shard of many simulated
  // devices must not open a socket each.
  auto channel = grpc::CreateCustomChannel(shard.server,
                                           grpc::InsecureChannelCredentials(),
                                           ChannelArgs(int64_t{256} << 20));
  FleetAgents agents(c, devices, slice, options.wall_time,
                     /*in_process=*/false, profile,
                     PartitionProvider(shared_parts),
                     [&channel] { return channel; });
  ShardResult result;
  result.devices = static_cast<int>(agents.size());
  result.failed = agents.Wait();
  return result;
}

}  // namespace tandem::sim
