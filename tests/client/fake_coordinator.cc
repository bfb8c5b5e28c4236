#include "tests/client/fake_coordinator.h"

#include <utility>

#include "core/clock.h"
#include "core/weights_codec.h"

namespace tandem::client {

FakeCoordinator::FakeCoordinator() {
  join_reply_.set_session_id("fake-session");
  join_reply_.set_model("mlp");
  join_reply_.set_heartbeat_interval_ms(1000);
}

std::unique_ptr<FakeCoordinator> FakeCoordinator::Start() {
  std::unique_ptr<FakeCoordinator> fake(new FakeCoordinator());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &fake->port_);
  builder.RegisterService(static_cast<v1::Coordinator::Service*>(fake.get()));
  builder.RegisterService(static_cast<v1::SplitTraining::Service*>(fake.get()));
  fake->server_ = builder.BuildAndStart();
  if (fake->server_ == nullptr || fake->port_ == 0) return nullptr;
  return fake;
}

FakeCoordinator::~FakeCoordinator() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

std::shared_ptr<grpc::Channel> FakeCoordinator::Channel() const {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                             grpc::InsecureChannelCredentials());
}

void FakeCoordinator::FailFirstCalls(int n) {
  absl::MutexLock lock(&mu_);
  fail_first_ = n;
}

void FakeCoordinator::FailAllCalls() {
  absl::MutexLock lock(&mu_);
  fail_all_ = true;
}

void FakeCoordinator::SetJoinReply(const v1::JoinReply& reply) {
  absl::MutexLock lock(&mu_);
  join_reply_ = reply;
}

void FakeCoordinator::AddTask(Task task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

void FakeCoordinator::HoldWhenIdle(bool hold) {
  absl::MutexLock lock(&mu_);
  hold_when_idle_ = hold;
}

void FakeCoordinator::RefuseFirstJoins(int n) {
  absl::MutexLock lock(&mu_);
  refuse_joins_ = n;
}

void FakeCoordinator::ForgetFirstPulls(int n) {
  absl::MutexLock lock(&mu_);
  forget_pulls_ = n;
}

std::vector<double> FakeCoordinator::CallTimes(
    const std::string& method) const {
  absl::MutexLock lock(&mu_);
  auto it = call_times_.find(method);
  return it == call_times_.end() ? std::vector<double>() : it->second;
}

std::vector<v1::JoinRequest> FakeCoordinator::joins() const {
  absl::MutexLock lock(&mu_);
  return joins_;
}

std::vector<v1::PullTaskRequest> FakeCoordinator::pulls() const {
  absl::MutexLock lock(&mu_);
  return pulls_;
}

std::vector<FakeCoordinator::Push> FakeCoordinator::pushes() const {
  absl::MutexLock lock(&mu_);
  return pushes_;
}

std::vector<v1::HeartbeatRequest> FakeCoordinator::heartbeats() const {
  absl::MutexLock lock(&mu_);
  return heartbeats_;
}

std::vector<v1::LeaveRequest> FakeCoordinator::leaves() const {
  absl::MutexLock lock(&mu_);
  return leaves_;
}

std::vector<v1::SplitOpen> FakeCoordinator::split_opens() const {
  absl::MutexLock lock(&mu_);
  return split_opens_;
}

bool FakeCoordinator::AwaitPulls(int n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int>(pulls_.size()) >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

bool FakeCoordinator::Admit(const std::string& method) {
  absl::MutexLock lock(&mu_);
  call_times_[method].push_back(MonotonicSeconds());
  return !fail_all_ && calls_++ >= fail_first_;
}

grpc::Status FakeCoordinator::Unavailable() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake: unavailable");
}

void FakeCoordinator::Hold(grpc::ServerContext* ctx) {
  absl::MutexLock lock(&mu_);
  auto stop = [this]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shutting_down_; };
  while (!ctx->IsCancelled() &&
         !mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Milliseconds(5))) {
  }
}

grpc::Status FakeCoordinator::Join(grpc::ServerContext*,
                                   const v1::JoinRequest* req,
                                   v1::JoinReply* reply) {
  if (!Admit("Join")) return Unavailable();
  absl::MutexLock lock(&mu_);
  joins_.push_back(*req);
  if (refuse_joins_ > 0) {
    --refuse_joins_;
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                        "fake: device has a live session");
  }
  *reply = join_reply_;
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::PullTask(
    grpc::ServerContext* ctx, const v1::PullTaskRequest* req,
    grpc::ServerWriter<v1::TaskChunk>* writer) {
  if (!Admit("PullTask")) return Unavailable();
  Task task;
  bool hold = false;
  {
    absl::MutexLock lock(&mu_);
    pulls_.push_back(*req);
    if (forget_pulls_ > 0) {
      --forget_pulls_;
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "fake: unknown session");
    }
    if (tasks_.empty()) {
      hold = hold_when_idle_;
      task.header.set_kind(v1::TaskHeader::STOP);
    } else {
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
  }
  if (hold) {
    Hold(ctx);
    return grpc::Status(grpc::StatusCode::CANCELLED, "fake: poll cancelled");
  }
  v1::TaskChunk chunk;
  *chunk.mutable_header() = task.header;
  if (task.header.kind() == v1::TaskHeader::TRAIN) {
    LayoutToProto(task.weights.layout(),
                  chunk.mutable_header()->mutable_layout());
  }
  if (!writer->Write(chunk)) return grpc::Status::OK;
  if (task.header.kind() != v1::TaskHeader::TRAIN) return grpc::Status::OK;
  for (int i = 0; i < NumChunks(task.weights); ++i) {
    chunk.Clear();
    FillChunk(task.weights, i, chunk.mutable_weights());
    if (!writer->Write(chunk)) break;
  }
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::PushUpdate(
    grpc::ServerContext*, grpc::ServerReader<v1::UpdateChunk>* reader,
    v1::PushUpdateReply* reply) {
  if (!Admit("PushUpdate")) return Unavailable();
  v1::UpdateChunk chunk;
  if (!reader->Read(&chunk) || !chunk.has_header()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no header");
  }
  Push push;
  push.header = chunk.header();
  auto layout = LayoutFromProto(push.header.layout());
  if (!layout.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad layout");
  }
  WeightsAssembler assembler(*layout);
  while (reader->Read(&chunk)) {
    if (!assembler.Add(chunk.weights()).ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad chunk");
    }
  }
  auto weights = assembler.Finish();
  if (!weights.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "short update");
  }
  push.weights = *std::move(weights);
  absl::MutexLock lock(&mu_);
  pushes_.push_back(std::move(push));
  reply->set_accepted(true);
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::Heartbeat(grpc::ServerContext*,
                                        const v1::HeartbeatRequest* req,
                                        v1::HeartbeatReply* reply) {
  if (!Admit("Heartbeat")) return Unavailable();
  absl::MutexLock lock(&mu_);
  heartbeats_.push_back(*req);
  reply->set_known(true);
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::Leave(grpc::ServerContext*,
                                    const v1::LeaveRequest* req,
                                    v1::LeaveReply*) {
  if (!Admit("Leave")) return Unavailable();
  absl::MutexLock lock(&mu_);
  leaves_.push_back(*req);
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::Train(
    grpc::ServerContext*,
    grpc::ServerReaderWriter<v1::SplitReply, v1::SplitRequest>* stream) {
  if (!Admit("Train")) return Unavailable();
  v1::SplitRequest req;
  if (stream->Read(&req) && req.has_open()) {
    absl::MutexLock lock(&mu_);
    split_opens_.push_back(req.open());
  }
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      "fake: trains no tail");
}

}  // namespace tandem::client
