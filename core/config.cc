#include "core/config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/json_reader.h"
#include "core/status_macros.h"

namespace tandem {
namespace {

// Writes fields with the same calls JsonObjectReader reads them, so each
// section's field list below serves both directions.
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(nlohmann::json* out) : out_(*out) {
    out_ = nlohmann::json::object();
  }
  template <typename T>
  void Int(const std::string& key, T* v, int64_t = 0, int64_t = 0) {
    out_[key] = *v;
  }
  template <typename T>
  void Int64(const std::string& key, T* v, int64_t = 0, int64_t = 0) {
    out_[key] = *v;
  }
  void Uint64(const std::string& key, uint64_t* v) { out_[key] = *v; }
  void Double(const std::string& key, double* v, double = 0, double = 0) {
    out_[key] = *v;
  }
  void Bool(const std::string& key, bool* v) { out_[key] = *v; }
  void String(const std::string& key, std::string* v) { out_[key] = *v; }
  void Enum(const std::string& key, std::string* v,
            const std::vector<std::string>&) {
    out_[key] = *v;
  }
  template <typename E>
  void Named(const std::string& key, E* v, const NameTable<E>& names) {
    out_[key] = NameOf(names, *v);
  }
  void Object(const std::string& key, nlohmann::json* v) { out_[key] = *v; }
  void DoubleArray(const std::string& key, std::vector<double>* v) {
    out_[key] = *v;
  }

 private:
  nlohmann::json& out_;
};

constexpr double kHuge = 1e12;

// Arrays of numbers, each in [min, max] (absent: `out` keeps its value).
// JsonObjectReader has no array reader, so field lists call
// DoubleArray(v, ...), overloaded for the reader and the writer.
void DoubleArray(JsonObjectReader& r, const std::string& key,
                 std::vector<double>* out, double min, double max) {
  const nlohmann::json* v = r.Child(key);
  if (v == nullptr) return;
  const std::string error = absl::StrCat("expected an array of numbers in [",
                                         min, ", ", max, "], got ", v->dump());
  if (!v->is_array()) return r.Fail(key, error);
  std::vector<double> values;
  for (const nlohmann::json& x : *v) {
    if (!x.is_number()) return r.Fail(key, error);
    const double d = x.get<double>();
    if (!std::isfinite(d) || d < min || d > max) return r.Fail(key, error);
    values.push_back(d);
  }
  *out = std::move(values);
}
void DoubleArray(JsonObjectWriter& w, const std::string& key,
                 std::vector<double>* out, double min, double max) {
  w.DoubleArray(key, out);
}

}  // namespace

double BandwidthAt(const std::vector<BandwidthEvent>& events,
                   const std::string& device, int64_t round, double base_mbps) {
  double mbps = base_mbps;
  for (const BandwidthEvent& e : events) {
    if (e.device == device && round >= e.from_round && round <= e.to_round) {
      mbps = e.mbps;
    }
  }
  return mbps;
}

const NameTable<OffloadMode>& OffloadModeNames() {
  static const auto* names =
      new NameTable<OffloadMode>{{"exact", OffloadMode::kExact},
                                 {"local_loss", OffloadMode::kLocalLoss},
                                 {"auto", OffloadMode::kAuto}};
  return *names;
}

const NameTable<OnSplitFailure>& OnSplitFailureNames() {
  static const auto* names = new NameTable<OnSplitFailure>{
      {"drop", OnSplitFailure::kDrop}, {"local", OnSplitFailure::kLocal}};
  return *names;
}

const NameTable<Admission>& AdmissionNames() {
  static const auto* names = new NameTable<Admission>{
      {"adaptive", Admission::kAdaptive}, {"off", Admission::kOff}};
  return *names;
}

const NameTable<ComputeTime>& ComputeTimeNames() {
  static const auto* names =
      new NameTable<ComputeTime>{{"measured", ComputeTime::kMeasured},
                                 {"profiled", ComputeTime::kProfiled}};
  return *names;
}

