#include "server/tail_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "ml/runtime.h"
#include "ml/split.h"
#include "ml/split_weights.h"

namespace tandem::server {

absl::StatusOr<std::shared_ptr<TailSession>> MakeTail(
    const TailSettings& settings, const std::string& device, int64_t round,
    int split, SplitMode mode, double tail_share, const Weights& global) {
  const Config& config = *settings.config;
  ml::SetComputeThreads(settings.compute_threads);
  auto tail = std::make_shared<TailSession>();
  tail->device_id = device;
  tail->round = round;
  tail->split = split;
  tail->mode = mode;
  tail->tail_share = tail_share;
  tail->codec = config.offload.activation_codec;
  ml::TrainOptions o;
  o.learning_rate = config.training.learning_rate;
  o.momentum = config.training.momentum;
  o.weight_decay = config.training.weight_decay;
  TANDEM_ASSIGN_OR_RETURN(
      tail->trainer, ml::TailTrainer::Create(config.model.id(), settings.input,
                                             split, global, o));
  if (settings.profile != nullptr) {
    tail->profile_s_per_example =
        ml::StageSeconds(*settings.profile, split, settings.num_stages);
  }
  int64_t per_example = 1;
  for (int64_t dim : tail->trainer->split_shape()) per_example *= dim;
  tail->max_elements = per_example * config.training.batch_size;
  return tail;
}

absl::Status TailRegistry::CheckOpen(const RoundState* round,
                                     const v1::SplitOpen& open) const {
  const std::string& id = open.device_id();
  if (round == nullptr || !round->open || round->number != open.round() ||
      round->pending.count(id) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("split: round ", open.round(), " is not open for '",
                     EscapeForLog(id), "'"));
  }
  const int split = round->SplitOf(id);
  if (split != open.split_point() || split >= round->stages) {
    return absl::InvalidArgumentError(
        absl::StrCat("split: device asked for split point ", open.split_point(),
                     ", its task says ", split));
  }
  const SplitMode mode = round->ModeOf(id);
  if (mode != FromProto(open.mode())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "split: device asked for mode ", v1::SplitMode_Name(open.mode()),
        ", its task says ", SplitModeName(mode)));
  }
  if (Has(id)) {
    return absl::AlreadyExistsError("split: a tail is already open");
  }
  return absl::OkStatus();
}

absl::Status TailRegistry::Add(std::shared_ptr<TailSession> tail) {
  if (tails_.count(tail->device_id) > 0) {
    return absl::AlreadyExistsError("split: a tail is already open");
  }
  tails_[tail->device_id] = std::move(tail);
  return absl::OkStatus();
}

void TailRegistry::Remove(const std::shared_ptr<TailSession>& tail) {
  auto it = tails_.find(tail->device_id);
  if (it != tails_.end() && it->second == tail) tails_.erase(it);
}

absl::StatusOr<JoinedUpdate> TailRegistry::Join(const std::string& device,
                                                const Weights& head,
                                                const Weights& global,
                                                double tail_share) {
  auto it = tails_.find(device);
  if (it == tails_.end() || !it->second->complete.load()) {
    return absl::FailedPreconditionError(
        "head update without a completed split-training stream");
  }
  std::shared_ptr<TailSession> tail = std::move(it->second);
  tails_.erase(it);  // frees the tail copy once joined
  JoinedUpdate j;
  j.full = global;
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(head, &j.full));
  TANDEM_RETURN_IF_ERROR(
      ml::MergeStages(tail->trainer->TailWeights(), &j.full));
  const ml::TailTrainer& t = *tail->trainer;
  j.tail_s = tail->ComputeSeconds(t.examples(), t.cpu_seconds()) * tail_share;
  j.tail_batches = t.steps();
  j.mode = tail->mode;
  return j;
}

int64_t MaxMessageBytes(const ml::Model& model, int batch_size) {
  int64_t widest = 0;
  for (int s = 1; s < model.num_stages(); ++s) {
    int64_t n = 1;
    for (int64_t d : ml::SplitShape(model, s)) n *= d;
    widest = std::max(widest, n);
  }
  const int64_t batch = widest * batch_size * 4;
  return std::max<int64_t>(4 << 20, batch + (1 << 20));
}

}  // namespace tandem::server
