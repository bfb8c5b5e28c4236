// Coordinator::Run: the round state machine's transitions.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/run_report.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"
#include "ml/trainer.h"
#include "server/coordinator.h"
#include "server/round_state.h"
#include "strategies/sampling.h"

namespace tandem::server {

Coordinator::~Coordinator() = default;

absl::StatusOr<nlohmann::json> Coordinator::Run() {
  absl::Status status = WaitForDevices();
  for (int64_t r = first_round_; status.ok() && r <= config_.server.rounds;
       ++r) {
    if (config_.server.stop_at_target && !target_.is_null()) break;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    status = RunRound(r);
  }
  {
    absl::MutexLock lock(&mu_);
    finished_ = true;  // pending PullTask calls answer STOP
    absl::Status saved = policy_->Finish();
    if (!saved.ok()) LogError(absl::StrCat("policy: ", saved.message()));
  }
  nlohmann::json summary = Summary(status.ok() ? "ok" : status.ToString());
  TANDEM_RETURN_IF_ERROR(run_->WriteSummary(summary));
  TANDEM_RETURN_IF_ERROR(WriteRunReport(run_->dir()));
  if (!status.ok()) return status;
  return summary;
}

absl::Status Coordinator::WaitForDevices() {
  const int need = config_.server.min_devices;
  absl::MutexLock lock(&mu_);
  auto enough = [this, need]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || registry_.NumJoined() >= need;
  };
  LogInfo(absl::StrCat("waiting for ", need, " devices to join"));
  if (!mu_.AwaitWithTimeout(absl::Condition(&enough),
                            absl::Seconds(config_.server.join_timeout_s))) {
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
  mu_.AwaitWithTimeout(absl::Condition(&all_ready),
                       absl::Seconds(config_.server.poll_timeout_s));
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
    TANDEM_RETURN_IF_ERROR(EvaluateAndRecord(round, false, *why_failed));
    return false;
  }
  OpenRound(round, attempt, *sampled);
  AwaitRoundEnd();
  TANDEM_ASSIGN_OR_RETURN(bool aggregated, CloseAndAggregate(why_failed));
  TANDEM_RETURN_IF_ERROR(EvaluateAndRecord(round, aggregated, *why_failed));
  return aggregated;
}

absl::StatusOr<std::vector<std::string>> Coordinator::SampleForAttempt(
    int64_t round, int attempt) {
  const int need = config_.strategy.min_updates;
  absl::MutexLock lock(&mu_);
  auto enough = [this, need]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ ||
           static_cast<int>(
               registry_.Available(Now(), config_.server.device_timeout_s)
                   .size()) >= need;
  };
  // Availability changes with time, not only with the mutex: poll.
  const absl::Time give_up =
      absl::Now() + absl::Seconds(config_.server.join_timeout_s);
  while (!enough() && absl::Now() < give_up) {
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Milliseconds(200));
  }
  std::vector<std::string> available =
      registry_.Available(Now(), config_.server.device_timeout_s);
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
  r->sampled.insert(sampled.begin(), sampled.end());
  r->pending = r->sampled;
  r->opened_s = Now();
  r->deadline = absl::Now() + absl::Seconds(config_.server.round_deadline_s);
  v1::TaskHeader& h = r->header;
  h.set_kind(v1::TaskHeader::TRAIN);
  h.set_round(round);
  v1::TrainingConfig* t = h.mutable_training();
  t->set_local_epochs(config_.training.local_epochs);
  t->set_batch_size(config_.training.batch_size);
  t->set_learning_rate(config_.training.learning_rate);
  t->set_momentum(config_.training.momentum);
  t->set_weight_decay(config_.training.weight_decay);
  t->set_max_batches(config_.training.max_batches);
  t->set_seed(config_.seed * 1000003 + static_cast<uint64_t>(round));
  t->set_proximal_mu(strategy_->proximal_mu());
  t->set_measure_loss_before(strategy_->needs_loss_before());
  t->set_clipping_norm(strategy_->client_clipping_norm());
  if (strategy_->client_learning_rate() > 0) {
    t->set_learning_rate(strategy_->client_learning_rate());
  }
  h.set_split_point(eval_model_->num_stages());
  h.set_num_stages(eval_model_->num_stages());
  h.set_activation_codec(config_.offload.activation_codec);
  h.set_deadline_s(config_.server.round_deadline_s);
  LayoutToProto(global_->layout(), h.mutable_layout());
  ChooseSplitsLocked(r.get());
  SetLinkGuardsLocked(r.get());
  absl::Status s = strategy_->BeginRound(round, *global_, sampled);
  if (!s.ok()) LogError(absl::StrCat("strategy: ", s.message()));
  r->open = true;
  round_ = std::move(r);
}

bool Coordinator::RoundDoneLocked() const {
  return stopping_ || round_->pending.empty();
}

