// The time of split training on locally generated losses (offload.mode
// "local_loss"), where a device never waits for a gradient: its head
// computes batch i + 1 while batch i's activations are uploaded, and the
// coordinator trains the tail on each batch as it arrives.
//
// Three stages per batch i, each starting when both its input and its
// resource are ready:
//   compute_i : starts after compute_{i-1} and after the upload of batch
//               i - window ended (at most `window` batches in flight)
//   upload_i  : starts after compute_i and after upload_{i-1}
//   tail_i    : starts after batch i arrived (upload end + latency) and
//               after tail_{i-1}
// The schedule ends with the tail's drain of the last batch. The same
// function serves the device (its stamps), the coordinator (the tail) and
// the cost model, so simulation and prediction agree to the last bit.
//
//   PipelineSchedule p(/*window=*/4, /*latency_s=*/0.005);
//   for (...) p.AddBatch(compute_s, upload_s);   // device side
//   for (...) p.AddTail(arrival_s, tail_s);       // coordinator side
#ifndef TANDEM_CORE_PIPELINE_SCHEDULE_H_
#define TANDEM_CORE_PIPELINE_SCHEDULE_H_

#include <cstdint>
#include <deque>
#include <functional>

namespace tandem {

class PipelineSchedule {
 public:
  // `window` >= 1 batches may be computed but not yet uploaded.
  PipelineSchedule(int window, double latency_s);

  // Device: a batch computed in `compute_s` and uploaded in `upload_s`
  // (bytes over bandwidth, no latency). Returns its arrival time at the
  // coordinator, seconds from the start of the schedule.
  double AddBatch(double compute_s, double upload_s);
  // The same on a link whose speed changes: `upload_s(start)` is the
  // upload's seconds when it starts at `start` (from the schedule's start).
  double AddBatch(double compute_s,
                  const std::function<double(double start)>& upload_s);
  // Coordinator: a batch that arrived at `arrival_s` and took `tail_s` of
  // tail compute. Returns when its tail step ended.
  double AddTail(double arrival_s, double tail_s);

  double compute_end() const { return compute_end_; }  // device compute done
  double upload_end() const { return upload_end_; }    // last byte sent
  double tail_end() const { return tail_end_; }        // the drain's end
  double compute_s() const { return compute_s_; }      // summed
  double upload_s() const { return upload_s_; }        // summed
  int64_t batches() const { return batches_; }

 private:
  const int window_;
  const double latency_s_;
  std::deque<double> in_flight_;  // upload ends of the last `window` batches
  double compute_end_ = 0, upload_end_ = 0, tail_end_ = 0;
  double compute_s_ = 0, upload_s_ = 0;
  int64_t batches_ = 0;
};

}  // namespace tandem

#endif  // TANDEM_CORE_PIPELINE_SCHEDULE_H_
