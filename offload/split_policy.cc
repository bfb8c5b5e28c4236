#include "offload/split_policy.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/tensor_codec.h"
#include "ml/profile_file.h"
#include "ml/runtime.h"
#include "offload/greedy_policy.h"
#include "offload/ppo_policy.h"

namespace tandem::offload {
namespace {

// Classic FL: every device trains the whole model.
class NoOffloadPolicy final : public SplitPolicy {
 public:
  explicit NoOffloadPolicy(int stages) : stages_(stages) {}
  absl::string_view name() const override { return "none"; }
  Placement Choose(const DeviceView&) override { return {stages_}; }

 private:
  const int stages_;
};

// Split points per device class, from the config.
class FixedPolicy final : public SplitPolicy {
 public:
  FixedPolicy(std::map<std::string, int> by_class, int stages, SplitMode mode)
      : by_class_(std::move(by_class)), stages_(stages), mode_(mode) {}
  absl::string_view name() const override { return "fixed"; }
  Placement Choose(const DeviceView& d) override {
    auto it = by_class_.find(d.device_class);
    return {it == by_class_.end() ? stages_ : it->second, mode_};
  }

 private:
  const std::map<std::string, int> by_class_;
  const int stages_;
  const SplitMode mode_;
};

}  // namespace

absl::StatusOr<PolicyContext> PolicyContextFromConfig(const Config& config,
                                                      int num_stages) {
  PolicyContext c;
  c.num_stages = num_stages;
  c.seed = config.seed;
  c.batch_size = config.training.batch_size;
  c.epochs = config.training.local_epochs;
  c.max_batches = config.training.max_batches;
  c.activation_bytes = ActivationCodecBytes(config.offload.activation_codec);
  switch (config.offload.mode) {
    case OffloadMode::kExact:
      c.modes = {SplitMode::kExact};
      break;
    case OffloadMode::kLocalLoss:
      c.modes = {SplitMode::kLocalLoss};
      break;
    case OffloadMode::kAuto:
      c.modes = {SplitMode::kExact, SplitMode::kLocalLoss};
      break;
  }
  c.window = config.offload.window;
  c.server_cores = config.offload.server_cores;
  return c;
}

double TailShare(const PolicyContext& context, int tails) {
  return std::max(1.0, tails / std::max(0.01, context.server_cores));
}

RoundShape RoundShapeOf(const PolicyContext& context, int64_t examples,
                        int tails) {
  RoundShape r;
  r.examples = examples;
  r.epochs = context.epochs;
  r.batch_size = context.batch_size;
  r.max_batches = context.max_batches;
  r.activation_bytes = context.activation_bytes;
  r.tail_share = TailShare(context, tails);
  r.window = context.window;
  return r;
}

double MeasuredSlowdown(const PolicyContext& context, const DeviceOutcome& o) {
  const double head_t = o.mode == SplitMode::kLocalLoss
                            ? ml::LocalLossHeadSeconds(context.profile, o.split)
                            : ml::StageSeconds(context.profile, 0, o.split);
  const double processed = static_cast<double>(std::min(
      o.batches * context.batch_size, o.samples * std::max(1, context.epochs)));
  if (head_t <= 0 || processed <= 0 || o.compute_s <= 0) return 0;
  return o.compute_s / (processed * head_t);
}

double TimedSlowdown(const PolicyContext& context, const DeviceView& d) {
  const int n = static_cast<int>(context.profile.stages.size());
  if (n == 0 || static_cast<int>(d.stage_seconds.size()) != n) return 0;
  double device = 0;
  for (double t : d.stage_seconds) device += t;
  // Devices time their stages in batches of kStageTimingBatch.
  const double reference = ml::StageSeconds(
      ml::AtBatchSize(context.profile, ml::kStageTimingBatch), 0, n);
  if (!(device > 0) || !(reference > 0) || !std::isfinite(device)) return 0;
  return device / reference;
}

double OutcomeMbps(const PolicyContext& context, const DeviceOutcome& o,
                   double latency_ms) {
  const bool exact =
      o.split < context.num_stages && o.mode == SplitMode::kExact;
  const double transfers = 2 + (exact ? 2.0 * o.batches : 0);
  const double moving_s = o.link_s - transfers * latency_ms / 1e3;
  return moving_s > 0 ? o.bytes * 8.0 / moving_s / 1e6 : 1e6;
}

absl::StatusOr<std::map<std::string, int64_t>> MemoryBudgets(
    const OffloadConfig& config) {
  std::map<std::string, int64_t> budgets;
  for (auto it = config.memory_budget_mb.begin();
       it != config.memory_budget_mb.end(); ++it) {
    if (!it->is_number() || !(it->get<double>() > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: $.offload.memory_budget_mb.", it.key(),
          ": expected a positive number of MiB, got ", it->dump()));
    }
    budgets[it.key()] = static_cast<int64_t>(it->get<double>() * (1 << 20));
  }
  return budgets;
}

std::vector<std::string> PolicyNames() {
  return {"none", "fixed", "greedy", "ppo"};
}

bool PolicyNeedsProfile(const OffloadConfig& config) {
  return config.policy == "greedy" || config.policy == "ppo" ||
         LinkGuardApplies(config);
}

bool LinkGuardApplies(const OffloadConfig& config) {
  // The break-even is on time: not for greedy weighing energy (alpha < 1).
  return config.link_guard &&
         ((config.policy == "greedy" && config.alpha >= 1) ||
          config.policy == "ppo");
}

absl::StatusOr<std::unique_ptr<SplitPolicy>> CreateSplitPolicy(
    const OffloadConfig& config, const PolicyContext& context) {
  const int num_stages = context.num_stages;
  if (config.policy == "none") {
    return std::make_unique<NoOffloadPolicy>(num_stages);
  }
  if (config.policy == "greedy") return CreateGreedyPolicy(config, context);
  if (config.policy == "ppo") return CreatePpoPolicy(config, context);
  if (config.policy != "fixed") {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: $.offload.policy: unknown policy \"", config.policy,
        "\" (one of \"", absl::StrJoin(PolicyNames(), "\", \""), "\")"));
  }
  if (context.modes.size() > 1) {
    return absl::InvalidArgumentError(
        "config: $.offload.mode: \"auto\" needs a policy that picks the mode "
        "(greedy or ppo)");
  }
  std::map<std::string, int> by_class;
  for (auto it = config.fixed.begin(); it != config.fixed.end(); ++it) {
    const int64_t s = it->is_number_integer() ? it->get<int64_t>() : 0;
    if (s < 1 || s > num_stages) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: $.offload.fixed.", it.key(), ": split point ", it->dump(),
          " is not in [1, ", num_stages, "] for this model"));
    }
    by_class[it.key()] = static_cast<int>(s);
  }
  return std::make_unique<FixedPolicy>(std::move(by_class), num_stages,
                                       context.modes.front());
}

}  // namespace tandem::offload
