// Coordinator: the run state a checkpoint holds beside the weights, so a
// coordinator killed and resumed goes on as the uninterrupted run would.
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "server/coordinator.h"
#include "server/run_state.h"

namespace tandem::server {
namespace {

// The rollback check's reference accuracies: "recent_accuracies" (an array
// of numbers in [0, 1]), or an older checkpoint's single
// "accepted_accuracy" (< 0: none yet).
absl::StatusOr<std::vector<double>> RecentAccuracies(const RunState& s) {
  std::vector<double> out;
  auto bad = [](const char* what) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected accuracies in [0, 1]"));
  };
  if (const auto it = s.values.find("recent_accuracies");
      it != s.values.end()) {
    if (!it->is_array()) return bad("$.state.recent_accuracies");
    for (const nlohmann::json& a : *it) {
      if (!a.is_number() || !(a.get<double>() >= 0 && a.get<double>() <= 1)) {
        return bad("$.state.recent_accuracies");
      }
      out.push_back(a.get<double>());
    }
    return out;
  }
  const nlohmann::json old = s.values.value("accepted_accuracy", -1.0);
  if (!old.is_number() || old.get<double>() > 1 ||
      std::isnan(old.get<double>())) {
    return bad("$.state.accepted_accuracy");
  }
  if (old.get<double>() >= 0) out.push_back(old.get<double>());
  return out;
}

}  // namespace

RunState Coordinator::SaveRunState() const {
  RunState s;
  absl::MutexLock lock(&state_.mu);
  state_.strategy->SaveState(&s);
  state_.aux->Save(&s);
  state_.planner->SaveState(&s);
  s.values["tally"] = TallyToJson(recorder_->tally());
  s.values["devices"] = DevicesToJson(state_.registry.devices());
  s.values["rejections"] = state_.admission.counts();
  s.values["recent_accuracies"] = check_->recent_accuracies();
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
  auto recent = RecentAccuracies(s);
  if (!recent.ok()) return error(recent.status().message());
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
  check_->RestoreRecentAccuracies(*std::move(recent));
  return absl::OkStatus();
}

}  // namespace tandem::server
