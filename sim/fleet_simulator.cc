#include "sim/fleet_simulator.h"

#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"
#include "ml/profile.h"
#include "ml/run_profile.h"
#include "ml/runtime.h"
#include "offload/split_policy.h"
#include "server/coordinator.h"
#include "server/coordinator_service.h"
#include "server/fleet_serving.h"
#include "sim/fleet_agents.h"

namespace tandem::sim {
namespace {

// The profile devices and tails are charged with under "profiled" compute.
absl::StatusOr<std::shared_ptr<const ml::ModelProfile>> ComputeProfile(
    const SimOptions& options, const data::Dataset& test) {
  if (options.compute_profile != nullptr) return options.compute_profile;
  TANDEM_ASSIGN_OR_RETURN(
      ml::ModelProfile profile,
      ml::ProfileOnOneCore(options.config, ml::InputShapeOf(test)));
  return std::make_shared<const ml::ModelProfile>(std::move(profile));
}

// What RunSimulation and RunShard run: the config's devices, the data they
// train on, and the profile compute is charged with.
struct Fleet {
  std::shared_ptr<const data::Dataset> test;
  std::shared_ptr<const Partitions> parts;
  std::vector<SimDevice> devices;
  std::shared_ptr<const ml::ModelProfile> profile;  // null unless profiled
};

absl::StatusOr<Fleet> PrepareFleet(const SimOptions& options) {
  const Config& c = options.config;
  TANDEM_RETURN_IF_ERROR(CheckFleet(c));
  Fleet f;
  TANDEM_ASSIGN_OR_RETURN(Partitions parts, MakePartitions(c, &f.test));
  f.parts = std::make_shared<const Partitions>(std::move(parts));
  TANDEM_ASSIGN_OR_RETURN(f.devices, MakeDevices(c));
  TANDEM_RETURN_IF_ERROR(CheckBandwidthEvents(c, f.devices));
  if (c.fleet.compute_time == ComputeTime::kProfiled) {
    TANDEM_ASSIGN_OR_RETURN(f.profile, ComputeProfile(options, *f.test));
  }
  return f;
}

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
  TANDEM_ASSIGN_OR_RETURN(const Fleet fleet, PrepareFleet(options));
  server::CoordinatorOptions co;
  co.config = c;
  // The simulated devices live in this process: no join tokens (nor TLS).
  co.config.server.tokens_file.clear();
  co.run_name = options.run_name;
  co.test_set = fleet.test;
  co.on_round = options.on_round;
  server::SetUpForSimulatedFleet(c, fleet.profile, &co);
  co.virtual_time = !options.wall_time;
  // In-process devices are dispatched: served when the coordinator gives
  // them a task (set once the agents exist, before any round opens).
  auto dispatch = std::make_shared<std::atomic<FleetAgents*>>(nullptr);
  co.on_task = [dispatch](const std::string& id) {
    if (FleetAgents* agents = dispatch->load()) agents->Notify(id);
  };
  co.in_process_devices = !options.loopback;
  TANDEM_ASSIGN_OR_RETURN(auto coordinator,
                          server::Coordinator::Create(std::move(co)));
  TANDEM_ASSIGN_OR_RETURN(
      auto grpc_server,
      server::CoordinatorServer::Start(coordinator.get(), "127.0.0.1:0",
                                       absl::Seconds(c.server.poll_timeout_s),
                                       {}, server::StreamLimitsFor(c.server)));
  ml::SetBlasThreads(1);
  std::vector<size_t> all(fleet.devices.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const int64_t max_bytes = grpc_server->max_message_bytes();
  FleetAgents agents(
      c, fleet.devices, all, options.wall_time, !options.loopback,
      fleet.profile, PartitionProvider(fleet.parts),
      [&]() -> std::shared_ptr<grpc::Channel> {
        if (!options.loopback) return grpc_server->InProcessChannel();
        return grpc::CreateCustomChannel(
            absl::StrCat("127.0.0.1:", grpc_server->port()),
            grpc::InsecureChannelCredentials(), ChannelArgs(max_bytes));
      });
  dispatch->store(&agents);
  ml::SetComputeThreads(c.server.threads);  // evaluation uses all cores
  auto summary = coordinator->Run();
  dispatch->store(nullptr);
  agents.Stop();
  grpc_server->Shutdown();
  if (!summary.ok()) return summary.status();
  return SimResult{*summary, coordinator->run_dir()};
}

absl::StatusOr<ShardResult> RunShard(const SimOptions& options,
                                     const ShardSpec& shard) {
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard ", shard.index, "/", shard.count, ": need 0 <= I < N"));
  }
  TANDEM_ASSIGN_OR_RETURN(const Fleet fleet, PrepareFleet(options));
  const size_t n = fleet.devices.size();
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
  FleetAgents agents(options.config, fleet.devices, slice, options.wall_time,
                     /*in_process=*/false, fleet.profile,
                     PartitionProvider(fleet.parts),
                     [&channel] { return channel; });
  ShardResult result;
  result.devices = static_cast<int>(agents.size());
  result.failed = agents.Wait();
  return result;
}

}  // namespace tandem::sim
