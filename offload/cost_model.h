// The offload cost model: for one device and every split point, the round's
// device compute, coordinator tail compute, link time, energy and device
// memory, from a per-stage model profile and the device's (measured or
// advertised) speed, link and power figures.
//
// Two split modes (offload.mode):
//   exact (SplitFed-v1), for s:
//          device = slowdown x samples x sum_{i<s} t_i
//          tail   = tail_share x samples x sum_{i>=s} t_i
//          link   = weights of the head down and up + per batch activations
//                   up and gradients down, each bytes x 8 / bandwidth + latency
//          time   = device + tail + link (the device waits for every gradient)
//   local_loss: per batch the head (and its auxiliary classifier) computes
//          while earlier batches upload and the coordinator trains the tail
//          on what arrived: core/pipeline_schedule.h over the batches, with
//          the head's weights (and the classifier's) down before and up after
//   traced links (DeviceModel::uplink/downlink, simulation only): the same
//          round laid out in time from DeviceEstimate::start_s, each transfer
//          integrated over its trace where it falls (exact: the head's
//          compute shared evenly by the batches, the tail added at the end,
//          as the simulator accounts a round)
//   both:  energy = device x P_compute + up x P_transmit + down x P_receive
//          memory = 3 x head parameters + batch x (input + 2 x head
//                   activations) x 4 bytes (+ window x batch x activations
//                   x 4 bytes of queued uploads in local_loss)
#ifndef TANDEM_OFFLOAD_COST_MODEL_H_
#define TANDEM_OFFLOAD_COST_MODEL_H_

#include <cstdint>
#include <vector>

#include "core/device_model.h"
#include "core/split_mode.h"
#include "ml/profile.h"

namespace tandem::offload {

// A device's (measured or advertised) speed, link and power, the same
// model the simulator charges time and energy with, plus a memory budget.
struct DeviceEstimate : DeviceModel {
  int64_t memory_budget_bytes = 0;  // 0 = no limit
  double start_s = 0;  // traced links: the round's start on virtual time
};

struct RoundShape {
  int64_t examples = 0;  // local examples per epoch
  int epochs = 1;
  int batch_size = 32;
  int64_t max_batches = 0;   // 0 = no cap
  int activation_bytes = 4;  // per element on the wire: fp32 4, fp16 2, int8 1
  double tail_share = 1;     // coordinator slowdown for this tail (>= 1)
  SplitMode mode = SplitMode::kExact;
  int window = 4;  // local_loss: batches in flight
};

struct SplitCost {
  int split = 0;
  SplitMode mode = SplitMode::kExact;
  double device_compute_s = 0, tail_s = 0, up_s = 0, down_s = 0;
  double time_s = 0, energy_j = 0;
  double bytes = 0;  // on the link, both directions
  int64_t memory_bytes = 0;
  bool fits = true;
};

// The examples of each batch of a round, in order, as ml's training loop
// takes them (partial last batch of an epoch, batch-norm's minimum of 2).
std::vector<int64_t> BatchSizes(const RoundShape& round);

// One entry per split point 1..L (L = no offload), in order, in round.mode.
std::vector<SplitCost> EvaluateSplits(const ml::ModelProfile& profile,
                                      const DeviceEstimate& device,
                                      const RoundShape& round);

// EvaluateSplits in every mode of `modes`, one after the other; the
// no-offload entry once, last.
std::vector<SplitCost> EvaluatePlacements(const ml::ModelProfile& profile,
                                          const DeviceEstimate& device,
                                          RoundShape round,
                                          const std::vector<SplitMode>& modes);

// The entry minimising alpha x T / T_L + (1 - alpha) x E / E_L among those
// that fit the memory budget (time and energy are normalised by the
// no-offload values, the last entry, so seconds and joules can be mixed).
// When nothing fits, the one with the least memory. Returns its index.
size_t ChoosePlacement(const std::vector<SplitCost>& costs, double alpha);

// The split point of ChoosePlacement over one mode's EvaluateSplits.
int ChooseSplit(const std::vector<SplitCost>& costs, double alpha);

// The link throughput (Mbit/s) below which training the whole model on the
// device is faster than offloading at `split` in round.mode (time only, by
// the model above; found by bisection, since time falls with bandwidth): 0 when
// the split is at least as fast on any link, infinity when it is never faster.
// A device measuring its link below this should not offload.
double BreakEvenMbps(const ml::ModelProfile& profile,
                     const DeviceEstimate& device, const RoundShape& round,
                     int split);

}  // namespace tandem::offload

#endif  // TANDEM_OFFLOAD_COST_MODEL_H_
