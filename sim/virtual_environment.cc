#include "sim/virtual_environment.h"

#include <algorithm>
#include <random>
#include <vector>

#include "client/measured_environment.h"
#include "core/pipeline_schedule.h"
#include "core/seeds.h"

namespace tandem::sim {
namespace {

// A local-loss round's device side of the pipeline schedule.
class VirtualBatchTiming : public client::BatchTiming {
 public:
  // `head_s`: profiled seconds per example of the head, 0 to use CPU time;
  // `stream_start_s`: the stream's start on virtual time (traced links).
  VirtualBatchTiming(const DeviceModel& link, double head_s, int window,
                     double stream_start_s)
      : link_(link),
        head_s_(head_s),
        stream_start_s_(stream_start_s),
        schedule_(window, link.latency_ms * 1e-3) {}

  double ComputeSeconds(int64_t examples, double cpu_s) override {
    return link_.slowdown *
           (head_s_ > 0 ? head_s_ * static_cast<double>(examples) : cpu_s);
  }
  double Arrival(double compute_s, int64_t bytes) override {
    return schedule_.AddBatch(compute_s, [&](double at) {
      return link_.UpSeconds(stream_start_s_ + at, static_cast<double>(bytes));
    });
  }
  const PipelineSchedule& schedule() const { return schedule_; }

 private:
  const DeviceModel link_;
  const double head_s_;
  const double stream_start_s_;
  PipelineSchedule schedule_;
};

// One round on virtual time.
class VirtualRoundAccounting : public client::RoundAccounting {
 public:
  // `timing_cost_s`: the stage timing not yet charged; charged and zeroed by
  // Account(). `start_s`: the round's start on virtual time.
  VirtualRoundAccounting(const DeviceModel& dm,
                         const ml::ModelProfile* compute_profile,
                         double* timing_cost_s, double start_s)
      : dm_(dm),
        profile_(compute_profile),
        timing_cost_s_(timing_cost_s),
        start_s_(start_s) {}

  double GuardSeconds(int64_t bytes, double wall_s) const override {
    // The modelled download from the round's start without its latency (a
    // real download is timed from its first chunk, so latency is mostly
    // outside it too).
    return dm_.DownSeconds(start_s_, static_cast<double>(bytes));
  }
  client::BatchTiming* LocalLossTiming(int split, int window,
                                       int64_t bytes_down) override {
    const double head_s =
        profile_ == nullptr ? 0 : ml::LocalLossHeadSeconds(*profile_, split);
    const double stream_start =
        start_s_ + dm_.DownSeconds(start_s_, static_cast<double>(bytes_down)) +
        dm_.latency_ms * 1e-3;
    timing_ =
        std::make_unique<VirtualBatchTiming>(dm_, head_s, window, stream_start);
    return timing_.get();
  }
  void Account(const client::RoundUsage& r, v1::Measurements* m) override {
    if (dm_.traced()) {
      AccountTraced(r, m);
    } else if (r.mode == SplitMode::kLocalLoss) {
      AccountLocalLoss(r, m);
    } else {
      AccountTrained(r, m);
    }
    if (*timing_cost_s_ > 0) {
      // The stage timing before the first task ran on this device too. Not
      // in compute_s, from which policies measure the device's speed.
      m->set_timing_s(*timing_cost_s_);
      m->set_round_time_s(m->round_time_s() + *timing_cost_s_);
      m->set_energy_j(m->energy_j() + *timing_cost_s_ * dm_.power_compute_w);
      *timing_cost_s_ = 0;
    }
  }

 private:
  // The task's bytes at the modelled link, one latency per download.
  double DownloadSeconds(const client::RoundUsage& r) const {
    return dm_.TransferSeconds(r.bytes_down) +
           (r.downloads - 1) * dm_.latency_ms * 1e-3;
  }
  double SumTransfers(const std::vector<int64_t>& messages) const {
    double s = 0;
    for (int64_t b : messages) s += dm_.TransferSeconds(b);
    return s;
  }
  // Full model, or an EXACT split (activations up, gradients down).
  void AccountTrained(const client::RoundUsage& r, v1::Measurements* m) {
    const double down_s = DownloadSeconds(r);
    const double up_s = dm_.TransferSeconds(r.weights_up);
    const double split_up_s = SumTransfers(r.split_up_messages);
    const double split_down_s = SumTransfers(r.split_down_messages);
    m->set_compute_s(dm_.ComputeSeconds(TrainedCpuSeconds(r)));
    m->set_link_s(down_s + up_s + split_up_s + split_down_s);
    m->set_energy_j(dm_.EnergyJoules(m->compute_s(), up_s + split_up_s,
                                     down_s + split_down_s));
    m->set_round_time_s(m->compute_s() + m->link_s());
  }
  // Download, then the pipeline (head compute overlapping the uploads, and
  // the tail's drain), then the head's upload.
  void AccountLocalLoss(const client::RoundUsage& r, v1::Measurements* m) {
    const double down_s = DownloadSeconds(r);
    const double up_s = dm_.TransferSeconds(r.weights_up);
    const double compute_s = timing_ ? timing_->schedule().compute_s() : 0;
    const double split_up_s = timing_ ? timing_->schedule().upload_s() : 0;
    m->set_energy_j(dm_.EnergyJoules(compute_s, up_s + split_up_s, down_s));
    m->set_compute_s(compute_s);
    m->set_link_s(down_s + split_up_s + up_s);
    m->set_round_time_s(down_s + r.drain_end_s + up_s);
  }

