// A scripted coordinator for device-agent tests: a gRPC server on 127.0.0.1,
// port 0, implementing v1::Coordinator and v1::SplitTraining. Each test sets
// what it does (fail the first calls, hand out given tasks, hold a poll) and
// reads back what the agent sent.
//
//   auto fake = FakeCoordinator::Start();
//   fake->FailFirstCalls(3);
//   fake->AddTask({header, weights});
//   DeviceAgent agent(options, fake->Channel());
//   agent.Run();
//   EXPECT_EQ(fake->pushes().size(), 1);
//
// Thread-safe.
#ifndef TANDEM_TESTS_CLIENT_FAKE_COORDINATOR_H_
#define TANDEM_TESTS_CLIENT_FAKE_COORDINATOR_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/weights.h"
#include "grpcpp/grpcpp.h"
#include "proto/tandem.grpc.pb.h"

namespace tandem::client {

class FakeCoordinator final : public v1::Coordinator::Service,
                              public v1::SplitTraining::Service {
 public:
  // A task as PullTask sends it: the header (its layout is filled from the
  // weights), then the weights in chunks.
  struct Task {
    v1::TaskHeader header;
    Weights weights;
  };
  // An update as PushUpdate received it.
  struct Push {
    v1::UpdateHeader header;
    Weights weights;
  };

  static std::unique_ptr<FakeCoordinator> Start();
  ~FakeCoordinator() override;

  // A loopback TCP channel to this server.
  std::shared_ptr<grpc::Channel> Channel() const;

  // --- script
  // The first `n` calls, of any method, fail with UNAVAILABLE.
  void FailFirstCalls(int n);
  // Every call fails with UNAVAILABLE (a coordinator that never answers).
  void FailAllCalls();
  // What Join answers (default: session "fake-session", model "mlp",
  // heartbeats every second).
  void SetJoinReply(const v1::JoinReply& reply);
  // PullTask hands out the added tasks in order; then STOP, or with
  // HoldWhenIdle(true) holds the poll until the caller cancels it.
  void AddTask(Task task);
  void HoldWhenIdle(bool hold);
  // The first `n` joins are refused with ALREADY_EXISTS (the id's old
  // session is still live).
  void RefuseFirstJoins(int n);
  // The first `n` pulls answer NOT_FOUND (the session is no longer known).
  void ForgetFirstPulls(int n);

  // --- records
  // When each call of `method` ("Join", "PullTask", ...) arrived, failed ones
  // included, in seconds of the monotonic clock.
  std::vector<double> CallTimes(const std::string& method) const;
  std::vector<v1::JoinRequest> joins() const;  // the admitted ones
  std::vector<v1::PullTaskRequest> pulls() const;
  std::vector<Push> pushes() const;
  std::vector<v1::HeartbeatRequest> heartbeats() const;
  std::vector<v1::LeaveRequest> leaves() const;
  std::vector<v1::SplitOpen> split_opens() const;
  // Waits until `n` PullTask calls got past the scripted failures; false if
  // `timeout` passed first.
  bool AwaitPulls(int n, absl::Duration timeout);

  // --- v1::Coordinator
  grpc::Status Join(grpc::ServerContext* ctx, const v1::JoinRequest* req,
                    v1::JoinReply* reply) override;
  grpc::Status PullTask(grpc::ServerContext* ctx,
                        const v1::PullTaskRequest* req,
                        grpc::ServerWriter<v1::TaskChunk>* writer) override;
  grpc::Status PushUpdate(grpc::ServerContext* ctx,
                          grpc::ServerReader<v1::UpdateChunk>* reader,
                          v1::PushUpdateReply* reply) override;
  grpc::Status Heartbeat(grpc::ServerContext* ctx,
                         const v1::HeartbeatRequest* req,
                         v1::HeartbeatReply* reply) override;
  grpc::Status Leave(grpc::ServerContext* ctx, const v1::LeaveRequest* req,
                     v1::LeaveReply* reply) override;
  // --- v1::SplitTraining: records the stream's SplitOpen, then fails it
  // (the fake trains no tail).
  grpc::Status Train(grpc::ServerContext* ctx,
                     grpc::ServerReaderWriter<v1::SplitReply, v1::SplitRequest>*
                         stream) override;

 private:
  FakeCoordinator();
  // Records the call; false when the script says it fails.
  bool Admit(const std::string& method);
  // Waits for the caller to cancel, or for shutdown.
  void Hold(grpc::ServerContext* ctx);
  static grpc::Status Unavailable();

  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  int fail_first_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_all_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  bool hold_when_idle_ ABSL_GUARDED_BY(mu_) = false;
  int refuse_joins_ ABSL_GUARDED_BY(mu_) = 0;
  int forget_pulls_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  v1::JoinReply join_reply_ ABSL_GUARDED_BY(mu_);
  std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<double>> call_times_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::JoinRequest> joins_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::PullTaskRequest> pulls_ ABSL_GUARDED_BY(mu_);
  std::vector<Push> pushes_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::HeartbeatRequest> heartbeats_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::LeaveRequest> leaves_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::SplitOpen> split_opens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tandem::client

#endif  // TANDEM_TESTS_CLIENT_FAKE_COORDINATOR_H_
