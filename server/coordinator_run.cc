// Coordinator::Run: the round state machine's transitions.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/run_report.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"
#include "core/weights_digest.h"
#include "server/coordinator.h"
#include "strategies/sampling.h"

namespace tandem::server {

absl::StatusOr<nlohmann::json> Coordinator::Run() {
  absl::Status status = WaitForDevices();
  for (int64_t r = first_round_; status.ok() && r <= config_.server.rounds;
       ++r) {
    if (config_.server.stop_at_target && recorder_->tally().target_reached) {
      break;
    }
    {
      absl::MutexLock lock(&state_.mu);
      if (state_.stopping) break;
    }
    status = RunRound(r);
  }
  {
    absl::MutexLock lock(&state_.mu);
    state_.finished = true;  // pending PullTask calls answer STOP
    state_.pollers.WakeAll();
    absl::Status saved = state_.planner->Finish();
    if (!saved.ok()) LogError(absl::StrCat("policy: ", saved.message()));
  }
  // The run's own error is what the caller must see, even when writing the
  // outputs then fails too (a full disk fails both).
  if (!status.ok()) LogError(absl::StrCat("run stopped: ", status.message()));
  nlohmann::json summary = Summary(status.ok() ? "ok" : status.ToString());
  absl::Status written = WriteOutputs(&summary);
  if (!status.ok()) {
    if (!written.ok()) LogError(std::string(written.message()));
    return status;
  }
  TANDEM_RETURN_IF_ERROR(written);
  return summary;
}

absl::Status Coordinator::WriteOutputs(nlohmann::json* summary) {
  TANDEM_RETURN_IF_ERROR(ExportModels(summary));
  TANDEM_RETURN_IF_ERROR(run_->WriteSummary(*summary));
  return WriteRunReport(run_->dir());
}

absl::Status Coordinator::ExportModels(nlohmann::json* summary) {
  std::shared_ptr<const Weights> final_model;
  {
    absl::MutexLock lock(&state_.mu);
    final_model = state_.global;
  }
  if (final_model == nullptr) return absl::OkStatus();
  TANDEM_ASSIGN_OR_RETURN(
      std::string final_path,
      evaluator_->Export(*final_model, run_->dir(), "final"));
  TANDEM_ASSIGN_OR_RETURN(
      std::string best_path,
      evaluator_->Export(best_ != nullptr ? *best_ : *final_model, run_->dir(),
                         "best"));
  (*summary)["export"] = {{"final", final_path}, {"best", best_path}};
  return absl::OkStatus();
}

absl::Status Coordinator::WaitForDevices() {
  const int need = std::max(config_.server.min_devices, options_.await_devices);
  absl::MutexLock lock(&state_.mu);
  auto enough = [this, need]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    return state_.stopping || state_.registry.NumJoined() >= need;
  };
  LogInfo(absl::StrCat("waiting for ", need, " devices to join"));
  if (!clock_.AwaitWithDeadline(&state_.mu, absl::Condition(&enough),
                                Now() + config_.server.join_timeout_s)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "only ", state_.registry.NumJoined(), " of the ", need,
        " devices needed joined within ", config_.server.join_timeout_s,
        " s (server.join_timeout_s)"));
  }
  // A device asks for its first task once its data is loaded and its
  // stages are timed; the timing lets round 1 place it. Give the joined
  // devices one poll period to get there.
  auto all_ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    return state_.stopping ||
           state_.registry.NumReady() >= state_.registry.NumJoined();
  };
  clock_.AwaitWithDeadline(&state_.mu, absl::Condition(&all_ready),
                           Now() + config_.server.poll_timeout_s);
  return absl::OkStatus();
}

absl::Status Coordinator::RunRound(int64_t round) {
  std::string why;
  for (int attempt = 0; attempt <= config_.server.max_round_retries;
       ++attempt) {
    TANDEM_ASSIGN_OR_RETURN(bool ok, RunAttempt(round, attempt, &why));
    if (ok) return absl::OkStatus();
    LogWarning(absl::StrCat("round ", round, " attempt ", attempt + 1,
                            " failed: ", why));
    absl::MutexLock lock(&state_.mu);
    if (state_.stopping) return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat(
      "round ", round, " failed ", config_.server.max_round_retries + 1,
      " times (server.max_round_retries); last: ", why));
}

absl::StatusOr<bool> Coordinator::RunAttempt(int64_t round, int attempt,
                                             std::string* why_failed) {
  if (config_.strategy.buffer_size > 0) {  // buffered: no sampling
    OpenVersion(round, attempt);
    FillBuffer();
    return CloseAndRecord(round, attempt, why_failed);
  }
  int target = 0;
  auto sampled = SampleForAttempt(round, attempt, &target);
  if (!sampled.ok()) {
    *why_failed = std::string(sampled.status().message());
    TANDEM_RETURN_IF_ERROR(
        EvaluateAndRecord(round, attempt, nullptr, *why_failed));
    return false;
  }
  OpenRound(round, attempt, *sampled, target);
  AwaitRoundEnd();
  return CloseAndRecord(round, attempt, why_failed);
}

