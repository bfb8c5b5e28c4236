#include "offload/ppo_policy.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "offload/ppo_features.h"

namespace tandem::offload {
namespace {

constexpr size_t kLinkMemory = 6;  // link measurements the features see

// What the policy measured of a device in its rounds.
struct Tracked {
  double slowdown = 0;
  int64_t examples = 0;
  std::deque<double> mbps;  // newest last
  Placement last;           // split 0: none yet
  bool guarded = false;
};

// A hash of the id that is the same on every platform.
uint64_t Fnv1a(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

nlohmann::json PlacementJson(const Placement& p) {
  return {p.split, static_cast<int>(p.mode)};
}

bool PlacementFromJson(const nlohmann::json& j, Placement* p) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_number_integer() ||
      !j[1].is_number_integer() || j[1].get<int>() < 0 || j[1].get<int>() > 1) {
    return false;
  }
  p->split = j[0].get<int>();
  p->mode = static_cast<SplitMode>(j[1].get<int>());
  return true;
}

bool NonNegative(const nlohmann::json& j) {
  return j.is_number() && j.get<double>() >= 0 &&
         std::isfinite(j.get<double>());
}

class PpoPolicy final : public SplitPolicy {
 public:
  PpoPolicy(const OffloadConfig& config, const PolicyContext& context,
            std::shared_ptr<PpoAgent> agent,
            std::map<std::string, int64_t> budgets, bool override_to_local)
      : config_(config),
        context_(context),
        agent_(std::move(agent)),
        budgets_(std::move(budgets)),
        guarded_(LinkGuardApplies(config)),
        override_to_local_(override_to_local) {}

  absl::string_view name() const override { return "ppo"; }
  int64_t overrides() const { return overrides_; }

  Placement Choose(const DeviceView& d) override {
    const int stages = context_.num_stages;
    latency_ms_[d.id] = d.device.latency_ms > 0 ? d.device.latency_ms : 5;
    DeviceSituation s;
    if (!Situation(d, &s)) return {stages};  // nothing known: measure
    const PlacementChoices ch =
        DescribeChoices(context_, s, config_.alpha, guarded_);
    // Seeded by the run's seed, the device and its decision count alone.
    const uint64_t draw = (Fnv1a(d.id) * 31 + draws_[d.id]++) ^
                          (context_.seed * 0x2545F4914F6CDD1Dull);
    auto decision =
        agent_->Act(ch.context, ch.features, !config_.ppo_learn, draw);
    if (!decision.ok()) {
      LogWarning(absl::StrCat("ppo: ", decision.status().message()));
      return {stages};
    }
    SplitCost pick = ch.costs[decision->choice];
    // The cost model's score of the pick against local, at the link the
    // plan assumes (offload/ppo_features.h).
    const float score =
        ch.features[decision->choice * kCandidateFeatures + kCostModelScore];
    if (override_to_local_ && pick.split < stages && ch.local.fits &&
        score > std::log(1 + kLocalMargin)) {
      ++overrides_;
      pick = ch.local;
    }
    const Placement chosen{pick.split, pick.mode};
    chosen_[d.id] = chosen;
    if (config_.ppo_learn) pending_[d.id] = *std::move(decision);
    return chosen;
  }

  void Observe(int64_t, const std::vector<DeviceOutcome>& outcomes) override {
    std::vector<DeviceOutcome> sorted = outcomes;  // order-independent
    std::sort(sorted.begin(), sorted.end(),
              [](const DeviceOutcome& a, const DeviceOutcome& b) {
                return a.id < b.id;
              });
    RecordRewards(sorted);
    offloaded_.clear();
    fleet_ = static_cast<int>(sorted.size());
    for (const DeviceOutcome& o : sorted) Track(o);
    pending_.clear();
    if (config_.ppo_learn && ++since_update_ >= config_.ppo_update_every) {
      since_update_ = 0;
      absl::Status updated = agent_->Update();
      if (!updated.ok()) LogWarning(std::string(updated.message()));
    }
  }

