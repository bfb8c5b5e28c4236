#include "sim/fleet_agents.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/file_sha256.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"
#include "ml/data/tensor_dataset.h"
#include "ml/runtime.h"
#include "sim/virtual_environment.h"
#include "strategies/attacks.h"

namespace tandem::sim {
namespace {

// Device `d`'s class as the agent's environment: virtual time (or measured
// wall time), its link in every round, dropout and attack.
std::unique_ptr<VirtualEnvironment> EnvironmentFor(
    const Config& c, const SimDevice& d, uint64_t seed, bool wall_time,
    std::shared_ptr<const ml::ModelProfile> compute_profile) {
  VirtualEnvironmentOptions v;
  v.model = WithLinks(d.cls->device, d.links);
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

// label_flip: the device trains on its data with mirrored labels.
client::DataProvider WithFlippedLabels(client::DataProvider honest) {
  return [honest = std::move(honest)](const v1::DataSpec& spec)
             -> absl::StatusOr<std::shared_ptr<const data::Dataset>> {
    TANDEM_ASSIGN_OR_RETURN(std::shared_ptr<const data::Dataset> mine,
                            honest(spec));
    auto flipped = std::make_shared<data::Dataset>(*mine);
    FlipLabels(flipped->num_classes, flipped->labels);
    return flipped;
  };
}

client::DeviceAgentOptions AgentOptions(
    const Config& c, const SimDevice& d, size_t index,
    client::ComputeGate* gate, client::ModelPool* models, bool wall_time,
    bool in_process, std::shared_ptr<const ml::ModelProfile> compute_profile,
    client::DataProvider data, const std::string& model_sha256) {
  client::DeviceAgentOptions o;
  // Simulated devices are installed with the run's own model file.
  o.model_file = c.model.torchscript;
  o.model_sha256 = model_sha256;
  o.device_id = d.id;
  o.device_class = d.cls->name;
  o.seed = c.seed * 1000 + index;
  o.compute_threads = 1;  // several simulated devices train at once
  o.gate = gate;
  o.model_pool = models;
  o.data_provider = ParseAttack(d.cls->attack).value() == Attack::kLabelFlip
                        ? WithFlippedLabels(std::move(data))
                        : std::move(data);
  o.give_up_after = absl::Seconds(30);
  o.in_process_channel = in_process;
  o.dispatched = in_process;
  // Idle, a device's long-polls show it alive if they come well within
  // the coordinator's timeout: then it sends no heartbeats.
  o.idle_heartbeats = 2 * c.server.poll_timeout_s > c.server.device_timeout_s;
  o.environment =
      EnvironmentFor(c, d, o.seed, wall_time, std::move(compute_profile));
  return o;
}

}  // namespace

namespace {

bool IsDeviceFileFolder(const Config& c) {
  struct stat st;
  return c.data.dataset == "tensor" && stat(c.data.path.c_str(), &st) == 0 &&
         S_ISDIR(st.st_mode);
}

// Natural partitions: device i trains on <folder>/<its id>.npz (or .csv),
// normalised with the statistics of the folder's union (`all`).
absl::StatusOr<Partitions> DeviceFilePartitions(const Config& c,
                                                const data::Dataset& all) {
  data::TensorDatasetOptions options;
  options.num_classes = all.num_classes;
  options.mean = all.mean;
  options.std = all.std;
  Partitions out;
  for (const std::string& id : data::FleetDeviceIds(c)) {
    TANDEM_ASSIGN_OR_RETURN(data::Dataset mine, data::LoadDeviceTensorFile(
                                                    c.data.path, id, options));
    out.push_back(std::make_shared<const data::Dataset>(std::move(mine)));
  }
  return out;
}

}  // namespace

absl::StatusOr<Partitions> MakePartitions(
    const Config& c, std::shared_ptr<const data::Dataset>* test) {
  TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt,
                          data::LoadDataset(data::SourceForConfig(c)));
  *test = std::make_shared<const data::Dataset>(
      c.data.test_limit > 0 ? tt.test.Head(c.data.test_limit) : tt.test);
  if (IsDeviceFileFolder(c)) return DeviceFilePartitions(c, tt.train);
  data::Dataset train = c.data.train_limit > 0
                            ? tt.train.Head(c.data.train_limit)
                            : std::move(tt.train);
  TANDEM_ASSIGN_OR_RETURN(
      auto parts, data::PartitionForSpec(train, data::SpecForConfig(c)));
  Partitions out;
  for (data::Dataset& p : parts) {
    out.push_back(std::make_shared<const data::Dataset>(std::move(p)));
  }
  return out;
}

absl::StatusOr<std::vector<SimDevice>> MakeDevices(const Config& c) {
  AvailabilityTrace trace;
  if (!c.fleet.availability_trace.empty()) {
    TANDEM_ASSIGN_OR_RETURN(trace,
                            LoadAvailabilityTrace(c.fleet.availability_trace));
  }
  const std::vector<std::string> ids = data::FleetDeviceIds(c);
  TANDEM_ASSIGN_OR_RETURN(const std::vector<DeviceLinks> links,
                          LoadDeviceLinks(c));
  std::vector<SimDevice> devices;
  for (const DeviceClassConfig& cls : c.fleet.classes) {
    for (int k = 0; k < cls.count; ++k) {
      const size_t i = devices.size();
      const std::string& id = ids[i];
      auto it = trace.find(id);
      devices.push_back({id, &cls,
                         it != trace.end() ? Availability::Intervals(it->second)
                                           : Availability::Periodic(
                                                 cls.online_s, cls.offline_s,
                                                 c.seed * 1000 + i),
                         links[i]});
    }
  }
  return devices;
}

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
    const SimDevice* named = nullptr;
    for (const SimDevice& d : devices) {
      if (d.id == id) named = &d;
    }
    if (named == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: $.fleet.bandwidth_events[", i, "].device: no device \"", id,
          "\" (devices are named <class>-NN, e.g. \"", devices[0].id, "\")"));
    }
    if (named->links.uplink || named->links.downlink) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: $.fleet.bandwidth_events[", i, "].device: \"", id,
          "\"'s link follows a trace; change the trace instead"));
    }
  }
  return absl::OkStatus();
}

