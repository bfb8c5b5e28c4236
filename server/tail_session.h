// One offloading device's tail on the coordinator for one round: its own
// copy of stages [s, L), trained batch by batch over a SplitTraining stream.
#ifndef TANDEM_SERVER_TAIL_SESSION_H_
#define TANDEM_SERVER_TAIL_SESSION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/pipeline_schedule.h"
#include "core/split_mode.h"
#include "core/tensor_codec.h"
#include "ml/split.h"

namespace tandem::server {

// The stream's handler thread owns `trainer` while the stream is open; the
// coordinator reads it only after `complete` is set.
struct TailSession {
  std::string device_id;
  int64_t round = 0;
  int split = 0;
  ActivationCodec codec = ActivationCodec::kFp32;
  int64_t max_elements = 0;  // per activation tensor: batch x per-example size
  SplitMode mode = SplitMode::kExact;  // kLocalLoss: no reply per batch
  // Local loss, simulation: the coordinator's share of a core for this tail
  // (>= 1), and the tail's side of the pipeline schedule, whose tail_end()
  // is the modelled end of its last step, seconds from the start of the
  // device's split training (core/pipeline_schedule.h).
  double tail_share = 1;
  PipelineSchedule drain{/*window=*/1, /*latency_s=*/0};
  // fleet.compute_time "profiled": the tail's seconds per example (else its
  // measured CPU time is used).
  double profile_s_per_example = 0;
  std::unique_ptr<ml::TailTrainer> trainer;
  std::atomic<bool> complete{false};

  // Compute seconds of `examples` tail examples that took `cpu_s` of CPU:
  // from the profile when there is one.
  double ComputeSeconds(int64_t examples, double cpu_s) const {
    return profile_s_per_example > 0
               ? profile_s_per_example * static_cast<double>(examples)
               : cpu_s;
  }
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_TAIL_SESSION_H_