absl::StatusOr<bool> Coordinator::CloseAndRecord(int64_t round, int attempt,
                                                 std::string* why_failed) {
  std::shared_ptr<const Weights> aggregate = CloseAndAggregate(why_failed);
  const bool done = aggregate != nullptr;
  TANDEM_RETURN_IF_ERROR(
      EvaluateAndRecord(round, attempt, std::move(aggregate), *why_failed));
  return done;
}

absl::StatusOr<std::vector<std::string>> Coordinator::SampleForAttempt(
    int64_t round, int attempt, int* target) {
  const int need = config_.strategy.min_updates;
  const double timeout_s = state_.device_timeout_s;
  absl::MutexLock lock(&state_.mu);
  auto enough = [this, need, timeout_s]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
                      return state_.stopping || state_.registry.NumAvailable(
                                                    Now(), timeout_s) >= need;
                    };
  // Availability changes with time, not only with the mutex: poll.
  const double give_up = Now() + config_.server.join_timeout_s;
  while (!enough() && Now() < give_up) {
    clock_.AwaitWithDeadline(&state_.mu, absl::Condition(&enough),
                             std::min(give_up, Now() + 0.2));
  }
  std::vector<std::string> available =
      state_.registry.Available(Now(), timeout_s);
  if (static_cast<int>(available.size()) < need) {
    return absl::UnavailableError(
        absl::StrCat(available.size(), " devices available, ", need,
                     " needed (strategy.min_updates)"));
  }
  const double over = config_.strategy.over_selection;
  *target = over > 1
                ? static_cast<int>(SampleSize(
                      static_cast<int64_t>(available.size()),
                      config_.strategy.fraction, config_.strategy.min_devices))
                : 0;
  return SampleDevices(available, config_.strategy.fraction,
                       config_.strategy.min_devices, config_.seed,
                       round * 1000 + attempt, over);
}

void Coordinator::OpenRound(int64_t round, int attempt,
                            const std::vector<std::string>& sampled,
                            int target) {
  absl::MutexLock lock(&state_.mu);
  auto r = std::make_unique<RoundState>();
  r->number = round;
  r->attempt = attempt;
  r->stages = state_.stages;
  r->target = target;
  r->sampled.insert(sampled.begin(), sampled.end());
  r->pending = r->sampled;
  r->opened_s = Now();
  r->deadline_s = r->opened_s + config_.server.round_deadline_s;
  r->header = TrainTask(config_, *state_.strategy, state_.stages,
                        state_.global->layout(), round);
  r->header.set_virtual_start_s(recorder_->tally().virtual_time_s);
  state_.planner->Plan(state_.registry, *state_.global, r.get());
  absl::Status s = state_.strategy->BeginRound(round, *state_.global, sampled);
  if (!s.ok()) LogError(absl::StrCat("strategy: ", s.message()));
  r->open = true;
  state_.round = std::move(r);
  for (const std::string& id : sampled) state_.pollers.Wake(id);
}

void Coordinator::AwaitRoundEnd() {
  absl::MutexLock lock(&state_.mu);
  const bool first_to_finish = !options_.virtual_time;
  auto done = [this, first_to_finish]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
                    return state_.stopping || state_.round->pending.empty() ||
                           (first_to_finish && state_.round->TargetReached());
                  };
  while (!done() && Now() < state_.round->deadline_s) {
    clock_.AwaitWithDeadline(&state_.mu, absl::Condition(&done),
                             std::min(state_.round->deadline_s, Now() + 0.5));
    DropSilentDevicesLocked();
  }
}

void Coordinator::DropSilentDevicesLocked() {
  // A pending device that stopped sending heartbeats is gone (or was
  // forgotten: FleetRegistry::MakeRoom).
  std::vector<std::pair<std::string, DeviceRecord*>> silent;
  for (const std::string& id : state_.round->pending) {
    DeviceRecord* d = state_.registry.Find(id);
    if (d == nullptr || Now() - d->last_seen_s > state_.device_timeout_s) {
      silent.push_back({id, d});
    }
  }
  for (const auto& [id, d] : silent) {
    LogWarning(absl::StrCat("device ", EscapeForLog(id), " timed out in round ",
                            state_.round->number));
    if (d != nullptr) ++d->dropouts;
    state_.round->Leave(id, d == nullptr ? "" : d->profile.device_class(),
                        DeviceRoundRecord::Status::kDropped, "timed out");
  }
  state_.UpdateFleetGauges();
}

