// Coordinator: split points per device, the tails of offloading devices,
// and joining a device's head update with its tail.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"
#include "ml/profile.h"
#include "ml/split.h"
#include "ml/split_weights.h"
#include "server/coordinator.h"
#include "server/round_state.h"

namespace tandem::server {

int64_t Coordinator::max_message_bytes() const {
  int64_t widest = 0;
  for (int s = 1; s < eval_model_->num_stages(); ++s) {
    int64_t n = 1;
    for (int64_t d : ml::CutShape(*eval_model_, s)) n *= d;
    widest = std::max(widest, n);
  }
  const int64_t batch = widest * config_.training.batch_size * 4;
  return std::max<int64_t>(4 << 20, batch + (1 << 20));
}

double Coordinator::TailShare(int offloading) const {
  // The coordinator's cores are shared by the tails of a round.
  return std::max(1.0,
                  offloading / std::max(0.01, config_.offload.server_cores));
}

int Coordinator::SplitOfLocked(const std::string& device) const {
  auto it = round_->splits.find(device);
  return it == round_->splits.end() ? eval_model_->num_stages() : it->second;
}

bool Coordinator::LocalLossLocked(const std::string& device) const {
  auto it = round_->modes.find(device);
  return it != round_->modes.end() &&
         it->second == offload::SplitMode::kLocalLoss &&
         SplitOfLocked(device) < eval_model_->num_stages();
}

offload::DeviceView Coordinator::ViewOfLocked(const DeviceRecord& d) const {
  offload::DeviceView view;
  view.id = d.id;
  view.device_class = d.profile.device_class();
  view.compute_slowdown = d.profile.compute_slowdown();
  view.bandwidth_mbps = d.profile.bandwidth_mbps();
  view.latency_ms = d.profile.latency_ms();
  view.power_compute_w = d.profile.power_compute_w();
  view.power_transmit_w = d.profile.power_transmit_w();
  view.power_receive_w = d.profile.power_receive_w();
  view.last_split = d.last_split;
  view.stage_seconds = d.stage_seconds;
  view.examples = d.timed_examples;
  return view;
}

void Coordinator::ChooseSplitsLocked(RoundState* r) {
  const int stages = eval_model_->num_stages();
  std::vector<offload::DeviceView> views;
  for (const std::string& id : r->sampled) {
    views.push_back(ViewOfLocked(*registry_.Find(id)));
  }
  policy_->Plan(views);
  for (const offload::DeviceView& view : views) {
    const offload::Placement p = policy_->Choose(view);
    const int split = std::clamp(p.split, 1, stages);
    r->splits[view.id] = split;
    if (split < stages) {
      r->modes[view.id] = p.mode;
      ++r->offloading;
      if (r->heads.count(split) == 0) {
        r->heads[split] = std::make_shared<const Weights>(
            ml::SliceStages(*global_, 0, split));
      }
    }
  }
}

void Coordinator::FillSplitTaskLocked(const std::string& id,
                                      TaskAssignment* task) {
  const int split = SplitOfLocked(id);
  v1::TaskHeader& h = task->header;
  h.set_split_point(split);
  const bool fallback = config_.offload.on_failure == "local";
  auto guard = round_->min_link_mbps.find(id);
  const double min_link =
      guard == round_->min_link_mbps.end() ? 0 : guard->second;
  if (split < eval_model_->num_stages() && !fallback) {
    task->weights = round_->heads.at(split);
    LayoutToProto(task->weights->layout(), h.mutable_layout());
  }
  h.set_fallback_local(fallback);
  h.set_min_link_mbps(min_link);
  if (LocalLossLocked(id)) {
    h.set_split_mode(v1::LOCAL_LOSS);
    h.set_window(config_.offload.window);
    task->aux = aux_->Get(split);
  }
}

void Coordinator::SetLinkGuardsLocked(RoundState* r) {
  const int stages = eval_model_->num_stages();
  if (!LinkGuardOn() ||
      static_cast<int>(policy_context_.profile.stages.size()) != stages) {
    return;
  }
  for (const auto& [id, split] : r->splits) {
    const DeviceRecord* d = registry_.Find(id);
    if (split >= stages || d == nullptr) continue;
    // Needs the device's speed and its number of examples: measured in its
    // rounds, else from the stage timing it reported before its first task.
    const bool measured = d->samples > 0 && d->measured_slowdown > 0;
    const double slowdown =
        measured ? d->measured_slowdown
                 : offload::TimedSlowdown(policy_context_, ViewOfLocked(*d));
    const int64_t examples = measured ? d->samples : d->timed_examples;
    if (slowdown <= 0 || examples <= 0) continue;
    offload::DeviceEstimate e;
    e.slowdown = slowdown;
    e.latency_ms = d->profile.latency_ms();
    offload::RoundShape shape = offload::RoundShapeOf(policy_context_, examples,
                                                      TailShare(r->offloading));
    shape.mode =
        r->modes.count(id) ? r->modes.at(id) : offload::SplitMode::kExact;
    const double mbps =
        offload::BreakEvenMbps(policy_context_.profile, e, shape, split);
    if (mbps > 0) r->min_link_mbps[id] = mbps;
  }
}

absl::StatusOr<std::shared_ptr<TailSession>> Coordinator::OpenTail(
    const v1::SplitOpen& open) {
  auto tail = std::make_shared<TailSession>();
  std::shared_ptr<const Weights> global;
  {
    absl::MutexLock lock(&mu_);
    const DeviceRecord* d = registry_.Find(open.device_id());
    if (d == nullptr || d->session_id != open.session_id()) {
      return absl::NotFoundError("split: unknown device or session");
    }
    if (round_ == nullptr || !round_->open || round_->number != open.round() ||
        round_->pending.count(open.device_id()) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("split: round ", open.round(), " is not open for '",
                       open.device_id(), "'"));
    }
    const int split = SplitOfLocked(open.device_id());
    if (split != open.split_point() || split >= eval_model_->num_stages()) {
      return absl::InvalidArgumentError(
          absl::StrCat("split: device asked for split point ",
                       open.split_point(), ", its task says ", split));
    }
    const bool local_loss = LocalLossLocked(open.device_id());
    if (local_loss != (open.mode() == v1::LOCAL_LOSS)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "split: device asked for mode ", v1::SplitMode_Name(open.mode()),
          ", its task says ", local_loss ? "LOCAL_LOSS" : "EXACT"));
    }
    if (round_->tails.count(open.device_id()) > 0) {
      return absl::AlreadyExistsError("split: a tail is already open");
    }
    tail->device_id = open.device_id();
    tail->round = open.round();
    tail->split = split;
    tail->local_loss = local_loss;
    tail->tail_share = TailShare(round_->offloading);
    global = global_;
  }
  tail->codec = ParseActivationCodec(config_.offload.activation_codec).value();
  ml::TrainOptions o;
  o.learning_rate = config_.training.learning_rate;
  o.momentum = config_.training.momentum;
  o.weight_decay = config_.training.weight_decay;
  TANDEM_ASSIGN_OR_RETURN(
      tail->trainer,
      ml::TailTrainer::Create(config_.model.name, eval_model_->input(),
                              tail->split, *global, o));
  if (options_.compute_profile != nullptr) {
    tail->profile_s_per_example = ml::StageSeconds(
        *options_.compute_profile, tail->split, eval_model_->num_stages());
  }
  int64_t per_example = 1;
  for (int64_t dim : tail->trainer->cut_shape()) per_example *= dim;
  tail->max_elements = per_example * config_.training.batch_size;
  absl::MutexLock lock(&mu_);
  if (round_ == nullptr || !round_->open || round_->number != tail->round) {
    return absl::FailedPreconditionError("split: the round closed");
  }
  round_->tails[tail->device_id] = tail;
  LogInfo(absl::StrCat("split training of ", tail->device_id, " in round ",
                       tail->round, " at cut ", tail->split, " (",
                       ActivationCodecName(tail->codec), ")"));
  return tail;
}