  absl::Status Finish() override {
    LogInfo(absl::StrCat("ppo: ", overrides_,
                         " placement(s) overridden to local training (",
                         kLocalMargin * 100, "% margin)"));
    if (config_.ppo_save.empty()) return absl::OkStatus();
    return agent_->Save(config_.ppo_save, {{"saved_by", "offload.ppo_save"}});
  }

  void SaveState(RunState* out) const override;
  absl::Status LoadState(const RunState& in) override;

 private:
  // The device as measured in its rounds, else from its join timing and
  // advertised link; false when neither is known.
  bool Situation(const DeviceView& d, DeviceSituation* s) const {
    static_cast<DeviceModel&>(s->estimate) = d.device;  // powers as declared
    auto budget = budgets_.find(d.device_class);
    if (budget != budgets_.end()) {
      s->estimate.memory_budget_bytes = budget->second;
    }
    s->estimate.latency_ms = latency_ms_.at(d.id);
    s->others_offloading =
        static_cast<int>(offloaded_.size() - offloaded_.count(d.id));
    s->fleet = std::max(1, fleet_);
    auto it = tracked_.find(d.id);
    if (it != tracked_.end() && !it->second.mbps.empty()) {
      const Tracked& t = it->second;
      s->estimate.slowdown = t.slowdown;
      s->link = LinkStatsOf(t.mbps);
      s->examples = t.examples;
      s->current = t.last;
      s->guarded = t.guarded;
      return true;
    }
    const double slowdown = TimedSlowdown(context_, d);
    if (slowdown <= 0 || d.examples <= 0 || d.device.bandwidth_mbps <= 0) {
      return false;
    }
    s->estimate.slowdown = slowdown;
    s->link = LinkStatsOf({d.device.bandwidth_mbps});
    s->link.measured = 0;
    s->examples = d.examples;
    s->current = {context_.num_stages};
    return true;
  }

  // Local training's time and energy for an outcome, by the cost model at
  // the speed and link the round measured; time 0 when they cannot be told.
  SplitCost LocalCost(const DeviceOutcome& o) const {
    DeviceEstimate e;
    e.slowdown = MeasuredSlowdown(context_, o);
    if (e.slowdown <= 0) return {};
    e.latency_ms = Latency(o.id);
    e.bandwidth_mbps = std::max(1e-3, OutcomeMbps(context_, o, e.latency_ms));
    return EvaluateSplits(context_.profile, e,
                          RoundShapeOf(context_, o.samples, 1))
        .back();
  }

  void RecordRewards(const std::vector<DeviceOutcome>& sorted) {
    if (pending_.empty()) return;
    std::vector<SplitCost> local;
    double slowest = 0, slowest_local = 0;
    for (const DeviceOutcome& o : sorted) {
      local.push_back(LocalCost(o));
      slowest = std::max(slowest, o.round_time_s);
      slowest_local = std::max(slowest_local, local.back().time_s);
    }
    if (!(slowest_local > 0)) return;
    const double team = std::min(10.0, slowest / slowest_local);
    // Mostly the device's own time: what its decision changes most.
    const double alpha = config_.alpha;
    for (size_t i = 0; i < sorted.size(); ++i) {
      auto it = pending_.find(sorted[i].id);
      if (it == pending_.end() || !(local[i].time_s > 0)) continue;
      double own = alpha * sorted[i].round_time_s / local[i].time_s;
      if (alpha < 1 && local[i].energy_j > 0) {
        own += (1 - alpha) * sorted[i].energy_j / local[i].energy_j;
      }
      agent_->Record(it->second, -(0.75 * std::min(10.0, own) + 0.25 * team));
    }
  }

  void Track(const DeviceOutcome& o) {
    const int stages = context_.num_stages;
    if (o.split < stages) offloaded_.insert(o.id);
    Tracked& t = tracked_[o.id];
    auto chosen = chosen_.find(o.id);
    t.guarded = chosen != chosen_.end() && chosen->second.split < stages &&
                o.split >= stages;
    t.last = {o.split, o.mode};
    const double slowdown = MeasuredSlowdown(context_, o);
    if (slowdown <= 0) return;
    t.slowdown = t.slowdown > 0 ? (t.slowdown + slowdown) / 2 : slowdown;
    t.examples = o.samples;
    t.mbps.push_back(OutcomeMbps(context_, o, Latency(o.id)));
    if (t.mbps.size() > kLinkMemory) t.mbps.pop_front();
  }