  // On traced links: the round laid out in time from start_s_, each
  // transfer over its trace where it falls; an exact split's head compute
  // shared evenly by its batches, as the cost model does.
  void AccountTraced(const client::RoundUsage& r, v1::Measurements* m) {
    const double latency = dm_.latency_ms * 1e-3;
    double t = start_s_, up_s = 0, down_s = 0;
    auto up = [&](double bytes) {
      const double s = dm_.UpSeconds(t, bytes) + latency;
      up_s += s;
      t += s;
    };
    auto down = [&](double bytes) {
      const double s = dm_.DownSeconds(t, bytes) + latency;
      down_s += s;
      t += s;
    };
    down(static_cast<double>(r.bytes_down));
    down_s += (r.downloads - 1) * latency;
    t += (r.downloads - 1) * latency;
    double compute_s = 0;
    if (r.mode == SplitMode::kLocalLoss) {
      compute_s = timing_ ? timing_->schedule().compute_s() : 0;
      const double split_up_s = timing_ ? timing_->schedule().upload_s() : 0;
      t += r.drain_end_s;
      up(static_cast<double>(r.weights_up));
      up_s += split_up_s;
    } else {
      compute_s = dm_.ComputeSeconds(TrainedCpuSeconds(r));
      const size_t n =
          std::max(r.split_up_messages.size(), r.split_down_messages.size());
      if (n == 0) t += compute_s;
      for (size_t i = 0; i < n; ++i) {
        t += compute_s / static_cast<double>(n);
        if (i < r.split_up_messages.size()) up(r.split_up_messages[i]);
        if (i < r.split_down_messages.size()) down(r.split_down_messages[i]);
      }
      up(static_cast<double>(r.weights_up));
    }
    m->set_compute_s(compute_s);
    m->set_link_s(down_s + up_s);
    m->set_energy_j(dm_.EnergyJoules(compute_s, up_s, down_s));
    m->set_round_time_s(t - start_s_);
  }
  double TrainedCpuSeconds(const client::RoundUsage& r) const {
    return profile_ != nullptr
               ? static_cast<double>(r.examples_seen) *
                     ml::StageSeconds(*profile_, 0, r.stages_run)
               : r.cpu_s;
  }

  const DeviceModel dm_;
  const ml::ModelProfile* const profile_;
  double* const timing_cost_s_;
  const double start_s_;
  std::unique_ptr<VirtualBatchTiming> timing_;
};

}  // namespace

void VirtualEnvironment::DescribeHardware(v1::HardwareProfile* profile) const {
  ToHardwareProfile(options_.model, profile);
}

absl::StatusOr<v1::StageTiming> VirtualEnvironment::TimeStages(
    int64_t examples, const ProfileFn& measure) {
  ml::ModelProfile profile;
  if (options_.compute_profile != nullptr) {
    // The pinned figures, in the batches a device times its stages with.
    profile = ml::AtBatchSize(*options_.compute_profile, ml::kStageTimingBatch);
  } else {
    absl::StatusOr<ml::ModelProfile> measured = measure();
    if (!measured.ok()) return measured.status();
    profile = *std::move(measured);
  }
  const double scale = options_.wall_time ? 1.0 : options_.model.slowdown;
  double per_example = 0;
  v1::StageTiming timing =
      client::StageTimingOf(profile, scale, examples, &per_example);
  // On virtual time the timing costs time like any compute.
  if (!options_.wall_time && !options_.resumed) {
    timing_cost_s_ = per_example * ml::kStageTimingExamples;
  }
  return timing;
}

bool VirtualEnvironment::AbandonsRound(int64_t round) {
  std::mt19937_64 rng(options_.seed * kSideSeedStride +
                      static_cast<uint64_t>(round));
  return std::bernoulli_distribution(options_.dropout)(rng);
}

std::unique_ptr<client::RoundAccounting> VirtualEnvironment::BeginRound(
    int64_t round, double start_s) {
  if (options_.wall_time) {
    return std::make_unique<client::MeasuredRoundAccounting>();
  }
  return std::make_unique<VirtualRoundAccounting>(
      ModelFor(round), options_.compute_profile.get(), &timing_cost_s_,
      start_s);
}

double VirtualEnvironment::MinRoundSeconds(int64_t round, int64_t bytes_down,
                                           int64_t bytes_up, int64_t examples,
                                           int stages) const {
  if (options_.wall_time) return 0;
  const DeviceModel dm = ModelFor(round);
  const double cpu =
      options_.compute_profile == nullptr
          ? 0
          : static_cast<double>(examples) *
                ml::StageSeconds(*options_.compute_profile, 0, stages);
  // The round's accounting (AccountTrained) adds at least these; a hair
  // less, whatever the order of its additions rounds to. Traced links: at
  // least the compute.
  const double link_s = dm.traced() ? 0
                                    : dm.TransferSeconds(bytes_down) +
                                          dm.TransferSeconds(bytes_up);
  const double least = link_s + dm.ComputeSeconds(cpu) + timing_cost_s_;
  return least * (1 - 1e-9);
}

void VirtualEnvironment::AlterUpdate(int64_t round, const Weights& global,
                                     Weights* update) {
  if (options_.attack == Attack::kNone) return;
  ApplyAttack(options_.attack, options_.attack_scale,
              StreamSeed(options_.seed, static_cast<uint64_t>(round)), global,
              *update);
}

DeviceModel VirtualEnvironment::ModelFor(int64_t round) const {
  return options_.model_for_round ? options_.model_for_round(round)
                                  : options_.model;
}

}  // namespace tandem::sim