std::shared_ptr<const Weights> Coordinator::CloseAndAggregate(
    std::string* why_failed) {
  absl::MutexLock lock(&state_.mu);
  RoundState& r = *state_.round;
  std::map<std::string, std::string> classes;  // of the pending devices
  for (const std::string& id : r.pending) {
    const DeviceRecord* d = state_.registry.Find(id);
    if (d != nullptr) classes[id] = d->profile.device_class();
  }
  r.Close(classes);
  LeaveOutSurplusLocked(r);
  state_.tails.Clear();  // tails of devices that never reported are freed
  state_.planner->Observe(r.number, r.devices, state_.registry);
  if (!r.revoked.empty()) {
    state_.aux->Discard();
    *why_failed = absl::StrCat(
        "device ", EscapeForLog(*r.revoked.begin()),
        r.revoked.size() > 1
            ? absl::StrCat(" and ", r.revoked.size() - 1, " more were")
            : " was",
        " revoked after its update was accepted: the round is run again "
        "without it");
    return nullptr;
  }
  if (r.accepted < config_.strategy.min_updates) {
    state_.aux->Discard();
    *why_failed = absl::StrCat(
        r.accepted, " of ", r.sampled.size(), " updates arrived, ",
        config_.strategy.min_updates, " needed (strategy.min_updates)");
    return nullptr;
  }
  auto next = state_.strategy->FinishRound();
  if (next.ok() && next->layout() != state_.global->layout()) {
    next = absl::InternalError("the aggregate has another layout");
  }
  if (!next.ok()) {
    state_.aux->Discard();
    *why_failed = absl::StrCat("aggregation: ", next.status().message());
    return nullptr;
  }
  RecordClippingLocked(r);
  return std::make_shared<const Weights>(*std::move(next));
}

// Admission's clipping is final once the round aggregated (a round without
// a level clips at its close).
void Coordinator::RecordClippingLocked(RoundState& r) {
  for (DeviceRoundRecord& rec : r.devices) {
    if (rec.status != DeviceRoundRecord::Status::kAccepted) continue;
    rec.clip_scale = state_.strategy->clip_scale_of(rec.device);
    DeviceRecord* d = state_.registry.Find(rec.device);
    if (d != nullptr && rec.clip_scale < 1) ++d->clipped;
  }
}

void Coordinator::LeaveOutSurplusLocked(RoundState& r) {
  for (const std::string& id : r.Surplus()) {
    absl::Status s = state_.strategy->Withdraw(id);
    if (!s.ok()) LogError(absl::StrCat("strategy: ", s.message()));
    state_.aux->Withdraw(id);
    const DeviceRoundRecord* rec = r.MarkSurplus(id);
    DeviceRecord* d = state_.registry.Find(id);
    if (d != nullptr && rec != nullptr) d->Untally(*rec);
  }
}

absl::Status Coordinator::EvaluateAndRecord(
    int64_t round, int attempt, std::shared_ptr<const Weights> aggregate,
    const std::string& why_failed) {
  RoundRecord rec;
  std::vector<DeviceRoundRecord> devices;
  {
    absl::MutexLock lock(&state_.mu);
    const RoundState* r = state_.round.get();
    if (r != nullptr && r->number == round && r->attempt == attempt) {
      rec = r->Record(config_.server.round_deadline_s, Now());
      devices = r->devices;
    } else {  // sampling failed: no round was opened
      rec.round = round;
      rec.attempt = attempt + 1;
    }
  }
  rec.reason = why_failed;
  if (aggregate != nullptr) {
    TANDEM_ASSIGN_OR_RETURN(Verdict verdict,
                            check_->Vet(round, *aggregate, devices, &rec));
    absl::MutexLock lock(&state_.mu);
    if (!verdict.roll_back) {
      state_.global = aggregate;
      state_.aux->Commit();
      rec.aggregated = true;
    } else {
      state_.aux->Discard();
      rec.rolled_back = true;
      rec.reason = absl::StrCat("rolled back: ", verdict.why);
      LogWarning(absl::StrCat("round ", round, " ", rec.reason,
                              "; the global model stays as it was"));
    }
  }
  if (rec.aggregated) check_->Accepted(rec);
  if (rec.aggregated && rec.evaluated && rec.accuracy > best_accuracy_) {
    best_accuracy_ = rec.accuracy;
    best_ = aggregate;
  }
  rec.wall_time_s = Now() - start_s_;
  state_.metrics->RoundEnded(rec, devices);
  const bool aggregated = rec.aggregated;
  TANDEM_RETURN_IF_ERROR(recorder_->Record(devices, std::move(rec)));
  if (!aggregated || !config_.output.checkpoints) return absl::OkStatus();
  // After Record: the state holds this round's tallies and virtual time.
  absl::Status saved = run_->WriteCheckpoint(round, *aggregate, SaveRunState());
  if (saved.ok()) return saved;
  return absl::Status(saved.code(), absl::StrCat("checkpoint of round ", round,
                                                 ": ", saved.message()));
}

nlohmann::json Coordinator::Summary(const std::string& status) const {
  absl::MutexLock lock(&state_.mu);
  SummaryInputs in;
  in.status = status;
  in.tally = &recorder_->tally();
  in.devices = &state_.registry.devices();
  in.rejections = &state_.admission.counts();
  in.first_round = first_round_;
  in.wall_time_s = Now() - start_s_;
  in.run_dir = run_->dir();
  in.weights_sha256 = WeightsSha256(*state_.global);
  return server::Summary(config_, in);
}

}  // namespace tandem::server