  double Latency(const std::string& id) const {
    auto it = latency_ms_.find(id);
    return it == latency_ms_.end() ? 0 : it->second;
  }

  const OffloadConfig config_;
  const PolicyContext context_;
  const std::shared_ptr<PpoAgent> agent_;
  const std::map<std::string, int64_t> budgets_;
  const bool guarded_;            // the coordinator's link guard is on
  const bool override_to_local_;  // kLocalMargin applies
  std::map<std::string, Tracked> tracked_;
  std::map<std::string, double> latency_ms_;  // as last seen in Choose()
  std::map<std::string, uint64_t> draws_;     // decisions per device
  std::map<std::string, Placement> chosen_;   // this round's choices
  std::map<std::string, PpoAgent::Decision> pending_;  // when learning
  std::set<std::string> offloaded_;  // devices offloading last round
  int fleet_ = 0;                    // devices in last round
  int since_update_ = 0;             // rounds since the agent's last update
  int64_t overrides_ = 0;
};

void PpoPolicy::SaveState(RunState* out) const {
  nlohmann::json tracked = nlohmann::json::object();
  for (const auto& [id, t] : tracked_) {
    tracked[id] = {t.slowdown, t.examples, t.mbps, PlacementJson(t.last),
                   t.guarded};
  }
  nlohmann::json chosen = nlohmann::json::object();
  for (const auto& [id, p] : chosen_) chosen[id] = PlacementJson(p);
  nlohmann::json pending = nlohmann::json::object();
  for (const auto& [id, d] : pending_) {
    pending[id] = PpoAgent::DecisionToJson(d);
  }
  out->values["policy"] = {
      {"kind", "ppo"},          {"version", 2},
      {"tracked", tracked},     {"latency_ms", latency_ms_},
      {"draws", draws_},        {"chosen", chosen},
      {"pending", pending},     {"offloaded", offloaded_},
      {"fleet", fleet_},        {"since_update", since_update_},
      {"overrides", overrides_}};
  agent_->SaveState("policy.agent", out);
}

absl::Status PpoPolicy::LoadState(const RunState& in) {
  auto it = in.values.find("policy");
  if (it == in.values.end() || !it->is_object() ||
      it->value("kind", "") != "ppo") {
    return absl::OkStatus();  // none, or another policy's
  }
  const nlohmann::json& j = *it;
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("ppo policy state: ", what));
  };
  if (j.value("version", 0) != 2) {
    return bad("from an older version of the ppo policy");
  }
  for (const char* key :
       {"tracked", "latency_ms", "draws", "chosen", "pending"}) {
    if (!j.contains(key) || !j[key].is_object()) return bad(key);
  }
  if (!j.value("offloaded", nlohmann::json()).is_array() ||
      !j.value("fleet", nlohmann::json()).is_number_integer() ||
      !j.value("since_update", nlohmann::json()).is_number_integer() ||
      !j.value("overrides", nlohmann::json()).is_number_integer()) {
    return bad("malformed");
  }
  std::map<std::string, Tracked> tracked;
  for (const auto& [id, t] : j["tracked"].items()) {
    if (!t.is_array() || t.size() != 5 || !NonNegative(t[0]) ||
        !t[1].is_number_integer() || !t[2].is_array() ||
        t[2].size() > kLinkMemory ||
        !PlacementFromJson(t[3], &tracked[id].last) || !t[4].is_boolean()) {
      return bad(absl::StrCat("device ", id));
    }
    Tracked& x = tracked[id];
    x.slowdown = t[0].get<double>();
    x.examples = t[1].get<int64_t>();
    for (const nlohmann::json& m : t[2]) {
      if (!NonNegative(m)) return bad(absl::StrCat("device ", id));
      x.mbps.push_back(m.get<double>());
    }
    x.guarded = t[4].get<bool>();
  }
  std::map<std::string, double> latency;
  for (const auto& [id, x] : j["latency_ms"].items()) {
    if (!NonNegative(x)) return bad("latency_ms");
    latency[id] = x.get<double>();
  }
  std::map<std::string, uint64_t> draws;
  for (const auto& [id, x] : j["draws"].items()) {
    if (!x.is_number_unsigned()) return bad("draws");
    draws[id] = x.get<uint64_t>();
  }
  std::map<std::string, Placement> chosen;
  for (const auto& [id, x] : j["chosen"].items()) {
    if (!PlacementFromJson(x, &chosen[id])) return bad("chosen");
  }
  std::map<std::string, PpoAgent::Decision> pending;
  for (const auto& [id, x] : j["pending"].items()) {
    if (!PpoAgent::DecisionFromJson(x, agent_->options(), &pending[id])) {
      return bad("pending");
    }
  }
  std::set<std::string> offloaded;
  for (const nlohmann::json& id : j["offloaded"]) {
    if (!id.is_string()) return bad("offloaded");
    offloaded.insert(id.get<std::string>());
  }
  absl::Status agent = agent_->LoadState("policy.agent", in);
  if (!agent.ok()) return agent;
  tracked_ = std::move(tracked);
  latency_ms_ = std::move(latency);
  draws_ = std::move(draws);
  chosen_ = std::move(chosen);
  pending_ = std::move(pending);
  offloaded_ = std::move(offloaded);
  fleet_ = j["fleet"].get<int>();
  since_update_ = j["since_update"].get<int>();
  overrides_ = j["overrides"].get<int64_t>();
  return absl::OkStatus();
}

}  // namespace