namespace {

template <typename V>
void VisitServer(V& v, ServerConfig& s) {
  v.Int("rounds", &s.rounds, 1, 1000000);
  v.String("listen", &s.listen);
  v.Int("min_devices", &s.min_devices, 1, 1000000);
  v.Double("join_timeout_s", &s.join_timeout_s, 0.1, kHuge);
  v.Double("round_deadline_s", &s.round_deadline_s, 0.1, kHuge);
  v.Int("max_round_retries", &s.max_round_retries, 0, 1000);
  v.Double("poll_timeout_s", &s.poll_timeout_s, 0.05, 3600);
  v.Int("heartbeat_interval_ms", &s.heartbeat_interval_ms, 10, 3600000);
  v.Double("device_timeout_s", &s.device_timeout_s, 0.1, kHuge);
  v.String("tls_cert", &s.tls_cert);
  v.String("tls_key", &s.tls_key);
  v.String("tls_client_ca", &s.tls_client_ca);
  v.String("tokens_file", &s.tokens_file);
  v.Int("max_devices", &s.max_devices, 1, 10000000);
  v.Double("max_joins_per_s", &s.max_joins_per_s, 0.001, 1e6);
  v.Int("max_streams", &s.max_streams, 1, 100000);
  v.Int("max_streams_per_device", &s.max_streams_per_device, 1, 100);
  v.Double("stream_idle_s", &s.stream_idle_s, 0.01, 86400);
  v.Int("eval_every", &s.eval_every, 1, 1000000);
  v.Int("eval_batch_size", &s.eval_batch_size, 1, 100000);
  v.Int("threads", &s.threads, 0, 1024);
  v.Double("rollback_accuracy_drop", &s.rollback_accuracy_drop, 0, 1);
  v.Double("target_accuracy", &s.target_accuracy, 0, 1);
  v.Bool("stop_at_target", &s.stop_at_target);
  v.String("resume_from", &s.resume_from);
  v.String("metrics_listen", &s.metrics_listen);
}

template <typename V>
void VisitModel(V& v, ModelConfig& m) {
  v.String("name", &m.name);  // the model zoo checks it (config_check)
  v.String("torchscript", &m.torchscript);
}

template <typename V>
void VisitData(V& v, DataConfig& d) {
  v.String("dataset", &d.dataset);
  v.String("path", &d.path);
  v.String("test_path", &d.test_path);
  DoubleArray(v, "mean", &d.mean, -kHuge, kHuge);
  DoubleArray(v, "std", &d.std, 1e-12, kHuge);
  v.String("partition", &d.partition);
  v.Double("alpha", &d.alpha, 1e-6, 1e6);
  v.Int("shards_per_device", &d.shards_per_device, 1, 100000);
  v.Int64("train_limit", &d.train_limit, 0, int64_t{1} << 40);
  v.Int64("test_limit", &d.test_limit, 0, int64_t{1} << 40);
  v.Bool("share_partitions", &d.share_partitions);
}

template <typename V>
void VisitTraining(V& v, TrainingConfig& t) {
  v.Int("local_epochs", &t.local_epochs, 1, 10000);
  v.Int("batch_size", &t.batch_size, 1, 1 << 20);
  v.Double("learning_rate", &t.learning_rate, 0, 100);
  v.Double("momentum", &t.momentum, 0, 1);
  v.Double("weight_decay", &t.weight_decay, 0, 1);
  v.Int64("max_batches", &t.max_batches, 0, int64_t{1} << 40);
}

template <typename V>
void VisitStrategy(V& v, StrategyConfig& s) {
  v.String("name", &s.name);
  v.Double("fraction", &s.fraction, 1e-9, 1);
  v.Int("min_devices", &s.min_devices, 1, 1000000);
  v.Int("min_updates", &s.min_updates, 1, 1000000);
  v.Double("over_selection", &s.over_selection, 1, 10);
  v.Int("buffer_size", &s.buffer_size, 0, 1000000);
  v.Int("concurrency", &s.concurrency, 0, 1000000);
  v.Double("staleness_exponent", &s.staleness_exponent, 0, 10);
  v.Double("max_update_norm", &s.max_update_norm, 0, kHuge);
  v.Named("admission", &s.admission, AdmissionNames());
  v.Double("admission_multiplier", &s.admission_multiplier, 1, 1000);
  v.Object("params", &s.params);
}

template <typename V>
void VisitOffload(V& v, OffloadConfig& o) {
  v.String("policy", &o.policy);
  v.Object("fixed", &o.fixed);
  v.Named("mode", &o.mode, OffloadModeNames());
  v.Int("window", &o.window, 1, 1024);
  v.Named("activation_codec", &o.activation_codec, ActivationCodecNames());
  v.Double("server_cores", &o.server_cores, 0.01, 4096);
  v.Named("on_failure", &o.on_failure, OnSplitFailureNames());
  v.Bool("link_guard", &o.link_guard);
  v.Double("alpha", &o.alpha, 0, 1);
  v.Object("memory_budget_mb", &o.memory_budget_mb);
  v.Bool("ppo_learn", &o.ppo_learn);
  v.Int("ppo_update_every", &o.ppo_update_every, 1, 100000);
  v.String("ppo_load", &o.ppo_load);
  v.String("ppo_save", &o.ppo_save);
}

template <typename V>
void VisitDeviceClass(V& v, DeviceClassConfig& c) {
  v.String("name", &c.name);
  v.Int("count", &c.count, 0, 100000);
  v.Double("slowdown", &c.device.slowdown, 1e-3, 1e6);
  v.Double("bandwidth_mbps", &c.device.bandwidth_mbps, 1e-6, 1e9);
  v.Double("latency_ms", &c.device.latency_ms, 0, 1e7);
  v.Double("dropout", &c.dropout, 0, 1);
  v.Double("online_s", &c.online_s, 0, 1e12);
  v.Double("offline_s", &c.offline_s, 0, 1e12);
  v.Double("power_compute_w", &c.device.power_compute_w, 0, 1e6);
  v.Double("power_transmit_w", &c.device.power_transmit_w, 0, 1e6);
  v.Double("power_receive_w", &c.device.power_receive_w, 0, 1e6);
  v.String("attack", &c.attack);
  v.Double("attack_scale", &c.attack_scale, 0, 1e6);
  v.String("uplink_trace", &c.uplink_trace);
  v.String("downlink_trace", &c.downlink_trace);
}

template <typename V>
void VisitBandwidthEvent(V& v, BandwidthEvent& e) {
  v.String("device", &e.device);
  v.Int("from_round", &e.from_round, 1, 1000000);
  v.Int("to_round", &e.to_round, 1, 1000000);
  v.Double("mbps", &e.mbps, 1e-6, 1e9);
}

template <typename V>
void VisitLinkTrace(V& v, DeviceLinkTrace& t) {
  v.String("device", &t.device);
  v.String("uplink_trace", &t.uplink_trace);
  v.String("downlink_trace", &t.downlink_trace);
}

template <typename V>
void VisitOutput(V& v, OutputConfig& o) {
  v.String("dir", &o.dir);
  v.Bool("checkpoints", &o.checkpoints);
}

// Reads section `key` of `top` with `visit` if present.
template <typename T, typename F>
absl::Status ReadSection(JsonObjectReader& top, const std::string& key,
                         T* section, F visit) {
  const nlohmann::json* j = top.Child(key);
  if (j == nullptr) return absl::OkStatus();
  JsonObjectReader r(*j, top.PathOf(key));
  visit(r, *section);
  return r.Finish();
}

// `items` as a JSON array, each item written with `visit`.
template <typename T, typename Visit>
nlohmann::json ListToJson(std::vector<T>& items, Visit visit) {
  nlohmann::json out = nlohmann::json::array();
  for (T& item : items) {
    nlohmann::json j;
    JsonObjectWriter w(&j);
    visit(w, item);
    out.push_back(std::move(j));
  }
  return out;
}

// The array `key` of $.fleet, each item read with `visit` and `check`ed.
template <typename T, typename Visit, typename Check>
absl::Status ReadFleetList(const nlohmann::json* items, const std::string& key,
                           Visit visit, Check check, std::vector<T>* out) {
  if (items == nullptr) return absl::OkStatus();
  if (!items->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: $.fleet.", key, ": expected an array"));
  }
  out->clear();
  for (size_t i = 0; i < items->size(); ++i) {
    T item;
    const std::string path = absl::StrCat("$.fleet.", key, "[", i, "]");
    JsonObjectReader r((*items)[i], path);
    visit(r, item);
    TANDEM_RETURN_IF_ERROR(r.Finish());
    if (const char* wrong = check(item)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", path, ": ", wrong));
    }
    out->push_back(item);
  }
  return absl::OkStatus();
}

absl::Status ReadBandwidthEvents(const nlohmann::json* events,
                                 FleetConfig* fleet) {
  return ReadFleetList(
      events, "bandwidth_events",
      [](JsonObjectReader& r, BandwidthEvent& e) { VisitBandwidthEvent(r, e); },
      [](const BandwidthEvent& e) -> const char* {
        return e.to_round < e.from_round || e.device.empty()
                   ? "needs a device and from_round <= to_round"
                   : nullptr;
      },
      &fleet->bandwidth_events);
}

absl::Status ReadLinkTraces(const nlohmann::json* traces, FleetConfig* fleet) {
  return ReadFleetList(
      traces, "link_traces",
      [](JsonObjectReader& r, DeviceLinkTrace& t) { VisitLinkTrace(r, t); },
      [](const DeviceLinkTrace& t) -> const char* {
        return t.device.empty() ||
                       (t.uplink_trace.empty() && t.downlink_trace.empty())
                   ? "needs a device and an uplink_trace or downlink_trace"
                   : nullptr;
      },
      &fleet->link_traces);
}

absl::Status ReadFleet(JsonObjectReader& top, FleetConfig* fleet) {
  const nlohmann::json* j = top.Child("fleet");
  if (j == nullptr) return absl::OkStatus();
  JsonObjectReader r(*j, "$.fleet");
  r.Int("concurrency", &fleet->concurrency, 0, 1024);
  r.Named("compute_time", &fleet->compute_time, ComputeTimeNames());
  r.String("profile", &fleet->profile);
  r.String("availability_trace", &fleet->availability_trace);
  const nlohmann::json* classes = r.Child("classes");
  const nlohmann::json* events = r.Child("bandwidth_events");
  const nlohmann::json* traces = r.Child("link_traces");
  TANDEM_RETURN_IF_ERROR(r.Finish());
  TANDEM_RETURN_IF_ERROR(ReadBandwidthEvents(events, fleet));
  TANDEM_RETURN_IF_ERROR(ReadLinkTraces(traces, fleet));
  if (classes == nullptr) return absl::OkStatus();
  if (!classes->is_array()) {
    return absl::InvalidArgumentError(
        "config: $.fleet.classes: expected an array of device classes");
  }
  fleet->classes.clear();
  for (size_t i = 0; i < classes->size(); ++i) {
    DeviceClassConfig c;
    JsonObjectReader cr((*classes)[i],
                        absl::StrCat("$.fleet.classes[", i, "]"));
    VisitDeviceClass(cr, c);
    TANDEM_RETURN_IF_ERROR(cr.Finish());
    fleet->classes.push_back(c);
  }
  return absl::OkStatus();
}

absl::Status CheckTls(const ServerConfig& s) {
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "config: $.server.tls_cert and $.server.tls_key: set both or neither");
  }
  if (!s.tls_client_ca.empty() && s.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "config: $.server.tls_client_ca: mutual TLS needs the coordinator's "
        "own certificate ($.server.tls_cert and $.server.tls_key)");
  }
  return absl::OkStatus();
}

