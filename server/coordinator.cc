#include "server/coordinator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/run_writer.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"
#include "ml/data/run_data.h"
#include "ml/profile.h"
#include "ml/runtime.h"
#include "ml/split_weights.h"
#include "ml/trainer.h"
#include "server/round_state.h"
#include "strategies/sampling.h"

namespace tandem::server {

namespace {

nlohmann::json MeasurementsJson(const v1::Measurements& m) {
  return {{"compute_s", m.compute_s()},   {"cpu_s", m.cpu_s()},
          {"link_s", m.link_s()},         {"round_time_s", m.round_time_s()},
          {"bytes_up", m.bytes_up()},     {"bytes_down", m.bytes_down()},
          {"train_loss", m.train_loss()}, {"energy_j", m.energy_j()},
          {"batches", m.batches()},       {"tail_included", m.tail_included()},
          {"timing_s", m.timing_s()}};
}

}  // namespace

Coordinator::Coordinator(CoordinatorOptions options)
    : options_(std::move(options)), config_(options_.config) {}

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(
    CoordinatorOptions options) {
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(options)));
  TANDEM_RETURN_IF_ERROR(c->Init());
  return c;
}

absl::Status Coordinator::Init() {
  start_s_ = Now();
  test_set_ = options_.test_set;
  if (test_set_ == nullptr) {
    TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt,
                            data::LoadDataset(data::SourceForConfig(config_)));
    data::Dataset test = config_.data.test_limit > 0
                             ? tt.test.Head(config_.data.test_limit)
                             : std::move(tt.test);
    test_set_ = std::make_shared<const data::Dataset>(std::move(test));
  }
  ml::InputShape input{test_set_->channels, test_set_->height, test_set_->width,
                       test_set_->num_classes};
  TANDEM_ASSIGN_OR_RETURN(
      eval_model_, ml::Model::Create(config_.model.name, input, config_.seed));
  global_ = std::make_shared<const Weights>(eval_model_->GetWeights());
  if (!config_.server.resume_from.empty()) {
    TANDEM_RETURN_IF_ERROR(LoadResumeCheckpoint());
  }
  StrategyOptions so;
  so.name = config_.strategy.name;
  so.params = config_.strategy.params;
  so.max_update_norm = config_.strategy.max_update_norm;
  so.seed = config_.seed;
  TANDEM_ASSIGN_OR_RETURN(policy_context_, MakePolicyContext());
  absl::MutexLock lock(&mu_);
  TANDEM_ASSIGN_OR_RETURN(strategy_, CreateStrategy(so));
  aux_ = std::make_unique<AuxStore>(eval_model_.get(), config_.seed);
  TANDEM_ASSIGN_OR_RETURN(
      policy_, offload::CreateSplitPolicy(config_.offload, policy_context_));
  TANDEM_ASSIGN_OR_RETURN(
      run_, RunWriter::Create(config_.output.dir, options_.run_name,
                              ConfigToJson(config_)));
  if (first_round_ > 1) {
    TANDEM_RETURN_IF_ERROR(
        run_->AppendMetrics({{"type", "resume"},
                             {"checkpoint", config_.server.resume_from},
                             {"round", first_round_ - 1}}));
  }
  return absl::OkStatus();
}

absl::Status Coordinator::LoadResumeCheckpoint() {
  const std::string& path = config_.server.resume_from;
  auto error = [&path](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("server.resume_from: ", path, ": ", what));
  };
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return error(bytes.status().message());
  int64_t round = 0;
  absl::StatusOr<Weights> weights = DecodeCheckpoint(*bytes, &round);
  if (!weights.ok()) return error(weights.status().message());
  const std::string diff =
      global_->layout().DescribeDifference(weights->layout());
  if (!diff.empty()) {
    return error(absl::StrCat("not a checkpoint of model '", config_.model.name,
                              "' for this data: ", diff));
  }
  if (round < 0 || round >= config_.server.rounds) {
    return error(absl::StrCat("checkpoint of round ", round,
                              ", server.rounds is ", config_.server.rounds,
                              ": no rounds left to run"));
  }
  global_ = std::make_shared<const Weights>(*std::move(weights));
  first_round_ = round + 1;
  LogInfo(absl::StrCat("resuming after round ", round, " from ", path));
  return absl::OkStatus();
}

