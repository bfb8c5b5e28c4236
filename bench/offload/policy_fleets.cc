// Judges offload policies on random fleets they were not trained on, on the
// cost model (sim/cost_arena.h): for each fleet drawn from --seed, the
// total time (sum of each round's slowest device) of none, greedy and ppo
// as a ratio to the bound (each device at its fastest placement knowing
// the round's link). Prints a line per fleet and, per policy, the mean and
// the worst ratio, and ppo's overrides to local. JSON with --json.
//
// With --config, the grid of bench/offload_sweep.sh on the cost model
// instead: fleet.classes.0's link x slowdown, each policy's slowest mean
// round (the largest per-device mean) as a ratio to none's, and its score,
// that ratio over the bound's (1.00 = at the bound).
//
//   build/bench/offload/policy_fleets --fleets 20 --seed 424242 --links markov
//       [--policy configs/policies/ppo-default.policy] [--rounds 10]
//   build/bench/offload/policy_fleets --config configs/fedadapt-5dev.json
//       --rounds 3 [--grid_links "5 10 20 40 80 160 400"]
//       [--grid_slowdowns "2 5 10 20 40"] [--train_limit 6000]
//   build/bench/offload/policy_fleets --config
//   configs/fedadapt-bandwidth-drop.json
//       --grid_links "" --train_limit 0      # the config itself
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/config.h"
#include "ml/runtime.h"
#include "offload/ppo_policy.h"
#include "sim/cost_arena.h"
#include "sim/random_scenario.h"

ABSL_FLAG(int, fleets, 20, "random fleets to judge on");
ABSL_FLAG(uint64_t, seed, 424242, "the fleets' seed");
ABSL_FLAG(std::string, links, "markov",
          "any, constant, steps, markov, drift (per round), fading_trace "
          "(Markov on/off traces, within rounds)");
ABSL_FLAG(int, rounds, 10, "rounds per fleet");
ABSL_FLAG(std::string, policy, "configs/policies/ppo-default.policy",
          "the ppo policy file");
ABSL_FLAG(std::string, profiles, "configs/profiles", "pinned zoo profiles");
ABSL_FLAG(bool, json, false, "print JSON instead of a table");
ABSL_FLAG(std::string, config, "", "judge on this config's sweep grid");
ABSL_FLAG(std::string, grid_links, "5 10 20 40 80 160 400", "--config: Mbit/s");
ABSL_FLAG(std::string, grid_slowdowns, "2 5 10 20 40", "--config: slowdowns");
ABSL_FLAG(int, train_limit, 6000,
          "--config: data.train_limit (0: the config's)");

