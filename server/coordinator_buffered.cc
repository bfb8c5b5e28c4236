// Coordinator under buffered asynchronous aggregation (FedBuff, Nguyen et
// al. 2022; strategy.buffer_size > 0). A "round" is one model version:
// devices train continuously, strategy.concurrency at a time, each from the
// version it pulled; every buffer_size reports are aggregated, each update
// rebased onto the current model and weighted by its staleness.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "server/coordinator.h"
#include "strategies/sampling.h"

namespace tandem::server {

void Coordinator::OpenVersion(int64_t round, int attempt) {
  absl::MutexLock lock(&state_.mu);
  virtual_now_s_ = std::max(virtual_now_s_, recorder_->tally().virtual_time_s);
  auto r = std::make_unique<RoundState>();
  r->number = round;
  r->attempt = attempt;
  r->stages = state_.stages;
  r->flights = state_.flights.get();
  r->opened_s = Now();
  r->header = TrainTask(config_, *state_.strategy, state_.stages,
                        state_.global->layout(), round);
  const int64_t available =
      state_.registry.NumAvailable(Now(), state_.device_timeout_s);
  concurrency_ =
      config_.strategy.concurrency > 0
          ? config_.strategy.concurrency
          : static_cast<int>(SampleSize(available, config_.strategy.fraction,
                                        config_.strategy.min_devices));
  absl::Status s = state_.strategy->BeginRound(round, *state_.global,
                                               config_.strategy.buffer_size);
  if (!s.ok()) LogError(absl::StrCat("strategy: ", s.message()));
  r->open = true;
  state_.round = std::move(r);
}

void Coordinator::FillBuffer() {
  absl::MutexLock lock(&state_.mu);
  RoundState& r = *state_.round;
  auto can_take = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    return state_.stopping || state_.flights->HasNext();
  };
  double progress_s = Now();
  while (!state_.stopping && r.accepted < config_.strategy.buffer_size) {
    StartFlightsLocked(r);
    if (TakeReportLocked(r)) {
      progress_s = Now();
      continue;
    }
    const double give_up_s = progress_s + config_.server.round_deadline_s;
    if (Now() >= give_up_s) {
      LogWarning(absl::StrCat("round ", r.number, ": no report for ",
                              config_.server.round_deadline_s,
                              " s (server.round_deadline_s)"));
      break;
    }
    clock_.AwaitWithDeadline(&state_.mu, absl::Condition(&can_take),
                             std::min(give_up_s, Now() + 0.5));
    DropSilentFlightsLocked();
  }
  // The version's time: from the last one's to its last report.
  r.max_time_s = options_.virtual_time
                     ? virtual_now_s_ - recorder_->tally().virtual_time_s
                     : Now() - r.opened_s;
}

void Coordinator::StartFlightsLocked(RoundState& r) {
  const int missing = concurrency_ - static_cast<int>(state_.flights->size());
  if (missing <= 0) return;
  std::vector<std::string> idle;
  for (const std::string& id :
       state_.registry.Available(Now(), state_.device_timeout_s)) {
    if (state_.flights->Find(id) == nullptr && resting_.count(id) == 0) {
      idle.push_back(id);
    }
  }
  if (idle.empty()) return;
  const double start_s = options_.virtual_time ? virtual_now_s_ : Now();
  for (const std::string& id :
       PickDevices(std::move(idle), missing, config_.seed, ++picks_)) {
    state_.flights->Start(id, r.number, state_.global, start_s);
    r.sampled.insert(id);
    state_.pollers.Wake(id);
  }
}

bool Coordinator::TakeReportLocked(RoundState& r) {
  std::optional<Flight> f = state_.flights->TakeNext();
  if (!f.has_value()) return false;
  if (options_.virtual_time) {
    virtual_now_s_ = std::max(virtual_now_s_, f->finish_s);
  }
  DeviceRecord* d = state_.registry.Find(f->device);
  if (f->state == Flight::State::kEnded) {
    // Not picked again before the clock moves: a device that is offline
    // would otherwise be started and dropped forever at one instant.
    resting_.insert(f->device);
    r.FlightEnded(f->device, d == nullptr ? "" : d->profile.device_class(),
                  f->refused, f->reason);
    return true;
  }
  resting_.clear();
  AdmitReportLocked(r, *std::move(f), d);
  return true;
}

void Coordinator::AdmitReportLocked(RoundState& r, Flight f, DeviceRecord* d) {
  const int64_t staleness = r.number - f.version;
  ClientUpdate u = std::move(f.update);
  if (staleness > 0) {
    Rebase(*state_.global, *f.base,
           StalenessWeight(staleness, config_.strategy.staleness_exponent),
           &u.weights);
  }
  u.round = r.number;
  // A device may report twice into one buffer.
  u.device_id = absl::StrCat(f.device, "#", f.serial);
  DeviceRoundRecord rec = std::move(f.record);
  rec.round = r.number;
  rec.task_round = f.version;
  rec.staleness = staleness;
  RejectReason reason;
  absl::Status s = state_.strategy->AddUpdate(std::move(u), &reason);
  if (!s.ok()) {
    state_.admission.Reject(d, &r, std::string(RejectReasonName(reason)), s)
        .IgnoreError();
    return;
  }
  rec.update_norm = state_.strategy->last_update_norm();
  if (d != nullptr) d->Tally(rec);
  r.Accept(std::move(rec));
  state_.metrics->UpdateAccepted();
}

void Coordinator::DropSilentFlightsLocked() {
  for (const std::string& id : state_.flights->BusyDevices()) {
    DeviceRecord* d = state_.registry.Find(id);
    if (d != nullptr && Now() - d->last_seen_s <= state_.device_timeout_s) {
      continue;
    }
    LogWarning(absl::StrCat("device ", EscapeForLog(id), " timed out"));
    if (d != nullptr) ++d->dropouts;
    state_.flights->End(id, "timed out");
  }
  state_.UpdateFleetGauges();
}

}  // namespace tandem::server
