// Coordinator: set-up and the device-facing calls.
#include "server/coordinator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "ml/data/run_data.h"
#include "server/session_id.h"

namespace tandem::server {

Coordinator::Coordinator(CoordinatorOptions options)
    : options_(std::move(options)),
      config_(options_.config),
      clock_(*options_.clock) {}

Coordinator::~Coordinator() = default;

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(
    CoordinatorOptions options) {
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(options)));
  TANDEM_RETURN_IF_ERROR(c->Init());
  return c;
}

absl::Status Coordinator::Init() {
  start_s_ = Now();
  TANDEM_ASSIGN_OR_RETURN(std::shared_ptr<const data::Dataset> test,
                          LoadData());
  TANDEM_ASSIGN_OR_RETURN(evaluator_, Evaluator::Create(config_, test));
  const ml::Model& model = evaluator_->model();
  stages_ = model.num_stages();
  max_message_bytes_ = MaxMessageBytes(model, config_.training.batch_size);
  tail_settings_ = {&config_, model.input(), stages_, options_.compute_profile,
                    options_.tail_threads > 0 ? options_.tail_threads
                                              : config_.server.threads};
  Weights global = model.GetWeights();
  if (!config_.server.resume_from.empty()) {
    TANDEM_ASSIGN_OR_RETURN(ResumePoint p,
                            LoadResumeCheckpoint(config_, global.layout()));
    global = std::move(p.weights);
    first_round_ = p.round + 1;
    LogInfo(absl::StrCat("resuming after round ", p.round, " from ",
                         config_.server.resume_from));
  }
  StrategyOptions so;
  so.name = config_.strategy.name;
  so.params = config_.strategy.params;
  so.max_update_norm = config_.strategy.max_update_norm;
  so.seed = config_.seed;
  absl::MutexLock lock(&mu_);
  global_ = std::make_shared<const Weights>(std::move(global));
  TANDEM_ASSIGN_OR_RETURN(strategy_, CreateStrategy(so));
  aux_ = std::make_unique<AuxStore>(&model, config_.seed);
  TANDEM_ASSIGN_OR_RETURN(
      planner_, OffloadPlanner::Create(config_, model.input(), stages_,
                                       options_.compute_profile));
  TANDEM_ASSIGN_OR_RETURN(
      run_, RunWriter::Create(config_.output.dir, options_.run_name,
                              ConfigToJson(config_)));
  recorder_ =
      std::make_unique<RoundRecorder>(config_, run_.get(), options_.on_round);
  if (first_round_ > 1) {
    TANDEM_RETURN_IF_ERROR(
        run_->AppendMetrics({{"type", "resume"},
                             {"checkpoint", config_.server.resume_from},
                             {"round", first_round_ - 1}}));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const data::Dataset>> Coordinator::LoadData() {
  if (options_.test_set != nullptr) {
    if (options_.train_set != nullptr) {
      sample_cap_ = SampleCap::ForTrainSet(config_, *options_.train_set);
    }
    return options_.test_set;
  }
  TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt,
                          data::LoadDataset(data::SourceForConfig(config_)));
  sample_cap_ = SampleCap::ForTrainSet(
      config_, options_.train_set != nullptr ? *options_.train_set : tt.train);
  return std::make_shared<const data::Dataset>(
      config_.data.test_limit > 0 ? tt.test.Head(config_.data.test_limit)
                                  : std::move(tt.test));
}

absl::StatusOr<v1::JoinReply> Coordinator::Join(const v1::JoinRequest& req) {
  if (req.device_id().empty() || req.device_id().size() > 128) {
    return absl::InvalidArgumentError("join: device_id must be 1-128 chars");
  }
  if (!config_.server.token.empty() &&
      !SessionMatches(config_.server.token, req.token())) {
    return absl::PermissionDeniedError("join: wrong token");
  }
  absl::MutexLock lock(&mu_);
  if (finished_ || stopping_) {
    return absl::UnavailableError("join: the run is over");
  }
  absl::Status may = registry_.MayJoin(req.device_id(), req.resume_session(),
                                       Now(), config_.server.device_timeout_s);
  if (!may.ok()) {
    LogWarning(may.message());
    return may;
  }
  DeviceRecord& d = registry_.Join(req.device_id(), req.profile(), Now());
  // A function of the id, not of the join order, which varies.
  d.partition = data::PartitionIndexFor(config_, req.device_id());
  v1::JoinReply reply;
  reply.set_session_id(d.session_id);
  reply.set_model(config_.model.name);
  reply.set_heartbeat_interval_ms(config_.server.heartbeat_interval_ms);
  v1::DataSpec* spec = reply.mutable_data();
  *spec = data::SpecForConfig(config_);
  spec->set_partition_index(d.partition);
  LogInfo(absl::StrCat("device ", EscapeForLog(req.device_id()),
                       " joined (class '",
                       EscapeForLog(req.profile().device_class()),
                       "', partition ", spec->partition_index(), ")"));
  return reply;
}

absl::StatusOr<TaskAssignment> Coordinator::WaitForTask(
    const v1::PullTaskRequest& req, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  DeviceRecord* d = registry_.FindSession(req.device_id(), req.session_id());
  if (d == nullptr) {
    return absl::NotFoundError(absl::StrCat("pull: unknown device or session '",
                                            EscapeForLog(req.device_id()),
                                            "'; join first"));
  }
  d->last_seen_s = Now();
  if (req.has_timing()) RecordTiming(d, req.timing(), stages_);
  d->polled = true;  // WaitForDevices' condition sees it on unlock
  const std::string id = req.device_id();
  auto ready = [this, &id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return finished_ || stopping_ ||
           (round_ != nullptr && round_->open && round_->pending.count(id));
  };
  clock_.AwaitWithDeadline(&mu_, absl::Condition(&ready),
                           Now() + absl::ToDoubleSeconds(timeout));
  registry_.Find(id)->last_seen_s = Now();
  TaskAssignment task;
  if (finished_ || stopping_) {
    task.header.set_kind(v1::TaskHeader::STOP);
  } else if (ready()) {
    task = TaskFor(config_, *round_, id, req.full_weights(), global_, *aux_);
  } else {
    task.header.set_kind(v1::TaskHeader::WAIT);
  }
  return task;
}

AdmissionContext Coordinator::AdmissionLocked() {
  AdmissionContext c;
  c.registry = &registry_;
  c.round = round_.get();
  c.global = &global_->layout();
  c.aux = aux_.get();
  c.sample_cap = &sample_cap_;
  c.fallback_local = config_.offload.on_failure == OnSplitFailure::kLocal;
  c.now_s = Now();
  return c;
}

absl::Status Coordinator::CheckUpdateHeader(const v1::UpdateHeader& header) {
  absl::MutexLock lock(&mu_);
  DeviceRecord* d;
  return admission_.CheckHeader(header, AdmissionLocked(), &d);
}

void Coordinator::CountMalformedUpdate(const std::string& device_id,
                                       const std::string& reason) {
  absl::MutexLock lock(&mu_);
  if (round_ != nullptr) round_->End(device_id);
  admission_
      .Reject(registry_.Find(device_id), round_.get(), "malformed",
              absl::InvalidArgumentError(reason))
      .IgnoreError();
}

absl::Status Coordinator::SubmitUpdate(const v1::UpdateHeader& h,
                                       Weights weights) {
  absl::MutexLock lock(&mu_);
  DeviceRecord* d;
  TANDEM_RETURN_IF_ERROR(admission_.CheckHeader(h, AdmissionLocked(), &d));
  absl::StatusOr<DeviceRoundRecord> record =
      AcceptLocked(h, d, std::move(weights));
  if (!record.ok()) return record.status();
  d->Tally(*record);
  round_->Accept(*std::move(record));
  return absl::OkStatus();
}

absl::StatusOr<DeviceRoundRecord> Coordinator::AcceptLocked(
    const v1::UpdateHeader& h, DeviceRecord* d, Weights weights) {
  RoundState& r = *round_;
  const std::string& id = h.device_id();
  DeviceRoundRecord rec;
  rec.round = r.number;
  rec.device = id;
  rec.device_class = d->profile.device_class();
  rec.measurements = h.measurements();
  rec.samples = h.num_samples();
  rec.split = r.SplitOf(id);
  if (r.Offloads(id) && weights.layout() == global_->layout()) {
    // It trained the whole model locally: its split stream failed, or its
    // link was below the cut's break-even (offload.link_guard).
    tails_.Drop(id);
    rec.split = stages_;
    rec.fallback_local = true;
  } else if (r.Offloads(id)) {
    auto joined =
        tails_.Join(id, weights, *global_, planner_->TailShare(r.offloading));
    if (!joined.ok()) {
      r.End(id);
      return admission_.Reject(d, &r, "split_incomplete", joined.status());
    }
    rec.has_tail = true;
    rec.tail_s = joined->tail_s;
    rec.tail_batches = joined->tail_batches;
    if (joined->local_loss) rec.mode = offload::SplitMode::kLocalLoss;
    // Local loss: the device's round time already ends with the tail's
    // drain (SplitReply.drain_end_s); exact: the device waited for each
    // tail step, which a deployed device measured and a simulated one not.
    v1::Measurements& m = rec.measurements;
    if (!joined->local_loss && !m.tail_included()) {
      m.set_round_time_s(m.round_time_s() + joined->tail_s);
    }
    weights = std::move(joined->full);
  }
  ClientUpdate u;
  u.device_id = id;
  u.round = h.round();
  u.num_samples = h.num_samples();
  u.loss_before = h.measurements().loss_before();
  u.weights = std::move(weights);
  RejectReason reason;
  absl::Status s = strategy_->AddUpdate(std::move(u), &reason);
  if (!s.ok()) {
    r.End(id);
    return admission_.Reject(d, &r, std::string(RejectReasonName(reason)), s);
  }
  if (rec.mode == offload::SplitMode::kLocalLoss) {
    aux_->Add(rec.split, id, {h.aux_weights().begin(), h.aux_weights().end()},
              h.num_samples());
  }
  return rec;
}

absl::StatusOr<std::shared_ptr<TailSession>> Coordinator::OpenTail(
    const v1::SplitOpen& open) {
  int split;
  bool local_loss;
  double share;
  std::shared_ptr<const Weights> global;
  const std::string& id = open.device_id();
  {
    absl::MutexLock lock(&mu_);
    if (registry_.FindSession(id, open.session_id()) == nullptr) {
      return absl::NotFoundError("split: unknown device or session");
    }
    TANDEM_RETURN_IF_ERROR(tails_.CheckOpen(round_.get(), open));
    split = round_->SplitOf(id);
    local_loss = round_->LocalLoss(id);
    share = planner_->TailShare(round_->offloading);
    global = global_;
  }
  // Built without the lock: a tail copy takes a while for a large model.
  TANDEM_ASSIGN_OR_RETURN(std::shared_ptr<TailSession> tail,
                          MakeTail(tail_settings_, id, open.round(), split,
                                   local_loss, share, *global));
  absl::MutexLock lock(&mu_);
  if (round_ == nullptr || !round_->open || round_->number != tail->round) {
    return absl::FailedPreconditionError("split: the round closed");
  }
  TANDEM_RETURN_IF_ERROR(tails_.Add(tail));
  LogInfo(absl::StrCat("split training of ", EscapeForLog(id), " in round ",
                       tail->round, " at split point ", split, " (",
                       ActivationCodecName(tail->codec), ")"));
  return tail;
}

void Coordinator::EndTail(const std::shared_ptr<TailSession>& tail,
                          bool complete, const std::string& why) {
  absl::MutexLock lock(&mu_);
  if (complete) {
    tail->complete.store(true);
    return;
  }
  LogWarning(absl::StrCat("split training of ", EscapeForLog(tail->device_id),
                          " in round ", tail->round, " failed: ", why,
                          "; tail freed"));
  admission_.Count(registry_.Find(tail->device_id), "split_failed");
  if (round_ != nullptr && round_->number == tail->round) {
    tails_.Remove(tail);
  }
}

absl::StatusOr<v1::HeartbeatReply> Coordinator::Heartbeat(
    const v1::HeartbeatRequest& req) {
  absl::MutexLock lock(&mu_);
  v1::HeartbeatReply reply;
  DeviceRecord* d = registry_.FindSession(req.device_id(), req.session_id());
  reply.set_known(d != nullptr);
  if (d == nullptr) return reply;
  d->last_seen_s = Now();
  if (req.state() == v1::HeartbeatRequest::ABANDONED && round_ != nullptr &&
      round_->open && req.round() == round_->number &&
      round_->pending.count(req.device_id()) > 0) {
    ++d->dropouts;
    round_->Drop(*d, req.reason());
  }
  return reply;
}

absl::Status Coordinator::Leave(const v1::LeaveRequest& req) {
  absl::MutexLock lock(&mu_);
  DeviceRecord* d = registry_.FindSession(req.device_id(), req.session_id());
  if (d == nullptr) {
    return absl::NotFoundError("leave: unknown device or session");
  }
  d->left = true;
  if (round_ != nullptr && round_->open &&
      round_->pending.erase(req.device_id()) > 0) {
    ++round_->dropped;
    ++d->dropouts;
  }
  LogInfo(absl::StrCat("device ", EscapeForLog(req.device_id()),
                       " left: ", EscapeForLog(req.reason())));
  return absl::OkStatus();
}

void Coordinator::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

}  // namespace tandem::server
