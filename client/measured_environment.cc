#include "client/measured_environment.h"

namespace tandem::client {

double MeasuredRoundAccounting::GuardSeconds(int64_t bytes,
                                             double wall_s) const {
  // A real download this small is timed mostly by round trips and TCP's
  // slow start, not by the link's throughput: too small to judge by.
  constexpr int64_t kMinMeasuredBytes = 256 << 10;
  return bytes < kMinMeasuredBytes ? 0 : wall_s;
}

void MeasuredRoundAccounting::Account(const RoundUsage& r,
                                      v1::Measurements* m) {
  if (r.mode == SplitMode::kLocalLoss) {
    // Download, then the pipeline (head compute overlapping the uploads, and
    // the tail's drain), then the head's upload (the previous round's).
    const double compute_s = r.wall_s - r.blocked_s;
    const double split_up_s = r.pipeline_wall_s - compute_s;
    m->set_compute_s(compute_s);
    m->set_link_s(r.download_s + split_up_s + r.last_upload_s);
    m->set_round_time_s(r.download_s + r.pipeline_wall_s + r.last_upload_s);
    return;
  }
  // An offloading device's wait for its gradients includes the tail.
  m->set_tail_included(r.stages_run < r.num_stages);
  m->set_compute_s(r.wall_s - r.split_wait_s);
  m->set_link_s(r.download_s + r.last_upload_s + r.split_wait_s);
  m->set_round_time_s(m->compute_s() + m->link_s());
}

void MeasuredEnvironment::DescribeHardware(v1::HardwareProfile* profile) const {
  ToHardwareProfile(DeviceModel(), profile);
}

absl::StatusOr<v1::StageTiming> MeasuredEnvironment::TimeStages(
    int64_t examples, const ProfileFn& measure) {
  absl::StatusOr<ml::ModelProfile> profile = measure();
  if (!profile.ok()) return profile.status();
  double per_example = 0;
  return StageTimingOf(*profile, 1.0, examples, &per_example);
}

v1::StageTiming StageTimingOf(const ml::ModelProfile& profile, double scale,
                              int64_t examples, double* per_example) {
  v1::StageTiming timing;
  *per_example = 0;
  for (const ml::StageProfile& st : profile.stages) {
    const double t = st.TrainSeconds(profile.batch_size) * scale;
    timing.add_seconds_per_example(t);
    *per_example += t;
  }
  timing.set_examples(examples);
  return timing;
}

}  // namespace tandem::client
