#include "client/coordinator_link.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/backoff.h"
#include "client/rpc_util.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"

namespace tandem::client {
namespace {

// How often a wait for the channel checks for a stop request.
constexpr absl::Duration kStopCheck = absl::Milliseconds(100);

}  // namespace

CoordinatorLink::CoordinatorLink(const DeviceAgentOptions& options,
                                 std::shared_ptr<grpc::Channel> channel,
                                 StopSignal* stop)
    : options_(options),
      clock_(*options.clock),
      stop_(*stop),
      channel_(channel),
      stub_(v1::Coordinator::NewStub(channel)),
      split_stub_(v1::SplitTraining::NewStub(channel)) {}

CoordinatorLink::~CoordinatorLink() { Stop(); }

bool CoordinatorLink::ShouldGiveUp() const {
  return clock_.NowSeconds() - last_contact_s_ >
         absl::ToDoubleSeconds(options_.give_up_after);
}

absl::Duration CoordinatorLink::NextDelay(Backoff& backoff) const {
  const absl::Duration d = backoff.Next();
  const double silent_s = clock_.NowSeconds() - last_contact_s_;
  if (silent_s < absl::ToDoubleSeconds(options_.restart_window)) {
    return std::min(d, options_.restart_backoff);
  }
  return d;
}

void CoordinatorLink::WaitToRetry(Backoff& backoff) {
  const absl::Duration delay = NextDelay(backoff);
  if (options_.in_process_channel ||
      channel_->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) {
    stop_.Sleep(clock_, delay);  // connected: the coordinator asked us to wait
    return;
  }
  const absl::Time until = absl::Now() + delay;
  while (!stop_.requested() && absl::Now() < until) {
    const absl::Time slice = std::min(until, absl::Now() + kStopCheck);
    if (channel_->WaitForConnected(absl::ToChronoTime(slice))) return;
  }
}

void CoordinatorLink::Forget() {
  absl::MutexLock lock(&mu_);
  joined_ = false;
}

absl::Status CoordinatorLink::EnsureJoined(const v1::HardwareProfile& profile) {
  v1::JoinRequest req;
  {
    absl::MutexLock lock(&mu_);
    if (joined_) return absl::OkStatus();  // the usual case: every poll
    req.set_resume_session(session_id_);
  }
  req.set_device_id(options_.device_id);
  req.set_token(options_.token);
  req.set_model_sha256(options_.model_sha256);
  *req.mutable_profile() = profile;
  Backoff backoff(options_.initial_backoff, options_.max_backoff,
                  options_.seed + 1);
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.rpc_timeout);
    if (!stop_.Track(&ctx)) return absl::CancelledError("stopping");
    v1::JoinReply reply;
    const grpc::Status g = stub_->Join(&ctx, req, &reply);
    // The coordinator's own refusals already say "join: ...".
    absl::Status s = FromGrpcStatus(
        g, absl::StartsWith(g.error_message(), "join: ") ? "" : "join");
    stop_.Untrack();
    if (s.ok()) {
      join_ = reply;
      last_contact_s_ = clock_.NowSeconds();
      LogInfo(absl::StrCat(options_.device_id, ": joined, partition ",
                           reply.data().partition_index()));
      absl::MutexLock lock(&mu_);
      session_id_ = reply.session_id();
      heartbeat_ms_ = std::max(10, reply.heartbeat_interval_ms());
      joined_ = true;
      return absl::OkStatus();
    }
    // ALREADY_EXISTS: our id's old session is still live on the coordinator
    // (this process restarted); it expires after server.device_timeout_s.
    if (!(IsTransient(s) || absl::IsAlreadyExists(s)) || stop_.requested()) {
      return s;
    }
    if (ShouldGiveUp()) {
      return absl::UnavailableError(
          absl::StrCat("cannot reach the coordinator after ", attempt,
                       " attempts: ", s.message()));
    }
    WaitToRetry(backoff);
  }
}

namespace {

// Reads the weights that follow a TRAIN header into `task`.
absl::Status ReadWeights(grpc::ClientReader<v1::TaskChunk>* reader,
                         const Clock& clock, Task* task) {
  const double t0 = clock.NowSeconds();
  TANDEM_ASSIGN_OR_RETURN(WeightsLayout layout,
                          LayoutFromProto(task->header.layout()));
  WeightsAssembler assembler(layout);
  v1::TaskChunk chunk;
  while (reader->Read(&chunk)) {
    if (!chunk.has_weights()) return absl::InvalidArgumentError("extra header");
    TANDEM_RETURN_IF_ERROR(assembler.Add(chunk.weights()));
  }
  TANDEM_ASSIGN_OR_RETURN(Weights weights, assembler.Finish());
  task->weights = std::make_shared<const Weights>(std::move(weights));
  task->bytes_down = assembler.bytes_received() +
                     static_cast<int64_t>(task->header.ByteSizeLong());
  task->download_s = clock.NowSeconds() - t0;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Task>> CoordinatorLink::PullTask(
    v1::PullTaskRequest req) {
  req.set_device_id(options_.device_id);
  {
    absl::MutexLock lock(&mu_);
    req.set_session_id(session_id_);
  }
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.poll_timeout + absl::Seconds(60));
  if (!stop_.Track(&ctx)) return absl::CancelledError("stopping");
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
    s = ReadWeights(reader.get(), clock_, task.get());
  }
  if (!s.ok() && first) ctx.TryCancel();
  grpc::Status finish = reader->Finish();
  stop_.Untrack();
  if (!finish.ok()) return FromGrpcStatus(finish, "pull task");
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("task: ", s.message()));
  }
  last_contact_s_ = clock_.NowSeconds();
  return task;
}

