// The run configuration: one JSON file with sections server, model, data,
// training, strategy, offload, fleet, output.
//
// Defaults live here, next to each field, and nowhere else; `--print-config`
// prints them. Unknown keys are errors that name their JSON path.
//
//   TANDEM_ASSIGN_OR_RETURN(Config config,
//                           LoadConfig("configs/quickstart.json",
//                                      {"server.rounds=3"}));
#ifndef TANDEM_CORE_CONFIG_H_
#define TANDEM_CORE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/device_model.h"
#include "core/name_table.h"
#include "core/tensor_codec.h"
#include "nlohmann/json.hpp"

namespace tandem {

// offload.mode: how an offloading device trains its head.
enum class OffloadMode { kExact, kLocalLoss, kAuto };
const NameTable<OffloadMode>& OffloadModeNames();
// offload.on_failure: what becomes of a device whose split training failed.
enum class OnSplitFailure { kDrop, kLocal };
const NameTable<OnSplitFailure>& OnSplitFailureNames();
// strategy.admission: whether every strategy clips outlying updates.
enum class Admission { kAdaptive, kOff };
const NameTable<Admission>& AdmissionNames();
// fleet.compute_time: where a simulated device's compute time comes from.
enum class ComputeTime { kMeasured, kProfiled };
const NameTable<ComputeTime>& ComputeTimeNames();

struct ServerConfig {
  int rounds = 5;                      // training rounds to run
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  int min_devices = 2;                 // joined devices needed to start
  double join_timeout_s = 300;         // wait this long for min_devices
  double round_deadline_s = 600;       // a round aggregates what came by then
  int max_round_retries = 3;           // failed attempts of one round
  double poll_timeout_s = 10;          // longest wait of one PullTask call
  int heartbeat_interval_ms = 2000;    // devices send heartbeats this often
  double device_timeout_s = 30;        // no heartbeat this long: unavailable
  // TLS, from PEM files. The coordinator's certificate (chain) and key;
  // "" = no TLS, with a warning when listening on a non-loopback address.
  std::string tls_cert, tls_key;
  // Mutual TLS: devices must present a certificate issued by this CA, and
  // its common name is their device id. "" = devices need no certificate.
  std::string tls_client_ca;
  // Limits against floods. Registered devices: a new one beyond this is
  // refused (RESOURCE_EXHAUSTED) once devices that are gone and never
  // contributed have been forgotten.
  int max_devices = 10000;
  double max_joins_per_s = 200;  // all devices together; bursts of this many
  // Client streams (update pushes, split training) open at once, in total
  // and per device; one silent for stream_idle_s is cancelled.
  int max_streams = 512;
  int max_streams_per_device = 2;
  double stream_idle_s = 120;
  // Per-device join tokens, stored hashed: lines "<device id> <SHA-256 of
  // the token, hex>" (deploy/make-token.sh). "" = no tokens.
  std::string tokens_file;
  int eval_every = 1;  // evaluate every N rounds (and last)
  int eval_batch_size = 500;
  int threads = 0;  // compute threads of the coordinator; 0 = all cores
  // Roll back a round whose aggregate's test accuracy falls more than this
  // below the best of the last 10 accepted models' (checked when the round
  // is evaluated; 1 = never). Non-finite weights or test loss always roll
  // back. 0.05: 17x the largest honest drop measured (0.0029, see
  // docs/coordinator.md).
  double rollback_accuracy_drop = 0.05;
  double target_accuracy = 0;   // record when test accuracy first reaches it
  bool stop_at_target = false;  // and end the run there
  // A checkpoint (checkpoints/*.ckpt of an earlier run) to start from: the
  // run goes on with the rounds after the checkpoint's. "" = fresh start.
  std::string resume_from;
  // host:port to serve Prometheus metrics on (GET /metrics; port 0 picks a
  // free one). "" = no metrics endpoint.
  std::string metrics_listen;
};

struct ModelConfig {
  std::string name = "cnn";  // the zoo's mlp, cnn or vgg5
  // A TorchScript file authored in PyTorch (torch.jit.script(m).save(path);
  // stages as ml/torchscript_net.cc says). When set it is the model, and
  // `name` is not used. "" = the zoo's `name`.
  std::string torchscript;