grpc::ChannelArguments ChannelArgs(int64_t max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(max_message_bytes));
  return args;
}

FleetAgents::FleetAgents(
    const Config& c, const std::vector<SimDevice>& devices,
    const std::vector<size_t>& which, bool wall_time, bool in_process,
    std::shared_ptr<const ml::ModelProfile> profile, client::DataProvider data,
    const std::function<std::shared_ptr<grpc::Channel>()>& channel)
    : gate_(c.fleet.concurrency > 0 ? c.fleet.concurrency : ml::NumCores()) {
  // An unreadable file leaves it empty: the coordinator refuses the joins,
  // naming both hashes.
  const std::string model_sha256 =
      c.model.torchscript.empty()
          ? ""
          : FileSha256(c.model.torchscript).value_or("");
  for (size_t i : which) {
    agents_.push_back(std::make_unique<client::DeviceAgent>(
        AgentOptions(c, devices[i], i, &gate_, &models_, wall_time, in_process,
                     profile, data, model_sha256),
        channel()));
  }
  if (in_process) {
    std::vector<client::DeviceAgent*> agents;
    std::vector<std::string> ids;
    for (size_t k = 0; k < which.size(); ++k) {
      agents.push_back(agents_[k].get());
      ids.push_back(devices[which[k]].id);
    }
    // Twice the training slots: devices pull and push while others train.
    dispatcher_ = std::make_unique<DeviceDispatcher>(
        agents, ids,
        2 * (c.fleet.concurrency > 0 ? c.fleet.concurrency : ml::NumCores()));
    return;
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

int FleetAgents::Wait() {
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  return failed_.load();
}
void FleetAgents::Stop() {
  if (dispatcher_ != nullptr) dispatcher_->Stop();
  for (auto& agent : agents_) agent->RequestStop();
  Wait();
}

}  // namespace tandem::sim