// Buffered aggregation has no rounds to over-select in nor to plan splits
// for.
absl::Status CheckBuffered(const Config& c) {
  if (c.strategy.buffer_size == 0) return absl::OkStatus();
  if (c.strategy.over_selection > 1) {
    return absl::InvalidArgumentError(
        "config: $.strategy.over_selection: not with buffered aggregation "
        "($.strategy.buffer_size > 0), which never waits for stragglers");
  }
  if (c.offload.policy != "none") {
    return absl::InvalidArgumentError(
        "config: $.offload.policy: buffered aggregation "
        "($.strategy.buffer_size > 0) needs \"none\"");
  }
  if (c.strategy.min_updates > c.strategy.buffer_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: $.strategy.min_updates: ", c.strategy.min_updates,
        " is more than $.strategy.buffer_size (", c.strategy.buffer_size,
        "), the updates each version aggregates"));
  }
  return absl::OkStatus();
}

absl::Status CheckAcrossSections(const Config& c) {
  TANDEM_RETURN_IF_ERROR(CheckTls(c.server));
  if (c.data.mean.size() != c.data.std.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: $.data.mean and $.data.std: ", c.data.mean.size(), " and ",
        c.data.std.size(), " values; give one of each per channel, or none"));
  }
  for (size_t i = 0; i < c.fleet.classes.size(); ++i) {
    const DeviceClassConfig& d = c.fleet.classes[i];
    if (d.offline_s > 0 && !(d.online_s > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: $.fleet.classes[", i,
                       "].online_s: must be positive when offline_s is"));
    }
  }
  if (c.TotalDevices() > 0 && c.strategy.min_updates > c.TotalDevices()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: $.strategy.min_updates: ", c.strategy.min_updates,
        " is more than the fleet's ", c.TotalDevices(), " devices"));
  }
  TANDEM_RETURN_IF_ERROR(CheckBuffered(c));
  for (size_t i = 0; i < c.fleet.classes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (c.fleet.classes[i].name == c.fleet.classes[j].name) {
        return absl::InvalidArgumentError(
            absl::StrCat("config: $.fleet.classes[", i, "].name: \"",
                         c.fleet.classes[i].name, "\" is used twice"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFixedSplits(const Config& c) {
  for (auto it = c.offload.fixed.begin(); it != c.offload.fixed.end(); ++it) {
    const std::string path = absl::StrCat("config: $.offload.fixed.", it.key());
    if (!it->is_number_integer() || it->get<int64_t>() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": expected a split point (integer >= 1), got ", it->dump()));
    }
    bool known = c.fleet.classes.empty();
    for (const DeviceClassConfig& dc : c.fleet.classes) {
      known = known || dc.name == it.key();
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": no device class of that name in $.fleet"));
    }
  }
  return absl::OkStatus();
}