  // What ml::Model::Create builds: `name`, or "torchscript:<file>"
  // (ml::TorchScriptModelName).
  std::string id() const {
    return torchscript.empty() ? name : "torchscript:" + torchscript;
  }
};

struct DataConfig {
  // fashion-mnist, mnist, idx (any MNIST-format folder), cifar10, synthetic,
  // tensor (NumPy .npz or CSV, ml/data/tensor_dataset.h)
  std::string dataset = "fashion-mnist";
  // "" = the dataset's default folder. tensor: the training file (.npz with
  // entries x.npy and y.npy, or .csv), or a folder of per-device files
  // <device id>.npz / .csv.
  std::string path;
  // tensor: the test file (.npz or .csv); "" = no test set.
  std::string test_path;
  // tensor: per-channel normalisation (x - mean) / std, one value per
  // channel (per feature for tabular data); both empty = computed on the
  // training data.
  std::vector<double> mean, std;
  std::string partition = "iid";  // iid, dirichlet, shards
  double alpha = 0.5;             // dirichlet concentration
  int shards_per_device = 2;      // shards partitioner
  int64_t train_limit = 0;        // use the first N training examples; 0 = all
  int64_t test_limit = 0;         // evaluate on the first N; 0 = all
  // Deployment: a device whose id is not one of the fleet's
  // (data::FleetDeviceIds) gets the next partition no device holds, and is
  // refused when none is left; true: such devices get a partition from a
  // hash of their id instead, and may share one.
  bool share_partitions = false;
};

struct TrainingConfig {
  int local_epochs = 1;
  int batch_size = 32;
  double learning_rate = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;
  int64_t max_batches = 0;  // cap on local batches per round; 0 = none
};

struct StrategyConfig {
  std::string name = "fedavg";
  double fraction = 1.0;  // share of available devices sampled per round
  int min_devices = 1;    // sample at least this many
  int min_updates = 1;    // aggregate only if at least this many arrived
  // Over-selection: sample this many times the devices a round aggregates
  // (ceil, at most all available) and aggregate the first of them to finish;
  // 1 = no over-selection.
  double over_selection = 1;
  // Buffered asynchronous aggregation (FedBuff, Nguyen et al. 2022): > 0
  // turns rounds off. `concurrency` devices train at once, each starting
  // again as soon as it reported; every `buffer_size` updates are aggregated
  // into the next model version (a "round" of the metrics), each weighted
  // by 1 / (1 + staleness)^staleness_exponent, staleness being the versions
  // published since the device pulled its model. 0 = synchronous rounds.
  int buffer_size = 0;
  int concurrency = 0;  // 0: the sample size (fraction, min_devices)
  double staleness_exponent = 0.5;
  double max_update_norm = 0;  // L2 bound on an update's change; 0 = none
  // adaptive: every strategy clips each update's change (parameters) to
  // admission_multiplier x the median norm of the last round's accepted
  // updates (strategies/admission_bound.h); off: no clipping.
  Admission admission = Admission::kAdaptive;
  double admission_multiplier = 2;
  nlohmann::json params = nlohmann::json::object();  // strategy-specific
};

struct OffloadConfig {
  // none: every device trains the whole model; fixed: split points per
  // device class from `fixed`.
  std::string policy = "none";
  // Device class name -> split point (1 .. stages; stages = no offload).
  // Classes not listed train the whole model.
  nlohmann::json fixed = nlohmann::json::object();
  // How an offloading device trains its head: "exact" (SplitFed-v1: per
  // batch the gradient at the split point comes back), "local_loss" (the head
  // trains against an auxiliary classifier at the split point and streams its
  // activations without waiting; see README, "Split modes"), or "auto": the
  // policy (greedy or ppo) picks the mode with the split point, per device per
  // round.
  OffloadMode mode = OffloadMode::kExact;
  // local_loss: batches a device may have computed but not yet uploaded.
  int window = 4;
  ActivationCodec activation_codec = ActivationCodec::kFp32;  // on the wire
  // Coordinator cores serving offloaded tails: tails of k devices offloading
  // in the same round share them (time model: tail time x max(1, k/cores)).
  double server_cores = 1;
  // When an offloading device's split training fails: "drop" its update for
  // the round, or "local": it retrains the whole model on the device (it is
  // then sent the full weights, not only the head).
  OnSplitFailure on_failure = OnSplitFailure::kDrop;
  // An offloading device measures its link on the task download (real
  // traffic, no probe) and trains locally when the link is slower than its
  // split point's break-even throughput by the cost model. It is then sent the
  // full weights, not only the head. The break-even is on time, so it applies
  // to ppo and to greedy with alpha 1; "fixed" keeps its split point.
  bool link_guard = true;
  // greedy and ppo: weight of time against energy in
  // alpha x T + (1 - alpha) x E.
  double alpha = 1.0;
  // greedy and ppo: device class -> memory budget in MiB; splits needing
  // more are excluded.
  nlohmann::json memory_budget_mb = nlohmann::json::object();
  // ppo: keep learning online from measured rounds (sampling placements);
  // false: take each device's most likely placement.
  bool ppo_learn = false;
  int ppo_update_every = 4;  // rounds between PPO updates when learning
  // The policy file to start from; "": the shipped
  // configs/policies/ppo-default.policy (relative to the working folder).
  std::string ppo_load;
  std::string ppo_save;  // where to save the policy at the end
};

struct DeviceClassConfig {
  std::string name = "device";
  int count = 1;
  // Its hardware; the JSON keys are the fields' names, flat in the class
  // (slowdown, bandwidth_mbps, latency_ms, power_*_w).
  DeviceModel device;
  double dropout = 0.0;  // probability of abandoning a round
  // Availability on the virtual clock (sim/availability.h): online for
  // online_s, offline for offline_s, repeating from a seeded phase.
  // offline_s 0 = always online (unless fleet.availability_trace names it).
  double online_s = 0, offline_s = 0;
  // Simulation of malicious devices: none, random, sign_flip, scale, nan.
  std::string attack = "none";
  double attack_scale = 10;  // sign_flip / scale: factor on the update
  // Simulation: Mahimahi trace files (core/link_trace.h) the class's links
  // follow instead of bandwidth_mbps, each device from its own point in the
  // trace (drawn from its seed); "" = bandwidth_mbps.
  std::string uplink_trace, downlink_trace;
};

// Simulation: device `device` (an id "<class>-NN") has `mbps` of bandwidth
// in rounds [from_round, to_round] instead of its class's.
struct BandwidthEvent {
  std::string device;
  int from_round = 1;
  int to_round = 1;
  double mbps = 1;
};

// Device `device`'s bandwidth in `round`: `base_mbps` unless a bandwidth
// event covers it.
double BandwidthAt(const std::vector<BandwidthEvent>& events,
                   const std::string& device, int64_t round, double base_mbps);

// Simulation: device `device`'s links follow these Mahimahi trace files from
// their start, instead of its class's.
struct DeviceLinkTrace {
  std::string device;
  std::string uplink_trace, downlink_trace;
};

struct FleetConfig {
  std::vector<DeviceClassConfig> classes;
  std::vector<BandwidthEvent> bandwidth_events;
  std::vector<DeviceLinkTrace> link_traces;
  int concurrency = 0;  // simulated devices training at once; 0 = cores
  // A simulated device's compute time: "measured": its training's
  // per-thread CPU seconds x slowdown (real, but it varies by +-15% from
  // round to round with what else runs on the host's cores); "profiled":
  // examples x the model's per-stage profile on one idle core x slowdown
  // (deterministic; the offload cost model's figure). Tails alike.
  ComputeTime compute_time = ComputeTime::kMeasured;
  // A pinned model profile (tandem-sim --measure_profile writes one;
  // configs/profiles/ ships them): "profiled" compute time, the offload
  // bound, PPO training and the coordinator's policies use it instead of
  // profiling the model on this host at start. "" = measure at start.
  std::string profile;
  // A JSON file {"<device id>": [[start, end], ...]} of online intervals on
  // the virtual clock (sim/availability.h); "" = none.
  std::string availability_trace;
};

struct OutputConfig {
  std::string dir = "runs";  // run directories are created below it
  bool checkpoints = true;   // write a checkpoint after every round
};

struct Config {
  uint64_t seed = 1;
  ServerConfig server;
  ModelConfig model;
  DataConfig data;
  TrainingConfig training;
  StrategyConfig strategy;
  OffloadConfig offload;
  FleetConfig fleet;
  OutputConfig output;

  int TotalDevices() const;
};

// Strict parse: unknown keys and wrong types name their JSON path.
absl::StatusOr<Config> ParseConfig(const nlohmann::json& json);

// Reads and parses `path`, after applying `overrides` of the form
// "section.key=value" (value parsed as JSON, else taken as a string). An
// empty path means the defaults.
absl::StatusOr<Config> LoadConfig(const std::string& path,
                                  const std::vector<std::string>& overrides);

// The resolved configuration, every default written out.
nlohmann::json ConfigToJson(const Config& config);

}  // namespace tandem

#endif  // TANDEM_CORE_CONFIG_H_
