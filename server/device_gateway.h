// The coordinator's device-facing calls, independent of gRPC: join, task
// long-poll, update admission, split-training tails, heartbeats, leave.
// gRPC handlers (coordinator_service.cc, split_service.cc) call them
// concurrently while the Coordinator's loop runs rounds over the same
// CoordinatorState.
//
// Every call after Join must carry the device's current session; one
// without it is refused and changes nothing.
//
// Thread-safe.
#ifndef TANDEM_SERVER_DEVICE_GATEWAY_H_
#define TANDEM_SERVER_DEVICE_GATEWAY_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/weights.h"
#include "proto/tandem.pb.h"
#include "server/coordinator_state.h"
#include "server/round_records.h"
#include "server/tail_session.h"
#include "server/task_builder.h"
#include "server/update_admission.h"

namespace tandem::server {

// An accepted update's record and the update as the strategy takes it.
DeviceRoundRecord NewRecord(const v1::UpdateHeader& h, const DeviceRecord& d,
                            int64_t round, int split);
ClientUpdate NewUpdate(const v1::UpdateHeader& h, Weights weights);

class DeviceGateway {
 public:
  // `state` outlives the gateway.
  explicit DeviceGateway(CoordinatorState* state) : state_(*state) {}

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
  // server.tokens_file changed: `next` replaces the tokens, and every device
  // whose token it no longer accepts is revoked (returned): its session
  // ends (its calls and long-polls fail, a rejoin needs a valid token), and
  // the open round drops it if it had not reported.
  std::vector<std::string> ReplaceTokens(DeviceTokens next);
  // The run's TorchScript file for an authorised device (token checked,
  // rate-limited with joins): NOT_FOUND for a zoo model, FAILED_PRECONDITION
  // when the file changed since the coordinator started.
  struct ModelFileBytes {
    std::string bytes;
    std::string sha256;
  };
  absl::StatusOr<ModelFileBytes> ModelFile(const v1::ModelFileRequest& request);

  // For the gRPC services' byte counts; thread-safe.
  CoordinatorMetrics& metrics() { return *state_.metrics; }

 private:
  // A valid device id with the right token (when tokens are on); `what`
  // names the call in errors and the log.
  absl::Status CheckIdentity(const std::string& what,
                             const std::string& device_id,
                             const std::string& token) const;
  // When the run's model is a TorchScript file, a join must carry its
  // SHA-256 (FAILED_PRECONDITION naming both hashes otherwise).
  absl::Status CheckModelFile(const v1::JoinRequest& request) const;
  // Ends `id`'s session, as a Leave would; `why` is logged.
  void EndSessionLocked(const std::string& id, const std::string& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // `id`'s data partition: its index among the fleet's ids, the one it was
  // given before, or the first no device holds (FAILED_PRECONDITION when
  // none is left, unless data.share_partitions).
  absl::StatusOr<int> PartitionForLocked(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  AdmissionContext AdmissionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // Whether `id` has a task to pull: sampled and pending in the open round,
  // or, buffered, its flight assigned or training (a repeated pull gets the
  // same task again).
  bool HasTaskLocked(const std::string& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // Refuses (counted, its round ended) an update that took longer than
  // server.round_deadline_s.
  absl::Status RefuseLateLocked(const DeviceRoundRecord& record,
                                DeviceRecord* d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);

  // ---- buffered aggregation (device_gateway_flights.cc)
  // `id`'s task: its flight's round, model and start time.
  TaskAssignment FlightTaskLocked(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // Keeps the admitted update in its flight for the Coordinator's loop.
  absl::Status ArriveLocked(const v1::UpdateHeader& h, DeviceRecord* d,
                            Weights weights)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // A TRAINING heartbeat's least round time (virtual time only), bounded
  // by server.round_deadline_s; others are ignored.
  void AnnounceFlightLocked(const v1::HeartbeatRequest& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  // `d` abandoned its task of `round`.
  void AbandonFlightLocked(DeviceRecord* d, int64_t round,
                           const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);

  // `d`: the sender's record, as admission found it.
  absl::StatusOr<DeviceRoundRecord> AcceptLocked(const v1::UpdateHeader& h,
                                                 DeviceRecord* d,
                                                 Weights weights)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu);
  double Now() const { return state_.Now(); }

  CoordinatorState& state_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_DEVICE_GATEWAY_H_
