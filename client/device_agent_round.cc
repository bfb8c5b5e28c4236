// DeviceAgent: one round's work (train, push) and liveness messages.
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/activation_stream.h"
#include "client/device_agent.h"
#include "client/rpc_util.h"
#include "client/split_transport.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "core/tensor_codec.h"
#include "core/weights_codec.h"
#include "ml/runtime.h"
#include "ml/split.h"
#include "ml/split_weights.h"
#include "ml/trainer.h"
#include "strategies/dp_fixed_clipping.h"

namespace tandem::client {
namespace {

ml::TrainOptions ToTrainOptions(const v1::TrainingConfig& t,
                                const std::atomic<bool>* cancel) {
  ml::TrainOptions o;
  o.epochs = std::max(1, t.local_epochs());
  o.batch_size = std::max(1, t.batch_size());
  o.learning_rate = t.learning_rate();
  o.momentum = t.momentum();
  o.weight_decay = t.weight_decay();
  o.proximal_mu = t.proximal_mu();
  o.max_batches = t.max_batches();
  o.seed = t.seed();
  o.loss_before = t.measure_loss_before();
  o.cancel = cancel;
  return o;
}

int64_t WeightsBytes(const Weights& w) { return w.layout().total_bytes(); }

}  // namespace

absl::Status DeviceAgent::TrainAndPush(Task& task) {
  const int64_t round = task.header.round();
  {
    absl::MutexLock lock(&mu_);
    current_round_ = round;
  }
  last_round_ = round;
  if (env_.AbandonsRound(round)) {
    SendHeartbeat(round, v1::HeartbeatRequest::ABANDONED, "simulated dropout");
    return absl::OkStatus();
  }
  TANDEM_RETURN_IF_ERROR(PrepareData());  // no data: nothing to do, fatal
  // The model lives for the round only: an idle device holds no model, so
  // a simulated fleet's memory grows with the devices training at once,
  // not with its size.
  TANDEM_RETURN_IF_ERROR(BuildModel());
  absl::Cleanup release = [this] { model_.reset(); };
  std::unique_ptr<RoundAccounting> accounting = env_.BeginRound(round);
  const int split = task.header.split_point();
  bool offload = split > 0 && split < task.header.num_stages();
  if (offload && LinkBelowBreakEven(task, *accounting)) {
    offload = false;
    if (task.weights->layout() != model_->layout()) {
      absl::Status pulled = PullFullWeights(task);
      if (!pulled.ok()) {
        SendHeartbeat(round, v1::HeartbeatRequest::ABANDONED,
                      std::string(pulled.message()));
        return absl::OkStatus();
      }
    }
  }
  const bool local_loss = offload && task.header.split_mode() == v1::LOCAL_LOSS;
  absl::StatusOr<RoundWork> work =
      !offload     ? TrainFull(task)
      : local_loss ? TrainLocalLoss(task, split, *accounting)
                   : TrainSplit(task, split);
  if (offload && !work.ok() && !stop_.load() && task.header.fallback_local() &&
      task.weights->layout() == model_->layout()) {
    LogWarning(absl::StrCat(options_.device_id, ": round ", round,
                            ": split training failed (",
                            work.status().message(), "); training locally"));
    work = TrainFull(task);
  }
  if (stop_.load()) return absl::CancelledError("stopping");
  if (!work.ok()) {
    LogWarning(absl::StrCat(options_.device_id, ": round ", round, ": ",
                            work.status().message()));
    SendHeartbeat(round, v1::HeartbeatRequest::ABANDONED,
                  std::string(work.status().message()));
    return absl::OkStatus();
  }
  if (!offload) env_.AlterUpdate(round, *task.weights, &work->update);
  // Client-side DP clipping (of the head's change when offloading: the tail
  // is trained on the coordinator).
  if (task.header.training().clipping_norm() > 0) {
    TANDEM_RETURN_IF_ERROR(ClipUpdate(*task.weights, work->update,
                                      task.header.training().clipping_norm()));
  }
  v1::UpdateHeader header;
  header.set_device_id(options_.device_id);
  header.set_round(round);
  header.set_num_samples(work->stats.samples);
  if (work->record.local_loss) {
    header.mutable_aux_weights()->Add(work->aux.begin(), work->aux.end());
  }
  LayoutToProto(work->update.layout(), header.mutable_layout());
  Measure(task, *work, *accounting, &header);
  TANDEM_RETURN_IF_ERROR(Push(task, work->update, std::move(header)));
  rounds_trained_.fetch_add(1);
  {
    absl::MutexLock lock(&mu_);
    current_round_ = -1;
  }
  return absl::OkStatus();
}

bool DeviceAgent::LinkBelowBreakEven(const Task& task,
                                     const RoundAccounting& accounting) const {
  const double min_mbps = task.header.min_link_mbps();
  if (!(min_mbps > 0)) return false;
  const double seconds =
      accounting.GuardSeconds(task.bytes_down, task.download_s);
  if (seconds <= 0) return false;
  const double mbps = static_cast<double>(task.bytes_down) * 8 / seconds / 1e6;
  if (mbps >= min_mbps) return false;
  LogInfo(absl::StrFormat(
      "%s: round %d: link measured at %.1f Mbit/s on the task download, below "
      "the %.1f Mbit/s at which split point %d pays off: training locally",
      options_.device_id, task.header.round(), mbps, min_mbps,
      task.header.split_point()));
  return true;
}

absl::StatusOr<DeviceAgent::RoundWork> DeviceAgent::TrainFull(
    const Task& task) {
  TANDEM_RETURN_IF_ERROR(model_->SetWeights(*task.weights));
  RoundWork work;
  {
    ComputeSlot slot(options_.gate);
    ml::SetComputeThreads(options_.compute_threads);
    TANDEM_ASSIGN_OR_RETURN(
        work.stats,
        ml::TrainLocal(*model_, *data_,
                       ToTrainOptions(task.header.training(), &stop_)));
  }
  work.update = model_->GetWeights();
  work.record.stages_run = model_->num_stages();
  return work;
}

v1::SplitOpen DeviceAgent::SplitOpenFor(const Task& task, int split,
                                        v1::SplitMode mode) {
  v1::SplitOpen open;
  open.set_device_id(options_.device_id);
  open.set_round(task.header.round());
  open.set_split_point(split);
  open.set_mode(mode);
  absl::MutexLock lock(&mu_);
  open.set_session_id(session_id_);
  return open;
}

absl::Status DeviceAgent::LoadHead(const Task& task) {
  Weights full = model_->GetWeights();
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(*task.weights, &full));
  return model_->SetWeights(full);
}

