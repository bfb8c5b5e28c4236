#include "offload/greedy_policy.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <initializer_list>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "offload/cost_model.h"

namespace tandem::offload {
namespace {

constexpr double kSmoothing = 0.5;  // weight of the newest measurement

// Smooths small changes (noise); a change of more than 25% is a new link or
// device state, taken as measured so the policy follows it at once.
double Blend(double smoothed, double measured) {
  if (measured > 1.25 * smoothed || measured < 0.8 * smoothed) return measured;
  return smoothed + kSmoothing * (measured - smoothed);
}

// Finite numbers >= 0 (what greedy's state holds).
bool AllNumbers(std::initializer_list<nlohmann::json> values) {
  for (const nlohmann::json& v : values) {
    if (!v.is_number() || !(v.get<double>() >= 0) ||
        !std::isfinite(v.get<double>())) {
      return false;
    }
  }
  return true;
}

struct Measured {
  double slowdown = 0;
  double bandwidth_mbps = 0;
  int64_t examples = 0;
  std::deque<double> recent_mbps;  // newest last
};

class GreedyPolicy final : public SplitPolicy {
 public:
  GreedyPolicy(const OffloadConfig& config, PolicyContext context,
               std::map<std::string, int64_t> budgets)
      : alpha_(config.alpha),
        guarded_(config.link_guard && config.alpha >= 1),
        context_(std::move(context)),
        budgets_(std::move(budgets)) {}

  absl::string_view name() const override { return "greedy"; }

  Placement Choose(const DeviceView& d) override {
    latency_ms_[d.id] = d.device.latency_ms > 0 ? d.device.latency_ms : 5;
    const Measured m = Known(d);
    if (m.slowdown <= 0) return {context_.num_stages};  // measure first
    DeviceEstimate e;
    static_cast<DeviceModel&>(e) = d.device;  // powers as declared
    e.slowdown = m.slowdown;
    e.bandwidth_mbps = m.bandwidth_mbps;
    for (double mbps : m.recent_mbps) {
      if (guarded_ && mbps > e.bandwidth_mbps) e.bandwidth_mbps = mbps;
    }
    e.latency_ms = latency_ms_[d.id];
    auto budget = budgets_.find(d.device_class);
    if (budget != budgets_.end()) e.memory_budget_bytes = budget->second;
    // Tails sharing the coordinator if this device offloads: last round's
    // others, and this one.
    const int sharing =
        static_cast<int>(offloaded_.size() - offloaded_.count(d.id)) + 1;
    const RoundShape r = RoundShapeOf(context_, m.examples, sharing);
    const std::vector<SplitCost> costs =
        EvaluatePlacements(context_.profile, e, r, context_.modes);
    const SplitCost& best = costs[ChoosePlacement(costs, alpha_)];
    return {best.split, best.mode};
  }

  void SaveState(RunState* out) const override {
    nlohmann::json measured = nlohmann::json::object();
    for (const auto& [id, m] : measured_) {
      measured[id] = {m.slowdown, m.bandwidth_mbps, m.examples, m.recent_mbps};
    }
    out->values["policy"] = {{"kind", "greedy"},
                             {"measured", measured},
                             {"latency_ms", latency_ms_},
                             {"offloaded", offloaded_}};
  }

