// The candidate-scoring PPO agent learns a known best choice on a small
// synthetic bandit (the best candidate depends on its features and on the
// context, and the number of candidates varies); saved and loaded agents
// choose alike, bit for bit; corrupt, truncated and foreign files are
// refused naming the file; a restored checkpoint state acts and learns as
// the original.
#include "offload/ppo_agent.h"

#include <fstream>
#include <random>
#include <set>

#include "core/file_io.h"
#include "gtest/gtest.h"

namespace tandem::offload {
namespace {

// Candidate features: [cost, context flag]. With the flag set the best
// candidate is the one of least cost, else the one of most cost.
PpoOptions Bandit() {
  PpoOptions o;
  o.features = 2;
  o.context = 1;
  o.hidden = 32;
  o.learning_rate = 3e-3;
  o.seed = 5;
  return o;
}

struct Case {
  std::vector<float> context, candidates;
  int best = 0;
};

Case Draw(std::mt19937_64& rng) {
  Case c;
  const float flag = static_cast<float>(rng() % 2);
  c.context = {flag};
  const int n = 2 + static_cast<int>(rng() % 4);
  float best_cost = flag > 0 ? 1e9f : -1e9f;
  for (int i = 0; i < n; ++i) {
    const float cost = static_cast<float>(rng() % 1000) / 1000.f;
    c.candidates.insert(c.candidates.end(), {cost, flag});
    if (flag > 0 ? cost < best_cost : cost > best_cost) {
      best_cost = cost;
      c.best = i;
    }
  }
  return c;
}

double Reward(const Case& c, int choice) {
  return -std::abs(c.candidates[2 * choice] - c.candidates[2 * c.best]);
}

// The share of 200 fresh cases the agent gets right, deterministically.
double Solved(const PpoAgent& agent) {
  std::mt19937_64 rng(77);
  int right = 0;
  for (int i = 0; i < 200; ++i) {
    Case c = Draw(rng);
    right +=
        agent.Act(c.context, c.candidates, true, 0).value().choice == c.best;
  }
  return right / 200.0;
}

void Train(PpoAgent& agent, std::mt19937_64& rng, int decisions,
           bool update = true) {
  for (int i = 0; i < decisions; ++i) {
    Case c = Draw(rng);
    auto d = agent.Act(c.context, c.candidates, false, rng()).value();
    agent.Record(d, Reward(c, d.choice));
  }
  if (update) {
    ASSERT_TRUE(agent.Update().ok());
  }
}

TEST(PpoAgentTest, LearnsTheBestCandidateOfASyntheticBandit) {
  auto agent = PpoAgent::Create(Bandit()).value();
  const double before = Solved(*agent);
  std::mt19937_64 rng(9);
  int updates = 0;
  for (; updates < 150 && Solved(*agent) < 0.9; ++updates) {
    Train(*agent, rng, 128);
  }
  std::printf("right %.2f before, %.2f after %d updates\n", before,
              Solved(*agent), updates);
  EXPECT_GE(Solved(*agent), 0.9);
  EXPECT_LT(before, 0.6);  // the untrained agent does not already solve it
}

TEST(PpoAgentTest, SampledChoicesDependOnTheDrawAlone) {
  auto agent = PpoAgent::Create(Bandit()).value();
  std::mt19937_64 rng(1);
  Case c = Draw(rng);
  std::set<int> seen;
  for (uint64_t draw = 0; draw < 64; ++draw) {
    const int a = agent->Act(c.context, c.candidates, false, draw)->choice;
    EXPECT_EQ(agent->Act(c.context, c.candidates, false, draw)->choice, a);
    seen.insert(a);
  }
  EXPECT_GT(seen.size(), 1u);  // an untrained agent explores
}

TEST(PpoAgentTest, SavedFileLoadsBitIdentically) {
  auto agent = PpoAgent::Create(Bandit()).value();
  std::mt19937_64 rng(2);
  Train(*agent, rng, 64);
  const std::string path = ::testing::TempDir() + "/ppo_agent_test.policy";
  ASSERT_TRUE(agent->Save(path, {{"command", "test"}}).ok());
  nlohmann::json about;
  auto loaded = PpoAgent::Load(path, &about);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(about["command"], "test");
  const std::string again = path + ".again";
  ASSERT_TRUE((*loaded)->Save(again, about).ok());
  EXPECT_EQ(ReadFile(path).value(), ReadFile(again).value());
  for (int i = 0; i < 20; ++i) {
    Case c = Draw(rng);
    auto x = agent->Act(c.context, c.candidates, true, 0).value();
    auto y = (*loaded)->Act(c.context, c.candidates, true, 0).value();
    EXPECT_EQ(x.choice, y.choice);
    EXPECT_EQ(x.log_prob, y.log_prob);
    EXPECT_EQ(x.value, y.value);
  }
}

TEST(PpoAgentTest, CorruptTruncatedAndForeignFilesAreRefusedWithTheirPath) {
  auto agent = PpoAgent::Create(Bandit()).value();
  const std::string path = ::testing::TempDir() + "/ppo_agent_bad.policy";
  ASSERT_TRUE(agent->Save(path, {}).ok());
  const std::string bytes = ReadFile(path).value();
  auto write = [](const std::string& p, const std::string& b) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
    return p;
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x20;
  RunState other;
  other.values = {{"format", "something-else"}};
  const std::string foreign =
      ::testing::TempDir() + "/ppo_agent_foreign.policy";
  ASSERT_TRUE(
      WriteFileAtomically(foreign, EncodeCheckpoint(0, Weights(), other)).ok());
  for (const std::string& bad :
       {write(path + ".corrupt", flipped),
        write(path + ".truncated", bytes.substr(0, bytes.size() - 9)),
        write(path + ".empty", ""), foreign, path + ".missing"}) {
    auto loaded = PpoAgent::Load(bad);
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_NE(loaded.status().message().find(bad), std::string::npos)
        << loaded.status();
  }
}

TEST(PpoAgentTest, RestoredStateActsAndLearnsAsTheOriginal) {
  auto original = PpoAgent::Create(Bandit()).value();
  std::mt19937_64 rng(3);
  Train(*original, rng, 32);
  Train(*original, rng, 3, /*update=*/false);
  RunState state;
  original->SaveState("agent", &state);
  auto restored = PpoAgent::Create(Bandit()).value();
  ASSERT_TRUE(restored->LoadState("agent", state).ok());
  EXPECT_EQ(restored->recorded(), 3);
  // The next update (Adam, the recorded decisions) and the choices after
  // it are the original's.
  std::mt19937_64 rng_a(4), rng_b(4);
  Train(*original, rng_a, 16);
  Train(*restored, rng_b, 16);
  for (int i = 0; i < 10; ++i) {
    Case c = Draw(rng);
    auto x = original->Act(c.context, c.candidates, false, i).value();
    auto y = restored->Act(c.context, c.candidates, false, i).value();
    EXPECT_EQ(x.choice, y.choice);
    EXPECT_EQ(x.log_prob, y.log_prob);
    EXPECT_EQ(x.value, y.value);
  }
}

TEST(PpoAgentTest, RefusesStateThatDoesNotFit) {
  auto original = PpoAgent::Create(Bandit()).value();
  std::mt19937_64 rng(3);
  Train(*original, rng, 8);
  Train(*original, rng, 2, /*update=*/false);
  RunState state;
  original->SaveState("agent", &state);
  auto target = PpoAgent::Create(Bandit()).value();
  RunState shorter = state;
  shorter.arrays["agent.0.w"].pop_back();
  EXPECT_FALSE(target->LoadState("agent", shorter).ok());
  RunState bad_choice = state;
  bad_choice.values["agent"]["decisions"][0]["choice"] = 99;
  EXPECT_FALSE(target->LoadState("agent", bad_choice).ok());
  EXPECT_FALSE(target->LoadState("other", state).ok());
  EXPECT_EQ(target->recorded(), 0);  // nothing changed
}

TEST(PpoAgentTest, RejectsInputsOfTheWrongSize) {
  auto agent = PpoAgent::Create(Bandit()).value();
  EXPECT_FALSE(agent->Act({1.f}, {0.5f}, true, 0).ok());  // half a row
  EXPECT_FALSE(agent->Act({1.f, 2.f}, {0.5f, 1.f}, true, 0).ok());
  EXPECT_FALSE(agent->Act({1.f}, {}, true, 0).ok());  // no candidate
}

}  // namespace
}  // namespace tandem::offload