// The member `key` of an object (created when missing) or the element at
// index `key` of an array (which must exist); `parent` names the node.
absl::StatusOr<nlohmann::json*> Child(nlohmann::json* node,
                                      const std::string& parent,
                                      const std::string& key,
                                      const std::string& spec) {
  const std::string where = absl::StrCat("override '", spec, "': '", parent);
  if (node->is_object()) return &(*node)[key];
  if (!node->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "' is not an object"));
  }
  size_t index = 0;
  if (!absl::SimpleAtoi(key, &index)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "' is an array: expected an index, got '", key, "'"));
  }
  if (index >= node->size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "' has ", node->size(), " elements: no index ", key));
  }
  return &(*node)[index];
}

// "section.key=value"; a numeric key indexes an array
// ("fleet.classes.0.bandwidth_mbps=100").
absl::Status ApplyOverride(const std::string& spec, nlohmann::json* json) {
  std::vector<std::string> kv = absl::StrSplit(spec, absl::MaxSplits('=', 1));
  if (kv.size() != 2 || kv[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("override '", spec, "': expected section.key=value"));
  }
  nlohmann::json value = nlohmann::json::parse(kv[1], nullptr, false);
  if (value.is_discarded()) value = kv[1];
  nlohmann::json* node = json;
  std::string parent = "$";
  const std::vector<std::string> keys = absl::StrSplit(kv[0], '.');
  for (const std::string& key : keys) {
    if (node->is_null()) *node = nlohmann::json::object();
    absl::StatusOr<nlohmann::json*> child = Child(node, parent, key, spec);
    if (!child.ok()) return child.status();
    node = *child;
    parent = key;
  }
  *node = std::move(value);
  return absl::OkStatus();
}

}  // namespace

