// Client-side DP clipping: with training.clipping_norm set, the pushed
// update lies within that L2 distance of the global weights; without it, the
// same large update is pushed as trained.
#include "gtest/gtest.h"
#include "tests/client/agent_test_util.h"
#include "tests/client/fake_coordinator.h"

namespace tandem::client {
namespace {

constexpr double kLearningRate = 0.5;  // large steps: a large update
constexpr double kClippingNorm = 0.25;

// The update the agent pushes for one full-model round.
Weights PushedUpdate(const Weights& global, double clipping_norm) {
  auto fake = FakeCoordinator::Start();
  FakeCoordinator::Task task = TrainTask(1, global, kTestStages, kLearningRate);
  task.header.mutable_training()->set_clipping_norm(clipping_norm);
  fake->AddTask(std::move(task));
  DeviceAgent agent(TestAgentOptions("dev-dp"), fake->Channel());
  EXPECT_TRUE(agent.Run().ok());
  const std::vector<FakeCoordinator::Push> pushes = fake->pushes();
  EXPECT_EQ(pushes.size(), 1u);
  return pushes.empty() ? Weights() : pushes[0].weights;
}

TEST(DpClippingTest, ClippedUpdateStaysWithinTheNorm) {
  const Weights global = TestGlobalWeights();
  const Weights pushed = PushedUpdate(global, kClippingNorm);
  ASSERT_EQ(pushed.layout(), global.layout());
  const double norm = UpdateNorm(global, pushed);
  EXPECT_LE(norm, kClippingNorm * (1 + 1e-5));
  EXPECT_GT(norm, kClippingNorm * 0.99);  // it was clipped, not small
}

TEST(DpClippingTest, WithoutANormTheLargeUpdateIsPushedUnclipped) {
  const Weights global = TestGlobalWeights();
  const Weights pushed = PushedUpdate(global, 0);
  ASSERT_EQ(pushed.layout(), global.layout());
  EXPECT_GT(UpdateNorm(global, pushed), 4 * kClippingNorm);
}

}  // namespace
}  // namespace tandem::client
