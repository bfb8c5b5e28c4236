#include "server/round_recorder.h"

#include <algorithm>

#include "core/status_macros.h"
#include "ml/blas_kernel.h"

namespace tandem::server {

nlohmann::json ToJson(const DeviceRoundRecord& r) {
  nlohmann::json j = {{"type", "device"},
                      {"round", r.round},
                      {"device", r.device},
                      {"class", r.device_class}};
  switch (r.status) {
    case DeviceRoundRecord::Status::kDropped:
      j.update({{"status", "dropped"}, {"reason", r.reason}});
      return j;
    case DeviceRoundRecord::Status::kRejected:
      j.update({{"status", "rejected"}, {"reason", r.reason}});
      return j;
    case DeviceRoundRecord::Status::kUnneeded:
      j.update({{"status", "unneeded"}, {"reason", r.reason}});
      return j;
    default:
      break;
  }
  const v1::Measurements& m = r.measurements;
  const bool surplus = r.status == DeviceRoundRecord::Status::kSurplus;
  j.update({{"status", surplus ? "surplus" : "accepted"},
            {"samples", r.samples},
            {"split", r.split},
            {"mode", r.mode == SplitMode::kLocalLoss ? "local_loss" : "exact"},
            {"compute_s", m.compute_s()},
            {"cpu_s", m.cpu_s()},
            {"link_s", m.link_s()},
            {"round_time_s", m.round_time_s()},
            {"bytes_up", m.bytes_up()},
            {"bytes_down", m.bytes_down()},
            {"train_loss", m.train_loss()},
            {"energy_j", m.energy_j()},
            {"batches", m.batches()},
            {"tail_included", m.tail_included()},
            {"timing_s", m.timing_s()},
            {"update_norm", r.update_norm},
            {"clip_scale", r.clip_scale}});
  if (r.fallback_local) j["fallback_local"] = true;
  if (r.task_round >= 0) {
    j["task_round"] = r.task_round;
    j["staleness"] = r.staleness;
  }
  if (r.has_tail) {
    j["tail_s"] = r.tail_s;
    j["tail_batches"] = r.tail_batches;
  }
  return j;
}

offload::DeviceOutcome OutcomeOf(const DeviceRoundRecord& r) {
  const v1::Measurements& m = r.measurements;
  offload::DeviceOutcome o;
  o.id = r.device;
  o.split = r.split;
  o.mode = r.mode;
  o.compute_s = m.compute_s();
  o.tail_s = r.tail_s;
  o.link_s = m.link_s();
  o.round_time_s = m.round_time_s();
  o.energy_j = m.energy_j();
  o.samples = r.samples;
  o.batches = m.batches();
  o.bytes = m.bytes_up() + m.bytes_down();
  return o;
}

nlohmann::json ToJson(const RoundRecord& r) {
  nlohmann::json j = {{"type", "round"},
                      {"round", r.round},
                      {"status", r.aggregated    ? "ok"
                                 : r.rolled_back ? "rolled_back"
                                                 : "failed"},
                      {"virtual_time_s", r.virtual_time_s},
                      {"wall_time_s", r.wall_time_s}};
  if (r.opened) {
    j.update({{"attempt", r.attempt},
              {"sampled", r.sampled},
              {"participants", r.participants},
              {"dropped", r.dropped},
              {"rejected", r.rejected},
              {"round_time_s", r.round_time_s},
              {"round_wall_s", r.round_wall_s},
              {"bytes_up", r.bytes_up},
              {"bytes_down", r.bytes_down}});
    if (r.surplus > 0) j["surplus"] = r.surplus;
  }
  if (!r.aggregated) j["reason"] = r.reason;
  if (r.evaluated) {  // of the model rolled back from, if it was
    j[r.rolled_back ? "rejected_accuracy" : "accuracy"] = r.accuracy;
    j[r.rolled_back ? "rejected_loss" : "loss"] = r.loss;
  }
  return j;
}

RoundRecorder::RoundRecorder(
    const Config& config, RunWriter* run,
    std::function<void(const nlohmann::json&)> on_round)
    : config_(config), run_(run), on_round_(std::move(on_round)) {}

void RoundRecorder::Tally(RoundRecord* r) {
  if (!r->aggregated && !r->rolled_back) {
    ++tally_.failed_attempts;
    r->virtual_time_s = tally_.virtual_time_s;
    return;
  }
  ++tally_.rounds_done;
  tally_.virtual_time_s += r->round_time_s;
  r->virtual_time_s = tally_.virtual_time_s;
  if (r->rolled_back) ++tally_.rollbacks;
  if (!r->evaluated || r->rolled_back) return;
  tally_.final_accuracy = r->accuracy;
  tally_.final_loss = r->loss;
  tally_.best_accuracy = std::max(tally_.best_accuracy, r->accuracy);
  const double target = config_.server.target_accuracy;
  if (!tally_.target_reached && target > 0 && r->accuracy >= target) {
    tally_.target_reached = true;
    tally_.target_round = r->round;
    tally_.target_virtual_s = tally_.virtual_time_s;
    tally_.target_wall_s = r->wall_time_s;
  }
}

absl::Status RoundRecorder::Record(
    const std::vector<DeviceRoundRecord>& devices, RoundRecord round) {
  Tally(&round);
  for (const DeviceRoundRecord& d : devices) {
    TANDEM_RETURN_IF_ERROR(run_->AppendMetrics(ToJson(d)));
  }
  const nlohmann::json line = ToJson(round);
  TANDEM_RETURN_IF_ERROR(run_->AppendMetrics(line));
  if (on_round_) on_round_(line);
  return absl::OkStatus();
}

namespace {

nlohmann::json DevicesJson(const std::map<std::string, DeviceRecord>& all) {
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& [id, d] : all) {
    devices.push_back({{"id", id},
                       {"class", d.profile.device_class()},
                       {"rounds", d.rounds},
                       {"mean_round_time_s",
                        d.rounds > 0 ? d.round_time_sum_s / d.rounds : 0},
                       {"samples", d.samples},
                       {"energy_j", d.energy_j},
                       {"dropouts", d.dropouts},
                       {"clipped", d.clipped},
                       {"rejections", d.rejections}});
  }
  return devices;
}

nlohmann::json TargetJson(const Config& config, const RunTally& t) {
  if (!t.target_reached) return nullptr;
  return {{"accuracy", config.server.target_accuracy},
          {"round", t.target_round},
          {"virtual_time_s", t.target_virtual_s},
          {"wall_time_s", t.target_wall_s}};
}

}  // namespace

nlohmann::json Summary(const Config& config, const SummaryInputs& in) {
  const RunTally& t = *in.tally;
  int rejected = 0;
  for (const auto& [reason, n] : *in.rejections) rejected += n;
  return {{"status", in.status},
          {"final_accuracy", t.final_accuracy},
          {"best_accuracy", t.best_accuracy},
          {"final_loss", t.final_loss},
          {"rounds", t.rounds_done},
          {"failed_attempts", t.failed_attempts},
          {"rollbacks", t.rollbacks},
          {"first_round", in.first_round},
          {"wall_time_s", in.wall_time_s},
          {"virtual_time_s", t.virtual_time_s},
          {"weights_sha256", in.weights_sha256},
          // Weights are bit-identical only under one BLAS kernel: this
          // process's (a simulation's training, a coordinator's tails).
          {"blas_kernel", ml::BlasKernelNote()},
          {"rejected_updates", rejected},
          {"target", TargetJson(config, t)},
          {"rejections", *in.rejections},
          {"model", config.model.id()},
          {"strategy", config.strategy.name},
          {"run_dir", in.run_dir},
          {"devices", DevicesJson(*in.devices)}};
}

}  // namespace tandem::server
