#include "offload/ppo_policy.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "offload/grouping.h"
#include "offload/ppo_agent.h"

namespace tandem::offload {
namespace {

constexpr int kFeatures = 3;  // per group: compute, log throughput, cut

class PpoPolicy final : public SplitPolicy {
 public:
  PpoPolicy(const OffloadConfig& config, const PolicyContext& context,
            std::unique_ptr<PpoAgent> agent, uint64_t seed)
      : config_(config),
        stages_(context.num_stages),
        agent_(std::move(agent)),
        grouper_(config.groups, 0.3, seed) {}

  absl::string_view name() const override { return "ppo"; }

  int Choose(const DeviceView& d) override {
    if (!pending_.has_value()) return stages_;  // first round: measure
    auto it = grouper_.groups().find(d.id);
    if (it == grouper_.groups().end()) return stages_;
    return pending_->actions[it->second] + 1;
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

  absl::Status Finish() override {
    if (config_.ppo_save.empty()) return absl::OkStatus();
    return agent_->Save(config_.ppo_save);
  }

 private:
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
  std::unique_ptr<PpoAgent> agent_;
  DeviceGrouper grouper_;
  double baseline_ = 0;
  std::optional<PpoAgent::Step> pending_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SplitPolicy>> CreatePpoPolicy(
    const OffloadConfig& config, const PolicyContext& context, uint64_t seed) {
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
    if (o.groups != config.groups || o.actions != context.num_stages ||
        o.state_dim != config.groups * kFeatures) {
      return absl::InvalidArgumentError(
          "config: $.offload.ppo_load: the policy was trained for another "
          "model or number of groups");
    }
  } else {
    PpoOptions o;
    o.state_dim = config.groups * kFeatures;
    o.groups = config.groups;
    o.actions = context.num_stages;
    o.gamma = 0.5;
    o.seed = seed;
    auto created = PpoAgent::Create(o);
    if (!created.ok()) return created.status();
    agent = *std::move(created);
  }
  return std::unique_ptr<SplitPolicy>(
      new PpoPolicy(config, context, std::move(agent), seed));
}

}  // namespace tandem::offload
