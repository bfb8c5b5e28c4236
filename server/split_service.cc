#include "server/split_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/tensor_codec.h"
#include "server/coordinator_service.h"
#include "server/transport_security.h"

namespace tandem::server {
namespace {

// A batch's activations and labels, bounded by the tail's batch size.
absl::Status DecodeBatch(const TailSession& tail, const v1::SplitBatch& batch,
                         ml::SplitTensor* act, std::vector<int64_t>* labels) {
  auto a = DecodeTensor(batch.activations(), tail.max_elements);
  if (!a.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("activations: ", a.status().message()));
  }
  auto l = DecodeLabels(batch.labels(), tail.max_elements);
  if (!l.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("labels: ", l.status().message()));
  }
  *act = {std::move(a->shape), std::move(a->values)};
  *labels = *std::move(l);
  return absl::OkStatus();
}

// One batch: decode, step the tail, encode the gradient.
absl::StatusOr<v1::SplitReply> TailStep(TailSession& tail,
                                        const v1::SplitBatch& batch) {
  ml::SplitTensor in;
  std::vector<int64_t> labels;
  absl::Status decoded = DecodeBatch(tail, batch, &in, &labels);
  if (!decoded.ok()) return decoded;
  double loss = 0;
  auto grad = tail.trainer->Step(in, labels, &loss);
  if (!grad.ok()) return grad.status();
  v1::SplitReply reply;
  reply.set_step(batch.step());
  reply.set_loss(static_cast<float>(loss));
  EncodeTensor(grad->shape, grad->values, tail.codec, reply.mutable_gradient());
  return reply;
}

// Local loss: decode, fit the tail, advance its modelled drain.
absl::Status TailFit(TailSession& tail, const v1::SplitBatch& batch,
                     int64_t expected_step) {
  if (batch.step() != expected_step) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch step ", batch.step(), ", expected ", expected_step));
  }
  ml::SplitTensor act;
  std::vector<int64_t> labels;
  absl::Status decoded = DecodeBatch(tail, batch, &act, &labels);
  if (!decoded.ok()) return decoded;
  const double cpu0 = tail.trainer->cpu_seconds();
  const int64_t examples0 = tail.trainer->examples();
  auto loss = tail.trainer->Fit(act, labels);
  if (!loss.ok()) return loss.status();
  const double arrival = batch.arrival_s();
  if (!(arrival >= 0 && arrival < 1e9)) {
    return absl::InvalidArgumentError("arrival_s out of range");
  }
  const double step_s = tail.ComputeSeconds(
      tail.trainer->examples() - examples0, tail.trainer->cpu_seconds() - cpu0);
  tail.drain.AddTail(arrival, step_s * tail.tail_share);
  return absl::OkStatus();
}

// Local loss: batches until the device half-closes, then one reply.
grpc::Status TrainLocalLoss(
    DeviceGateway* devices, grpc::ServerContext* ctx, StreamGuard::Lease* lease,
    const std::shared_ptr<TailSession>& tail,
    grpc::ServerReaderWriter<v1::SplitReply, v1::SplitRequest>* stream) {
  v1::SplitRequest req;
  int64_t steps = 0;
  while (stream->Read(&req)) {
    lease->Touch();
    devices->metrics().AddBytes(req.ByteSizeLong(), 0);
    absl::Status s =
        req.has_batch() ? TailFit(*tail, req.batch(), steps)
                        : absl::InvalidArgumentError("split: expected a batch");
    if (!s.ok()) {
      devices->EndTail(tail, false, std::string(s.message()));
      return ToGrpcStatus(s);
    }
    ++steps;
  }
  if (ctx->IsCancelled() || steps == 0) {
    devices->EndTail(tail, false,
                     steps == 0 ? "no batches" : "stream cancelled");
    return grpc::Status(grpc::CANCELLED, "split: cancelled or empty");
  }
  devices->EndTail(tail, true, "");
  v1::SplitReply reply;
  reply.set_step(steps);
  reply.set_drain_end_s(tail->drain.tail_end());
  devices->metrics().AddBytes(0, reply.ByteSizeLong());
  stream->Write(reply);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status SplitTrainingService::Train(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::SplitReply, v1::SplitRequest>* stream) {
  auto lease = streams_->Open(ctx);
  if (!lease.ok()) return ToGrpcStatus(lease.status());
  v1::SplitRequest req;
  if (!stream->Read(&req) || !req.has_open()) {
    return grpc::Status(grpc::INVALID_ARGUMENT,
                        "split: the first message must be SplitOpen");
  }
  (*lease)->Touch();
  devices_->metrics().AddBytes(req.ByteSizeLong(), 0);
  absl::Status who =
      AuthorizeDevice(*ctx, require_certificates_, req.open().device_id());
  if (!who.ok()) return ToGrpcStatus(who);
  auto tail = devices_->OpenTail(req.open());
  if (!tail.ok()) return ToGrpcStatus(tail.status());
  absl::Status bound = (*lease)->Bind(req.open().device_id());
  if (!bound.ok()) {
    devices_->EndTail(*tail, false, std::string(bound.message()));
    return ToGrpcStatus(bound);
  }
  if ((*tail)->mode == SplitMode::kLocalLoss) {
    return TrainLocalLoss(devices_, ctx, lease->get(), *tail, stream);
  }
  while (stream->Read(&req)) {
    (*lease)->Touch();
    devices_->metrics().AddBytes(req.ByteSizeLong(), 0);
    if (!req.has_batch()) {
      devices_->EndTail(*tail, false, "second SplitOpen");
      return grpc::Status(grpc::INVALID_ARGUMENT, "split: expected a batch");
    }
    auto reply = TailStep(**tail, req.batch());
    if (!reply.ok()) {
      devices_->EndTail(*tail, false, std::string(reply.status().message()));
      return ToGrpcStatus(reply.status());
    }
    devices_->metrics().AddBytes(0, reply->ByteSizeLong());
    if (!stream->Write(*reply)) {
      devices_->EndTail(*tail, false, "device went away");
      return grpc::Status(grpc::CANCELLED, "split: device went away");
    }
  }
  if (ctx->IsCancelled()) {
    devices_->EndTail(*tail, false, "stream cancelled");
    return grpc::Status(grpc::CANCELLED, "split: cancelled");
  }
  devices_->EndTail(*tail, true, "");
  return grpc::Status::OK;
}

}  // namespace tandem::server