  absl::Status LoadState(const RunState& in) override {
    auto it = in.values.find("policy");
    if (it == in.values.end() || !it->is_object() ||
        it->value("kind", "") != "greedy") {
      return absl::OkStatus();  // none, or another policy's
    }
    const nlohmann::json& state = *it;
    auto bad = absl::InvalidArgumentError("greedy policy state: malformed");
    if (!state.is_object() || !state.contains("measured") ||
        !state["measured"].is_object() || !state.contains("latency_ms") ||
        !state["latency_ms"].is_object() || !state.contains("offloaded") ||
        !state["offloaded"].is_array()) {
      return bad;
    }
    std::map<std::string, Measured> measured;
    for (const auto& [id, j] : state["measured"].items()) {
      if (!j.is_array() || j.size() != 4 || !j[3].is_array()) return bad;
      Measured m;
      if (!AllNumbers({j[0], j[1], j[2]})) return bad;
      m.slowdown = j[0].get<double>();
      m.bandwidth_mbps = j[1].get<double>();
      m.examples = j[2].get<int64_t>();
      for (const nlohmann::json& x : j[3]) {
        if (!AllNumbers({x}) || m.recent_mbps.size() >= kGuardedLinkMemory) {
          return bad;
        }
        m.recent_mbps.push_back(x.get<double>());
      }
      measured[id] = std::move(m);
    }
    std::map<std::string, double> latency;
    for (const auto& [id, x] : state["latency_ms"].items()) {
      if (!AllNumbers({x})) return bad;
      latency[id] = x.get<double>();
    }
    std::set<std::string> offloaded;
    for (const nlohmann::json& id : state["offloaded"]) {
      if (!id.is_string()) return bad;
      offloaded.insert(id.get<std::string>());
    }
    measured_ = std::move(measured);
    latency_ms_ = std::move(latency);
    offloaded_ = std::move(offloaded);
    return absl::OkStatus();
  }

  void Observe(int64_t, const std::vector<DeviceOutcome>& outcomes) override {
    offloaded_.clear();
    for (const DeviceOutcome& o : outcomes) {
      if (o.split < context_.num_stages) offloaded_.insert(o.id);
      Update(o);
    }
  }

 private:
  // Measured in its rounds, else from its join timing and advertised link;
  // slowdown 0 when neither is known.
  Measured Known(const DeviceView& d) const {
    auto it = measured_.find(d.id);
    if (it != measured_.end()) return it->second;
    Measured m;
    if (d.examples <= 0 || d.device.bandwidth_mbps <= 0) return m;
    m.slowdown = TimedSlowdown(context_, d);
    m.bandwidth_mbps = d.device.bandwidth_mbps;
    m.examples = d.examples;
    return m;
  }

  void Update(const DeviceOutcome& o) {
    Measured now;
    now.slowdown = MeasuredSlowdown(context_, o);
    if (now.slowdown <= 0) return;
    // The cost model adds the latencies back.
    auto latency = latency_ms_.find(o.id);
    now.bandwidth_mbps = OutcomeMbps(
        context_, o, latency == latency_ms_.end() ? 0 : latency->second);
    now.examples = o.samples;
    auto [it, fresh] = measured_.try_emplace(o.id, now);
    Measured& m = it->second;
    if (!fresh) {
      m.slowdown = Blend(m.slowdown, now.slowdown);
      m.bandwidth_mbps = Blend(m.bandwidth_mbps, now.bandwidth_mbps);
      m.examples = now.examples;
    }
    m.recent_mbps.push_back(now.bandwidth_mbps);
    if (m.recent_mbps.size() > kGuardedLinkMemory) m.recent_mbps.pop_front();
  }

  const double alpha_;
  const bool guarded_;  // the coordinator's link guard is on
  const PolicyContext context_;
  const std::map<std::string, int64_t> budgets_;
  std::map<std::string, Measured> measured_;
  std::map<std::string, double> latency_ms_;  // as last seen in Choose()
  std::set<std::string> offloaded_;           // devices offloading last round
};

}  // namespace

absl::StatusOr<std::unique_ptr<SplitPolicy>> CreateGreedyPolicy(
    const OffloadConfig& config, const PolicyContext& context) {
  if (static_cast<int>(context.profile.stages.size()) != context.num_stages) {
    return absl::FailedPreconditionError(
        "greedy policy: the model profile does not match the model");
  }
  auto budgets = MemoryBudgets(config);
  if (!budgets.ok()) return budgets.status();
  return std::unique_ptr<SplitPolicy>(
      new GreedyPolicy(config, context, *std::move(budgets)));
}

}  // namespace tandem::offload
