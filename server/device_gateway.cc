// DeviceGateway: the calls devices make, admitted into the round the
// Coordinator's loop opened.
#include "server/device_gateway.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/file_io.h"
#include "core/file_sha256.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"
#include "server/session_id.h"

namespace tandem::server {

absl::Status DeviceGateway::CheckModelFile(const v1::JoinRequest& req) const {
  const std::string& want = state_.model_sha256;
  if (want.empty() || req.model_sha256() == want) return absl::OkStatus();
  const std::string theirs = req.model_sha256().empty() ? "none"
                             : IsSha256Hex(req.model_sha256())
                                 ? req.model_sha256()
                                 : "not a SHA-256";
  LogWarning(absl::StrCat("join of ", EscapeForLog(req.device_id()),
                          " refused: model file SHA-256 ", theirs));
  return absl::FailedPreconditionError(absl::StrCat(
      "join: model file mismatch: the device's has SHA-256 ", theirs,
      ", the coordinator's ", want,
      " (start tandem-client with --model and the run's TorchScript file)"));
}

absl::Status DeviceGateway::CheckIdentity(const std::string& what,
                                          const std::string& device_id,
                                          const std::string& token) const {
  if (!IsValidDeviceId(device_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": device_id must be 1-128 chars"));
  }
  std::shared_ptr<const DeviceTokens> tokens;
  {
    absl::MutexLock lock(&state_.mu);
    tokens = state_.tokens;
  }
  if (tokens != nullptr && !tokens->Matches(device_id, token)) {
    LogWarning(absl::StrCat(what, " of ", EscapeForLog(device_id),
                            " refused: wrong or missing token"));
    return absl::PermissionDeniedError(
        absl::StrCat(what, ": wrong or missing token"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DeviceGateway::ModelFileBytes> DeviceGateway::ModelFile(
    const v1::ModelFileRequest& req) {
  TANDEM_RETURN_IF_ERROR(
      CheckIdentity("model file", req.device_id(), req.token()));
  if (state_.model_sha256.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "model file: the run trains the built-in '", state_.config.model.name,
        "', which every client has; none to ship"));
  }
  {
    absl::MutexLock lock(&state_.mu);
    if (!state_.joins.Allow(Now())) {
      return absl::ResourceExhaustedError(
          "model file: too many requests; retry later "
          "(server.max_joins_per_s)");
    }
  }
  ModelFileBytes file;
  TANDEM_ASSIGN_OR_RETURN(file.bytes,
                          ReadFile(state_.config.model.torchscript));
  file.sha256 = Sha256Hex(file.bytes);
  if (file.sha256 != state_.model_sha256) {
    LogWarning(absl::StrCat("model file ", state_.config.model.torchscript,
                            " changed since start; not shipped"));
    return absl::FailedPreconditionError(
        "model file: the coordinator's file changed since it started");
  }
  LogInfo(absl::StrCat("model file sent to ", EscapeForLog(req.device_id()),
                       ": ", file.bytes.size(), " bytes, SHA-256 ",
                       file.sha256));
  return file;
}

absl::StatusOr<int> DeviceGateway::PartitionForLocked(const std::string& id) {
  const Config& c = state_.config;
  const int named = data::FleetIndexOf(c, id);
  if (named >= 0) return named;
  const DeviceRecord* known = state_.registry.Find(id);
  if (known != nullptr && known->partition >= 0) return known->partition;
  if (c.data.share_partitions) return data::PartitionIndexFor(c, id);
  // The fleet's own ids hold the first partitions, each its own.
  const int fleet = static_cast<int>(data::FleetDeviceIds(c).size());
  const int total = data::SpecForConfig(c).num_partitions();
  const int free = state_.registry.TakeFreePartition(fleet, total, Now(),
                                                     c.server.device_timeout_s);
  if (free >= 0) return free;
  LogWarning(absl::StrCat("join of ", EscapeForLog(id),
                          " refused: every data partition is held"));
  return absl::FailedPreconditionError(absl::StrCat(
      "join: all ", total, " data partitions are held (", fleet,
      " by the fleet's ids, the rest by devices that joined); raise "
      "server.min_devices for more partitions, or set "
      "data.share_partitions to let devices share them"));
}

absl::StatusOr<v1::JoinReply> DeviceGateway::Join(const v1::JoinRequest& req) {
  TANDEM_RETURN_IF_ERROR(CheckIdentity("join", req.device_id(), req.token()));
  TANDEM_RETURN_IF_ERROR(CheckModelFile(req));
  absl::MutexLock lock(&state_.mu);
  if (state_.Over()) {
    return absl::UnavailableError("join: the run is over");
  }
  if (!state_.joins.Allow(Now())) {
    return absl::ResourceExhaustedError(
        "join: too many joins; retry later (server.max_joins_per_s)");
  }
  absl::Status may =
      state_.registry.MayJoin(req.device_id(), req.resume_session(), Now(),
                              state_.config.server.device_timeout_s);
  if (!may.ok()) {
    LogWarning(may.message());
    return may;
  }
  // Not logged, like the rate limit: a flood would flood the log.
  TANDEM_RETURN_IF_ERROR(state_.registry.MakeRoom(
      req.device_id(), state_.config.server.max_devices, Now(),
      state_.config.server.device_timeout_s));
  TANDEM_ASSIGN_OR_RETURN(const int partition,
                          PartitionForLocked(req.device_id()));
  DeviceRecord& d = state_.registry.Join(req.device_id(), req.profile(), Now());
  d.partition = partition;
  state_.metrics->DeviceJoined();
  state_.UpdateFleetGauges();
  v1::JoinReply reply;
  reply.set_session_id(d.session_id);
  if (state_.model_sha256.empty()) {
    reply.set_model(state_.config.model.name);
  } else {
    reply.set_model("torchscript");
    reply.set_model_sha256(state_.model_sha256);
  }
  reply.set_heartbeat_interval_ms(state_.config.server.heartbeat_interval_ms);
  v1::DataSpec* spec = reply.mutable_data();
  *spec = data::SpecForConfig(state_.config);
  spec->set_partition_index(d.partition);
  if (spec->dataset() == "tensor") {
    spec->set_num_classes(state_.num_classes);
    for (float m : state_.data_mean) spec->add_mean(m);
    for (float s : state_.data_std) spec->add_std(s);
  }
  LogInfo(absl::StrCat("device ", EscapeForLog(req.device_id()),
                       " joined (class '",
                       EscapeForLog(req.profile().device_class()),
                       "', partition ", spec->partition_index(), ")"));
  return reply;
}

absl::StatusOr<TaskAssignment> DeviceGateway::WaitForTask(
    const v1::PullTaskRequest& req, absl::Duration timeout) {
  absl::MutexLock lock(&state_.mu);
  DeviceRecord* d =
      state_.registry.FindSession(req.device_id(), req.session_id());
  if (d == nullptr) {
    return absl::NotFoundError(absl::StrCat("pull: unknown device or session '",
                                            EscapeForLog(req.device_id()),
                                            "'; join first"));
  }
  d->last_seen_s = Now();
  if (req.has_timing()) RecordTiming(d, req.timing(), state_.stages);
  d->polled = true;  // WaitForDevices' condition sees it on unlock
  const std::string id = req.device_id();
  auto gone = [this, &req]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    return state_.registry.FindSession(req.device_id(), req.session_id()) ==
           nullptr;
  };
  auto ready = [this, &id, &gone]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    return state_.Over() || HasTaskLocked(id) || gone();
  };
  const double deadline_s = Now() + absl::ToDoubleSeconds(timeout);
  absl::CondVar woken;
  state_.pollers.Add(id, &woken);
  while (!ready() && Now() < deadline_s) {
    state_.clock.WaitWithDeadline(&woken, &state_.mu, deadline_s);
  }
  state_.pollers.Remove(id, &woken);
  if (!state_.Over() && gone()) {
    return absl::NotFoundError(absl::StrCat(
        "pull: the session of '", EscapeForLog(id), "' ended; join again"));
  }
  // Looked up again: the wait released the lock.
  if (DeviceRecord* again = state_.registry.Find(id)) {
    again->last_seen_s = Now();
  }
  TaskAssignment task;
  if (state_.Over()) {
    task.header.set_kind(v1::TaskHeader::STOP);
  } else if (ready() && state_.flights != nullptr) {
    task = FlightTaskLocked(id);
  } else if (ready()) {
    task = TaskFor(state_.config, *state_.round, id, req.full_weights(),
                   state_.global, *state_.aux);
  } else {
    task.header.set_kind(v1::TaskHeader::WAIT);
  }
  return task;
}