absl::StatusOr<DeviceAgent::RoundWork> DeviceAgent::TrainLocalLoss(
    const Task& task, int split, RoundAccounting& accounting) {
  TANDEM_RETURN_IF_ERROR(LoadHead(task));
  ActivationStreamOptions so;
  TANDEM_ASSIGN_OR_RETURN(so.codec,
                          ParseActivationCodec(task.header.activation_codec()));
  so.window = std::max(1, task.header.window());
  so.timing = accounting.LocalLossTiming(split, so.window);
  so.clock = &clock_;
  const v1::SplitOpen open = SplitOpenFor(task, split, v1::LOCAL_LOSS);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.transfer_timeout);
  if (!Track(&ctx)) return absl::CancelledError("stopping");
  RoundWork work;
  work.aux.assign(task.header.aux_weights().begin(),
                  task.header.aux_weights().end());
  const double t0 = clock_.NowSeconds();
  GrpcActivationStream stream(split_stub_.get(), &ctx, open, so);
  absl::StatusOr<ml::TrainStats> stats;
  {
    ComputeSlot slot(options_.gate);
    ml::SetComputeThreads(options_.compute_threads);
    stats = ml::TrainHeadLocalLoss(
        *model_, split, &work.aux, *data_,
        ToTrainOptions(task.header.training(), &stop_), stream);
  }
  if (!stats.ok()) ctx.TryCancel();
  absl::Status finished = stream.Finish();
  Untrack();
  if (!stats.ok()) return stats.status();
  if (!finished.ok()) return finished;
  RoundRecord& r = work.record;
  r.pipeline_wall_s = clock_.NowSeconds() - t0;  // head, uploads, drain
  work.stats = *stats;
  work.update = ml::SliceStages(model_->GetWeights(), 0, split);
  work.split_bytes_up = stream.bytes_up();
  work.split_bytes_down = stream.bytes_down();
  r.stages_run = split;
  r.local_loss = true;
  r.blocked_s = stream.blocked_s();
  r.drain_end_s = stream.drain_end_s();
  return work;
}