void Coordinator::EndTail(const std::shared_ptr<TailSession>& tail,
                          bool complete, const std::string& why) {
  absl::MutexLock lock(&mu_);
  if (complete) {
    tail->complete.store(true);
    return;
  }
  LogWarning(absl::StrCat("split training of ", tail->device_id, " in round ",
                          tail->round, " failed: ", why, "; tail freed"));
  DeviceRecord* d = registry_.Find(tail->device_id);
  if (d != nullptr) ++d->rejections["split_failed"];
  ++rejections_["split_failed"];
  if (round_ != nullptr && round_->number == tail->round) {
    auto it = round_->tails.find(tail->device_id);
    if (it != round_->tails.end() && it->second == tail)
      round_->tails.erase(it);
  }
}

absl::StatusOr<Weights> Coordinator::JoinTailLocked(const std::string& device,
                                                    const Weights& head,
                                                    nlohmann::json* line) {
  auto it = round_->tails.find(device);
  if (it == round_->tails.end() || !it->second->complete.load()) {
    return absl::FailedPreconditionError(
        "head update without a completed split-training stream");
  }
  std::shared_ptr<TailSession> tail = it->second;
  round_->tails.erase(it);  // frees the tail copy once joined
  Weights full = *global_;
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(head, &full));
  TANDEM_RETURN_IF_ERROR(ml::MergeStages(tail->trainer->TailWeights(), &full));
  const double share = TailShare(round_->offloading);
  const double tail_cpu =
      options_.compute_profile != nullptr
          ? static_cast<double>(tail->trainer->examples()) *
                ml::StageSeconds(*options_.compute_profile, tail->split,
                                 eval_model_->num_stages())
          : tail->trainer->cpu_seconds();
  const double tail_s = tail_cpu * share;
  (*line)["tail_s"] = tail_s;
  (*line)["tail_batches"] = tail->trainer->steps();
  // Local loss: the device's round time already ends with the tail's drain
  // (SplitReply.drain_end_s); exact: the device waited for each tail step,
  // which a deployed device measured and a simulated one did not.
  if (!tail->local_loss && !line->value("tail_included", false)) {
    (*line)["round_time_s"] = line->value("round_time_s", 0.0) + tail_s;
  }
  return full;
}