bool DeviceGateway::HasTaskLocked(const std::string& id) const {
  const RoundState* r = state_.round.get();
  if (r == nullptr || !r->open) return false;
  if (state_.flights == nullptr) return r->pending.count(id) > 0;
  const Flight* f = state_.flights->Find(id);
  return f != nullptr && f->busy();
}

AdmissionContext DeviceGateway::AdmissionLocked() {
  AdmissionContext c;
  c.registry = &state_.registry;
  c.round = state_.round.get();
  c.global = &state_.global->layout();
  c.aux = state_.aux.get();
  c.sample_cap = &state_.sample_cap;
  c.fallback_local = state_.config.offload.on_failure == OnSplitFailure::kLocal;
  c.now_s = Now();
  return c;
}

absl::Status DeviceGateway::CheckUpdateHeader(const v1::UpdateHeader& header) {
  absl::MutexLock lock(&state_.mu);
  DeviceRecord* d;
  return state_.admission.CheckHeader(header, AdmissionLocked(), &d);
}

void DeviceGateway::CountMalformedUpdate(const std::string& device_id,
                                         const std::string& reason) {
  absl::MutexLock lock(&state_.mu);
  DeviceRecord* d = state_.registry.Find(device_id);
  if (state_.round != nullptr) {
    state_.round->Leave(device_id,
                        d == nullptr ? "" : d->profile.device_class(),
                        DeviceRoundRecord::Status::kRejected, "malformed");
  }
  state_.admission
      .Reject(d, state_.round.get(), "malformed",
              absl::InvalidArgumentError(reason))
      .IgnoreError();
}