absl::StatusOr<offload::PolicyContext> Coordinator::MakePolicyContext() const {
  TANDEM_ASSIGN_OR_RETURN(
      offload::PolicyContext c,
      offload::PolicyContextFromConfig(config_, eval_model_->num_stages()));
  if (options_.compute_profile != nullptr) {
    c.profile = *options_.compute_profile;
  } else if (config_.offload.policy == "greedy" || LinkGuardOn()) {
    TANDEM_ASSIGN_OR_RETURN(
        c.profile, offload::ProfileOnOneCore(config_, eval_model_->input()));
  }
  return c;
}

bool Coordinator::LinkGuardOn() const {
  // The break-even is on time: not for greedy weighing energy (alpha < 1).
  const OffloadConfig& o = config_.offload;
  return o.link_guard &&
         ((o.policy == "greedy" && o.alpha >= 1) || o.policy == "ppo");
}

double Coordinator::Now() const { return MonotonicSeconds(); }

// ---------------------------------------------------------------- handlers

absl::StatusOr<v1::JoinReply> Coordinator::Join(const v1::JoinRequest& req) {
  if (req.device_id().empty() || req.device_id().size() > 128) {
    return absl::InvalidArgumentError("join: device_id must be 1-128 chars");
  }
  if (!config_.server.token.empty() && req.token() != config_.server.token) {
    return absl::PermissionDeniedError("join: wrong token");
  }
  absl::MutexLock lock(&mu_);
  if (finished_ || stopping_) {
    return absl::UnavailableError("join: the run is over");
  }
  DeviceRecord& d = registry_.Join(req.device_id(), req.profile(), Now());
  v1::JoinReply reply;
  reply.set_session_id(d.session_id);
  reply.set_model(config_.model.name);
  reply.set_heartbeat_interval_ms(config_.server.heartbeat_interval_ms);
  v1::DataSpec* spec = reply.mutable_data();
  *spec = data::SpecForConfig(config_);
  spec->set_partition_index(d.partition % spec->num_partitions());
  LogInfo(absl::StrCat("device ", req.device_id(), " joined (class '",
                       req.profile().device_class(), "', partition ",
                       spec->partition_index(), ")"));
  return reply;
}

