// The aggregation strategy interface: validates client updates and turns the
// accepted ones into the next global model.
//
// One Strategy instance lives for a whole run; it keeps server-side optimiser
// state (momentum, Adam moments) between rounds. A round is:
//
//   TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<Strategy> s,
//                           CreateStrategy(options));
//   TANDEM_RETURN_IF_ERROR(s->BeginRound(round, global, sampled_ids));
//   for (ClientUpdate& u : arriving) {
//     RejectReason why;
//     // Moving the update in lets the strategy reuse its buffer. An error
//     // means rejected: count it under RejectReasonName(why).
//     absl::Status st = s->AddUpdate(std::move(u), &why);
//   }
//   absl::StatusOr<Weights> next = s->FinishRound();  // error: keep `global`
//
// The names accepted by CreateStrategy, their params and defaults are listed
// in strategies/README.md (and by StrategyNames()).
#ifndef TANDEM_STRATEGIES_STRATEGY_H_
#define TANDEM_STRATEGIES_STRATEGY_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/checkpoint.h"
#include "core/weights.h"
#include "nlohmann/json.hpp"
#include "strategies/admission_bound.h"
#include "strategies/client_update.h"
#include "strategies/update_validator.h"

namespace tandem {

// The config's "strategy" section, as far as aggregation is concerned.
struct StrategyOptions {
  std::string name = "fedavg";
  // Strategy-specific; unknown keys are errors naming strategy.params.<key>.
  nlohmann::json params = nlohmann::json::object();
  // L2 bound on ||update - global|| over parameter tensors (not buffers);
  // 0 = no bound.
  double max_update_norm = 0;
  // Admission: > 0 clips each update's change to this multiple of the
  // median norm of the last round's accepted updates (AdmissionBound); 0 =
  // no clipping. The config's default is adaptive (core/config.h).
  double admission_multiplier = 0;
  // Seeds the DP noise (mixed with the round number).
  uint64_t seed = 1;
};

// Aggregation over one round at a time. Subclasses implement the Do* hooks;
// the public methods do the bookkeeping shared by every strategy (round and
// device checks, rejection counts).
//
// Not thread-safe: the coordinator serialises all calls on one instance.
class Strategy {
 public:
  virtual ~Strategy() = default;
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;

  virtual absl::string_view name() const = 0;

  // Opens round `round` (>= 0) over `global` (copied; must be finite).
  // `expected` is the number of sampled devices; updates from any device are
  // accepted. Opening a round abandons a round still open.
  absl::Status BeginRound(int64_t round, const Weights& global, int expected);
  // Same, but only the devices in `sampled` may contribute; others are
  // rejected as kUnknownDevice. expected = sampled.size().
  absl::Status BeginRound(int64_t round, const Weights& global,
                          const std::vector<std::string>& sampled);

  // Validates `update` and, if it is accepted, accumulates it. A rejected
  // update returns an error whose message starts with RejectReasonName(r),
  // sets *reason (when non-null) and has no effect on the aggregate. An
  // update arriving when no round is open is kWrongRound.
  absl::Status AddUpdate(const ClientUpdate& update, RejectReason* reason);
  // Same, but the strategy may take over update.weights' buffer instead of
  // copying it, when it keeps the update (the robust rules keep every
  // update until FinishRound; the FedAvg family keeps none, see
  // DeltaAccumulator, unless AllowWithdraw was called). Prefer it when the
  // caller is done with the update.
  absl::Status AddUpdate(ClientUpdate&& update, RejectReason* reason);

  // Aggregates the accepted updates, in ascending device-id order whatever
  // order they arrived in, into the next global model and closes the round. On
  // error (no updates, a precondition such as Krum's n > 2f + 2, a non-finite
  // result) the round is closed, the strategy's cross-round state is unchanged
  // and the caller keeps its global model.
  absl::StatusOr<Weights> FinishRound();

  // Over-selection: takes `device_id`'s accepted update out of the open
  // round, as if it had never arrived. Needs AllowWithdraw before the round
  // opened (FailedPrecondition otherwise); NotFound when the open round
  // holds no accepted update from it.
  absl::Status Withdraw(const std::string& device_id);
  // Lets rounds opened from now on withdraw updates: every strategy then
  // keeps each accepted update until FinishRound (one model per update).
  void AllowWithdraw() { withdrawable_ = true; }