absl::Status DeviceGateway::SubmitUpdate(const v1::UpdateHeader& h,
                                         Weights weights) {
  absl::MutexLock lock(&state_.mu);
  DeviceRecord* d;
  TANDEM_RETURN_IF_ERROR(
      state_.admission.CheckHeader(h, AdmissionLocked(), &d));
  if (state_.flights != nullptr) {
    return ArriveLocked(h, d, std::move(weights));
  }
  absl::StatusOr<DeviceRoundRecord> record =
      AcceptLocked(h, d, std::move(weights));
  if (!record.ok()) return record.status();
  d->Tally(*record);
  state_.round->Accept(*std::move(record));
  state_.metrics->UpdateAccepted();
  return absl::OkStatus();
}

DeviceRoundRecord NewRecord(const v1::UpdateHeader& h, const DeviceRecord& d,
                            int64_t round, int split) {
  DeviceRoundRecord rec;
  rec.round = round;
  rec.device = h.device_id();
  rec.device_class = d.profile.device_class();
  rec.measurements = h.measurements();
  rec.samples = h.num_samples();
  rec.split = split;
  return rec;
}

ClientUpdate NewUpdate(const v1::UpdateHeader& h, Weights weights) {
  ClientUpdate u;
  u.device_id = h.device_id();
  u.round = h.round();
  u.num_samples = h.num_samples();
  u.loss_before = h.measurements().loss_before();
  u.weights = std::move(weights);
  return u;
}

absl::Status DeviceGateway::RefuseLateLocked(const DeviceRoundRecord& rec,
                                             DeviceRecord* d) {
  // Its round took longer than the round may: it arrived after the deadline
  // (in a simulation, on the virtual clock).
  const double deadline_s = state_.config.server.round_deadline_s;
  if (rec.measurements.round_time_s() <= deadline_s) return absl::OkStatus();
  RoundState& r = *state_.round;
  r.Leave(*d, DeviceRoundRecord::Status::kRejected, "late");
  if (r.flights == nullptr)
    r.deadline_hit = true;  // the round's, not a flight's
  return state_.admission.Reject(
      d, &r, "late",
      absl::FailedPreconditionError(absl::StrCat(
          "its round took ", rec.measurements.round_time_s(),
          " s, more than server.round_deadline_s (", deadline_s, " s)")));
}