int Config::TotalDevices() const {
  int n = 0;
  for (const DeviceClassConfig& c : fleet.classes) n += c.count;
  return n;
}

absl::StatusOr<Config> ParseConfig(const nlohmann::json& json) {
  Config c;
  JsonObjectReader top(json, "$");
  top.Uint64("seed", &c.seed);
  TANDEM_RETURN_IF_ERROR(
      ReadSection(top, "server", &c.server, VisitServer<JsonObjectReader>));
  TANDEM_RETURN_IF_ERROR(
      ReadSection(top, "model", &c.model, VisitModel<JsonObjectReader>));
  TANDEM_RETURN_IF_ERROR(
      ReadSection(top, "data", &c.data, VisitData<JsonObjectReader>));
  TANDEM_RETURN_IF_ERROR(ReadSection(top, "training", &c.training,
                                     VisitTraining<JsonObjectReader>));
  TANDEM_RETURN_IF_ERROR(ReadSection(top, "strategy", &c.strategy,
                                     VisitStrategy<JsonObjectReader>));
  TANDEM_RETURN_IF_ERROR(
      ReadSection(top, "offload", &c.offload, VisitOffload<JsonObjectReader>));
  TANDEM_RETURN_IF_ERROR(ReadFleet(top, &c.fleet));
  TANDEM_RETURN_IF_ERROR(
      ReadSection(top, "output", &c.output, VisitOutput<JsonObjectReader>));
  TANDEM_RETURN_IF_ERROR(top.Finish());
  TANDEM_RETURN_IF_ERROR(CheckAcrossSections(c));
  TANDEM_RETURN_IF_ERROR(CheckFixedSplits(c));
  return c;
}

