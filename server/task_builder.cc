#include "server/task_builder.h"

#include "core/seeds.h"
#include "core/weights_codec.h"
#include "ml/split_weights.h"

namespace tandem::server {

v1::TaskHeader TrainTask(const Config& config, const Strategy& strategy,
                         int num_stages, const WeightsLayout& layout,
                         int64_t round) {
  v1::TaskHeader h;
  h.set_kind(v1::TaskHeader::TRAIN);
  h.set_round(round);
  v1::TrainingConfig* t = h.mutable_training();
  t->set_local_epochs(config.training.local_epochs);
  t->set_batch_size(config.training.batch_size);
  t->set_learning_rate(config.training.learning_rate);
  t->set_momentum(config.training.momentum);
  t->set_weight_decay(config.training.weight_decay);
  t->set_max_batches(config.training.max_batches);
  t->set_seed(StreamSeed(config.seed, static_cast<uint64_t>(round)));
  t->set_proximal_mu(strategy.proximal_mu());
  t->set_measure_loss_before(strategy.needs_loss_before());
  t->set_clipping_norm(strategy.client_clipping_norm());
  if (strategy.client_learning_rate() > 0) {
    t->set_learning_rate(strategy.client_learning_rate());
  }
  h.set_split_point(num_stages);
  h.set_num_stages(num_stages);
  h.set_activation_codec(ActivationCodecName(config.offload.activation_codec));
  h.set_deadline_s(config.server.round_deadline_s);
  LayoutToProto(layout, h.mutable_layout());
  return h;
}

TaskAssignment TaskFor(const Config& config, const RoundState& r,
                       const std::string& id, bool full_weights,
                       const std::shared_ptr<const Weights>& global,
                       AuxStore& aux) {
  TaskAssignment task;
  task.header = r.header;
  task.weights = global;
  v1::TaskHeader& h = task.header;
  const int split = r.SplitOf(id);
  if (full_weights && r.Guarded(id)) {
    task.weights = std::make_shared<const Weights>(
        ml::SliceStages(*global, split, r.stages));
    LayoutToProto(task.weights->layout(), h.mutable_layout());
    h.set_split_point(r.stages);
    return task;
  }
  h.set_split_point(split);
  const bool fallback = config.offload.on_failure == OnSplitFailure::kLocal;
  if (split < r.stages && !fallback) {
    task.weights = r.heads.at(split);
    LayoutToProto(task.weights->layout(), h.mutable_layout());
  }
  h.set_fallback_local(fallback);
  auto guard = r.min_link_mbps.find(id);
  h.set_min_link_mbps(guard == r.min_link_mbps.end() ? 0 : guard->second);
  if (r.LocalLoss(id)) {
    h.set_split_mode(ToProto(SplitMode::kLocalLoss));
    h.set_window(config.offload.window);
    task.aux = aux.Get(split);
  }
  return task;
}

}  // namespace tandem::server