namespace tandem {
namespace {

struct Tally {
  double sum = 0, worst = 0;
  void Add(double x) {
    sum += x;
    worst = std::max(worst, x);
  }
};

absl::StatusOr<sim::LinkProcess> ProcessNamed(const std::string& name) {
  const std::pair<const char*, sim::LinkProcess> names[] = {
      {"any", sim::LinkProcess::kAny},
      {"constant", sim::LinkProcess::kConstant},
      {"steps", sim::LinkProcess::kSteps},
      {"markov", sim::LinkProcess::kMarkov},
      {"drift", sim::LinkProcess::kDrift},
      {"fading_trace", sim::LinkProcess::kFadingTrace}};
  for (const auto& [n, p] : names) {
    if (name == n) return p;
  }
  return absl::InvalidArgumentError(
      "--links: one of any, constant, steps, markov, drift, fading_trace");
}

// The largest per-device mean round of a play of `rounds` rounds.
double SlowestMean(const std::vector<std::vector<double>>& per_round) {
  std::vector<double> mean(per_round[0].size(), 0);
  for (const auto& r : per_round) {
    for (size_t i = 0; i < r.size(); ++i) mean[i] += r[i] / per_round.size();
  }
  return *std::max_element(mean.begin(), mean.end());
}

// Per round, each device's time under the policy (or at its fastest
// placement knowing the link, its tail unshared: "bound"); ppo's overrides
// added to *overrides when given.
std::vector<std::vector<double>> DeviceTimes(
    sim::CostScenario s, const std::string& name,
    std::shared_ptr<offload::PpoAgent> agent, int rounds,
    int64_t* overrides = nullptr) {
  std::vector<std::vector<double>> out;
  if (name == "bound") {
    double clock = 0;
    for (int r = 1; r <= rounds; ++r) {
      out.push_back(sim::BoundDevices(s, r, clock));
      clock += *std::max_element(out.back().begin(), out.back().end());
    }
    return out;
  }
  s.config.offload.policy = name;
  s.config.offload.ppo_learn = false;
  auto policy = name == "ppo"
                    ? offload::CreatePpoPolicyWithAgent(s.config.offload,
                                                        s.context, agent)
                    : offload::CreateSplitPolicy(s.config.offload, s.context);
  if (!policy.ok()) {
    std::cerr << "policy_fleets: " << policy.status().message() << "\n";
    std::exit(1);
  }
  for (int r = 1; r <= rounds; ++r) {
    out.push_back(PlayRound(s, r, **policy).device_s);
  }
  if (overrides != nullptr) *overrides += offload::PpoOverrides(**policy);
  return out;
}

double Total(const std::vector<std::vector<double>>& per_round) {
  double total = 0;
  for (const auto& r : per_round)
    total += *std::max_element(r.begin(), r.end());
  return total;
}

// The config as it is (its own links and bandwidth events): slowest mean
// round and total time of each policy and the bound, as ratios to none.
int JudgeConfig(const Config& c, std::shared_ptr<offload::PpoAgent> agent) {
  auto s = sim::ConfigScenario(c);
  if (!s.ok()) {
    std::cerr << "policy_fleets: " << s.status().message() << "\n";
    return 1;
  }
  const int rounds = c.server.rounds;
  const auto none = DeviceTimes(*s, "none", agent, rounds);
  std::printf("%-7s slowest-mean total (ratios to none, %d rounds)\n", "",
              rounds);
  for (const char* name : {"bound", "greedy", "ppo"}) {
    const auto t = DeviceTimes(*s, name, agent, rounds);
    std::printf("%-7s %12.3f %5.3f\n", name, SlowestMean(t) / SlowestMean(none),
                Total(t) / Total(none));
  }
  return 0;
}

int Grid(std::shared_ptr<offload::PpoAgent> agent) {
  auto base = LoadConfig(absl::GetFlag(FLAGS_config), {});
  if (!base.ok()) {
    std::cerr << "policy_fleets: " << base.status().message() << "\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_train_limit) > 0) {
    base->data.train_limit = absl::GetFlag(FLAGS_train_limit);
  }
  const int rounds = absl::GetFlag(FLAGS_rounds);
  std::vector<double> links, slowdowns;
  for (absl::string_view x : absl::StrSplit(absl::GetFlag(FLAGS_grid_links),
                                            ' ', absl::SkipEmpty())) {
    links.push_back(std::stod(std::string(x)));
  }
  for (absl::string_view x : absl::StrSplit(absl::GetFlag(FLAGS_grid_slowdowns),
                                            ' ', absl::SkipEmpty())) {
    slowdowns.push_back(std::stod(std::string(x)));
  }
  if (links.empty() || slowdowns.empty()) return JudgeConfig(*base, agent);
  std::printf(" Mbit/s slowdown  bound  greedy score    ppo score  ppo/none\n");
  double worst_greedy = 0, worst_ppo = 0, worst_vs_none = 0;
  for (double link : links) {
    for (double slowdown : slowdowns) {
      Config c = *base;
      c.fleet.classes[0].device.bandwidth_mbps = link;
      c.fleet.classes[0].device.slowdown = slowdown;
      auto s = sim::ConfigScenario(c);
      if (!s.ok()) {
        std::cerr << "policy_fleets: " << s.status().message() << "\n";
        return 1;
      }
      const double none = SlowestMean(DeviceTimes(*s, "none", agent, rounds));
      const double bound =
          SlowestMean(DeviceTimes(*s, "bound", agent, rounds)) / none;
      const double greedy =
          SlowestMean(DeviceTimes(*s, "greedy", agent, rounds)) / none;
      const double ppo =
          SlowestMean(DeviceTimes(*s, "ppo", agent, rounds)) / none;
      worst_greedy = std::max(worst_greedy, greedy / bound);
      worst_ppo = std::max(worst_ppo, ppo / bound);
      worst_vs_none = std::max(worst_vs_none, ppo);
      std::printf("%7g %8g %6.3f %6.3f %5.3f %6.3f %5.3f %9.3f\n", link,
                  slowdown, bound, greedy, greedy / bound, ppo, ppo / bound,
                  ppo);
    }
  }
  std::printf(
      "worst score: greedy %.3f, ppo %.3f; ppo's worst ratio to none "
      "%.3f\n",
      worst_greedy, worst_ppo, worst_vs_none);
  return 0;
}

int Main() {
  ml::SetComputeThreads(1);
  if (!absl::GetFlag(FLAGS_config).empty()) {
    auto loaded = offload::PpoAgent::Load(absl::GetFlag(FLAGS_policy));
    if (!loaded.ok()) {
      std::cerr << "policy_fleets: " << loaded.status().message() << "\n";
      return 2;
    }
    return Grid(*std::move(loaded));
  }
  auto profiles = sim::ZooProfiles(absl::GetFlag(FLAGS_profiles));
  auto process = ProcessNamed(absl::GetFlag(FLAGS_links));
  auto loaded = offload::PpoAgent::Load(absl::GetFlag(FLAGS_policy));
  for (const absl::Status& s :
       {profiles.status(), process.status(), loaded.status()}) {
    if (!s.ok()) {
      std::cerr << "policy_fleets: " << s.message() << "\n";
      return 2;
    }
  }
  std::shared_ptr<offload::PpoAgent> agent = *std::move(loaded);
  sim::ScenarioOptions so;
  so.rounds = absl::GetFlag(FLAGS_rounds);
  so.links = *process;
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  const char* names[] = {"none", "greedy", "ppo"};
  Tally tally[3];
  int64_t overrides = 0, decisions = 0;
  nlohmann::json out = nlohmann::json::array();
  const bool json = absl::GetFlag(FLAGS_json);
  if (!json) std::printf("fleet model devices   none greedy    ppo\n");
  for (int k = 0; k < absl::GetFlag(FLAGS_fleets); ++k) {
    const sim::CostScenario s = sim::DrawScenario(rng, *profiles, so);
    double bound = 0;
    for (int r = 1; r <= so.rounds; ++r) bound += sim::BoundRound(s, r, bound);
    double ratio[3];
    for (int p = 0; p < 3; ++p) {
      ratio[p] =
          Total(DeviceTimes(s, names[p], agent, so.rounds, &overrides)) / bound;
      tally[p].Add(ratio[p]);
    }
    decisions += static_cast<int64_t>(s.fleet.size()) * so.rounds;
    out.push_back({{"model", s.config.model.name},
                   {"devices", s.fleet.size()},
                   {"none", ratio[0]},
                   {"greedy", ratio[1]},
                   {"ppo", ratio[2]}});
    if (!json) {
      std::printf("%5d %5s %7zu %6.3f %6.3f %6.3f\n", k,
                  s.config.model.name.c_str(), s.fleet.size(), ratio[0],
                  ratio[1], ratio[2]);
    }
  }
  const int n = absl::GetFlag(FLAGS_fleets);
  nlohmann::json summary;
  for (int p = 0; p < 3; ++p) {
    summary[names[p]] = {{"mean", tally[p].sum / n}, {"worst", tally[p].worst}};
  }
  summary["ppo_overrides"] = overrides;
  summary["ppo_decisions"] = decisions;
  if (json) {
    std::cout << nlohmann::json{{"fleets", out}, {"summary", summary}}.dump(2)
              << std::endl;
    return 0;
  }
  for (int p = 0; p < 3; ++p) {
    std::printf("%-6s mean %.3f worst %.3f (total time / bound)\n", names[p],
                tally[p].sum / n, tally[p].worst);
  }
  std::printf("ppo overrode %lld of %lld placements to local\n",
              static_cast<long long>(overrides),
              static_cast<long long>(decisions));
  return 0;
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tandem::Main();
}
