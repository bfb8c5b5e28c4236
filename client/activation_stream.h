// The device's side of a local-loss SplitTraining stream (offload.mode
// "local_loss"): implements ml::ActivationSink. Send() queues a batch and
// returns at once unless `window` batches are already waiting to be sent
// (back-pressure); a writer thread encodes and sends them in order, so the
// upload of batch i overlaps the head's compute of batch i + 1. Nothing
// comes back per batch; Finish() half-closes and reads the one reply.
//
// Given a BatchTiming (simulation), it stamps each batch with its modelled
// arrival time at the coordinator.
#ifndef TANDEM_CLIENT_ACTIVATION_STREAM_H_
#define TANDEM_CLIENT_ACTIVATION_STREAM_H_

#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/device_environment.h"
#include "core/clock.h"
#include "core/tensor_codec.h"
#include "grpcpp/grpcpp.h"
#include "ml/split.h"
#include "proto/tandem.grpc.pb.h"

namespace tandem::client {

struct ActivationStreamOptions {
  ActivationCodec codec = ActivationCodec::kFp32;
  int window = 4;  // batches queued before Send() blocks
  // Simulation: the batches' modelled timing (not owned; must outlive the
  // stream). Null: batches carry no arrival stamp.
  BatchTiming* timing = nullptr;
  const Clock* clock = &RealClock();  // times blocked_s()
};

class GrpcActivationStream : public ml::ActivationSink {
 public:
  // Opens the stream on `ctx` (owned by the caller, who may cancel it).
  GrpcActivationStream(v1::SplitTraining::Stub* stub, grpc::ClientContext* ctx,
                       const v1::SplitOpen& open,
                       ActivationStreamOptions options);
  ~GrpcActivationStream() override;

  absl::Status Send(int64_t step, ml::SplitTensor activations,
                    std::vector<int64_t> labels, double cpu_s) override;
  // Sends what is queued, half-closes, and waits for the coordinator's
  // reply and verdict. Call once, after the last Send().
  absl::Status Finish();

  int64_t bytes_up() const { return bytes_up_; }
  int64_t bytes_down() const { return bytes_down_; }
  // Simulation: when the tail's drain ended (from the reply), from the
  // start of split training.
  double drain_end_s() const { return drain_end_s_; }
  // Wall seconds Send() spent blocked on a full window.
  double blocked_s() const { return blocked_s_; }
  // Wall seconds the writer spent in Write(): with bytes_up(), the link's
  // throughput when the link is what holds the writer up.
  double write_s() const { return write_s_; }

 private:
  struct Item {
    int64_t step = 0;
    ml::SplitTensor activations;
    std::vector<int64_t> labels;
    double compute_s = 0;
  };
  v1::SplitRequest Encode(const Item& item) const;
  void WriterLoop();
  void Stamp(v1::SplitRequest* request, double compute_s);

  std::unique_ptr<grpc::ClientReaderWriter<v1::SplitRequest, v1::SplitReply>>
      stream_;
  const ActivationStreamOptions options_;
  int64_t bytes_up_ = 0, bytes_down_ = 0;
  int64_t sent_ = 0;  // batches written
  double drain_end_s_ = 0, blocked_s_ = 0, write_s_ = 0;
  bool finished_ = false;

  absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_ACTIVATION_STREAM_H_
