#include "client/device_agent.h"

#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/backoff.h"
#include "client/rpc_util.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"
#include "ml/runtime.h"
#include "ml/split_weights.h"
#include "ml/trainer.h"

namespace tandem::client {
DeviceAgent::DeviceAgent(DeviceAgentOptions options,
                         std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      stub_(v1::Coordinator::NewStub(channel)),
      split_stub_(v1::SplitTraining::NewStub(channel)) {}

DeviceAgent::~DeviceAgent() = default;

bool DeviceAgent::Track(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  if (stop_.load()) return false;
  active_ = ctx;
  return true;
}

void DeviceAgent::Untrack() {
  absl::MutexLock lock(&mu_);
  active_ = nullptr;
}

void DeviceAgent::RequestStop() {
  absl::MutexLock lock(&mu_);
  stop_.store(true);
  if (active_ != nullptr) active_->TryCancel();
}

bool DeviceAgent::ShouldGiveUp() const {
  return Now() - last_contact_s_ >
         absl::ToDoubleSeconds(options_.give_up_after);
}

absl::Status DeviceAgent::Run() {
  last_contact_s_ = Now();
  std::atomic<bool> done{false};
  std::thread heartbeats([this, &done] {
    while (!done.load()) {
      int ms;
      {
        absl::MutexLock lock(&mu_);
        ms = heartbeat_ms_;
      }
      for (int waited = 0; waited < ms && !done.load(); waited += 20) {
        absl::SleepFor(absl::Milliseconds(20));
      }
      if (!done.load()) SendPeriodicHeartbeat();
    }
  });
  Backoff backoff(options_.initial_backoff, options_.max_backoff,
                  options_.seed);
  absl::Status result;
  while (!stop_.load()) {
    auto more = Step();
    if (more.ok()) {
      backoff.Reset();
      if (!*more) break;  // STOP
      continue;
    }
    if (stop_.load()) break;
    if (absl::IsNotFound(more.status())) {  // coordinator forgot us: rejoin
      absl::MutexLock lock(&mu_);
      joined_ = false;
      continue;
    }
    if (!IsTransient(more.status())) {
      result = more.status();
      break;
    }
    if (ShouldGiveUp()) {
      result = absl::UnavailableError(
          absl::StrCat("coordinator unreachable for ",
                       absl::FormatDuration(options_.give_up_after),
                       "; last error: ", more.status().message()));
      break;
    }
    LogWarning(absl::StrCat(options_.device_id, ": ", more.status().message(),
                            "; retrying"));
    absl::SleepFor(backoff.Next());
  }
  if (stop_.load() || result.ok()) Leave(stop_.load() ? "stopped" : "done");
  done.store(true);
  heartbeats.join();
  return result;
}

absl::Status DeviceAgent::JoinWithRetry() {
  Backoff backoff(options_.initial_backoff, options_.max_backoff,
                  options_.seed + 1);
  v1::JoinRequest req;
  req.set_device_id(options_.device_id);
  req.set_token(options_.token);
  v1::HardwareProfile* p = req.mutable_profile();
  p->set_device_class(options_.device_class);
  p->set_cores(ml::NumCores());
  p->set_compute_slowdown(options_.model.slowdown);
  p->set_bandwidth_mbps(options_.model.bandwidth_mbps);
  p->set_latency_ms(options_.model.latency_ms);
  p->set_power_compute_w(options_.model.power_compute_w);
  p->set_power_transmit_w(options_.model.power_transmit_w);
  p->set_power_receive_w(options_.model.power_receive_w);
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.rpc_timeout);
    if (!Track(&ctx)) return absl::CancelledError("stopping");
    v1::JoinReply reply;
    absl::Status s = FromGrpc(stub_->Join(&ctx, req, &reply), "join");
    Untrack();
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      join_ = reply;
      session_id_ = reply.session_id();
      heartbeat_ms_ = std::max(10, reply.heartbeat_interval_ms());
      joined_ = true;
      last_contact_s_ = Now();
      return absl::OkStatus();
    }
    if (!IsTransient(s) || stop_.load()) return s;
    if (ShouldGiveUp()) {
      return absl::UnavailableError(
          absl::StrCat("cannot reach the coordinator after ", attempt,
                       " attempts: ", s.message()));
    }
    absl::SleepFor(backoff.Next());
  }
}

absl::StatusOr<bool> DeviceAgent::Step() {
  bool joined;
  {
    absl::MutexLock lock(&mu_);
    joined = joined_;
  }
  if (!joined) TANDEM_RETURN_IF_ERROR(JoinWithRetry());
  TANDEM_RETURN_IF_ERROR(PrepareModel());  // no data: nothing to do, fatal
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<Task> task, PullTask());
  last_contact_s_ = Now();
  switch (task->header.kind()) {
    case v1::TaskHeader::STOP:
      return false;
    case v1::TaskHeader::TRAIN:
      TANDEM_RETURN_IF_ERROR(TrainAndPush(*task));
      return true;
    default:
      return true;
  }
}

