#include "client/device_agent.h"

#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/backoff.h"
#include "client/measured_environment.h"
#include "client/rpc_util.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"
#include "ml/profile.h"
#include "ml/runtime.h"
#include "ml/split_weights.h"
#include "ml/trainer.h"

namespace tandem::client {
namespace {

ml::InputShape InputOf(const data::Dataset& d) {
  return {d.channels, d.height, d.width, d.num_classes};
}

DeviceAgentOptions WithDefaults(DeviceAgentOptions o) {
  if (o.environment == nullptr) {
    o.environment = std::make_unique<MeasuredEnvironment>();
  }
  if (o.clock == nullptr) o.clock = &RealClock();
  return o;
}

}  // namespace

DeviceAgent::DeviceAgent(DeviceAgentOptions options,
                         std::shared_ptr<grpc::Channel> channel)
    : options_(WithDefaults(std::move(options))),
      clock_(*options_.clock),
      env_(*options_.environment),
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
  return clock_.NowSeconds() - last_contact_s_ >
         absl::ToDoubleSeconds(options_.give_up_after);
}

void DeviceAgent::SleepUnlessStopped(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_.load();
  };
  clock_.AwaitWithDeadline(&mu_, absl::Condition(&stopping),
                           clock_.NowSeconds() + absl::ToDoubleSeconds(d));
}

absl::Status DeviceAgent::Run() {
  last_contact_s_ = clock_.NowSeconds();
  std::thread heartbeats([this] {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return heartbeats_done_;
        };
        const double deadline = clock_.NowSeconds() + heartbeat_ms_ * 1e-3;
        if (clock_.AwaitWithDeadline(&mu_, absl::Condition(&done), deadline)) {
          return;
        }
      }
      SendPeriodicHeartbeat();
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
    SleepUnlessStopped(backoff.Next());
  }
  if (stop_.load() || result.ok()) Leave(stop_.load() ? "stopped" : "done");
  {
    absl::MutexLock lock(&mu_);
    heartbeats_done_ = true;
  }
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
  env_.DescribeHardware(p);
  {
    // After a lost session: proves this is the device that held it, so
    // the coordinator lets it back in before the old session expires.
    absl::MutexLock lock(&mu_);
    req.set_resume_session(session_id_);
  }
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.rpc_timeout);
    if (!Track(&ctx)) return absl::CancelledError("stopping");
    v1::JoinReply reply;
    absl::Status s = FromGrpcStatus(stub_->Join(&ctx, req, &reply), "join");
    Untrack();
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      join_ = reply;
      session_id_ = reply.session_id();
      heartbeat_ms_ = std::max(10, reply.heartbeat_interval_ms());
      joined_ = true;
      last_contact_s_ = clock_.NowSeconds();
      return absl::OkStatus();
    }
    // ALREADY_EXISTS: our id's old session is still live on the coordinator
    // (this process restarted); it expires after server.device_timeout_s.
    if (!(IsTransient(s) || absl::IsAlreadyExists(s)) || stop_.load()) {
      return s;
    }
    if (ShouldGiveUp()) {
      return absl::UnavailableError(
          absl::StrCat("cannot reach the coordinator after ", attempt,
                       " attempts: ", s.message()));
    }
    SleepUnlessStopped(backoff.Next());
  }
}

absl::StatusOr<bool> DeviceAgent::Step() {
  bool joined;
  {
    absl::MutexLock lock(&mu_);
    joined = joined_;
  }
  if (!joined) TANDEM_RETURN_IF_ERROR(JoinWithRetry());
  TANDEM_RETURN_IF_ERROR(PrepareData());  // no data: nothing to do, fatal
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<Task> task, PullTask());
  last_contact_s_ = clock_.NowSeconds();
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
  // No first message: the call is over, and Finish() tells why (NOT_FOUND
  // for a session the coordinator no longer knows: rejoin). Cancelling it
  // would hide that behind CANCELLED.
  const bool first = reader->Read(&chunk);
  if (first && chunk.has_header()) {
    task->header = chunk.header();
  } else {
    s = absl::UnavailableError("no task header");
  }
  if (s.ok() && task->header.kind() == v1::TaskHeader::TRAIN) {
    const double t0 = clock_.NowSeconds();
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
        task->download_s = clock_.NowSeconds() - t0;
      }
    }
  }
  if (!s.ok() && first) ctx.TryCancel();
  grpc::Status finish = reader->Finish();
  Untrack();
  if (!finish.ok()) return FromGrpcStatus(finish, "pull task");
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

absl::Status DeviceAgent::PrepareData() {
  if (data_ != nullptr) return absl::OkStatus();
  TANDEM_ASSIGN_OR_RETURN(data_, options_.data_provider(join_.data()));
  LogInfo(absl::StrCat(options_.device_id, ": ", data_->size(),
                       " training examples"));
  return TimeStages(InputOf(*data_));
}

absl::Status DeviceAgent::BuildModel() {
  if (model_ != nullptr) return absl::OkStatus();
  TANDEM_ASSIGN_OR_RETURN(
      model_, ml::Model::Create(join_.model(), InputOf(*data_), options_.seed));
  return absl::OkStatus();
}

absl::Status DeviceAgent::TimeStages(const ml::InputShape& input) {
  auto measure = [this, &input]() -> absl::StatusOr<ml::ModelProfile> {
    ComputeSlot slot(options_.gate);
    ml::SetComputeThreads(options_.compute_threads);
    return ml::ProfileModel(join_.model(), input, ml::kStageTimingBatch,
                            ml::kStageTimingReps);
  };
  TANDEM_ASSIGN_OR_RETURN(timing_, env_.TimeStages(data_->size(), measure));
  return absl::OkStatus();
}

}  // namespace tandem::client
