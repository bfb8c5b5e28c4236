#include "offload/ppo_policy.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "offload/grouping.h"
#include "offload/ppo_agent.h"

namespace tandem::offload {
namespace {

constexpr int kFeatures = 3;  // per group: compute, log throughput, split

class PpoPolicy final : public SplitPolicy {
 public:
  PpoPolicy(const OffloadConfig& config, const PolicyContext& context,
            std::unique_ptr<PpoAgent> agent, uint64_t seed)
      : config_(config),
        stages_(context.num_stages),
        context_(context),
        agent_(std::move(agent)),
        grouper_(config.groups, 0.3, seed) {}

  absl::string_view name() const override { return "ppo"; }

  // Before any round was observed: act on the devices' join timings, as if
  // they had trained one round without offload (by the cost model).
  void Plan(const std::vector<DeviceView>& devices) override {
    if (pending_.has_value() || devices.empty()) return;
    std::vector<DeviceOutcome> predicted;
    for (const DeviceView& d : devices) {
      const double slowdown = TimedSlowdown(context_, d);
      if (slowdown <= 0 || d.examples <= 0 || d.device.bandwidth_mbps <= 0) {
        return;
      }
      DeviceEstimate e;
      e.slowdown = slowdown;
      e.bandwidth_mbps = d.device.bandwidth_mbps;
      e.latency_ms = d.device.latency_ms;
      const SplitCost local =
          EvaluateSplits(context_.profile, e,
                         RoundShapeOf(context_, d.examples, 1))
              .back();
      DeviceOutcome o;
      o.id = d.id;
      o.split = stages_;
      o.compute_s = local.device_compute_s;
      o.link_s = local.up_s + local.down_s;
      o.round_time_s = local.time_s;
      o.bytes = static_cast<int64_t>(
          (local.up_s + local.down_s - 2 * d.device.latency_ms / 1e3) *
          d.device.bandwidth_mbps * 1e6 / 8);
      predicted.push_back(o);
    }
    for (const DeviceOutcome& o : predicted) {
      baseline_ = std::max(baseline_, o.round_time_s);
    }
    UpdateGroups(predicted);
    auto step = agent_->Act(State(predicted), !config_.ppo_learn);
    if (step.ok()) pending_ = *std::move(step);
  }

  Placement Choose(const DeviceView& d) override {
    if (!pending_.has_value()) return {stages_};  // nothing known: measure
    auto it = grouper_.groups().find(d.id);
    if (it == grouper_.groups().end()) return {stages_};
    return PlacementOf(pending_->actions[it->second]);
  }

  void Observe(int64_t, const std::vector<DeviceOutcome>& outcomes) override {
    if (outcomes.empty()) return;
    double slowest = 0;
    for (const DeviceOutcome& o : outcomes) {
      slowest = std::max(slowest, o.round_time_s);
    }
    if (baseline_ <= 0) baseline_ = slowest;
    if (pending_.has_value()) {
      agent_->Record(*pending_, (baseline_ - slowest) / baseline_);
      if (config_.ppo_learn && agent_->recorded() >= config_.ppo_update_every) {
        (void)agent_->Update();
      }
    }
    UpdateGroups(outcomes);
    auto step = agent_->Act(State(outcomes), !config_.ppo_learn);
    if (step.ok()) pending_ = *std::move(step);
  }

  void SaveState(RunState* out) const override {
    nlohmann::json groups = nlohmann::json::object();
    for (const auto& [id, g] : grouper_.groups()) groups[id] = g;
    nlohmann::json points = nlohmann::json::object();
    for (const auto& [id, p] : grouper_.last_points()) {
      points[id] = {p.compute_s, p.throughput_mbps};
    }
    out->values["policy"] = {
        {"kind", "ppo"},
        {"baseline", baseline_},
        {"groups", groups},
        {"points", points},
        {"pending", pending_.has_value() ? PpoAgent::StepToJson(*pending_)
                                         : nlohmann::json()}};
    agent_->SaveState("policy.agent", out);
  }

