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
  validator_.Open(round, global.layout(), std::move(allowed));
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
  return absl::OkStatus();
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
  TANDEM_ASSIGN_OR_RETURN(Weights next, DoFinishRound());
  absl::Status finite = next.CheckFinite();
  if (!finite.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), ": aggregate of round ", validator_.round(),
                     " is not finite: ", finite.message()));
  }
  return next;
}

void Strategy::SaveState(RunState* out) const {
  out->values["strategy"] = {{"name", std::string(name())}};
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
  return DoLoadState(in, layout);
}

}  // namespace tandem
