// Coordinator::Run: the round state machine's transitions.
#include <algorithm>

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
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    status = RunRound(r);
  }
  {
    absl::MutexLock lock(&mu_);
    finished_ = true;  // pending PullTask calls answer STOP
    absl::Status saved = planner_->Finish();
    if (!saved.ok()) LogError(absl::StrCat("policy: ", saved.message()));
  }
  nlohmann::json summary = Summary(status.ok() ? "ok" : status.ToString());
  TANDEM_RETURN_IF_ERROR(run_->WriteSummary(summary));
  TANDEM_RETURN_IF_ERROR(WriteRunReport(run_->dir()));
  if (!status.ok()) return status;
  return summary;
}

absl::Status Coordinator::WaitForDevices() {
  const int need = std::max(config_.server.min_devices, options_.await_devices);
  absl::MutexLock lock(&mu_);
  auto enough = [this, need]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || registry_.NumJoined() >= need;
  };
  LogInfo(absl::StrCat("waiting for ", need, " devices to join"));
  if (!clock_.AwaitWithDeadline(&mu_, absl::Condition(&enough),
                                Now() + config_.server.join_timeout_s)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "only ", registry_.NumJoined(), " of the ", need,
        " devices needed joined within ", config_.server.join_timeout_s,
        " s (server.join_timeout_s)"));
  }
  // A device asks for its first task once its data is loaded and its
  // stages are timed; the timing lets round 1 place it. Give the joined
  // devices one poll period to get there.
  auto all_ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || registry_.NumReady() >= registry_.NumJoined();
  };
  clock_.AwaitWithDeadline(&mu_, absl::Condition(&all_ready),
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
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat(
      "round ", round, " failed ", config_.server.max_round_retries + 1,
      " times (server.max_round_retries); last: ", why));
}

absl::StatusOr<bool> Coordinator::RunAttempt(int64_t round, int attempt,
                                             std::string* why_failed) {
  auto sampled = SampleForAttempt(round, attempt);
  if (!sampled.ok()) {
    *why_failed = std::string(sampled.status().message());
    TANDEM_RETURN_IF_ERROR(
        EvaluateAndRecord(round, attempt, false, *why_failed));
    return false;
  }
  OpenRound(round, attempt, *sampled);
  AwaitRoundEnd();
  const bool aggregated = CloseAndAggregate(why_failed);
  TANDEM_RETURN_IF_ERROR(
      EvaluateAndRecord(round, attempt, aggregated, *why_failed));
  return aggregated;
}

absl::StatusOr<std::vector<std::string>> Coordinator::SampleForAttempt(
    int64_t round, int attempt) {
  const int need = config_.strategy.min_updates;
  const double timeout_s = config_.server.device_timeout_s;
  absl::MutexLock lock(&mu_);
  auto enough = [this, need, timeout_s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ ||
           static_cast<int>(registry_.Available(Now(), timeout_s).size()) >=
               need;
  };
  // Availability changes with time, not only with the mutex: poll.
  const double give_up = Now() + config_.server.join_timeout_s;
  while (!enough() && Now() < give_up) {
    clock_.AwaitWithDeadline(&mu_, absl::Condition(&enough),
                             std::min(give_up, Now() + 0.2));
  }
  std::vector<std::string> available = registry_.Available(Now(), timeout_s);
  if (static_cast<int>(available.size()) < need) {
    return absl::UnavailableError(
        absl::StrCat(available.size(), " devices available, ", need,
                     " needed (strategy.min_updates)"));
  }
  return SampleDevices(available, config_.strategy.fraction,
                       config_.strategy.min_devices, config_.seed,
                       round * 1000 + attempt);
}

void Coordinator::OpenRound(int64_t round, int attempt,
                            const std::vector<std::string>& sampled) {
  absl::MutexLock lock(&mu_);
  auto r = std::make_unique<RoundState>();
  r->number = round;
  r->attempt = attempt;
  r->stages = stages_;
  r->sampled.insert(sampled.begin(), sampled.end());
  r->pending = r->sampled;
  r->opened_s = Now();
  r->deadline_s = r->opened_s + config_.server.round_deadline_s;
  r->header = TrainTask(config_, *strategy_, stages_, global_->layout(), round);
  planner_->Plan(registry_, *global_, r.get());
  absl::Status s = strategy_->BeginRound(round, *global_, sampled);
  if (!s.ok()) LogError(absl::StrCat("strategy: ", s.message()));
  r->open = true;
  round_ = std::move(r);
}

void Coordinator::AwaitRoundEnd() {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || round_->pending.empty();
  };
  while (!done() && Now() < round_->deadline_s) {
    clock_.AwaitWithDeadline(&mu_, absl::Condition(&done),
                             std::min(round_->deadline_s, Now() + 0.5));
    DropSilentDevicesLocked();
  }
}

