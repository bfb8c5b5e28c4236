// Coordinator: split points per device, the tails of offloading devices,
// and joining a device's head update with its tail.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/status_macros.h"
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

int Coordinator::SplitOfLocked(const std::string& device) const {
  auto it = round_->splits.find(device);
  return it == round_->splits.end() ? eval_model_->num_stages() : it->second;
}

void Coordinator::ChooseSplitsLocked(RoundState* r) {
  const int stages = eval_model_->num_stages();
  for (const std::string& id : r->sampled) {
    const DeviceRecord* d = registry_.Find(id);
    offload::DeviceView view;
    view.id = id;
    view.device_class = d->profile.device_class();
    view.compute_slowdown = d->profile.compute_slowdown();
    view.bandwidth_mbps = d->profile.bandwidth_mbps();
    view.latency_ms = d->profile.latency_ms();
    view.power_compute_w = d->profile.power_compute_w();
    view.power_transmit_w = d->profile.power_transmit_w();
    view.power_receive_w = d->profile.power_receive_w();
    view.last_split = d->last_split;
    const int split = std::clamp(policy_->Choose(view), 1, stages);
    r->splits[id] = split;
    if (split < stages) {
      ++r->offloading;
      if (r->heads.count(split) == 0) {
        r->heads[split] = std::make_shared<const Weights>(
            ml::SliceStages(*global_, 0, split));
      }
    }
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
    // Needs the device's measured speed and its number of examples, known
    // once it has sent an update.
    if (split >= stages || d == nullptr || d->samples <= 0 ||
        d->measured_slowdown <= 0) {
      continue;
    }
    offload::DeviceEstimate e;
    e.slowdown = d->measured_slowdown;
    e.latency_ms = d->profile.latency_ms();
    const offload::RoundShape shape =
        offload::RoundShapeOf(policy_context_, d->samples,
                              r->offloading / config_.offload.server_cores);
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
    if (round_->tails.count(open.device_id()) > 0) {
      return absl::AlreadyExistsError("split: a tail is already open");
    }
    tail->device_id = open.device_id();
    tail->round = open.round();
    tail->split = split;
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
  // The coordinator's cores are shared by the tails of this round.
  const double share = std::max(
      1.0, round_->offloading / std::max(0.01, config_.offload.server_cores));
  const double tail_cpu =
      options_.compute_profile != nullptr
          ? static_cast<double>(tail->trainer->examples()) *
                ml::StageSeconds(*options_.compute_profile, tail->split,
                                 eval_model_->num_stages())
          : tail->trainer->cpu_seconds();
  const double tail_s = tail_cpu * share;
  (*line)["tail_s"] = tail_s;
  (*line)["tail_batches"] = tail->trainer->steps();
  (*line)["round_time_s"] = line->value("round_time_s", 0.0) + tail_s;
  return full;
}

void Coordinator::ObserveRoundLocked() {
  std::vector<offload::DeviceOutcome> outcomes;
  for (const nlohmann::json& l : round_->device_lines) {
    if (l.value("status", "") != "accepted") continue;
    offload::DeviceOutcome o;
    o.id = l["device"];
    o.split = l.value("split", 0);
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
