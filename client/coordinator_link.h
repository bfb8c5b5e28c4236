// A device's connection to the coordinator: its session and every call it
// makes (join, task pull, update push, heartbeats, leave, the opening of a
// split stream). Each call has a deadline and is cancelled by the agent's
// StopSignal; joins retry with backoff until give_up_after.
//
//   CoordinatorLink link(options, channel, &stop);
//   link.Start();
//   TANDEM_RETURN_IF_ERROR(link.EnsureJoined(profile));
//   TANDEM_ASSIGN_OR_RETURN(auto task, link.PullTask(pull));
//
// Thread-safe: heartbeats run on their own thread (Start) beside the
// agent's.
#ifndef TANDEM_CLIENT_COORDINATOR_LINK_H_
#define TANDEM_CLIENT_COORDINATOR_LINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/backoff.h"
#include "client/device_agent_options.h"
#include "client/stop_signal.h"
#include "core/split_mode.h"
#include "core/weights.h"
#include "grpcpp/grpcpp.h"
#include "proto/tandem.grpc.pb.h"

namespace tandem::client {

// A task as received.
struct Task {
  v1::TaskHeader header;
  std::shared_ptr<const Weights> weights;  // TRAIN only
  int64_t bytes_down = 0;
  double download_s = 0;
  int downloads = 1;  // the link guard's second pull makes 2
};

class CoordinatorLink {
 public:
  // `options` and `stop` outlive the link.
  CoordinatorLink(const DeviceAgentOptions& options,
                  std::shared_ptr<grpc::Channel> channel, StopSignal* stop);
  ~CoordinatorLink();  // Stop()

  // Joins unless joined, retrying transient failures with backoff. After a
  // lost session the request proves this is the device that held it.
  absl::Status EnsureJoined(const v1::HardwareProfile& profile);
  // The last join's reply (model, data, heartbeat period).
  const v1::JoinReply& join_reply() const { return join_; }
  // The coordinator no longer knows the session: join again next time.
  void Forget();

  // `request`: what the device says (last round, timing, full weights);
  // the link adds its id and session.
  absl::StatusOr<std::unique_ptr<Task>> PullTask(v1::PullTaskRequest request);
  // Streams `header` and `weights`. OK also when the coordinator refused the
  // update (logged; the next round starts afresh); an error when it could
  // not be delivered.
  absl::Status Push(const Weights& weights, v1::UpdateHeader header);
  // The last push's duration (the device's measured upload).
  double last_upload_s() const { return last_upload_s_; }
  void Heartbeat(int64_t round, v1::HeartbeatRequest::State state,
                 const std::string& reason, double min_round_time_s = 0);
  void Leave(const std::string& reason);

  // Starts the give-up timer and periodic heartbeats (IDLE, or TRAINING the
  // round set here) that run until Stop() or the destructor.
  void Start();
  // Starts the give-up timer only (a dispatched device: no heartbeats).
  void StartGiveUpTimer() { last_contact_s_ = clock_.NowSeconds(); }
  void Stop();
  void SetCurrentRound(int64_t round);

  // The first message of a split stream for this device's session.
  v1::SplitOpen SplitOpenFor(int64_t round, int split, SplitMode mode);
  v1::SplitTraining::Stub* split_stub() { return split_stub_.get(); }

  // No successful call for options.give_up_after.
  bool ShouldGiveUp() const;
  // Waits NextDelay(backoff) before a retry, or until stopped; when the
  // channel is not connected, returns as soon as it connects. Waiting on
  // the channel, not sleeping, is what completes gRPC's connection attempt:
  // a client that only sleeps between fail-fast calls lets each attempt
  // time out unnoticed (measured: rejoins 5-9 s after a coordinator
  // restart instead of well under a second).
  void WaitToRetry(Backoff& backoff);

 private:
  // The next retry delay of `backoff`, at most options.restart_backoff
  // within options.restart_window of the last successful call.
  absl::Duration NextDelay(Backoff& backoff) const;
  void SendPeriodicHeartbeat();

  const DeviceAgentOptions& options_;
  const Clock& clock_;
  StopSignal& stop_;
  const std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  std::unique_ptr<v1::SplitTraining::Stub> split_stub_;
  std::thread heartbeats_;

  absl::Mutex mu_;
  std::string session_id_ ABSL_GUARDED_BY(mu_);
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
  int64_t current_round_ ABSL_GUARDED_BY(mu_) = -1;
  int heartbeat_ms_ ABSL_GUARDED_BY(mu_) = 2000;
  bool heartbeats_done_ ABSL_GUARDED_BY(mu_) = false;

  // The agent's thread only.
  v1::JoinReply join_;
  double last_contact_s_ = 0;
  double last_upload_s_ = 0;
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_COORDINATOR_LINK_H_
