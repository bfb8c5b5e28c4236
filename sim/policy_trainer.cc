#include "sim/policy_trainer.h"

#include <chrono>
#include <climits>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "offload/ppo_agent.h"
#include "offload/ppo_policy.h"
#include "sim/cost_arena.h"
#include "sim/random_scenario.h"

namespace tandem::sim {
namespace {

struct Episode {
  double policy_s = 0, bound_s = 0;  // sums of slowest rounds
};

class Trainer {
 public:
  Trainer(const PolicyTraining& t, std::shared_ptr<offload::PpoAgent> agent)
      : t_(t), agent_(std::move(agent)) {}

  // Plays one episode of `s` (a copy: each starts afresh) with a new policy
  // around the shared agent.
  absl::StatusOr<Episode> Play(CostScenario s, int rounds) {
    OffloadConfig learning = s.config.offload;
    learning.policy = "ppo";
    learning.ppo_learn = true;
    learning.ppo_update_every = INT_MAX;  // updates by decisions, below
    learning.ppo_save.clear();
    TANDEM_ASSIGN_OR_RETURN(auto policy, offload::CreatePpoPolicyWithAgent(
                                             learning, s.context, agent_));
    Episode e;
    for (int r = 1; r <= rounds; ++r) {
      e.policy_s += PlayRound(s, r, *policy).slowest_s;
      e.bound_s += BoundRound(s, r, e.bound_s);
      decisions_ += static_cast<int64_t>(s.fleet.size());
      if (agent_->recorded() >= t_.batch) TANDEM_RETURN_IF_ERROR(Update());
    }
    return e;
  }

  absl::Status Update() {
    ++updates_;
    return agent_->Update();
  }
  int64_t decisions() const { return decisions_; }
  int updates() const { return updates_; }

 private:
  const PolicyTraining t_;
  std::shared_ptr<offload::PpoAgent> agent_;
  int64_t decisions_ = 0;
  int updates_ = 0;
};

// Mean of the first and of the last tenth of `ratios`.
std::pair<double, double> Tenths(const std::vector<double>& ratios) {
  const size_t n = std::max<size_t>(1, ratios.size() / 10);
  double first = 0, last = 0;
  for (size_t i = 0; i < n; ++i) {
    first += ratios[i] / n;
    last += ratios[ratios.size() - 1 - i] / n;
  }
  return {first, last};
}

}  // namespace

absl::StatusOr<nlohmann::json> TrainOffloadPolicy(const Config& config,
                                                  const PolicyTraining& t) {
  if (t.episodes < 1 || t.batch < 1 || t.rounds < 1 || t.out_path.empty()) {
    return absl::InvalidArgumentError(
        "train_policy: needs at least one episode, a batch, rounds and "
        "--policy_out");
  }
  if (!t.randomize && config.TotalDevices() == 0) {
    return absl::InvalidArgumentError(
        "train_policy: the config has no fleet (or use --randomize)");
  }
  const auto start = std::chrono::steady_clock::now();
  offload::PpoOptions options = offload::PpoPolicyAgentOptions(t.seed);
  if (!t.cost_model_prior) options.prior_feature = -1;
  if (t.learning_rate > 0) options.learning_rate = t.learning_rate;
  TANDEM_ASSIGN_OR_RETURN(std::unique_ptr<offload::PpoAgent> created,
                          offload::PpoAgent::Create(options));
  std::shared_ptr<offload::PpoAgent> agent = std::move(created);
  Trainer trainer(t, agent);
  std::vector<NamedProfile> profiles;
  CostScenario own;
  if (t.randomize) {
    TANDEM_ASSIGN_OR_RETURN(profiles, ZooProfiles(t.profiles_dir));
  } else {
    TANDEM_ASSIGN_OR_RETURN(own, ConfigScenario(config));
  }
  std::mt19937_64 rng(t.seed);
  ScenarioOptions scenarios;
  scenarios.rounds = t.rounds;
  std::vector<double> ratios;
  for (int ep = 0; ep < t.episodes; ++ep) {
    CostScenario s = t.randomize ? DrawScenario(rng, profiles, scenarios) : own;
    const int rounds = t.randomize ? t.rounds : config.server.rounds;
    TANDEM_ASSIGN_OR_RETURN(Episode e, trainer.Play(std::move(s), rounds));
    ratios.push_back(e.policy_s / e.bound_s);
  }
  if (agent->recorded() > 0) TANDEM_RETURN_IF_ERROR(trainer.Update());
  const auto [first, last] = Tenths(ratios);
  nlohmann::json about = {
      {"command", t.command},
      {"seed", t.seed},
      {"randomize", t.randomize},
      {"episodes", t.episodes},
      {"rounds", t.randomize ? t.rounds : config.server.rounds},
      {"batch", t.batch},
      {"learning_rate", options.learning_rate},
      {"decisions", trainer.decisions()},
      {"updates", trainer.updates()},
      {"first_tenth_ratio_to_bound", first},
      {"last_tenth_ratio_to_bound", last}};
  TANDEM_RETURN_IF_ERROR(agent->Save(t.out_path, about));
  about["wall_s"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  about["policy_file"] = t.out_path;
  return about;
}

}  // namespace tandem::sim
