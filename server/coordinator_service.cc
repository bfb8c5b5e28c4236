#include "server/coordinator_service.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/weights_codec.h"
#include "server/transport_security.h"

namespace tandem::server {
namespace {

// Streams `task`: its header, then its weights in chunks if it trains.
// Adds the bytes written to *sent.
grpc::Status WriteTask(const TaskAssignment& task,
                       grpc::ServerWriter<v1::TaskChunk>* writer,
                       int64_t* sent) {
  v1::TaskChunk chunk;
  *chunk.mutable_header() = task.header;
  if (task.aux != nullptr) {
    chunk.mutable_header()->mutable_aux_weights()->Add(task.aux->begin(),
                                                       task.aux->end());
  }
  *sent += chunk.ByteSizeLong();
  if (!writer->Write(chunk)) return grpc::Status(grpc::CANCELLED, "gone");
  if (task.header.kind() != v1::TaskHeader::TRAIN) return grpc::Status::OK;
  const Weights& w = *task.weights;
  for (int i = 0; i < NumChunks(w); ++i) {
    chunk.Clear();
    FillChunk(w, i, chunk.mutable_weights());
    *sent += chunk.ByteSizeLong();
    if (!writer->Write(chunk)) return grpc::Status(grpc::CANCELLED, "gone");
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status CoordinatorService::Join(grpc::ServerContext* ctx,
                                      const v1::JoinRequest* req,
                                      v1::JoinReply* reply) {
  absl::Status who =
      AuthorizeDevice(*ctx, require_certificates_, req->device_id());
  if (!who.ok()) return ToGrpcStatus(who);
  auto r = devices_->Join(*req);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::PullTask(
    grpc::ServerContext* ctx, const v1::PullTaskRequest* req,
    grpc::ServerWriter<v1::TaskChunk>* writer) {
  absl::Status who =
      AuthorizeDevice(*ctx, require_certificates_, req->device_id());
  if (!who.ok()) return ToGrpcStatus(who);
  // Answer before the caller's deadline so a WAIT arrives rather than an
  // error: a second short of it, and never longer than the poll limit.
  absl::Duration wait = req->no_wait() ? absl::ZeroDuration() : poll_limit_;
  const auto deadline = ctx->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    const absl::Duration left =
        absl::FromChrono(deadline - std::chrono::system_clock::now());
    wait =
        std::max(absl::ZeroDuration(), std::min(wait, left - absl::Seconds(1)));
  }
  auto task = devices_->WaitForTask(*req, wait);
  if (!task.ok()) return ToGrpcStatus(task.status());
  int64_t sent = 0;
  grpc::Status status = WriteTask(*task, writer, &sent);
  devices_->metrics().AddBytes(req->ByteSizeLong(), sent);
  return status;
}

grpc::Status CoordinatorService::PushUpdate(
    grpc::ServerContext* ctx, grpc::ServerReader<v1::UpdateChunk>* reader,
    v1::PushUpdateReply* reply) {
  auto lease = streams_->Open(ctx);
  if (!lease.ok()) return ToGrpcStatus(lease.status());
  v1::UpdateChunk chunk;
  if (!reader->Read(&chunk) || !chunk.has_header()) {
    return grpc::Status(grpc::INVALID_ARGUMENT,
                        "update: the first message must be the header");
  }
  (*lease)->Touch();
  devices_->metrics().AddBytes(chunk.ByteSizeLong(), 0);
  const v1::UpdateHeader header = chunk.header();
  absl::Status who =
      AuthorizeDevice(*ctx, require_certificates_, header.device_id());
  if (!who.ok()) return ToGrpcStatus(who);
  absl::Status ok = devices_->CheckUpdateHeader(header);
  if (ok.ok()) ok = (*lease)->Bind(header.device_id());
  if (!ok.ok()) return ToGrpcStatus(ok);
  auto layout = LayoutFromProto(header.layout());
  if (!layout.ok()) return ToGrpcStatus(layout.status());
  WeightsAssembler assembler(*std::move(layout));
  while (reader->Read(&chunk)) {
    (*lease)->Touch();
    devices_->metrics().AddBytes(chunk.ByteSizeLong(), 0);
    absl::Status s = chunk.has_weights()
                         ? assembler.Add(chunk.weights())
                         : absl::InvalidArgumentError("second header");
    if (!s.ok()) {
      devices_->CountMalformedUpdate(header.device_id(),
                                     std::string(s.message()));
      return ToGrpcStatus(s);
    }
  }
  auto weights = assembler.Finish();
  if (!weights.ok()) {
    devices_->CountMalformedUpdate(header.device_id(),
                                   std::string(weights.status().message()));
    return ToGrpcStatus(weights.status());
  }
  absl::Status s = devices_->SubmitUpdate(header, *std::move(weights));
  reply->set_accepted(s.ok());
  reply->set_reason(std::string(s.message()));
  return ToGrpcStatus(s);
}

grpc::Status CoordinatorService::Heartbeat(grpc::ServerContext* ctx,
                                           const v1::HeartbeatRequest* req,
                                           v1::HeartbeatReply* reply) {
  absl::Status who =
      AuthorizeDevice(*ctx, require_certificates_, req->device_id());
  if (!who.ok()) return ToGrpcStatus(who);
  auto r = devices_->Heartbeat(*req);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = *r;
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::Leave(grpc::ServerContext* ctx,
                                       const v1::LeaveRequest* req,
                                       v1::LeaveReply*) {
  absl::Status who =
      AuthorizeDevice(*ctx, require_certificates_, req->device_id());
  if (!who.ok()) return ToGrpcStatus(who);
  return ToGrpcStatus(devices_->Leave(*req));
}

grpc::Status CoordinatorService::GetModelFile(
    grpc::ServerContext* ctx, const v1::ModelFileRequest* req,
    grpc::ServerWriter<v1::ModelFileChunk>* writer) {
  if (!CameOverTls(*ctx)) {
    return grpc::Status(
        grpc::FAILED_PRECONDITION,
        "model file: shipped only over TLS (server.tls_cert); a model file "
        "is code, so install it on the device and pass --model instead");
  }
  absl::Status who =
      AuthorizeDevice(*ctx, require_certificates_, req->device_id());
  if (!who.ok()) return ToGrpcStatus(who);
  auto file = devices_->ModelFile(*req);
  if (!file.ok()) return ToGrpcStatus(file.status());
  constexpr size_t kChunk = 1 << 20;
  v1::ModelFileChunk chunk;
  chunk.set_size(static_cast<int64_t>(file->bytes.size()));
  chunk.set_sha256(file->sha256);
  size_t at = 0;
  do {
    const size_t n = std::min(kChunk, file->bytes.size() - at);
    chunk.set_data(file->bytes.substr(at, n));
    devices_->metrics().AddBytes(0, chunk.ByteSizeLong());
    if (!writer->Write(chunk)) return grpc::Status(grpc::CANCELLED, "gone");
    chunk.Clear();
    at += n;
  } while (at < file->bytes.size());
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    Coordinator* coordinator, const std::string& listen,
    absl::Duration poll_limit, const ServerSecurity& security,
    const StreamLimits& limits) {
  std::unique_ptr<CoordinatorServer> s(new CoordinatorServer());
  s->streams_ = std::make_unique<StreamGuard>(limits);
  s->service_ = std::make_unique<CoordinatorService>(
      coordinator->devices(), s->streams_.get(), poll_limit,
      security.require_certificates);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen,
                           security.credentials != nullptr
                               ? security.credentials
                               : grpc::InsecureServerCredentials(),
                           &s->port_);
  s->split_service_ = std::make_unique<SplitTrainingService>(
      coordinator->devices(), s->streams_.get(), security.require_certificates);
  builder.RegisterService(s->service_.get());
  builder.RegisterService(s->split_service_.get());
  // Updates arrive in chunks of at most 1 MiB; split batches can be larger.
  s->max_message_bytes_ = static_cast<int>(std::min<int64_t>(
      coordinator->max_message_bytes(), std::numeric_limits<int>::max()));
  builder.SetMaxReceiveMessageSize(s->max_message_bytes_);
  builder.SetMaxSendMessageSize(s->max_message_bytes_);
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", listen, "'"));
  }
  return s;
}

CoordinatorServer::~CoordinatorServer() { Shutdown(); }

std::shared_ptr<grpc::Channel> CoordinatorServer::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_message_bytes_);
  args.SetMaxSendMessageSize(max_message_bytes_);
  return server_->InProcessChannel(args);
}

void CoordinatorServer::Shutdown() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
  server_.reset();
}

}  // namespace tandem::server