void Coordinator::AwaitRoundEnd() {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return RoundDoneLocked();
  };
  while (!RoundDoneLocked() && absl::Now() < round_->deadline) {
    mu_.AwaitWithDeadline(
        absl::Condition(&done),
        std::min(round_->deadline, absl::Now() + absl::Milliseconds(500)));
    // A pending device that stopped sending heartbeats is gone.
    for (auto it = round_->pending.begin(); it != round_->pending.end();) {
      DeviceRecord* d = registry_.Find(*it);
      if (d != nullptr &&
          Now() - d->last_seen_s > config_.server.device_timeout_s) {
        LogWarning(absl::StrCat("device ", *it, " timed out in round ",
                                round_->number));
        ++round_->dropped;
        ++d->dropouts;
        it = round_->pending.erase(it);
      } else {
        ++it;
      }
    }
  }
}

absl::StatusOr<bool> Coordinator::CloseAndAggregate(std::string* why_failed) {
  absl::MutexLock lock(&mu_);
  RoundState& r = *round_;
  r.open = false;
  r.deadline_hit = !r.pending.empty();
  r.dropped += static_cast<int>(r.pending.size());
  r.tails.clear();  // tails of devices that never reported are freed here
  r.heads.clear();
  ObserveRoundLocked();
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

absl::Status Coordinator::EvaluateAndRecord(int64_t round, bool aggregated,
                                            const std::string& why_failed) {
  nlohmann::json line = {{"type", "round"}, {"round", round}};
  std::vector<nlohmann::json> device_lines;
  {
    absl::MutexLock lock(&mu_);
    if (round_ != nullptr && round_->number == round) {
      const RoundState& r = *round_;
      const double round_time =
          r.deadline_hit ? config_.server.round_deadline_s : r.max_time_s;
      if (aggregated) virtual_time_s_ += round_time;
      line.update({{"attempt", r.attempt + 1},
                   {"sampled", r.sampled.size()},
                   {"participants", r.accepted},
                   {"dropped", r.dropped},
                   {"rejected", r.rejected},
                   {"round_time_s", round_time},
                   {"round_wall_s", Now() - r.opened_s},
                   {"bytes_up", r.bytes_up},
                   {"bytes_down", r.bytes_down}});
      device_lines = r.device_lines;
    }
    if (!aggregated) ++failed_attempts_;
  }
  line["status"] = aggregated ? "ok" : "failed";
  if (!aggregated) line["reason"] = why_failed;
  if (aggregated) {
    ++rounds_done_;
    const bool last = round == config_.server.rounds;
    if (round % config_.server.eval_every == 0 || last) {
      TANDEM_RETURN_IF_ERROR(eval_model_->SetWeights(*global_));
      TANDEM_ASSIGN_OR_RETURN(ml::EvalStats e,
                              ml::Evaluate(*eval_model_, *test_set_,
                                           config_.server.eval_batch_size));
      final_accuracy_ = e.accuracy;
      final_loss_ = e.loss;
      best_accuracy_ = std::max(best_accuracy_, e.accuracy);
      line["accuracy"] = e.accuracy;
      line["loss"] = e.loss;
      if (target_.is_null() && config_.server.target_accuracy > 0 &&
          e.accuracy >= config_.server.target_accuracy) {
        target_ = {{"accuracy", config_.server.target_accuracy},
                   {"round", round},
                   {"virtual_time_s", virtual_time_s_},
                   {"wall_time_s", Now() - start_s_}};
      }
    }
    if (config_.output.checkpoints) {
      TANDEM_RETURN_IF_ERROR(run_->WriteCheckpoint(round, *global_));
    }
  }
  line["virtual_time_s"] = virtual_time_s_;
  line["wall_time_s"] = Now() - start_s_;
  for (const nlohmann::json& d : device_lines) {
    TANDEM_RETURN_IF_ERROR(run_->AppendMetrics(d));
  }
  TANDEM_RETURN_IF_ERROR(run_->AppendMetrics(line));
  if (options_.on_round) options_.on_round(line);
  return absl::OkStatus();
}

nlohmann::json Coordinator::Summary(const std::string& status) const {
  absl::MutexLock lock(&mu_);
  nlohmann::json devices = nlohmann::json::array();
  int rejected = 0;
  for (const auto& [reason, n] : rejections_) rejected += n;
  for (const auto& [id, d] : registry_.devices()) {
    devices.push_back({{"id", id},
                       {"class", d.profile.device_class()},
                       {"rounds", d.rounds},
                       {"mean_round_time_s",
                        d.rounds > 0 ? d.round_time_sum_s / d.rounds : 0},
                       {"samples", d.samples},
                       {"energy_j", d.energy_j},
                       {"dropouts", d.dropouts},
                       {"rejections", d.rejections}});
  }
  return {{"status", status},
          {"final_accuracy", final_accuracy_},
          {"best_accuracy", best_accuracy_},
          {"final_loss", final_loss_},
          {"rounds", rounds_done_},
          {"failed_attempts", failed_attempts_},
          {"first_round", first_round_},
          {"wall_time_s", Now() - start_s_},
          {"virtual_time_s", virtual_time_s_},
          {"rejected_updates", rejected},
          {"target", target_},
          {"rejections", rejections_},
          {"model", config_.model.name},
          {"strategy", config_.strategy.name},
          {"run_dir", run_->dir()},
          {"devices", devices}};
}

}  // namespace tandem::server
