// A config's offload policy against "none" on the same fleet, in one run:
// slowest device's mean round time, virtual time to the target accuracy,
// final accuracy, bytes moved per round and energy, with ratios.
//
//   build/bench/split/offload_compare --config configs/fedadapt-fixed.json
//       [--rounds N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/config.h"
#include "core/run_writer.h"
#include "sim/fleet_simulator.h"

namespace {

struct Result {
  double slowest_round_s = 0, to_target_s = -1, virtual_s = 0, accuracy = 0;
  double bytes_per_round = 0, energy_j = 0;
};

Result Run(tandem::Config c, const std::string& policy) {
  c.offload.policy = policy;
  c.output.checkpoints = false;
  tandem::sim::SimOptions o;
  o.config = c;
  o.run_name = "compare-" + policy;
  o.on_round = [&](const nlohmann::json& l) {
    std::fprintf(stderr, "[%s] %s\n", policy.c_str(),
                 tandem::sim::ProgressLine(l, c.server.rounds).c_str());
  };
  auto r = tandem::sim::RunSimulation(o);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
    std::exit(1);
  }
  const nlohmann::json& s = r->summary;
  Result out;
  for (const auto& d : s["devices"]) {
    out.slowest_round_s =
        std::max(out.slowest_round_s, d["mean_round_time_s"].get<double>());
    out.energy_j += d["energy_j"].get<double>();
  }
  out.virtual_s = s["virtual_time_s"];
  out.accuracy = s["final_accuracy"];
  if (!s["target"].is_null()) out.to_target_s = s["target"]["virtual_time_s"];
  auto metrics = tandem::ReadFile(r->run_dir + "/metrics.jsonl").value();
  int rounds = 0;
  double bytes = 0;
  for (absl::string_view line :
       absl::StrSplit(metrics, '\n', absl::SkipEmpty())) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] != "round" || j["status"] != "ok") continue;
    ++rounds;
    bytes += j["bytes_up"].get<double>() + j["bytes_down"].get<double>();
  }
  out.bytes_per_round = rounds > 0 ? bytes / rounds : 0;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "configs/fedadapt-fixed.json";
  std::vector<std::string> overrides;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--config")) path = argv[i + 1];
    if (!std::strcmp(argv[i], "--rounds")) {
      overrides.push_back(absl::StrCat("server.rounds=", argv[i + 1]));
    }
  }
  auto config = tandem::LoadConfig(path, overrides);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  const std::string policy = config->offload.policy;
  Result a = Run(*config, policy);
  Result b = Run(*config, "none");
  std::printf("%-26s %12s %12s %8s\n", "", policy.c_str(), "none", "ratio");
  auto row = [](const char* name, double x, double y) {
    std::printf("%-26s %12.2f %12.2f %8.3f\n", name, x, y, y > 0 ? x / y : 0);
  };
  row("slowest mean round (s)", a.slowest_round_s, b.slowest_round_s);
  row("virtual time to target (s)", a.to_target_s, b.to_target_s);
  row("total virtual time (s)", a.virtual_s, b.virtual_s);
  row("final accuracy", a.accuracy, b.accuracy);
  row("MB moved per round", a.bytes_per_round / 1e6, b.bytes_per_round / 1e6);
  row("device energy (J)", a.energy_j, b.energy_j);
  std::printf("(target accuracy %.2f; -1 = not reached)\n",
              config->server.target_accuracy);
  return 0;
}
