// The coordinator's round loop, independent of gRPC.
//
// Run() drives rounds: wait for devices, sample, open a round with a task,
// collect updates until every sampled device reported or abandoned, or the
// deadline passed; aggregate if at least strategy.min_updates arrived, else
// record the failed attempt and retry; evaluate, write metrics and a
// checkpoint. Devices' calls go to its DeviceGateway (devices()), which
// the gRPC services (coordinator_service.cc, split_service.cc) call
// concurrently.
//
// Both work on one CoordinatorState: parts with one job each under one
// mutex, the FleetRegistry (who joined), UpdateAdmission (which updates may
// enter the aggregate), the OffloadPlanner (where each device trains) and
// the TailRegistry (the offloading devices' tails). The loop alone holds
// the Evaluator and the RoundRecorder (typed records, written once as
// metrics).
//
// Thread-safe.
#ifndef TANDEM_SERVER_COORDINATOR_H_
#define TANDEM_SERVER_COORDINATOR_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/run_writer.h"
#include "ml/data/dataset.h"
#include "ml/profile.h"
#include "nlohmann/json.hpp"
#include "server/aggregate_check.h"
#include "server/coordinator_state.h"
#include "server/device_gateway.h"
#include "server/evaluator.h"
#include "server/round_recorder.h"

namespace tandem::server {

struct CoordinatorOptions {
  Config config;
  std::string run_name = "run";  // suffix of the run directory
  // Test set; loaded from config.data when null.
  std::shared_ptr<const data::Dataset> test_set;
  // The whole training set devices cut their partitions from: caps each
  // update's sample count at its device's partition size (SampleCap).
  // Loaded with the test set when that is null; when only test_set is
  // given, counts are capped at SampleCap::kMaxSamples.
  std::shared_ptr<const data::Dataset> train_set;
  // Simulation with fleet.compute_time "profiled": tail compute time is
  // examples x this profile's stage seconds; also the policies' profile.
  std::shared_ptr<const ml::ModelProfile> compute_profile;
  // LibTorch threads each offloading device's tail trains with; 0:
  // server.threads.
  int tail_threads = 0;
  // Devices that must join before round 1, if more than server.min_devices
  // (the simulator: its whole fleet, so round 1 does not depend on how fast
  // they joined).
  int await_devices = 0;
  // Devices report simulated (virtual) round times (the simulator): a round
  // waits for every sampled device even under over-selection, which then
  // keeps the updates with the shortest virtual round times. Otherwise it
  // closes as soon as the target number of updates arrived.
  bool virtual_time = false;
  // Called after every round attempt with its metrics line (for progress).
  std::function<void(const nlohmann::json&)> on_round;
  // Called when a device is given a task, with the coordinator's lock held
  // (must not block nor call the coordinator): the simulator serves its
  // dispatched devices then, which pull with no_wait instead of
  // long-polling.
  std::function<void(const std::string& device)> on_task;
  // The devices run in this process and cannot vanish unnoticed (the
  // simulator's dispatched fleet): one not heard from stays available and
  // is never timed out (server.device_timeout_s applies to joins only).
  bool in_process_devices = false;
  // Every time the coordinator reads or waits for (deadlines, timeouts,
  // last contact); outlives the coordinator.
  const Clock* clock = &RealClock();
};

class Coordinator {
 public:
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(
      CoordinatorOptions options);
  ~Coordinator();

  // ---- driving the run
  // Runs every round; returns the summary (also written to summary.json).
  absl::StatusOr<nlohmann::json> Run();
  // Ends the run early: waiting calls return, devices are told to STOP.
  void Stop();

  // The calls devices make (for the gRPC services); lives as long as the
  // coordinator.
  DeviceGateway* devices() { return &gateway_; }
  const std::string& run_dir() const { return run_->dir(); }
  // Its Prometheus metrics (server.metrics_listen); thread-safe.
  CoordinatorMetrics& metrics() const { return *state_.metrics; }
  // Largest message a peer may send (MaxMessageBytes for this run).
  int64_t max_message_bytes() const { return max_message_bytes_; }

 private:
  explicit Coordinator(CoordinatorOptions options);
  absl::Status Init();
  // The test set the evaluator uses, and sample_cap_ from the training set.
  absl::StatusOr<std::shared_ptr<const data::Dataset>> LoadData();

