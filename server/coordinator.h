// The coordinator's round state machine, independent of gRPC.
//
// Run() drives rounds: wait for devices, sample, open a round with a task,
// collect updates until every sampled device reported or abandoned, or the
// deadline passed; aggregate if at least strategy.min_updates arrived, else
// record the failed attempt and retry; evaluate, write metrics and a
// checkpoint. gRPC handlers (coordinator_service.cc) call Join, WaitForTask,
// SubmitUpdate, Heartbeat and Leave concurrently.
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
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/config.h"
#include "core/run_writer.h"
#include "core/weights.h"
#include "ml/data/dataset.h"
#include "ml/model.h"
#include "nlohmann/json.hpp"
#include "offload/split_policy.h"
#include "proto/tandem.pb.h"
#include "server/aux_store.h"
#include "server/fleet_registry.h"
#include "server/tail_session.h"
#include "strategies/strategy.h"

namespace tandem::server {

struct RoundState;

struct CoordinatorOptions {
  Config config;
  std::string run_name = "run";  // suffix of the run directory
  // Test set; loaded from config.data when null.
  std::shared_ptr<const data::Dataset> test_set;
  // Simulation with fleet.compute_time "profiled": tail compute time is
  // examples x this profile's stage seconds; also the policies' profile.
  std::shared_ptr<const ml::ModelProfile> compute_profile;
  // Called after every round attempt with its metrics line (for progress).
  std::function<void(const nlohmann::json&)> on_round;
};

// What a device gets from WaitForTask.
struct TaskAssignment {
  v1::TaskHeader header;                   // kind WAIT, TRAIN or STOP
  std::shared_ptr<const Weights> weights;  // TRAIN only
  // Local loss: the auxiliary classifier, copied into the header on send.
  std::shared_ptr<const std::vector<float>> aux;
};

class Coordinator {
 public:
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(
      CoordinatorOptions options);
  ~Coordinator();

  // ---- called by gRPC handlers, concurrently
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
  // Largest message a peer may send: weight chunks (1 MiB) or one batch of
  // activations at the widest cut of this run's model, whichever is larger.
  int64_t max_message_bytes() const;
  std::shared_ptr<const Weights> global() const {
    absl::MutexLock lock(&mu_);
    return global_;
  }

 private:
  explicit Coordinator(CoordinatorOptions options);

  absl::Status Init();
  absl::StatusOr<offload::PolicyContext> MakePolicyContext() const;
  // server.resume_from: the global weights and first round from a
  // checkpoint; errors name the file and what is wrong with it.
  absl::Status LoadResumeCheckpoint();
  bool LinkGuardOn() const;  // offload.link_guard with an adaptive policy
  absl::Status WaitForDevices();
  absl::Status RunRound(int64_t round);
  absl::StatusOr<bool> RunAttempt(int64_t round, int attempt,
                                  std::string* why_failed);
  absl::StatusOr<std::vector<std::string>> SampleForAttempt(int64_t round,
                                                            int attempt);
  void OpenRound(int64_t round, int attempt,
                 const std::vector<std::string>& sampled);
  void AwaitRoundEnd();
  absl::StatusOr<bool> CloseAndAggregate(std::string* why_failed);
  absl::Status EvaluateAndRecord(int64_t round, bool aggregated,
                                 const std::string& why_failed);
  nlohmann::json Summary(const std::string& status) const;
  absl::Status Reject(DeviceRecord* device, const std::string& reason,
                      absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckHeaderLocked(const v1::UpdateHeader& header,
                                 DeviceRecord** device)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool RoundDoneLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndDeviceRoundLocked(const std::string& device_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ChooseSplitsLocked(RoundState* round) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // offload.link_guard: each offloading device's break-even link throughput.
  void SetLinkGuardsLocked(RoundState* round)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int SplitOfLocked(const std::string& device) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A tail's slowdown when `offloading` tails share offload.server_cores.
  double TailShare(int offloading) const;
  bool LocalLossLocked(const std::string& device) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  offload::DeviceView ViewOfLocked(const DeviceRecord& d) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A stage timing from a PullTask request, checked, into the record.
  void RecordTimingLocked(DeviceRecord* d, const v1::StageTiming& timing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fills a TRAIN task's offload fields for device `id`.
  void FillSplitTaskLocked(const std::string& id, TaskAssignment* task)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Joins an offloading device's head update with its tail into a full
  // update; adds the tail's time to `line`.
  absl::StatusOr<Weights> JoinTailLocked(const std::string& device,
                                         const Weights& head,
                                         nlohmann::json* line)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ObserveRoundLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  double Now() const;

  const CoordinatorOptions options_;
  const Config& config_;
  std::unique_ptr<RunWriter> run_;
  std::unique_ptr<ml::Model> eval_model_;
  std::shared_ptr<const data::Dataset> test_set_;
  double start_s_ = 0;

  mutable absl::Mutex mu_;
  FleetRegistry registry_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Strategy> strategy_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<offload::SplitPolicy> policy_ ABSL_GUARDED_BY(mu_);
  offload::PolicyContext policy_context_;  // set by Init(), then read-only
  int64_t first_round_ = 1;                // > 1 when resuming
  std::unique_ptr<RoundState> round_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<AuxStore> aux_ ABSL_GUARDED_BY(mu_);
  // Replaced only by Run()'s thread, under mu_; read by handlers under mu_.
  std::shared_ptr<const Weights> global_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, int> rejections_ ABSL_GUARDED_BY(mu_);
  int failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;

  // Written by Run()'s thread only.
  int rounds_done_ = 0;
  double virtual_time_s_ = 0;
  double final_accuracy_ = 0;
  double best_accuracy_ = 0;
  double final_loss_ = 0;
  nlohmann::json target_;  // round/time when target_accuracy was reached
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_COORDINATOR_H_
