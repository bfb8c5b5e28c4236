#include "client/activation_stream.h"

#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "proto/grpc_status.h"

namespace tandem::client {

GrpcActivationStream::GrpcActivationStream(v1::SplitTraining::Stub* stub,
                                           grpc::ClientContext* ctx,
                                           const v1::SplitOpen& open,
                                           ActivationStreamOptions options)
    : stream_(stub->Train(ctx)), options_(std::move(options)) {
  v1::SplitRequest req;
  *req.mutable_open() = open;
  if (!stream_->Write(req)) {
    absl::MutexLock lock(&mu_);
    broken_ = true;
  }
  writer_ = std::thread([this] { WriterLoop(); });
}

GrpcActivationStream::~GrpcActivationStream() {
  {
    absl::MutexLock lock(&mu_);
    broken_ = true;  // not finished: drop what is queued
  }
  if (writer_.joinable()) writer_.join();
}

absl::Status GrpcActivationStream::Send(int64_t step,
                                        ml::SplitTensor activations,
                                        std::vector<int64_t> labels,
                                        double cpu_s) {
  Item item;
  if (options_.timing != nullptr) {
    item.compute_s = options_.timing->ComputeSeconds(
        static_cast<int64_t>(labels.size()), cpu_s);
  }
  item.step = step;
  item.activations = std::move(activations);
  item.labels = std::move(labels);
  const double t0 = options_.clock->NowSeconds();
  absl::MutexLock lock(&mu_);
  auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return broken_ || static_cast<int>(queue_.size()) < options_.window;
  };
  mu_.Await(absl::Condition(&room));
  blocked_s_ += options_.clock->NowSeconds() - t0;
  if (broken_) return absl::UnavailableError("split stream is broken");
  queue_.push_back(std::move(item));
  return absl::OkStatus();
}

// Encoding happens here, on the writer thread, so it overlaps the head's
// compute of the next batch instead of delaying it.
v1::SplitRequest GrpcActivationStream::Encode(const Item& item) const {
  v1::SplitRequest req;
  v1::SplitBatch* batch = req.mutable_batch();
  batch->set_step(item.step);
  EncodeTensor(item.activations.shape, item.activations.values, options_.codec,
               batch->mutable_activations());
  EncodeLabels(item.labels, batch->mutable_labels());
  return req;
}

void GrpcActivationStream::Stamp(v1::SplitRequest* req, double compute_s) {
  if (options_.timing == nullptr) return;
  // A non-zero double always takes 9 bytes on the wire: size it stamped.
  req->mutable_batch()->set_arrival_s(1);
  const int64_t bytes = static_cast<int64_t>(req->ByteSizeLong());
  req->mutable_batch()->set_arrival_s(
      options_.timing->Arrival(compute_s, bytes));
}

void GrpcActivationStream::WriterLoop() {
  for (;;) {
    const Item* item;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || broken_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (broken_ || queue_.empty()) return;  // closed and drained
      item = &queue_.front();  // only this thread pops; deque keeps it put
    }
    v1::SplitRequest request = Encode(*item);
    Stamp(&request, item->compute_s);
    const int64_t bytes = static_cast<int64_t>(request.ByteSizeLong());
    const double t0 = options_.clock->NowSeconds();
    const bool ok = stream_->Write(request);
    const double wrote_s = options_.clock->NowSeconds() - t0;
    absl::MutexLock lock(&mu_);
    write_s_ += wrote_s;
    queue_.pop_front();  // only now: the window counts batches in flight
    if (!ok) {
      broken_ = true;
      return;
    }
    bytes_up_ += bytes;
    ++sent_;
  }
}

absl::Status GrpcActivationStream::Finish() {
  if (finished_) return absl::FailedPreconditionError("finished twice");
  finished_ = true;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  writer_.join();
  bool broken;
  {
    absl::MutexLock lock(&mu_);
    broken = broken_;
  }
  v1::SplitReply reply;
  bool got_reply = false;
  if (!broken) {
    stream_->WritesDone();
    got_reply = stream_->Read(&reply);
  }
  grpc::Status s = stream_->Finish();
  if (!s.ok()) return FromGrpcStatus(s, "split stream");
  if (broken || !got_reply) {
    return absl::UnavailableError("split stream broke before its reply");
  }
  if (reply.step() != sent_) {
    return absl::InternalError(
        absl::StrCat("the coordinator trained ", reply.step(),
                     " batches, the device sent ", sent_));
  }
  bytes_down_ = static_cast<int64_t>(reply.ByteSizeLong());
  drain_end_s_ = reply.drain_end_s();
  return absl::OkStatus();
}

}  // namespace tandem::client