  // ---- Run()'s steps (coordinator_run.cc)
  absl::Status WaitForDevices();
  // Writes the final and the best accepted model for PyTorch into the run
  // directory (ml/export.h) and their file names into summary["export"].
  absl::Status ExportModels(nlohmann::json* summary);
  // Exports the models, then writes summary.json and report.html.
  absl::Status WriteOutputs(nlohmann::json* summary);
  absl::Status RunRound(int64_t round);
  absl::StatusOr<bool> RunAttempt(int64_t round, int attempt,
                                  std::string* why_failed);
  // The sampled devices; *target: how many of them to aggregate under
  // over-selection (0: all).
  absl::StatusOr<std::vector<std::string>> SampleForAttempt(int64_t round,
                                                            int attempt,
                                                            int* target);
  void OpenRound(int64_t round, int attempt,
                 const std::vector<std::string>& sampled, int target);
  // Over-selection: leaves the updates beyond the round's target out.
  void LeaveOutSurplusLocked(RoundState& round)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // Copies the strategy's clip scales into the aggregated round's records.
  void RecordClippingLocked(RoundState& round)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  void AwaitRoundEnd();
  // Aggregates the round, evaluates and records it; whether it aggregated.
  absl::StatusOr<bool> CloseAndRecord(int64_t round, int attempt,
                                      std::string* why_failed);
  void DropSilentDevicesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // The round's aggregate; null when it failed (why in *why_failed).
  std::shared_ptr<const Weights> CloseAndAggregate(std::string* why_failed);
  // Installs `aggregate` if the AggregateCheck accepts it (else rolls back:
  // the global model stays), writes the checkpoint and the round's records.
  absl::Status EvaluateAndRecord(int64_t round, int attempt,
                                 std::shared_ptr<const Weights> aggregate,
                                 const std::string& why_failed);
  nlohmann::json Summary(const std::string& status) const;

  // ---- buffered aggregation (coordinator_buffered.cc)
  // Opens version (round) `round`; the devices in flight go on.
  void OpenVersion(int64_t round, int attempt);
  // Takes reports until strategy.buffer_size are accepted, starting devices
  // as others finish; gives up after server.round_deadline_s without one.
  void FillBuffer();
  // Starts idle devices until strategy.concurrency are in flight.
  void StartFlightsLocked(RoundState& round)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // Takes the next report, if one may be taken.
  bool TakeReportLocked(RoundState& round)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // Rebases and weighs `flight`'s update and hands it to the strategy.
  void AdmitReportLocked(RoundState& round, Flight flight, DeviceRecord* d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  void DropSilentFlightsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);

  // ---- checkpoints (coordinator_resume.cc)
  // Everything a resumed run needs besides the weights: the strategy's,
  // policy's and auxiliary classifiers' state, the tallies and the virtual
  // clock.
  RunState SaveRunState() const;
  // Takes a checkpoint's state back into this fresh coordinator.
  absl::Status RestoreRunStateLocked(const RunState& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);

  double Now() const { return clock_.NowSeconds(); }

  const CoordinatorOptions options_;
  const Config& config_;
  const Clock& clock_;
  std::unique_ptr<RunWriter> run_;
  std::unique_ptr<Evaluator> evaluator_;  // Run()'s thread only
  // The accepted model of the best test accuracy so far and that accuracy;
  // Run()'s thread only. Exported at the end as best.*.
  std::shared_ptr<const Weights> best_;
  double best_accuracy_ = -1;
  std::unique_ptr<AggregateCheck> check_;    // Run()'s thread only
  std::unique_ptr<RoundRecorder> recorder_;  // Run()'s thread only
  int64_t max_message_bytes_ = 0;
  double start_s_ = 0;
  int64_t first_round_ = 1;  // > 1 when resuming
  // Buffered aggregation, Run()'s thread only: the run's virtual clock (the
  // last report taken), devices in flight wanted, devices not to start
  // until a report moves the clock, and the draws of devices so far.
  double virtual_now_s_ = 0;
  int concurrency_ = 0;
  std::set<std::string> resting_;
  uint64_t picks_ = 0;
  CoordinatorState state_;
  DeviceGateway gateway_{&state_};
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_COORDINATOR_H_