absl::StatusOr<Config> LoadConfig(const std::string& path,
                                  const std::vector<std::string>& overrides) {
  if (path.empty()) {  // defaults only
    nlohmann::json json = nlohmann::json::object();
    for (const std::string& o : overrides) {
      TANDEM_RETURN_IF_ERROR(ApplyOverride(o, &json));
    }
    return ParseConfig(json);
  }
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("config: cannot open '", path, "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) {
    // Parse again with exceptions only to get the position of the error.
    try {
      nlohmann::json unused = nlohmann::json::parse(text.str());
      (void)unused;
    } catch (const nlohmann::json::parse_error& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: '", path, "' is not valid JSON: ", e.what()));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("config: '", path, "' is not valid JSON"));
  }
  for (const std::string& o : overrides) {
    TANDEM_RETURN_IF_ERROR(ApplyOverride(o, &json));
  }
  return ParseConfig(json);
}

nlohmann::json ConfigToJson(const Config& config) {
  Config c = config;
  nlohmann::json j;
  j["seed"] = c.seed;
  JsonObjectWriter server(&j["server"]);
  VisitServer(server, c.server);
  JsonObjectWriter model(&j["model"]);
  VisitModel(model, c.model);
  JsonObjectWriter data(&j["data"]);
  VisitData(data, c.data);
  JsonObjectWriter training(&j["training"]);
  VisitTraining(training, c.training);
  JsonObjectWriter strategy(&j["strategy"]);
  VisitStrategy(strategy, c.strategy);
  JsonObjectWriter offload(&j["offload"]);
  VisitOffload(offload, c.offload);
  j["fleet"]["concurrency"] = c.fleet.concurrency;
  j["fleet"]["compute_time"] = NameOf(ComputeTimeNames(), c.fleet.compute_time);
  j["fleet"]["profile"] = c.fleet.profile;
  j["fleet"]["availability_trace"] = c.fleet.availability_trace;
  j["fleet"]["bandwidth_events"] = ListToJson(
      c.fleet.bandwidth_events, [](JsonObjectWriter& w, BandwidthEvent& e) {
        VisitBandwidthEvent(w, e);
      });
  j["fleet"]["link_traces"] = ListToJson(
      c.fleet.link_traces,
      [](JsonObjectWriter& w, DeviceLinkTrace& t) { VisitLinkTrace(w, t); });
  j["fleet"]["classes"] = ListToJson(
      c.fleet.classes, [](JsonObjectWriter& w, DeviceClassConfig& dc) {
        VisitDeviceClass(w, dc);
      });
  JsonObjectWriter output(&j["output"]);
  VisitOutput(output, c.output);
  return j;
}

}  // namespace tandem