PpoOptions PpoPolicyAgentOptions(uint64_t seed) {
  PpoOptions o;
  o.features = kCandidateFeatures;
  o.context = kContextFeatures;
  o.hidden = 64;
  o.learning_rate = 1e-3;
  o.seed = seed;
  // Starts from the cost model's choice (greedy's); 30: a placement 3%
  // faster by the cost model is about e times likelier, and the network
  // must learn a large correction to overrule a clear difference.
  o.prior_feature = kCostModelScore;
  o.prior_scale = 30;
  return o;
}

absl::StatusOr<std::unique_ptr<SplitPolicy>> CreatePpoPolicyWithAgent(
    const OffloadConfig& config, const PolicyContext& context,
    std::shared_ptr<PpoAgent> agent, bool override_to_local) {
  if (static_cast<int>(context.profile.stages.size()) != context.num_stages) {
    return absl::FailedPreconditionError(
        "ppo policy: the model profile does not match the model");
  }
  const PpoOptions& o = agent->options();
  if (o.features != kCandidateFeatures || o.context != kContextFeatures) {
    return absl::InvalidArgumentError(
        absl::StrCat("ppo policy: the network takes ", o.features, " and ",
                     o.context, " features, this policy gives ",
                     kCandidateFeatures, " and ", kContextFeatures));
  }
  auto budgets = MemoryBudgets(config);
  if (!budgets.ok()) return budgets.status();
  return std::unique_ptr<SplitPolicy>(
      new PpoPolicy(config, context, std::move(agent), *std::move(budgets),
                    override_to_local));
}

absl::StatusOr<std::unique_ptr<SplitPolicy>> CreatePpoPolicy(
    const OffloadConfig& config, const PolicyContext& context) {
  const std::string path =
      config.ppo_load.empty() ? kDefaultPolicyFile : config.ppo_load;
  auto loaded = PpoAgent::Load(path);
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(),
                        absl::StrCat("config: $.offload.ppo_load: ",
                                     loaded.status().message()));
  }
  auto policy = CreatePpoPolicyWithAgent(config, context, *std::move(loaded));
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat("config: $.offload.ppo_load: ", path, ": ",
                                     policy.status().message()));
  }
  return policy;
}

int64_t PpoOverrides(const SplitPolicy& policy) {
  auto* ppo = dynamic_cast<const PpoPolicy*>(&policy);
  return ppo == nullptr ? 0 : ppo->overrides();
}

}  // namespace tandem::offload