absl::Status CoordinatorLink::Push(const Weights& weights,
                                   v1::UpdateHeader header) {
  const int64_t round = header.round();
  {
    absl::MutexLock lock(&mu_);
    header.set_session_id(session_id_);
  }
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.transfer_timeout);
  if (!stop_.Track(&ctx)) return absl::CancelledError("stopping");
  const double t0 = clock_.NowSeconds();
  v1::PushUpdateReply reply;
  auto writer = stub_->PushUpdate(&ctx, &reply);
  v1::UpdateChunk chunk;
  *chunk.mutable_header() = std::move(header);
  bool ok = writer->Write(chunk);
  for (int i = 0; ok && i < NumChunks(weights); ++i) {
    chunk.Clear();
    FillChunk(weights, i, chunk.mutable_weights());
    ok = writer->Write(chunk);
  }
  if (ok) writer->WritesDone();
  grpc::Status s = writer->Finish();
  stop_.Untrack();
  last_upload_s_ = clock_.NowSeconds() - t0;
  const absl::Status pushed = FromGrpcStatus(s, "push");
  if (pushed.ok() || absl::IsUnavailable(pushed) || absl::IsCancelled(pushed) ||
      absl::IsDeadlineExceeded(pushed)) {
    return pushed;
  }
  LogWarning(absl::StrCat(options_.device_id, ": update for round ", round,
                          " rejected: ", s.error_message()));
  return absl::OkStatus();
}

void CoordinatorLink::Heartbeat(int64_t round,
                                v1::HeartbeatRequest::State state,
                                const std::string& reason,
                                double min_round_time_s) {
  v1::HeartbeatRequest req;
  req.set_device_id(options_.device_id);
  {
    absl::MutexLock lock(&mu_);
    if (!joined_) return;
    req.set_session_id(session_id_);
  }
  req.set_round(round);
  req.set_state(state);
  req.set_reason(reason);
  req.set_min_round_time_s(min_round_time_s);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(5));
  v1::HeartbeatReply reply;
  grpc::Status s = stub_->Heartbeat(&ctx, req, &reply);
  if (s.ok() && !reply.known()) Forget();  // coordinator restarted: rejoin
}

void CoordinatorLink::Leave(const std::string& reason) {
  v1::LeaveRequest req;
  req.set_device_id(options_.device_id);
  req.set_reason(reason);
  {
    absl::MutexLock lock(&mu_);
    if (!joined_) return;
    req.set_session_id(session_id_);
    joined_ = false;
  }
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(2));
  v1::LeaveReply reply;
  (void)stub_->Leave(&ctx, req, &reply);
}

void CoordinatorLink::Start() {
  last_contact_s_ = clock_.NowSeconds();
  heartbeats_ = std::thread([this] {
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
}

void CoordinatorLink::Stop() {
  {
    absl::MutexLock lock(&mu_);
    heartbeats_done_ = true;
  }
  if (heartbeats_.joinable()) heartbeats_.join();
}

void CoordinatorLink::SetCurrentRound(int64_t round) {
  absl::MutexLock lock(&mu_);
  current_round_ = round;
}

void CoordinatorLink::SendPeriodicHeartbeat() {
  int64_t round;
  {
    absl::MutexLock lock(&mu_);
    round = current_round_;
  }
  if (round < 0 && !options_.idle_heartbeats) return;
  Heartbeat(
      round,
      round >= 0 ? v1::HeartbeatRequest::TRAINING : v1::HeartbeatRequest::IDLE,
      "");
}

v1::SplitOpen CoordinatorLink::SplitOpenFor(int64_t round, int split,
                                            SplitMode mode) {
  v1::SplitOpen open;
  open.set_device_id(options_.device_id);
  open.set_round(round);
  open.set_split_point(split);
  open.set_mode(ToProto(mode));
  absl::MutexLock lock(&mu_);
  open.set_session_id(session_id_);
  return open;
}

}  // namespace tandem::client
