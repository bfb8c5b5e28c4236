// Coordinator: the run state a checkpoint holds beside the weights, so a
// coordinator killed and resumed goes on as the uninterrupted run would.
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "server/coordinator.h"
#include "server/run_state.h"

namespace tandem::server {

RunState Coordinator::SaveRunState() const {
  RunState s;
  absl::MutexLock lock(&state_.mu);
  state_.strategy->SaveState(&s);
  state_.aux->Save(&s);
  state_.planner->SaveState(&s);
  s.values["tally"] = TallyToJson(recorder_->tally());
  s.values["devices"] = DevicesToJson(state_.registry.devices());
  s.values["rejections"] = state_.admission.counts();
  s.values["accepted_accuracy"] = check_->accepted_accuracy();
  return s;
}

absl::Status Coordinator::RestoreRunStateLocked(const RunState& s) {
  auto error = [this](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server.resume_from: ", config_.server.resume_from, ": ", what));
  };
  if (!s.values.contains("tally")) {
    LogWarning(
        "the checkpoint holds weights only (version 1): the strategy's and "
        "policy's state, the tallies and the virtual clock start afresh");
    return absl::OkStatus();
  }
  auto tally = TallyFromJson(s.values["tally"]);
  if (!tally.ok()) return error(tally.status().message());
  auto devices = DevicesFromJson(s.values.value("devices", nlohmann::json()));
  if (!devices.ok()) return error(devices.status().message());
  auto counts = CountsFromJson(s.values.value("rejections", nlohmann::json()),
                               "$.state.rejections");
  if (!counts.ok()) return error(counts.status().message());
  const nlohmann::json accuracy = s.values.value("accepted_accuracy", -1.0);
  if (!accuracy.is_number()) return error("$.state.accepted_accuracy");
  absl::Status strategy =
      state_.strategy->LoadState(s, state_.global->layout());
  if (absl::IsFailedPrecondition(strategy)) {
    LogWarning(
        absl::StrCat("strategy state not resumed: ", strategy.message()));
  } else if (!strategy.ok()) {
    return error(strategy.message());
  }
  absl::Status aux = state_.aux->Load(s);
  if (!aux.ok()) return error(aux.message());
  absl::Status policy = state_.planner->LoadState(s);
  if (!policy.ok()) return error(policy.message());
  recorder_->Restore(*tally);
  state_.registry.Restore(*std::move(devices));
  state_.admission.RestoreCounts(*std::move(counts));
  check_->RestoreAcceptedAccuracy(accuracy.get<double>());
  return absl::OkStatus();
}

}  // namespace tandem::server
