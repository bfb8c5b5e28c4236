// The coordinator's round state machine, independent of gRPC.
//
// Run() drives rounds: wait for devices, sample, open a round with a task,
// collect updates until every sampled device reported or abandoned, or the
// deadline passed; aggregate if at least strategy.min_updates arrived, else
// record the failed attempt and retry; evaluate, write metrics and a
// checkpoint. gRPC handlers (coordinator_service.cc, split_service.cc) call
// the device-facing methods concurrently.
//
// The state machine calls parts with one job each, all guarded by its
// mutex: the FleetRegistry (who joined), UpdateAdmission (which updates may
// enter the aggregate), the OffloadPlanner (where each device trains), the
// TailRegistry (the offloading devices' tails) and the RoundRecorder (typed
// records, written once as metrics).
//
// Thread-safe.
#ifndef TANDEM_SERVER_COORDINATOR_H_
#define TANDEM_SERVER_COORDINATOR_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/run_writer.h"
#include "core/weights.h"
#include "ml/data/dataset.h"
#include "ml/profile.h"
#include "nlohmann/json.hpp"
#include "proto/tandem.pb.h"
#include "server/aux_store.h"
#include "server/evaluator.h"
#include "server/fleet_registry.h"
#include "server/offload_planner.h"
#include "server/round_recorder.h"
#include "server/round_state.h"
#include "server/sample_cap.h"
#include "server/tail_registry.h"
#include "server/tail_session.h"
#include "server/task_builder.h"
#include "server/update_admission.h"
#include "strategies/strategy.h"

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
  // Called after every round attempt with its metrics line (for progress).
  std::function<void(const nlohmann::json&)> on_round;
  // Every time the coordinator reads or waits for (deadlines, timeouts,
  // last contact); outlives the coordinator.
  const Clock* clock = &RealClock();
};

class Coordinator {
 public:
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(
      CoordinatorOptions options);
  ~Coordinator();

  // ---- called by gRPC handlers, concurrently
  // Every call after Join must carry the device's current session; one
  // without it is refused and changes nothing.
  //
  // Issues a new session. A device id with a live session is refused
  // (ALREADY_EXISTS) unless the request resumes that session.
  absl::StatusOr<v1::JoinReply> Join(const v1::JoinRequest& request);
  // Blocks until this device has a task, the run ends, or `timeout`.
  absl::StatusOr<TaskAssignment> WaitForTask(const v1::PullTaskRequest& request,
                                             absl::Duration timeout);
  // Cheap checks before the weights are read: device, session, round, layout.
  absl::Status CheckUpdateHeader(const v1::UpdateHeader& header);
  // Validates and aggregates one device's update. A rejection is counted
  // with its reason and never reaches the aggregate.
  absl::Status SubmitUpdate(const v1::UpdateHeader& header, Weights weights);
  // Counts a malformed update stream (bad chunks) against the device.
  void CountMalformedUpdate(const std::string& device_id,
                            const std::string& reason);
  // Split training: starts the tail of an offloading device for the open
  // round, after checking device, session, round and split point.
  absl::StatusOr<std::shared_ptr<TailSession>> OpenTail(
      const v1::SplitOpen& open);
  // The tail's stream ended: complete (kept for the device's head update) or
  // broken (freed; the device's update for the round will be refused).
  void EndTail(const std::shared_ptr<TailSession>& tail, bool complete,
               const std::string& why);
  absl::StatusOr<v1::HeartbeatReply> Heartbeat(
      const v1::HeartbeatRequest& request);
  absl::Status Leave(const v1::LeaveRequest& request);

  // ---- driving the run
  // Runs every round; returns the summary (also written to summary.json).
  absl::StatusOr<nlohmann::json> Run();
  // Ends the run early: waiting calls return, devices are told to STOP.
  void Stop();

  const std::string& run_dir() const { return run_->dir(); }
  // Largest message a peer may send (MaxMessageBytes for this run).
  int64_t max_message_bytes() const { return max_message_bytes_; }

 private:
  explicit Coordinator(CoordinatorOptions options);
  absl::Status Init();
  // The test set the evaluator uses, and sample_cap_ from the training set.
  absl::StatusOr<std::shared_ptr<const data::Dataset>> LoadData();

  // ---- Run()'s steps (coordinator_run.cc)
  absl::Status WaitForDevices();
  absl::Status RunRound(int64_t round);
  absl::StatusOr<bool> RunAttempt(int64_t round, int attempt,
                                  std::string* why_failed);
  absl::StatusOr<std::vector<std::string>> SampleForAttempt(int64_t round,
                                                            int attempt);
  void OpenRound(int64_t round, int attempt,
                 const std::vector<std::string>& sampled);
  void AwaitRoundEnd();
  void DropSilentDevicesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CloseAndAggregate(std::string* why_failed);
  absl::Status EvaluateAndRecord(int64_t round, int attempt, bool aggregated,
                                 const std::string& why_failed);
  RoundRecord RoundRecordLocked(int64_t round, int attempt) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  nlohmann::json Summary(const std::string& status) const;

  // ---- handlers' helpers (coordinator.cc)
  AdmissionContext AdmissionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `d`: the sender's record, as admission found it.
  absl::StatusOr<DeviceRoundRecord> AcceptLocked(const v1::UpdateHeader& h,
                                                 DeviceRecord* d,
                                                 Weights weights)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  double Now() const { return clock_.NowSeconds(); }

  const CoordinatorOptions options_;
  const Config& config_;
  const Clock& clock_;
  std::unique_ptr<RunWriter> run_;
  std::unique_ptr<Evaluator> evaluator_;     // Run()'s thread only
  std::unique_ptr<RoundRecorder> recorder_;  // Run()'s thread only
  TailSettings tail_settings_;               // set by Init(), then read-only
  SampleCap sample_cap_;                     // set by Init(), then read-only
  int stages_ = 1;
  int64_t max_message_bytes_ = 0;
  double start_s_ = 0;
  int64_t first_round_ = 1;  // > 1 when resuming

  mutable absl::Mutex mu_;
  FleetRegistry registry_ ABSL_GUARDED_BY(mu_);
  UpdateAdmission admission_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<OffloadPlanner> planner_ ABSL_GUARDED_BY(mu_);
  TailRegistry tails_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Strategy> strategy_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<AuxStore> aux_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<RoundState> round_ ABSL_GUARDED_BY(mu_);
  // Replaced only by Run()'s thread, under mu_.
  std::shared_ptr<const Weights> global_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_COORDINATOR_H_
