// The link guard on a deployed device: an offloading task whose download ran
// slower than the task's min_link_mbps makes the device pull the rest of the
// model (full_weights) and train it all locally; a faster download keeps the
// split; a download too small to judge is judged by the last round's
// largest transfer.
#include "client/link_judge.h"
#include "client/measured_environment.h"
#include "gtest/gtest.h"
#include "ml/split_weights.h"
#include "tests/client/agent_test_util.h"
#include "tests/client/fake_coordinator.h"

namespace tandem::client {
namespace {

constexpr int kSplit = 1;  // the head is fc1: 613 KiB, enough to measure

// Round 1 offloading at kSplit with the guard at `min_link_mbps`; with
// `tail`, a second task carries the tail for a full_weights pull.
std::unique_ptr<FakeCoordinator> StartWithGuard(const Weights& global,
                                                double min_link_mbps,
                                                bool tail) {
  auto fake = FakeCoordinator::Start();
  FakeCoordinator::Task head =
      TrainTask(1, ml::SliceStages(global, 0, kSplit), kSplit);
  head.header.set_min_link_mbps(min_link_mbps);
  fake->AddTask(std::move(head));
  if (tail) {
    fake->AddTask(
        TrainTask(1, ml::SliceStages(global, kSplit, kTestStages), kSplit));
  }
  return fake;
}

TEST(LinkGuardTest, SlowDownloadPullsTheTailAndTrainsTheWholeModel) {
  const Weights global = TestGlobalWeights();
  // No loopback download reaches 1 Pbit/s.
  auto fake = StartWithGuard(global, 1e9, /*tail=*/true);
  DeviceAgent agent(TestAgentOptions("dev-slow"), fake->Channel());

  ASSERT_TRUE(agent.Run().ok());

  const std::vector<v1::PullTaskRequest> pulls = fake->pulls();
  ASSERT_GE(pulls.size(), 2u);
  EXPECT_FALSE(pulls[0].full_weights());
  EXPECT_TRUE(pulls[1].full_weights());
  EXPECT_TRUE(fake->split_opens().empty());
  const std::vector<FakeCoordinator::Push> pushes = fake->pushes();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].weights.layout(), global.layout())
      << pushes[0].weights.layout().DescribeDifference(global.layout());
  EXPECT_GT(UpdateNorm(global, pushes[0].weights), 0);
  EXPECT_EQ(agent.rounds_trained(), 1);
}

TEST(LinkGuardTest, FastDownloadKeepsTheSplit) {
  const Weights global = TestGlobalWeights();
  // Every loopback download beats 1 kbit/s.
  auto fake = StartWithGuard(global, 1e-3, /*tail=*/false);
  DeviceAgent agent(TestAgentOptions("dev-fast"), fake->Channel());

  ASSERT_TRUE(agent.Run().ok());

  for (const v1::PullTaskRequest& pull : fake->pulls()) {
    EXPECT_FALSE(pull.full_weights());
  }
  // It opened the split stream at its split point (which the fake refuses,
  // so the round is abandoned; nothing was trained locally) and never asked
  // for the rest of the model.
  EXPECT_EQ(fake->pulls().size(), 2u);  // the task, then STOP
  const std::vector<v1::SplitOpen> opens = fake->split_opens();
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0].split_point(), kSplit);
  EXPECT_EQ(opens[0].round(), 1);
  EXPECT_TRUE(fake->pushes().empty());
}

// vgg5's head at split point 2 is about 21 KB: too small a download to
// judge a real link by.
TEST(LinkJudgeTest, ASmallDownloadIsJudgedByTheLastRoundsLargestTransfer) {
  MeasuredRoundAccounting accounting;
  const LinkSample recent =
      Larger({6'000'000, 2.0, "round 3's activation upload"},
             {21'000, 0.01, "round 3's update upload"});
  std::string on;
  const double mbps =
      JudgedMbps({21'000, 0.001, "the task download"}, recent, accounting, &on);
  EXPECT_DOUBLE_EQ(mbps, 24.0);
  EXPECT_EQ(on, "round 3's activation upload");
}

TEST(LinkJudgeTest, ALargeDownloadIsJudgedByItself) {
  MeasuredRoundAccounting accounting;
  std::string on;
  const double mbps = JudgedMbps(
      {1'000'000, 0.1, "the task download"},
      {6'000'000, 2.0, "round 3's activation upload"}, accounting, &on);
  EXPECT_DOUBLE_EQ(mbps, 80.0);
  EXPECT_EQ(on, "the task download");
}

TEST(LinkJudgeTest, NothingLargeEnoughIsNotJudged) {
  MeasuredRoundAccounting accounting;
  std::string on = "unchanged";
  EXPECT_EQ(
      JudgedMbps({21'000, 0.001, "the task download"},
                 {50'000, 0.5, "round 1's update upload"}, accounting, &on),
      0);
  EXPECT_EQ(JudgedMbps({21'000, 0.001, "the task download"}, LinkSample(),
                       accounting, &on),
            0);
  EXPECT_EQ(on, "unchanged");
}

}  // namespace
}  // namespace tandem::client