absl::StatusOr<DeviceRoundRecord> DeviceGateway::AcceptLocked(
    const v1::UpdateHeader& h, DeviceRecord* d, Weights weights) {
  RoundState& r = *state_.round;
  const std::string& id = h.device_id();
  DeviceRoundRecord rec = NewRecord(h, *d, r.number, r.SplitOf(id));
  if (r.Offloads(id) && weights.layout() == state_.global->layout()) {
    // It trained the whole model locally: its split stream failed, or its
    // link was below the split point's break-even (offload.link_guard).
    state_.tails.Drop(id);
    rec.split = state_.stages;
    rec.fallback_local = true;
  } else if (r.Offloads(id)) {
    auto joined = state_.tails.Join(id, weights, *state_.global,
                                    state_.planner->TailShare(r.offloading));
    if (!joined.ok()) {
      r.Leave(*d, DeviceRoundRecord::Status::kRejected, "split_incomplete");
      return state_.admission.Reject(d, &r, "split_incomplete",
                                     joined.status());
    }
    rec.has_tail = true;
    rec.tail_s = joined->tail_s;
    rec.tail_batches = joined->tail_batches;
    rec.mode = joined->mode;
    // Local loss: the device's round time already ends with the tail's
    // drain (SplitReply.drain_end_s); exact: the device waited for each
    // tail step, which a deployed device measured and a simulated one not.
    v1::Measurements& m = rec.measurements;
    if (joined->mode == SplitMode::kExact && !m.tail_included()) {
      m.set_round_time_s(m.round_time_s() + joined->tail_s);
    }
    weights = std::move(joined->full);
  }
  TANDEM_RETURN_IF_ERROR(RefuseLateLocked(rec, d));
  ClientUpdate u = NewUpdate(h, std::move(weights));
  RejectReason reason;
  absl::Status s = state_.strategy->AddUpdate(std::move(u), &reason);
  if (!s.ok()) {
    const std::string why(RejectReasonName(reason));
    r.Leave(*d, DeviceRoundRecord::Status::kRejected, why);
    return state_.admission.Reject(d, &r, why, s);
  }
  rec.update_norm = state_.strategy->last_update_norm();
  if (rec.mode == SplitMode::kLocalLoss) {
    state_.aux->Add(rec.split, id,
                    {h.aux_weights().begin(), h.aux_weights().end()},
                    h.num_samples());
  }
  return rec;
}

absl::StatusOr<std::shared_ptr<TailSession>> DeviceGateway::OpenTail(
    const v1::SplitOpen& open) {
  int split;
  SplitMode mode;
  double share;
  std::shared_ptr<const Weights> global;
  const std::string& id = open.device_id();
  {
    absl::MutexLock lock(&state_.mu);
    if (state_.registry.FindSession(id, open.session_id()) == nullptr) {
      return absl::NotFoundError("split: unknown device or session");
    }
    TANDEM_RETURN_IF_ERROR(state_.tails.CheckOpen(state_.round.get(), open));
    split = state_.round->SplitOf(id);
    mode = state_.round->ModeOf(id);
    share = state_.planner->TailShare(state_.round->offloading);
    global = state_.global;
  }
  // Built without the lock: a tail copy takes a while for a large model.
  TANDEM_ASSIGN_OR_RETURN(std::shared_ptr<TailSession> tail,
                          MakeTail(state_.tail_settings, id, open.round(),
                                   split, mode, share, *global));
  absl::MutexLock lock(&state_.mu);
  if (state_.round == nullptr || !state_.round->open ||
      state_.round->number != tail->round) {
    return absl::FailedPreconditionError("split: the round closed");
  }
  TANDEM_RETURN_IF_ERROR(state_.tails.Add(tail));
  state_.metrics->SplitStreamOpened();
  LogInfo(absl::StrCat("split training of ", EscapeForLog(id), " in round ",
                       tail->round, " at split point ", split, " (",
                       ActivationCodecName(tail->codec), ")"));
  return tail;
}

