// The device agent's connection to its coordinator: it reconnects with
// growing, bounded delays; gives up after give_up_after without contact, not
// sooner; and on RequestStop() (SIGTERM) leaves with its session and exits
// cleanly.
#include <thread>

#include "core/clock.h"
#include "gtest/gtest.h"
#include "tests/client/agent_test_util.h"
#include "tests/client/fake_coordinator.h"

namespace tandem::client {
namespace {

TEST(ConnectionTest, RetriesWithGrowingBoundedDelaysThenJoinsAndTrains) {
  auto fake = FakeCoordinator::Start();
  ASSERT_NE(fake, nullptr);
  constexpr int kFailures = 6;
  fake->FailFirstCalls(kFailures);
  fake->AddTask(TrainTask(1, TestGlobalWeights(), kTestStages));
  DeviceAgentOptions o = TestAgentOptions("dev-backoff");
  o.initial_backoff = absl::Milliseconds(40);
  o.max_backoff = absl::Milliseconds(300);
  DeviceAgent agent(std::move(o), fake->Channel());

  ASSERT_TRUE(agent.Run().ok());

  // Nominal delays 40, 80, 160, 300, 300, 300 ms, each x [0.5, 1.5) but
  // never above 300 ms: two steps apart a delay is at least a third longer.
  const std::vector<double> joins = fake->CallTimes("Join");
  ASSERT_EQ(joins.size(), kFailures + 1u);
  std::vector<double> gaps;
  for (size_t i = 1; i < joins.size(); ++i) {
    gaps.push_back(joins[i] - joins[i - 1]);
  }
  EXPECT_GT(gaps[2], gaps[0]);
  EXPECT_GT(gaps[3], gaps[1]);
  EXPECT_GT(gaps[5], 2 * gaps[0]);
  for (double gap : gaps) {
    EXPECT_GE(gap, 0.019);
    EXPECT_LT(gap, 0.300 + 0.060) << "a delay above max_backoff";
  }
  // Then it joined and trained the task.
  EXPECT_EQ(agent.rounds_trained(), 1);
  ASSERT_EQ(fake->pushes().size(), 1u);
  EXPECT_EQ(fake->pushes()[0].header.round(), 1);
  EXPECT_EQ(fake->pushes()[0].header.session_id(), "fake-session");
}

TEST(ConnectionTest, GivesUpAfterGiveUpAfterNotSooner) {
  auto fake = FakeCoordinator::Start();
  ASSERT_NE(fake, nullptr);
  fake->FailAllCalls();
  DeviceAgentOptions o = TestAgentOptions("dev-give-up");
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(100);
  o.give_up_after = absl::Seconds(1);
  DeviceAgent agent(std::move(o), fake->Channel());

  const double t0 = MonotonicSeconds();
  const absl::Status s = agent.Run();
  const double elapsed = MonotonicSeconds() - t0;

  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_GE(elapsed, 1.0);
  EXPECT_LT(elapsed, 1.0 + 1.0);  // the last delay and call, with margin
  EXPECT_GE(fake->CallTimes("Join").size(), 5u);  // it kept trying
  EXPECT_EQ(agent.rounds_trained(), 0);
}

TEST(ConnectionTest, RequestStopLeavesWithTheSessionAndReturnsOk) {
  auto fake = FakeCoordinator::Start();
  ASSERT_NE(fake, nullptr);
  v1::JoinReply join;
  join.set_session_id("session-42");
  join.set_model(kTestModel);
  join.set_heartbeat_interval_ms(1000);
  fake->SetJoinReply(join);
  fake->HoldWhenIdle(true);  // the agent long-polls until cancelled
  DeviceAgent agent(TestAgentOptions("dev-stop"), fake->Channel());

  absl::Status s = absl::UnknownError("not run");
  std::thread run([&] { s = agent.Run(); });
  ASSERT_TRUE(fake->AwaitPulls(1, absl::Seconds(20)));
  agent.RequestStop();  // what client/main.cc does on SIGTERM
  run.join();

  EXPECT_TRUE(s.ok()) << s;
  const std::vector<v1::LeaveRequest> leaves = fake->leaves();
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].device_id(), "dev-stop");
  EXPECT_EQ(leaves[0].session_id(), "session-42");
  EXPECT_EQ(leaves[0].reason(), "stopped");
}

// Heartbeats of an agent idle in a held long-poll for 2.5 s, heartbeat
// period 20 ms after the join (the first comes after the 2 s default).
size_t IdleHeartbeats(bool idle_heartbeats) {
  auto fake = FakeCoordinator::Start();
  EXPECT_NE(fake, nullptr);
  if (fake == nullptr) return 0;
  v1::JoinReply join;
  join.set_session_id("s");
  join.set_model(kTestModel);
  join.set_heartbeat_interval_ms(20);
  fake->SetJoinReply(join);
  fake->HoldWhenIdle(true);
  DeviceAgentOptions o = TestAgentOptions("dev-idle");
  o.idle_heartbeats = idle_heartbeats;
  DeviceAgent agent(std::move(o), fake->Channel());
  std::thread run([&] { agent.Run().IgnoreError(); });
  EXPECT_TRUE(fake->AwaitPulls(1, absl::Seconds(20)));
  absl::SleepFor(absl::Milliseconds(2500));
  agent.RequestStop();
  run.join();
  return fake->heartbeats().size();
}

TEST(ConnectionTest, IdleHeartbeatsCanBeLeftToTheLongPolls) {
  EXPECT_GT(IdleHeartbeats(true), 5u);
  EXPECT_EQ(IdleHeartbeats(false), 0u);
}

TEST(ConnectionTest, RejoinPresentsThePreviousSession) {
  auto fake = FakeCoordinator::Start();
  ASSERT_NE(fake, nullptr);
  fake->ForgetFirstPulls(1);  // as if the session was lost
  DeviceAgent agent(TestAgentOptions("dev-rejoin"), fake->Channel());
  const absl::Status s = agent.Run();  // rejoins, then the fake says STOP
  EXPECT_TRUE(s.ok()) << s;
  const std::vector<v1::JoinRequest> joins = fake->joins();
  ASSERT_EQ(joins.size(), 2u);
  EXPECT_EQ(joins[0].resume_session(), "");
  EXPECT_EQ(joins[1].resume_session(), "fake-session");
}

TEST(ConnectionTest, JoinRefusedForALiveSessionIsRetried) {
  // A restarted client: the coordinator still holds its id's old session
  // until it expires.
  auto fake = FakeCoordinator::Start();
  ASSERT_NE(fake, nullptr);
  fake->RefuseFirstJoins(2);
  DeviceAgent agent(TestAgentOptions("dev-restarted"), fake->Channel());
  const absl::Status s = agent.Run();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(fake->joins().size(), 3u);
  EXPECT_EQ(fake->pulls().size(), 1u);
}

}  // namespace
}  // namespace tandem::client