  bool round_open() const { return validator_.round_open(); }
  int64_t round() const { return validator_.round(); }
  int expected() const { return expected_; }
  // Updates accepted in the current (or last) round.
  int accepted() const { return validator_.accepted(); }
  // ||update - global|| over parameter tensors of the last accepted update
  // (before any clipping): how far it would move the model.
  double last_update_norm() const { return last_norm_; }
  // What admission scaled `device_id`'s accepted update's change by in the
  // open (or last finished) round: 1 when it was within the bound or is not
  // known. Final once FinishRound returned: a round without a level clips
  // only then.
  double clip_scale_of(const std::string& device_id) const;
  // Admission (see StrategyOptions::admission_multiplier); CreateStrategy
  // sets it. The open round's bound is admission().bound() (0 = none).
  void set_admission_multiplier(double m) { admission_ = AdmissionBound(m); }
  const AdmissionBound& admission() const { return admission_; }
  // Rejections with `reason` since the strategy was created.
  int64_t rejected(RejectReason reason) const {
    return rejected_[static_cast<int>(reason)];
  }

  // The cross-round state a checkpoint keeps (FedAvgM's velocity, FedOpt's
  // moments and step count, admission's level): values["strategy"] (with
  // the strategy's name) and arrays "strategy.*".
  void SaveState(RunState* out) const;
  // Restores SaveState's output into this (fresh) strategy, whose models
  // have `layout`. FailedPrecondition when the state is another strategy's;
  // InvalidArgument naming the array when it does not fit `layout` or is
  // not finite. Nothing changes on error.
  absl::Status LoadState(const RunState& in, const WeightsLayout& layout);

  // Knobs the coordinator sends to devices with each task.
  // FedProx: weight of the proximal term (mu / 2) * ||w - w_global||^2.
  virtual double proximal_mu() const { return 0; }
  // True when devices must fill ClientUpdate::loss_before (qfedavg).
  virtual bool needs_loss_before() const { return false; }
  // dp_fixed_client: devices call ClipUpdate(global, local, this) before
  // pushing. 0 = devices do not clip.
  virtual double client_clipping_norm() const { return 0; }
  // FedOpt's eta_l when given in the params: the learning rate devices should
  // use instead of training.learning_rate. 0 = use the training config.
  virtual double client_learning_rate() const { return 0; }

 protected:
  explicit Strategy(double max_update_norm) : validator_(max_update_norm) {}

  // The global model of the open round.
  const Weights& global() const { return global_; }
  const UpdateValidator& validator() const { return validator_; }
  // True after AllowWithdraw, or in a round that admission bounds only at
  // its close: DoBeginRound must keep updates for DoWithdraw and DoClip.
  bool keeps_updates() const { return withdrawable_ || clips_at_close_; }

  // Resets per-round state; global() is set. An error closes the round.
  virtual absl::Status DoBeginRound() = 0;
  // Called after the header checks (round, device, duplicate, samples,
  // layout) passed. Must check the values (finite, norm bound) with
  // validator().CheckValues, set *reason and return the rejection on
  // failure, and otherwise accumulate the update with its parameter change
  // scaled by validator().ClipScale(scan) (admission). `owned` is
  // &update.weights when the caller gave the update up (the strategy may
  // overwrite or move it; update.weights aliases it), and null otherwise.
  virtual absl::Status DoAddUpdate(const ClientUpdate& update, Weights* owned,
                                   RejectReason* reason) = 0;
  // Called with at least one accepted update. Must leave cross-round state
  // unchanged when it returns an error.
  virtual absl::StatusOr<Weights> DoFinishRound() = 0;
  // Forgets the held update of `device_id`, accepted this round with
  // `num_samples` samples (Withdraw).
  virtual void DoWithdraw(const std::string& device_id,
                          int64_t num_samples) = 0;
  // Scales the parameter change of `device_id`'s held update by `scale` (<
  // 1), exactly as if it had arrived scaled: admission's clipping in a round
  // without a level, just before DoFinishRound.
  virtual void DoClip(const std::string& device_id, double scale) = 0;
  // Cross-round state, if the strategy has any (see SaveState, LoadState).
  virtual void DoSaveState(RunState* out) const {}
  virtual absl::Status DoLoadState(const RunState& in,
                                   const WeightsLayout& layout) {
    return absl::OkStatus();
  }

 private:
  absl::Status Begin(int64_t round, const Weights& global, int expected,
                     std::vector<std::string> allowed);
  absl::Status Add(const ClientUpdate& update, Weights* owned,
                   RejectReason* reason);

  UpdateValidator validator_;
  Weights global_;
  int expected_ = 0;
  bool withdrawable_ = false;
  // Clips the kept updates beyond multiplier x the round's own median.
  void ClipAtClose();

  double last_norm_ = 0;
  AdmissionBound admission_;
  bool clips_at_close_ = false;  // the open round has no level yet
  std::map<std::string, double> clip_scales_;  // < 1 only, by device id
  std::array<int64_t, kNumRejectReasons> rejected_{};
};

// Creates the strategy called options.name. InvalidArgument names the bad
// key ("strategy.name", "strategy.params.beta", ...) and what was expected.
absl::StatusOr<std::unique_ptr<Strategy>> CreateStrategy(
    const StrategyOptions& options);

// Every name CreateStrategy accepts, in a stable order.
std::vector<std::string> StrategyNames();

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_STRATEGY_H_