void Coordinator::DropSilentDevicesLocked() {
  // A pending device that stopped sending heartbeats is gone.
  for (auto it = round_->pending.begin(); it != round_->pending.end();) {
    DeviceRecord* d = registry_.Find(*it);
    if (d != nullptr &&
        Now() - d->last_seen_s > config_.server.device_timeout_s) {
      LogWarning(absl::StrCat("device ", EscapeForLog(*it),
                              " timed out in round ", round_->number));
      ++round_->dropped;
      ++d->dropouts;
      it = round_->pending.erase(it);
    } else {
      ++it;
    }
  }
}

bool Coordinator::CloseAndAggregate(std::string* why_failed) {
  absl::MutexLock lock(&mu_);
  RoundState& r = *round_;
  r.open = false;
  r.deadline_hit = !r.pending.empty();
  r.dropped += static_cast<int>(r.pending.size());
  tails_.Clear();  // tails of devices that never reported are freed here
  r.heads.clear();
  // They reported in arrival order, which varies from run to run: the
  // policy and the metrics see them in device-id order.
  std::stable_sort(r.devices.begin(), r.devices.end(),
                   [](const DeviceRoundRecord& a, const DeviceRoundRecord& b) {
                     return a.device < b.device;
                   });
  planner_->Observe(r.number, r.devices, registry_);
  if (r.accepted < config_.strategy.min_updates) {
    aux_->Discard();
    *why_failed = absl::StrCat(
        r.accepted, " of ", r.sampled.size(), " updates arrived, ",
        config_.strategy.min_updates, " needed (strategy.min_updates)");
    return false;
  }
  auto next = strategy_->FinishRound();
  if (!next.ok()) {
    aux_->Discard();
    *why_failed = absl::StrCat("aggregation: ", next.status().message());
    return false;
  }
  absl::Status finite = next->CheckFinite();
  if (!finite.ok() || next->layout() != global_->layout()) {
    aux_->Discard();
    *why_failed = absl::StrCat("aggregate rejected: ", finite.message());
    return false;
  }
  global_ = std::make_shared<const Weights>(*std::move(next));
  aux_->Commit();
  return true;
}

RoundRecord Coordinator::RoundRecordLocked(int64_t round, int attempt) const {
  RoundRecord rec;
  rec.round = round;
  rec.attempt = attempt + 1;
  if (round_ == nullptr || round_->number != round ||
      round_->attempt != attempt) {
    return rec;  // sampling failed: no round was opened
  }
  const RoundState& r = *round_;
  rec.opened = true;
  rec.sampled = static_cast<int64_t>(r.sampled.size());
  rec.participants = r.accepted;
  rec.dropped = r.dropped;
  rec.rejected = r.rejected;
  rec.round_time_s =
      r.deadline_hit ? config_.server.round_deadline_s : r.max_time_s;
  rec.round_wall_s = Now() - r.opened_s;
  rec.bytes_up = r.bytes_up;
  rec.bytes_down = r.bytes_down;
  return rec;
}

absl::Status Coordinator::EvaluateAndRecord(int64_t round, int attempt,
                                            bool aggregated,
                                            const std::string& why_failed) {
  RoundRecord rec;
  std::vector<DeviceRoundRecord> devices;
  std::shared_ptr<const Weights> global;
  {
    absl::MutexLock lock(&mu_);
    rec = RoundRecordLocked(round, attempt);
    if (rec.opened) devices = round_->devices;
    global = global_;
  }
  rec.aggregated = aggregated;
  rec.reason = why_failed;
  if (aggregated) {
    const bool last = round == config_.server.rounds;
    if (round % config_.server.eval_every == 0 || last) {
      TANDEM_ASSIGN_OR_RETURN(ml::EvalStats e, evaluator_->Evaluate(*global));
      rec.evaluated = true;
      rec.accuracy = e.accuracy;
      rec.loss = e.loss;
    }
    if (config_.output.checkpoints) {
      TANDEM_RETURN_IF_ERROR(run_->WriteCheckpoint(round, *global));
    }
  }
  rec.wall_time_s = Now() - start_s_;
  return recorder_->Record(devices, std::move(rec));
}

nlohmann::json Coordinator::Summary(const std::string& status) const {
  absl::MutexLock lock(&mu_);
  SummaryInputs in;
  in.status = status;
  in.tally = &recorder_->tally();
  in.devices = &registry_.devices();
  in.rejections = &admission_.counts();
  in.first_round = first_round_;
  in.wall_time_s = Now() - start_s_;
  in.run_dir = run_->dir();
  in.weights_sha256 = WeightsSha256(*global_);
  return server::Summary(config_, in);
}

}  // namespace tandem::server