absl::StatusOr<DeviceAgent::RoundWork> DeviceAgent::TrainSplit(const Task& task,
                                                               int split) {
  TANDEM_RETURN_IF_ERROR(LoadHead(task));
  TANDEM_ASSIGN_OR_RETURN(ActivationCodec codec,
                          ParseActivationCodec(task.header.activation_codec()));
  const v1::SplitOpen open = SplitOpenFor(task, split, v1::EXACT);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.transfer_timeout);
  if (!Track(&ctx)) return absl::CancelledError("stopping");
  GrpcSplitTransport transport(split_stub_.get(), &ctx, open, codec, &clock_);
  RoundWork work;
  absl::StatusOr<ml::TrainStats> stats;
  {
    ComputeSlot slot(options_.gate);
    ml::SetComputeThreads(options_.compute_threads);
    stats = ml::TrainHead(*model_, split, *data_,
                          ToTrainOptions(task.header.training(), &stop_),
                          transport);
  }
  absl::Status finished = transport.Finish();
  Untrack();
  if (!stats.ok()) return stats.status();
  if (!finished.ok()) return finished;
  work.stats = *stats;
  work.update = ml::SliceStages(model_->GetWeights(), 0, split);
  work.split_bytes_up = transport.bytes_up();
  work.split_bytes_down = transport.bytes_down();
  RoundRecord& r = work.record;
  r.stages_run = split;
  r.split_up_messages = transport.up_messages();
  r.split_down_messages = transport.down_messages();
  r.split_wait_s = transport.wait_seconds();  // tail + network, measured
  return work;
}

void DeviceAgent::Measure(const Task& task, RoundWork& work,
                          RoundAccounting& accounting,
                          v1::UpdateHeader* header) {
  const ml::TrainStats& stats = work.stats;
  v1::Measurements* m = header->mutable_measurements();
  m->set_cpu_s(stats.cpu_seconds);
  m->set_train_loss(stats.mean_loss);
  m->set_loss_before(stats.loss_before);
  m->set_batches(stats.batches);
  const int64_t weights_up = WeightsBytes(work.update) +
                             static_cast<int64_t>(header->ByteSizeLong()) + 16;
  m->set_bytes_down(task.bytes_down + work.split_bytes_down);
  m->set_bytes_up(weights_up + work.split_bytes_up);
  RoundRecord& r = work.record;
  r.round = task.header.round();
  r.bytes_down = task.bytes_down;
  r.download_s = task.download_s;
  r.downloads = task.downloads;
  r.weights_up = weights_up;
  r.last_upload_s = last_upload_s_;
  r.examples_seen = stats.examples_seen;
  r.cpu_s = stats.cpu_seconds;
  r.wall_s = stats.wall_seconds;
  r.num_stages = model_->num_stages();
  accounting.Account(r, m);
}

absl::Status DeviceAgent::Push(const Task& task, const Weights& weights,
                               v1::UpdateHeader header) {
  {
    absl::MutexLock lock(&mu_);
    header.set_session_id(session_id_);
  }
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.transfer_timeout);
  if (!Track(&ctx)) return absl::CancelledError("stopping");
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
  Untrack();
  last_upload_s_ = clock_.NowSeconds() - t0;
  const absl::Status pushed = FromGrpcStatus(s, "push");
  if (pushed.ok()) return pushed;
  if (absl::IsUnavailable(pushed) || absl::IsCancelled(pushed) ||
      absl::IsDeadlineExceeded(pushed)) {
    return pushed;
  }
  // The coordinator refused this update; the next round starts afresh.
  LogWarning(absl::StrCat(options_.device_id, ": update for round ",
                          task.header.round(),
                          " rejected: ", s.error_message()));
  return absl::OkStatus();
}

void DeviceAgent::SendHeartbeat(int64_t round,
                                v1::HeartbeatRequest::State state,
                                const std::string& reason) {
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
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(5));
  v1::HeartbeatReply reply;
  grpc::Status s = stub_->Heartbeat(&ctx, req, &reply);
  if (s.ok() && !reply.known()) {
    absl::MutexLock lock(&mu_);
    joined_ = false;  // the coordinator restarted or dropped us: rejoin
  }
}

void DeviceAgent::SendPeriodicHeartbeat() {
  int64_t round;
  {
    absl::MutexLock lock(&mu_);
    round = current_round_;
  }
  SendHeartbeat(
      round,
      round >= 0 ? v1::HeartbeatRequest::TRAINING : v1::HeartbeatRequest::IDLE,
      "");
}

void DeviceAgent::Leave(const std::string& reason) {
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

}  // namespace tandem::client
