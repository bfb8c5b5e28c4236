#include "client/round_trainer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/activation_stream.h"
#include "client/rpc_util.h"
#include "client/split_transport.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "ml/profile.h"
#include "ml/runtime.h"
#include "ml/split.h"
#include "ml/split_weights.h"

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

}  // namespace

int64_t RoundTrainer::WorkOf(const Task& task) const {
  return static_cast<int64_t>(data_->size()) *
         task.header.training().local_epochs();
}

absl::StatusOr<std::string> RoundTrainer::ModelNameFor(
    const v1::JoinReply& join) const {
  if (join.model() != "torchscript") return join.model();
  if (options_.model_file.empty()) {
    return absl::FailedPreconditionError(
        "the coordinator trains a TorchScript model: start the device with "
        "--model FILE (the run's model file)");
  }
  return ml::TorchScriptModelName(options_.model_file);
}

absl::Status RoundTrainer::PrepareData(const v1::JoinReply& join) {
  if (data_ != nullptr) return absl::OkStatus();
  TANDEM_ASSIGN_OR_RETURN(data_, options_.data_provider(join.data()));
  LogInfo(absl::StrCat(options_.device_id, ": ", data_->size(),
                       " training examples"));
  TANDEM_ASSIGN_OR_RETURN(model_name_, ModelNameFor(join));
  const ml::InputShape input = ml::InputShapeOf(*data_);
  auto measure = [this, &input]() -> absl::StatusOr<ml::ModelProfile> {
    ComputeSlot slot(options_.gate);
    ml::SetComputeThreads(options_.compute_threads);
    return ml::ProfileModel(model_name_, input, ml::kStageTimingBatch,
                            ml::kStageTimingReps);
  };
  TANDEM_ASSIGN_OR_RETURN(timing_, env_.TimeStages(data_->size(), measure));
  return absl::OkStatus();
}

absl::Status RoundTrainer::BuildModel() {
  if (model_ != nullptr) return absl::OkStatus();
  const ml::InputShape input = ml::InputShapeOf(*data_);
  if (options_.model_pool != nullptr) {
    TANDEM_ASSIGN_OR_RETURN(
        model_, options_.model_pool->Take(model_name_, input, options_.seed));
    return absl::OkStatus();
  }
  TANDEM_ASSIGN_OR_RETURN(model_,
                          ml::Model::Create(model_name_, input, options_.seed));
  return absl::OkStatus();
}

void RoundTrainer::ReleaseModel() {
  if (options_.model_pool != nullptr) {
    options_.model_pool->Give(std::move(model_));
  }
  model_.reset();
}

absl::StatusOr<RoundWork> RoundTrainer::TrainFull(const Task& task) {
  TANDEM_RETURN_IF_ERROR(model_->SetWeights(*task.weights));
  RoundWork work;
  {
    ComputeSlot slot(options_.gate, WorkOf(task));
    ml::SetComputeThreads(options_.compute_threads);
    TANDEM_ASSIGN_OR_RETURN(
        work.stats,
        ml::TrainLocal(*model_, *data_,
                       ToTrainOptions(task.header.training(), stop_.flag())));
  }
  work.update = model_->GetWeights();
  work.record.stages_run = model_->num_stages();
  return work;
}

absl::Status RoundTrainer::LoadHead(const Task& task) {
  Weights full = model_->GetWeights();
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(*task.weights, &full));
  return model_->SetWeights(full);
}

absl::StatusOr<RoundWork> RoundTrainer::TrainLocalLoss(
    const Task& task, int split, RoundAccounting& accounting) {
  TANDEM_RETURN_IF_ERROR(LoadHead(task));
  ActivationStreamOptions so;
  TANDEM_ASSIGN_OR_RETURN(so.codec,
                          ParseActivationCodec(task.header.activation_codec()));
  so.window = std::max(1, task.header.window());
  so.timing = accounting.LocalLossTiming(split, so.window, task.bytes_down);
  so.clock = options_.clock;
  const v1::SplitOpen open =
      link_.SplitOpenFor(task.header.round(), split, SplitMode::kLocalLoss);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.transfer_timeout);
  if (!stop_.Track(&ctx)) return absl::CancelledError("stopping");
  RoundWork work;
  work.aux.assign(task.header.aux_weights().begin(),
                  task.header.aux_weights().end());
  const double t0 = options_.clock->NowSeconds();
  GrpcActivationStream stream(link_.split_stub(), &ctx, open, so);
  absl::StatusOr<ml::TrainStats> stats;
  {
    ComputeSlot slot(options_.gate, WorkOf(task));
    ml::SetComputeThreads(options_.compute_threads);
    stats = ml::TrainHeadLocalLoss(
        *model_, split, &work.aux, *data_,
        ToTrainOptions(task.header.training(), stop_.flag()), stream);
  }
  if (!stats.ok()) ctx.TryCancel();
  absl::Status finished = stream.Finish();
  stop_.Untrack();
  if (!stats.ok()) return stats.status();
  if (!finished.ok()) return finished;
  RoundUsage& r = work.record;
  r.pipeline_wall_s =
      options_.clock->NowSeconds() - t0;  // head, uploads, drain
  work.stats = *stats;
  work.update = ml::SliceStages(model_->GetWeights(), 0, split);
  work.split_bytes_up = stream.bytes_up();
  work.split_bytes_down = stream.bytes_down();
  r.stages_run = split;
  r.mode = SplitMode::kLocalLoss;
  r.blocked_s = stream.blocked_s();
  r.write_s = stream.write_s();
  r.drain_end_s = stream.drain_end_s();
  return work;
}

absl::StatusOr<RoundWork> RoundTrainer::TrainSplit(const Task& task,
                                                   int split) {
  TANDEM_RETURN_IF_ERROR(LoadHead(task));
  TANDEM_ASSIGN_OR_RETURN(ActivationCodec codec,
                          ParseActivationCodec(task.header.activation_codec()));
  const v1::SplitOpen open =
      link_.SplitOpenFor(task.header.round(), split, SplitMode::kExact);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.transfer_timeout);
  if (!stop_.Track(&ctx)) return absl::CancelledError("stopping");
  GrpcSplitTransport transport(link_.split_stub(), &ctx, open, codec,
                               options_.clock);
  RoundWork work;
  absl::StatusOr<ml::TrainStats> stats;
  {
    ComputeSlot slot(options_.gate, WorkOf(task));
    ml::SetComputeThreads(options_.compute_threads);
    stats = ml::TrainHead(*model_, split, *data_,
                          ToTrainOptions(task.header.training(), stop_.flag()),
                          transport);
  }
  absl::Status finished = transport.Finish();
  stop_.Untrack();
  if (!stats.ok()) return stats.status();
  if (!finished.ok()) return finished;
  work.stats = *stats;
  work.update = ml::SliceStages(model_->GetWeights(), 0, split);
  work.split_bytes_up = transport.bytes_up();
  work.split_bytes_down = transport.bytes_down();
  RoundUsage& r = work.record;
  r.stages_run = split;
  r.split_up_messages = transport.up_messages();
  r.split_down_messages = transport.down_messages();
  r.split_wait_s = transport.wait_seconds();  // tail + network, measured
  return work;
}

}  // namespace tandem::client