void DeviceGateway::EndTail(const std::shared_ptr<TailSession>& tail,
                            bool complete, const std::string& why) {
  absl::MutexLock lock(&state_.mu);
  if (complete) {
    tail->complete.store(true);
    return;
  }
  LogWarning(absl::StrCat("split training of ", EscapeForLog(tail->device_id),
                          " in round ", tail->round, " failed: ", why,
                          "; tail freed"));
  state_.admission.Count(state_.registry.Find(tail->device_id), "split_failed");
  if (state_.round != nullptr && state_.round->number == tail->round) {
    state_.tails.Remove(tail);
  }
}

absl::StatusOr<v1::HeartbeatReply> DeviceGateway::Heartbeat(
    const v1::HeartbeatRequest& req) {
  absl::MutexLock lock(&state_.mu);
  v1::HeartbeatReply reply;
  DeviceRecord* d =
      state_.registry.FindSession(req.device_id(), req.session_id());
  reply.set_known(d != nullptr);
  if (d == nullptr) return reply;
  d->last_seen_s = Now();
  if (req.state() == v1::HeartbeatRequest::TRAINING &&
      state_.flights != nullptr) {
    AnnounceFlightLocked(req);
  } else if (req.state() == v1::HeartbeatRequest::ABANDONED &&
             state_.flights != nullptr) {
    AbandonFlightLocked(d, req.round(), req.reason());
  } else if (req.state() == v1::HeartbeatRequest::ABANDONED &&
             state_.round != nullptr && state_.round->open &&
             req.round() == state_.round->number &&
             state_.round->pending.count(req.device_id()) > 0) {
    ++d->dropouts;
    state_.round->Leave(*d, DeviceRoundRecord::Status::kDropped, req.reason());
  }
  return reply;
}

absl::Status DeviceGateway::Leave(const v1::LeaveRequest& req) {
  absl::MutexLock lock(&state_.mu);
  if (state_.registry.FindSession(req.device_id(), req.session_id()) ==
      nullptr) {
    return absl::NotFoundError("leave: unknown device or session");
  }
  EndSessionLocked(req.device_id(), "left: " + EscapeForLog(req.reason()));
  return absl::OkStatus();
}

void DeviceGateway::EndSessionLocked(const std::string& id,
                                     const std::string& why) {
  DeviceRecord* d = state_.registry.Find(id);
  if (d == nullptr) return;
  d->left = true;
  if (state_.flights != nullptr && state_.flights->End(id, "left")) {
    ++d->dropouts;
  }
  if (state_.round != nullptr && state_.round->open &&
      state_.round->pending.count(id) > 0) {
    ++d->dropouts;
    state_.round->Leave(*d, DeviceRoundRecord::Status::kDropped, why);
  }
  state_.UpdateFleetGauges();
  LogInfo(absl::StrCat("device ", EscapeForLog(id), " ", why));
}

std::vector<std::string> DeviceGateway::ReplaceTokens(DeviceTokens next) {
  absl::MutexLock lock(&state_.mu);
  std::vector<std::string> revoked;
  if (state_.tokens != nullptr) revoked = state_.tokens->RevokedBy(next);
  state_.tokens = std::make_shared<const DeviceTokens>(std::move(next));
  for (const std::string& id : revoked) {
    DeviceRecord* d = state_.registry.Find(id);
    if (d == nullptr) continue;
    if (!d->left) EndSessionLocked(id, "revoked: its token was withdrawn");
    d->session_id.clear();  // no call or rejoin may resume it
    if (state_.round != nullptr && state_.round->open &&
        state_.round->Accepted(id)) {
      state_.round->revoked.insert(id);
    }
    state_.pollers.Wake(id);
  }
  LogInfo(absl::StrCat("join tokens replaced: ", state_.tokens->size(),
                       " devices, ", revoked.size(), " revoked"));
  return revoked;
}

}  // namespace tandem::server
