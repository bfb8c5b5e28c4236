// The PPO agent learns a known best action on a small synthetic environment
// (a contextual bandit: two groups, four split points, the best split point
// depends on the group's state), within a bounded number of updates; save
// and load give identical actions; a restored checkpoint state acts and
// learns as the original.
#include "offload/ppo_agent.h"

#include <random>

#include "gtest/gtest.h"

namespace tandem::offload {
namespace {

// State per group: 1 = slow device (best action 3: offload most), 0 = fast
// (best action 0). Reward: minus the distance to the best action.
std::vector<int> Best(const std::vector<float>& state) {
  return {state[0] > 0.5f ? 3 : 0, state[1] > 0.5f ? 3 : 0};
}

double Reward(const std::vector<float>& state, const std::vector<int>& a) {
  std::vector<int> best = Best(state);
  return -std::abs(a[0] - best[0]) - std::abs(a[1] - best[1]);
}

PpoOptions Bandit() {
  PpoOptions o;
  o.state_dim = 2;
  o.groups = 2;
  o.actions = 4;
  o.hidden = 32;
  o.gamma = 0;  // each step stands alone
  o.seed = 5;
  return o;
}

TEST(PpoAgentTest, LearnsTheBestActionOfASyntheticEnvironment) {
  auto agent = PpoAgent::Create(Bandit()).value();
  std::mt19937_64 rng(9);
  int updates = 0;
  auto solved = [&] {
    for (float a : {0.f, 1.f}) {
      for (float b : {0.f, 1.f}) {
        std::vector<float> s = {a, b};
        if (agent->Act(s, true).value().actions != Best(s)) return false;
      }
    }
    return true;
  };
  for (; updates < 200 && !solved(); ++updates) {
    for (int i = 0; i < 32; ++i) {
      std::vector<float> s = {static_cast<float>(rng() % 2),
                              static_cast<float>(rng() % 2)};
      auto step = agent->Act(s, false).value();
      agent->Record(step, Reward(s, step.actions));
    }
    ASSERT_TRUE(agent->Update().ok());
  }
  EXPECT_TRUE(solved()) << "after " << updates << " updates";
  EXPECT_GT(updates, 0);  // the untrained agent does not already solve it
  EXPECT_LT(updates, 200);
  std::printf("solved after %d PPO updates\n", updates);
}

TEST(PpoAgentTest, SaveAndLoadGiveIdenticalActions) {
  auto agent = PpoAgent::Create(Bandit()).value();
  const std::string path = ::testing::TempDir() + "/ppo_policy.bin";
  ASSERT_TRUE(agent->Save(path).ok());
  auto loaded = PpoAgent::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (float a : {0.f, 0.3f, 1.f}) {
    std::vector<float> s = {a, 1 - a};
    auto x = agent->Act(s, true).value();
    auto y = (*loaded)->Act(s, true).value();
    EXPECT_EQ(x.actions, y.actions);
    EXPECT_DOUBLE_EQ(x.log_prob, y.log_prob);
    EXPECT_DOUBLE_EQ(x.value, y.value);
  }
  EXPECT_FALSE(PpoAgent::Load(path + ".missing").ok());
}

// Records a few steps of the bandit and updates once, leaving `recorded`
// more steps recorded.
void Train(PpoAgent& agent, std::mt19937_64& rng, int recorded) {
  for (int i = 0; i < 8 + recorded; ++i) {
    std::vector<float> s = {static_cast<float>(rng() % 2),
                            static_cast<float>(rng() % 2)};
    auto step = agent.Act(s, false).value();
    agent.Record(step, Reward(s, step.actions));
    if (i == 7) {
      ASSERT_TRUE(agent.Update().ok());
    }
  }
}

TEST(PpoAgentTest, RestoredStateActsAndLearnsAsTheOriginal) {
  auto original = PpoAgent::Create(Bandit()).value();
  std::mt19937_64 rng(3);
  Train(*original, rng, 3);
  RunState state;
  original->SaveState("agent", &state);
  auto restored = PpoAgent::Create(Bandit()).value();
  ASSERT_TRUE(restored->LoadState("agent", state).ok());
  EXPECT_EQ(restored->recorded(), 3);
  // Sampling (the RNG), the next update (Adam, the recorded steps) and the
  // actions after it are the original's.
  std::mt19937_64 rng_a(4), rng_b(4);
  Train(*original, rng_a, 0);
  Train(*restored, rng_b, 0);
  for (float a : {0.f, 0.4f, 1.f}) {
    auto x = original->Act({a, 1 - a}, false).value();
    auto y = restored->Act({a, 1 - a}, false).value();
    EXPECT_EQ(x.actions, y.actions);
    EXPECT_EQ(x.log_prob, y.log_prob);
    EXPECT_EQ(x.value, y.value);
  }
}

TEST(PpoAgentTest, RefusesStateThatDoesNotFit) {
  auto original = PpoAgent::Create(Bandit()).value();
  std::mt19937_64 rng(3);
  Train(*original, rng, 2);
  RunState state;
  original->SaveState("agent", &state);
  auto target = PpoAgent::Create(Bandit()).value();
  RunState shorter = state;
  shorter.arrays["agent.0.w"].pop_back();
  EXPECT_FALSE(target->LoadState("agent", shorter).ok());
  RunState no_rng = state;
  no_rng.values["agent"]["rng"] = 7;
  EXPECT_FALSE(target->LoadState("agent", no_rng).ok());
  EXPECT_FALSE(target->LoadState("other", state).ok());
  EXPECT_EQ(target->recorded(), 0);  // nothing changed
}

TEST(PpoAgentTest, RejectsWrongStateSize) {
  auto agent = PpoAgent::Create(Bandit()).value();
  EXPECT_FALSE(agent->Act({1.f}, true).ok());
}

}  // namespace
}  // namespace tandem::offload