absl::StatusOr<std::unique_ptr<DeviceAgent::Task>> DeviceAgent::PullTask(
    bool full_weights) {
  v1::PullTaskRequest req;
  req.set_device_id(options_.device_id);
  req.set_full_weights(full_weights);
  req.set_last_round(last_round_);
  if (last_round_ < 0) *req.mutable_timing() = timing_;
  {
    absl::MutexLock lock(&mu_);
    req.set_session_id(session_id_);
  }
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.poll_timeout + absl::Seconds(60));
  if (!Track(&ctx)) return absl::CancelledError("stopping");
  auto reader = stub_->PullTask(&ctx, req);
  auto task = std::make_unique<Task>();
  v1::TaskChunk chunk;
  absl::Status s;
  if (reader->Read(&chunk) && chunk.has_header()) {
    task->header = chunk.header();
  } else {
    s = absl::UnavailableError("no task header");
  }
  if (s.ok() && task->header.kind() == v1::TaskHeader::TRAIN) {
    const double t0 = Now();
    auto layout = LayoutFromProto(task->header.layout());
    s = layout.status();
    if (s.ok()) {
      WeightsAssembler assembler(*layout);
      while (s.ok() && reader->Read(&chunk)) {
        s = chunk.has_weights() ? assembler.Add(chunk.weights())
                                : absl::InvalidArgumentError("extra header");
      }
      auto weights = assembler.Finish();
      if (s.ok()) s = weights.status();
      if (s.ok()) {
        task->weights = std::make_shared<const Weights>(*std::move(weights));
        task->bytes_down = assembler.bytes_received() +
                           static_cast<int64_t>(task->header.ByteSizeLong());
        task->download_s = Now() - t0;
      }
    }
  }
  if (!s.ok()) ctx.TryCancel();
  grpc::Status finish = reader->Finish();
  Untrack();
  if (!finish.ok()) return FromGrpc(finish, "pull task");
  if (!s.ok())
    return absl::UnavailableError(absl::StrCat("task: ", s.message()));
  return task;
}

absl::Status DeviceAgent::PullFullWeights(Task& task) {
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<Task> tail, PullTask(true));
  if (tail->header.kind() != v1::TaskHeader::TRAIN ||
      tail->header.round() != task.header.round()) {
    return absl::UnavailableError("the rest of the model was not sent");
  }
  // Head (first download) and tail (this one) make the whole model.
  Weights full = model_->GetWeights();
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(*task.weights, &full));
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(*tail->weights, &full));
  task.weights = std::make_shared<const Weights>(std::move(full));
  task.bytes_down += tail->bytes_down;
  task.download_s += tail->download_s;
  task.downloads += 1;
  return absl::OkStatus();
}

absl::Status DeviceAgent::PrepareModel() {
  if (model_ != nullptr) return absl::OkStatus();
  if (data_ == nullptr) {
    TANDEM_ASSIGN_OR_RETURN(data_, options_.data_provider(join_.data()));
    LogInfo(absl::StrCat(options_.device_id, ": ", data_->size(),
                         " training examples"));
  }
  ml::InputShape input{data_->channels, data_->height, data_->width,
                       data_->num_classes};
  TANDEM_ASSIGN_OR_RETURN(
      model_, ml::Model::Create(join_.model(), input, options_.seed));
  return TimeStages(input);
}

absl::Status DeviceAgent::TimeStages(const ml::InputShape& input) {
  ml::ModelProfile profile;
  if (options_.compute_profile != nullptr) {
    profile = *options_.compute_profile;  // simulation: the pinned figures
  } else {
    ComputeSlot slot(options_.gate);
    ml::SetComputeThreads(options_.compute_threads);
    TANDEM_ASSIGN_OR_RETURN(
        profile, ml::ProfileModel(join_.model(), input, ml::kStageTimingBatch,
                                  ml::kStageTimingReps));
  }
  const double scale = options_.virtual_time ? options_.model.slowdown : 1.0;
  timing_.Clear();
  double per_example = 0;
  for (const ml::StageProfile& st : profile.stages) {
    timing_.add_seconds_per_example(st.train_seconds_per_example * scale);
    per_example += st.train_seconds_per_example * scale;
  }
  timing_.set_examples(data_->size());
  // In simulation the timing costs virtual time like any compute; it is
  // charged to the first round.
  if (options_.virtual_time) {
    timing_cost_s_ = per_example * ml::kStageTimingExamples;
  }
  return absl::OkStatus();
}

}  // namespace tandem::client
