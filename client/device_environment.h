// What a device's time and hardware are, as the device agent sees them.
//
// The agent records what happened in a round (bytes moved, messages, wall
// and CPU seconds, examples) and asks its DeviceEnvironment what to report.
// A deployed device reports what it measured (client/measured_environment.h);
// the fleet simulator models a device's compute, link and energy on virtual
// time (sim/virtual_environment.h). The agent never asks which one it has.
//
//   std::unique_ptr<RoundAccounting> acc = env->BeginRound(round);
//   ... train, filling a RoundUsage ...
//   acc->Account(record, header.mutable_measurements());
#ifndef TANDEM_CLIENT_DEVICE_ENVIRONMENT_H_
#define TANDEM_CLIENT_DEVICE_ENVIRONMENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/split_mode.h"
#include "core/weights.h"
#include "ml/profile.h"
#include "proto/tandem.pb.h"

namespace tandem::client {

// What one round's work used, as the agent measured it: its transfers,
// its training and its split (server::RoundRecord is the coordinator's
// record of a round, a different thing).
struct RoundUsage {
  int64_t round = 0;
  // The task's download: bytes, wall seconds, and 2 when the link guard
  // pulled the rest of the model.
  int64_t bytes_down = 0;
  double download_s = 0;
  int downloads = 1;
  int64_t weights_up = 0;    // bytes of this round's push
  double last_upload_s = 0;  // wall seconds of the previous round's push
  // Training.
  int64_t examples_seen = 0;
  double cpu_s = 0;    // per-thread CPU seconds
  double wall_s = 0;   // wall seconds
  int stages_run = 0;  // stages trained on the device (its split point, or all)
  int num_stages = 0;
  // EXACT split: bytes of every activation message up and gradient message
  // down, and the wall seconds spent waiting for the gradients.
  std::vector<int64_t> split_up_messages, split_down_messages;
  double split_wait_s = 0;
  // A split round's mode (kExact also for a round that did not split).
  SplitMode mode = SplitMode::kExact;
  // LOCAL_LOSS split.
  double pipeline_wall_s = 0;  // wall seconds from opening to the reply
  double blocked_s = 0;        // wall seconds the head waited on the window
  double write_s = 0;          // wall seconds the stream's writer wrote
  double drain_end_s = 0;      // the coordinator's modelled drain end
};

// A local-loss stream's modelled batch timing. ComputeSeconds() is called on
// the training thread, Arrival() on the stream's writer thread, never at the
// same time for one batch; results are read after the stream finished.
class BatchTiming {
 public:
  virtual ~BatchTiming() = default;
  // Seconds the head computed a batch of `examples` that took `cpu_s` CPU
  // seconds.
  virtual double ComputeSeconds(int64_t examples, double cpu_s) = 0;
  // When a batch of `bytes` on the wire, computed in `compute_s`, reaches
  // the coordinator, in seconds from the start of the stream.
  virtual double Arrival(double compute_s, int64_t bytes) = 0;
};

// Turns one round's record into what the device reports. Used by the agent's
// Run() thread only (the BatchTiming it hands out: see there).
class RoundAccounting {
 public:
  virtual ~RoundAccounting() = default;
  // The link guard: seconds the task's first download of `bytes` took at the
  // link's throughput (without its latency); <= 0 when too small to judge.
  virtual double GuardSeconds(int64_t bytes, double wall_s) const = 0;
  // LOCAL_LOSS: the timing to stamp batches with (owned by this object), or
  // nullptr to send them unstamped; the stream follows the task's download
  // of `bytes_down`.
  virtual BatchTiming* LocalLossTiming(int split, int window,
                                       int64_t bytes_down) = 0;
  // Fills compute_s, link_s, round_time_s, energy_j, tail_included and
  // timing_s of `m`.
  virtual void Account(const RoundUsage& record, v1::Measurements* m) = 0;
};

// A device's hardware and time. Used by the agent's Run() thread only.
class DeviceEnvironment {
 public:
  using ProfileFn = std::function<absl::StatusOr<ml::ModelProfile>()>;

  virtual ~DeviceEnvironment() = default;
  // Fills what the coordinator's cost model reads about the device's speed,
  // link and power.
  virtual void DescribeHardware(v1::HardwareProfile* profile) const = 0;
  // The device's stage timing before its first task, for `examples`
  // training examples; `measure` times the stages on this machine.
  virtual absl::StatusOr<v1::StageTiming> TimeStages(
      int64_t examples, const ProfileFn& measure) = 0;
  // Whether the device abandons `round` before training (simulated dropout).
  virtual bool AbandonsRound(int64_t round) = 0;
  // Whether the device is online through `seconds` from the run's virtual
  // time `start_s` (simulated availability); deployed devices always are.
  virtual bool OnlineThrough(double start_s, double seconds) const {
    return true;
  }
  // `start_s`: when the round's task was sent, on the run's virtual clock
  // (TaskHeader.virtual_start_s; 0 for a deployed coordinator).
  virtual std::unique_ptr<RoundAccounting> BeginRound(int64_t round,
                                                      double start_s) = 0;
  // The least time `round` can report, having downloaded `bytes_down`, to
  // upload at least `bytes_up` and train at least `examples` examples
  // through `stages` stages; 0 when unknown (a deployed device). A buffered
  // simulation takes earlier reports while the device trains (Flights).
  virtual double MinRoundSeconds(int64_t round, int64_t bytes_down,
                                 int64_t bytes_up, int64_t examples,
                                 int stages) const {
    return 0;
  }
  // Changes a fully trained update before clipping and pushing (simulated
  // attacks); deployed devices leave it alone.
  virtual void AlterUpdate(int64_t round, const Weights& global,
                           Weights* update) {}
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_DEVICE_ENVIRONMENT_H_