void Coordinator::ObserveRoundLocked() {
  std::vector<offload::DeviceOutcome> outcomes;
  for (const nlohmann::json& l : round_->device_lines) {
    if (l.value("status", "") != "accepted") continue;
    offload::DeviceOutcome o;
    o.id = l["device"];
    o.split = l.value("split", 0);
    o.mode = l.value("mode", "") == "local_loss"
                 ? offload::SplitMode::kLocalLoss
                 : offload::SplitMode::kExact;
    o.compute_s = l.value("compute_s", 0.0);
    o.tail_s = l.value("tail_s", 0.0);
    o.link_s = l.value("link_s", 0.0);
    o.round_time_s = l.value("round_time_s", 0.0);
    o.energy_j = l.value("energy_j", 0.0);
    o.samples = l.value("samples", int64_t{0});
    o.batches = l.value("batches", int64_t{0});
    o.bytes =
        l.value("bytes_up", int64_t{0}) + l.value("bytes_down", int64_t{0});
    outcomes.push_back(o);
    DeviceRecord* d = registry_.Find(o.id);
    if (d != nullptr) {
      d->last_split = o.split;
      const double slowdown = offload::MeasuredSlowdown(policy_context_, o);
      if (slowdown > 0) d->measured_slowdown = slowdown;
    }
  }
  policy_->Observe(round_->number, outcomes);
}

}  // namespace tandem::server
