#include "strategies/strategy.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace tandem {

absl::Status Strategy::BeginRound(int64_t round, const Weights& global,
                                  int expected) {
  return Begin(round, global, expected, {});
}

absl::Status Strategy::BeginRound(int64_t round, const Weights& global,
                                  const std::vector<std::string>& sampled) {
  if (sampled.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name(), ": round ", round, " has no sampled devices"));
  }
  return Begin(round, global, static_cast<int>(sampled.size()), sampled);
}

absl::Status Strategy::Begin(int64_t round, const Weights& global, int expected,
                             std::vector<std::string> allowed) {
  validator_.Close();
  if (round < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name(), ": round must be >= 0, got ", round));
  }
  if (expected < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        name(), ": expected device count must be >= 0, got ", expected));
  }
  absl::Status finite = global.CheckFinite();
  if (!finite.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name(), ": global model: ", finite.message()));
  }
  global_ = global;
  expected_ = expected;
  // Without a level (the first round), the round's own median bounds it,
  // applied when it closes.
  clips_at_close_ = admission_.multiplier() > 0 && admission_.level() == 0;
  validator_.Open(round, global.layout(), std::move(allowed),
                  admission_.bound());
  admission_.BeginRound();
  clip_scales_.clear();
  absl::Status status = DoBeginRound();
  if (!status.ok()) validator_.Close();
  return status;
}

absl::Status Strategy::AddUpdate(const ClientUpdate& update,
                                 RejectReason* reason) {
  return Add(update, nullptr, reason);
}

absl::Status Strategy::AddUpdate(ClientUpdate&& update, RejectReason* reason) {
  return Add(update, &update.weights, reason);
}

absl::Status Strategy::Add(const ClientUpdate& update, Weights* owned,
                           RejectReason* reason) {
  RejectReason why = RejectReason::kWrongRound;
  absl::Status status = validator_.CheckHeader(update, &why);
  if (status.ok()) status = DoAddUpdate(update, owned, &why);
  if (!status.ok()) {
    ++rejected_[static_cast<int>(why)];
    if (reason != nullptr) *reason = why;
    return status;
  }
  validator_.MarkAccepted(update.device_id, update.num_samples);
  last_norm_ = validator_.last_checked_norm();
  admission_.Observe(update.device_id, last_norm_);
  if (validator_.last_clip_scale() < 1) {
    clip_scales_[update.device_id] = validator_.last_clip_scale();
  }
  return absl::OkStatus();
}

absl::Status Strategy::Withdraw(const std::string& device_id) {
  if (!withdrawable_) {
    return absl::FailedPreconditionError(absl::StrCat(
        name(), ": Withdraw needs AllowWithdraw before the round opens"));
  }
  int64_t samples = 0;
  if (!validator_.round_open() || !validator_.Unmark(device_id, &samples)) {
    return absl::NotFoundError(absl::StrCat(
        name(), ": no accepted update from '", device_id, "' to withdraw"));
  }
  DoWithdraw(device_id, samples);
  admission_.Forget(device_id);
  clip_scales_.erase(device_id);
  return absl::OkStatus();
}

double Strategy::clip_scale_of(const std::string& device_id) const {
  auto it = clip_scales_.find(device_id);
  return it == clip_scales_.end() ? 1 : it->second;
}

void Strategy::ClipAtClose() {
  const double bound = admission_.multiplier() * admission_.RoundMedian();
  for (const auto& [device, norm] : admission_.round_norms()) {
    if (norm <= bound) continue;
    DoClip(device, bound / norm);
    clip_scales_[device] = bound / norm;
  }
}

absl::StatusOr<Weights> Strategy::FinishRound() {
  if (!validator_.round_open()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), ": FinishRound without an open round"));
  }
  validator_.Close();
  if (validator_.accepted() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        name(), ": round ", validator_.round(), " has no accepted updates"));
  }
  if (clips_at_close_) ClipAtClose();
  TANDEM_ASSIGN_OR_RETURN(Weights next, DoFinishRound());
  absl::Status finite = next.CheckFinite();
  if (!finite.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), ": aggregate of round ", validator_.round(),
                     " is not finite: ", finite.message()));
  }
  admission_.EndRound();
  return next;
}

void Strategy::SaveState(RunState* out) const {
  out->values["strategy"] = {{"name", std::string(name())}};
  if (admission_.multiplier() > 0) {
    out->values["strategy"]["admission_level"] = admission_.level();
  }
  DoSaveState(out);
}

absl::Status Strategy::LoadState(const RunState& in,
                                 const WeightsLayout& layout) {
  auto it = in.values.find("strategy");
  if (it == in.values.end()) return absl::OkStatus();  // nothing saved
  const std::string saved = it->is_object() ? it->value("name", "") : "";
  if (saved != name()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the state is strategy '", saved, "''s, not '", name(), "''s"));
  }
  // Checkpoints from before admission have no level: the next round is
  // then not clipped, as a first round.
  const nlohmann::json level = it->value("admission_level", nlohmann::json());
  AdmissionBound restored = admission_;
  if (!level.is_null() &&
      (!level.is_number() || !restored.set_level(level.get<double>()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("strategy.admission_level: expected a finite number "
                     ">= 0, got ",
                     level.dump()));
  }
  TANDEM_RETURN_IF_ERROR(DoLoadState(in, layout));
  admission_ = restored;
  return absl::OkStatus();
}

}  // namespace tandem