  absl::Status LoadState(const RunState& in) override {
    auto it = in.values.find("policy");
    if (it == in.values.end() || !it->is_object() ||
        it->value("kind", "") != "ppo") {
      return absl::OkStatus();  // none, or another policy's
    }
    const nlohmann::json& j = *it;
    auto bad = absl::InvalidArgumentError("ppo policy state: malformed");
    const nlohmann::json baseline = j.value("baseline", nlohmann::json());
    const nlohmann::json groups = j.value("groups", nlohmann::json());
    const nlohmann::json points = j.value("points", nlohmann::json());
    const nlohmann::json pending = j.value("pending", nlohmann::json());
    if (!baseline.is_number() || !groups.is_object() || !points.is_object()) {
      return bad;
    }
    Grouping grouping;
    for (const auto& [id, g] : groups.items()) {
      if (!g.is_number_integer() || g.get<int>() < 0 ||
          g.get<int>() >= config_.groups) {
        return bad;
      }
      grouping[id] = g.get<int>();
    }
    std::map<std::string, DevicePoint> at;
    for (const auto& [id, p] : points.items()) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() ||
          !p[1].is_number()) {
        return bad;
      }
      at[id] = {id, p[0].get<double>(), p[1].get<double>()};
    }
    std::optional<PpoAgent::Step> step;
    if (!pending.is_null()) {
      step.emplace();
      if (!PpoAgent::StepFromJson(pending, agent_->options(), &*step)) {
        return bad;
      }
    }
    TANDEM_RETURN_IF_ERROR(agent_->LoadState("policy.agent", in));
    grouper_.Restore(std::move(grouping), std::move(at));
    baseline_ = baseline.get<double>();
    pending_ = std::move(step);
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    if (config_.ppo_save.empty()) return absl::OkStatus();
    return agent_->Save(config_.ppo_save);
  }

 private:
  // Action a of one mode: split a + 1 (a = L - 1: no offload). Under
  // offload.mode "auto", actions L .. 2L - 2 are local-loss split points
  // 1 .. L - 1.
  Placement PlacementOf(int a) const {
    const SplitMode first = context_.modes.front();
    if (a < stages_)
      return {a + 1, a + 1 < stages_ ? first : SplitMode::kExact};
    return {a - stages_ + 1, SplitMode::kLocalLoss};
  }

  void UpdateGroups(const std::vector<DeviceOutcome>& outcomes) {
    std::vector<DevicePoint> points;
    for (const DeviceOutcome& o : outcomes) {
      points.push_back({o.id, o.compute_s + o.tail_s, Throughput(o)});
    }
    grouper_.Update(points);
  }

  static double Throughput(const DeviceOutcome& o) {
    return o.link_s > 0 ? o.bytes * 8.0 / o.link_s / 1e6 : 1e3;
  }

  std::vector<float> State(const std::vector<DeviceOutcome>& outcomes) const {
    std::vector<double> sum(config_.groups * kFeatures, 0);
    std::vector<int> count(config_.groups, 0);
    for (const DeviceOutcome& o : outcomes) {
      auto it = grouper_.groups().find(o.id);
      if (it == grouper_.groups().end()) continue;
      const int g = it->second;
      sum[g * kFeatures + 0] += (o.compute_s + o.tail_s) / baseline_;
      sum[g * kFeatures + 1] += std::log10(std::max(1e-3, Throughput(o))) / 3;
      sum[g * kFeatures + 2] += static_cast<double>(o.split) / stages_;
      ++count[g];
    }
    std::vector<float> state(sum.size(), 0.f);
    for (size_t i = 0; i < sum.size(); ++i) {
      const int n = count[i / kFeatures];
      state[i] = n > 0 ? static_cast<float>(sum[i] / n) : 0.f;
    }
    return state;
  }

  const OffloadConfig config_;
  const int stages_;
  const PolicyContext context_;
  std::unique_ptr<PpoAgent> agent_;
  DeviceGrouper grouper_;
  double baseline_ = 0;
  std::optional<PpoAgent::Step> pending_;
};

// One action per split point, and one more per split point in the second
// mode.
int PpoActions(const PolicyContext& context) {
  return context.num_stages +
         (context.modes.size() > 1 ? context.num_stages - 1 : 0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SplitPolicy>> CreatePpoPolicy(
    const OffloadConfig& config, const PolicyContext& context) {
  std::unique_ptr<PpoAgent> agent;
  if (!config.ppo_load.empty()) {
    auto loaded = PpoAgent::Load(config.ppo_load);
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat("config: $.offload.ppo_load: ",
                                       loaded.status().message()));
    }
    agent = *std::move(loaded);
    const PpoOptions& o = agent->options();
    if (o.groups != config.groups || o.actions != PpoActions(context) ||
        o.state_dim != config.groups * kFeatures) {
      return absl::InvalidArgumentError(
          "config: $.offload.ppo_load: the policy was trained for another "
          "model or number of groups");
    }
  } else {
    PpoOptions o;
    o.state_dim = config.groups * kFeatures;
    o.groups = config.groups;
    o.actions = PpoActions(context);
    o.gamma = 0.5;
    o.seed = context.seed;
    auto created = PpoAgent::Create(o);
    if (!created.ok()) return created.status();
    agent = *std::move(created);
  }
  return std::unique_ptr<SplitPolicy>(
      new PpoPolicy(config, context, std::move(agent), context.seed));
}

}  // namespace tandem::offload