absl::StatusOr<TaskAssignment> Coordinator::WaitForTask(
    const v1::PullTaskRequest& req, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  DeviceRecord* d = registry_.Find(req.device_id());
  if (d == nullptr || d->session_id != req.session_id() || d->left) {
    return absl::NotFoundError(absl::StrCat("pull: unknown device or session '",
                                            req.device_id(), "'; join first"));
  }
  d->last_seen_s = Now();
  if (req.has_timing()) RecordTimingLocked(d, req.timing());
  d->polled = true;  // WaitForDevices' condition sees it on unlock
  const std::string id = req.device_id();
  auto ready = [this, &id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return finished_ || stopping_ ||
           (round_ != nullptr && round_->open && round_->pending.count(id));
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  d = registry_.Find(id);
  d->last_seen_s = Now();
  TaskAssignment task;
  if (finished_ || stopping_) {
    task.header.set_kind(v1::TaskHeader::STOP);
  } else if (ready()) {
    task.header = round_->header;
    task.weights = global_;
    if (req.full_weights() && round_->min_link_mbps.count(id) > 0) {
      // Its link guard fired: the tail it does not have yet, to train the
      // whole model locally.
      const int stages = eval_model_->num_stages();
      task.weights = std::make_shared<const Weights>(
          ml::SliceStages(*global_, SplitOfLocked(id), stages));
      LayoutToProto(task.weights->layout(), task.header.mutable_layout());
      task.header.set_split_point(stages);
    } else {
      FillSplitTaskLocked(id, &task);
    }
  } else {
    task.header.set_kind(v1::TaskHeader::WAIT);
  }
  return task;
}

void Coordinator::RecordTimingLocked(DeviceRecord* d,
                                     const v1::StageTiming& t) {
  // Untrusted: only the offload planner reads it, and only when it is sane.
  if (!d->stage_seconds.empty() ||
      t.seconds_per_example_size() != eval_model_->num_stages() ||
      t.examples() < 1 || t.examples() > (int64_t{1} << 31)) {
    return;
  }
  for (double s : t.seconds_per_example()) {
    if (!(s >= 0 && s < 1e3)) return;  // also rejects NaN
  }
  d->stage_seconds.assign(t.seconds_per_example().begin(),
                          t.seconds_per_example().end());
  d->timed_examples = t.examples();
}

absl::Status Coordinator::Reject(DeviceRecord* device,
                                 const std::string& reason,
                                 absl::Status status) {
  ++rejections_[reason];
  if (device != nullptr) ++device->rejections[reason];
  if (round_ != nullptr && round_->open) ++round_->rejected;
  LogWarning(
      absl::StrCat("update rejected (", reason, "): ", status.message()));
  return status;
}

void Coordinator::EndDeviceRoundLocked(const std::string& device_id) {
  // A device whose update was refused for its content does not get the task
  // again this round; the round stops waiting for it.
  if (round_ != nullptr && round_->open) round_->pending.erase(device_id);
}

absl::Status Coordinator::CheckHeaderLocked(const v1::UpdateHeader& h,
                                            DeviceRecord** device) {
  DeviceRecord* d = registry_.Find(h.device_id());
  *device = d;
  if (d == nullptr) {
    return Reject(nullptr, "unknown_device",
                  absl::NotFoundError(absl::StrCat(
                      "update from unknown device '", h.device_id(), "'")));
  }
  d->last_seen_s = Now();
  if (d->session_id != h.session_id()) {
    return Reject(d, "wrong_session",
                  absl::FailedPreconditionError("update from a stale session"));
  }
  if (round_ == nullptr || !round_->open || h.round() != round_->number) {
    return Reject(d, "wrong_round",
                  absl::FailedPreconditionError(absl::StrCat(
                      "update for round ", h.round(), ", but round ",
                      round_ ? round_->number : 0,
                      round_ && round_->open ? " is open" : " is closed")));
  }
  if (round_->sampled.count(h.device_id()) == 0) {
    return Reject(d, "not_sampled",
                  absl::FailedPreconditionError(
                      "update from a device not sampled for this round"));
  }
  if (round_->pending.count(h.device_id()) == 0) {
    return Reject(d, "duplicate",
                  absl::AlreadyExistsError(
                      "this device already reported or abandoned this round"));
  }
  if (h.num_samples() <= 0) {
    EndDeviceRoundLocked(h.device_id());
    return Reject(d, "no_samples",
                  absl::InvalidArgumentError("update with no samples"));
  }
  auto layout = LayoutFromProto(h.layout());
  const int split = SplitOfLocked(h.device_id());
  // An offloading device sends its head, or a whole locally trained model
  // after a failed split stream (offload.on_failure = "local") or when its
  // link was below the cut's break-even (offload.link_guard).
  const bool may_train_locally = config_.offload.on_failure == "local" ||
                                 round_->min_link_mbps.count(h.device_id()) > 0;
  const bool full =
      layout.ok() && *layout == global_->layout() && may_train_locally;
  const WeightsLayout& expected = split < eval_model_->num_stages() && !full
                                      ? round_->heads.at(split)->layout()
                                      : global_->layout();
  const std::string diff = layout.ok() ? expected.DescribeDifference(*layout)
                                       : std::string(layout.status().message());
  if (!diff.empty()) {
    EndDeviceRoundLocked(h.device_id());
    return Reject(d, "layout_mismatch",
                  absl::InvalidArgumentError(
                      absl::StrCat("update layout does not match: ", diff)));
  }
  if (!full && LocalLossLocked(h.device_id())) {
    absl::Status aux =
        aux_->Check(split, {h.aux_weights().begin(), h.aux_weights().end()});
    if (!aux.ok()) {
      EndDeviceRoundLocked(h.device_id());
      return Reject(d, "aux_mismatch", aux);
    }
  }
  return absl::OkStatus();
}

absl::Status Coordinator::CheckUpdateHeader(const v1::UpdateHeader& header) {
  absl::MutexLock lock(&mu_);
  DeviceRecord* d;
  return CheckHeaderLocked(header, &d);
}

void Coordinator::CountMalformedUpdate(const std::string& device_id,
                                       const std::string& reason) {
  absl::MutexLock lock(&mu_);
  EndDeviceRoundLocked(device_id);
  Reject(registry_.Find(device_id), "malformed",
         absl::InvalidArgumentError(reason))
      .IgnoreError();
}

absl::Status Coordinator::SubmitUpdate(const v1::UpdateHeader& h,
                                       Weights weights) {
  absl::MutexLock lock(&mu_);
  DeviceRecord* d;
  TANDEM_RETURN_IF_ERROR(CheckHeaderLocked(h, &d));
  nlohmann::json line = MeasurementsJson(h.measurements());
  const int stages = eval_model_->num_stages();
  const bool offloading = SplitOfLocked(h.device_id()) < stages;
  line["split"] = SplitOfLocked(h.device_id());
  if (offloading && weights.layout() == global_->layout()) {
    // It trained the whole model locally: its split stream failed, or its
    // link was below the cut's break-even (offload.link_guard).
    round_->tails.erase(h.device_id());
    line["split"] = stages;
    line["fallback_local"] = true;
  } else if (offloading) {
    auto full = JoinTailLocked(h.device_id(), weights, &line);
    if (!full.ok()) {
      EndDeviceRoundLocked(h.device_id());
      return Reject(d, "split_incomplete", full.status());
    }
    weights = *std::move(full);
  }
  const bool local_loss =
      offloading && line["split"] != stages && LocalLossLocked(h.device_id());
  line["mode"] = local_loss ? "local_loss" : "exact";
  ClientUpdate u;
  u.device_id = h.device_id();
  u.round = h.round();
  u.num_samples = h.num_samples();
  u.loss_before = h.measurements().loss_before();
  u.weights = std::move(weights);
  RejectReason reason;
  absl::Status s = strategy_->AddUpdate(std::move(u), &reason);
  if (!s.ok()) {
    EndDeviceRoundLocked(h.device_id());
    return Reject(d, std::string(RejectReasonName(reason)), s);
  }
  if (local_loss) {
    aux_->Add(line["split"].get<int>(),
              {h.aux_weights().begin(), h.aux_weights().end()},
              h.num_samples());
  }
  v1::Measurements m = h.measurements();
  m.set_round_time_s(line["round_time_s"].get<double>());
  round_->pending.erase(h.device_id());
  round_->reported.insert(h.device_id());
  ++round_->accepted;
  round_->max_time_s = std::max(round_->max_time_s, m.round_time_s());
  round_->bytes_up += m.bytes_up();
  round_->bytes_down += m.bytes_down();
  ++d->rounds;
  d->round_time_sum_s += m.round_time_s();
  d->samples = h.num_samples();
  d->energy_j += m.energy_j();
  line.update({{"type", "device"},
               {"round", round_->number},
               {"device", d->id},
               {"class", d->profile.device_class()},
               {"samples", h.num_samples()},
               {"status", "accepted"}});
  round_->device_lines.push_back(line);
  return absl::OkStatus();
}

absl::StatusOr<v1::HeartbeatReply> Coordinator::Heartbeat(
    const v1::HeartbeatRequest& req) {
  absl::MutexLock lock(&mu_);
  v1::HeartbeatReply reply;
  DeviceRecord* d = registry_.Find(req.device_id());
  if (d == nullptr || d->session_id != req.session_id() || d->left) {
    reply.set_known(false);
    return reply;
  }
  reply.set_known(true);
  d->last_seen_s = Now();
  if (req.state() == v1::HeartbeatRequest::ABANDONED && round_ != nullptr &&
      round_->open && req.round() == round_->number &&
      round_->pending.erase(req.device_id()) > 0) {
    ++round_->dropped;
    ++d->dropouts;
    round_->device_lines.push_back({{"type", "device"},
                                    {"round", round_->number},
                                    {"device", d->id},
                                    {"class", d->profile.device_class()},
                                    {"status", "dropped"},
                                    {"reason", req.reason()}});
  }
  return reply;
}

absl::Status Coordinator::Leave(const v1::LeaveRequest& req) {
  absl::MutexLock lock(&mu_);
  DeviceRecord* d = registry_.Find(req.device_id());
  if (d == nullptr || d->session_id != req.session_id()) {
    return absl::NotFoundError("leave: unknown device or session");
  }
  d->left = true;
  if (round_ != nullptr && round_->open &&
      round_->pending.erase(req.device_id()) > 0) {
    ++round_->dropped;
    ++d->dropouts;
  }
  LogInfo(absl::StrCat("device ", req.device_id(), " left: ", req.reason()));
  return absl::OkStatus();
}

void Coordinator::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

}  // namespace tandem::server
