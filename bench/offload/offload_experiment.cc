// Offload policies against each other on one scenario, measured in one run:
// final accuracy, total virtual time, virtual time to the target accuracy,
// slowest device's mean round time, energy per device and bytes moved per
// round, with each policy's ratio to "none", and the cost-model bound no
// policy can beat (sim/offload_bound.h). Writes comparison.html (inline SVG
// charts) next to the runs.
//
//   build/bench/offload/offload_experiment --config configs/fedadapt-5dev.json
//       [--policies none,fixed,greedy,ppo] [--rounds N] [--out DIR]
//       [--set offload.ppo_load=FILE,...] [--json RESULTS.json]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/config.h"
#include "core/file_io.h"
#include "core/run_writer.h"
#include "core/svg_chart.h"
#include "ml/blas_kernel.h"
#include "ml/run_profile.h"
#include "ml/runtime.h"
#include "offload/split_policy.h"
#include "server/config_check.h"
#include "sim/cost_fleet.h"
#include "sim/fleet_simulator.h"
#include "sim/offload_bound.h"

namespace {

struct Result {
  std::string policy;
  double final_accuracy = 0, virtual_s = 0, to_target_s = -1;
  double slowest_round_s = 0, bytes_per_round = 0, energy_j = 0;
  std::map<std::string, double> device_energy;
  tandem::Series accuracy;
};

void ReadMetrics(const std::string& run_dir, Result* r) {
  int rounds = 0;
  double bytes = 0;
  r->accuracy.name = r->policy;
  const std::vector<nlohmann::json> metrics =
      tandem::ReadMetrics(run_dir).value();
  for (const nlohmann::json& j : metrics) {
    if (j["type"] != "round" || j["status"] != "ok") continue;
    ++rounds;
    bytes += j["bytes_up"].get<double>() + j["bytes_down"].get<double>();
    if (j.contains("accuracy")) {
      r->accuracy.points.push_back({j["virtual_time_s"].get<double>(),
                                    100 * j["accuracy"].get<double>()});
    }
  }
  r->bytes_per_round = rounds > 0 ? bytes / rounds : 0;
}

Result Run(tandem::Config c, const std::string& policy,
           std::shared_ptr<const tandem::ml::ModelProfile> profile,
           std::string* dir) {
  c.offload.policy = policy;
  c.output.checkpoints = false;
  tandem::sim::SimOptions o;
  o.config = c;
  o.run_name = "experiment-" + policy;
  o.compute_profile = std::move(profile);
  o.on_round = [&](const nlohmann::json& l) {
    std::fprintf(stderr, "[%s] %s\n", policy.c_str(),
                 tandem::sim::ProgressLine(l, c.server.rounds).c_str());
  };
  auto r = tandem::sim::RunSimulation(o);
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", policy.c_str(),
                 std::string(r.status().message()).c_str());
    std::exit(1);
  }
  *dir = r->run_dir;
  const nlohmann::json& s = r->summary;
  Result out;
  out.policy = policy;
  for (const auto& d : s["devices"]) {
    out.slowest_round_s =
        std::max(out.slowest_round_s, d["mean_round_time_s"].get<double>());
    out.device_energy[d["id"]] = d["energy_j"];
    out.energy_j += d["energy_j"].get<double>();
  }
  out.virtual_s = s["virtual_time_s"];
  out.final_accuracy = s["final_accuracy"];
  if (!s["target"].is_null()) out.to_target_s = s["target"]["virtual_time_s"];
  ReadMetrics(r->run_dir, &out);
  return out;
}

void PrintTable(const std::vector<Result>& results) {
  std::printf("%-30s", "");
  for (const Result& r : results) std::printf(" %12s", r.policy.c_str());
  std::printf("\n");
  auto row = [&](const char* name, auto get, bool ratio) {
    std::printf("%-30s", name);
    const double base = get(results[0]);
    for (const Result& r : results) {
      const double v = get(r);
      if (ratio) {
        std::printf(" %12.3f", base > 0 && v >= 0 ? v / base : -1);
      } else {
        std::printf(" %12.2f", v);
      }
    }
    std::printf("\n");
  };
  row(
      "final accuracy", [](const Result& r) { return r.final_accuracy; },
      false);
  row(
      "total virtual time (s)", [](const Result& r) { return r.virtual_s; },
      false);
  row(
      "virtual time to target (s)",
      [](const Result& r) { return r.to_target_s; }, false);
  row(
      "slowest mean round (s)",
      [](const Result& r) { return r.slowest_round_s; }, false);
  row(
      "device energy (J)", [](const Result& r) { return r.energy_j; }, false);
  row(
      "MB moved per round",
      [](const Result& r) { return r.bytes_per_round / 1e6; }, false);
  std::printf("ratios to %s (same run):\n", results[0].policy.c_str());
  row(
      "  slowest mean round", [](const Result& r) { return r.slowest_round_s; },
      true);
  row(
      "  virtual time to target", [](const Result& r) { return r.to_target_s; },
      true);
  row(
      "  total virtual time", [](const Result& r) { return r.virtual_s; },
      true);
  row(
      "  device energy", [](const Result& r) { return r.energy_j; }, true);
  for (const auto& [id, e] : results[0].device_energy) {
    std::printf("  energy %-21s", id.c_str());
    for (const Result& r : results) {
      auto it = r.device_energy.find(id);
      std::printf(" %12.3f",
                  e > 0 && it != r.device_energy.end() ? it->second / e : -1);
    }
    std::printf("\n");
  }
}

// What no policy can beat on this scenario, by the cost model (null when
// it cannot be computed).
nlohmann::json PrintBound(const tandem::Config& config,
                          const tandem::ml::ModelProfile* profile) {
  auto bound = tandem::sim::ComputeOffloadBound(config, profile);
  if (!bound.ok()) {
    std::fprintf(stderr, "bound: %s\n",
                 std::string(bound.status().message()).c_str());
    return nullptr;
  }
  const nlohmann::json& b = *bound;
  std::printf(
      "cost-model bound (each device at its fastest placement every round, "
      "bandwidth known in advance, a coordinator core per tail), ratio to "
      "none:\n"
      "  slowest mean round %.3f, total time %.3f, energy %.3f\n",
      b["slowest_mean_round_s"]["ratio"].get<double>(),
      b["total_time_s"]["ratio"].get<double>(),
      b["energy_j"]["ratio"].get<double>());
  for (const nlohmann::json& d : b["devices"]) {
    std::printf("  %-12s %s\n", d["id"].get<std::string>().c_str(),
                d["placements"].dump().c_str());
  }
  return b;
}

// Every policy's figures and the bound, for bench/offload_sweep.sh.
void WriteResultsJson(const std::vector<Result>& results,
                      const nlohmann::json& bound, const std::string& path) {
  nlohmann::json policies = nlohmann::json::object();
  for (const Result& r : results) {
    policies[r.policy] = {{"slowest_mean_round_s", r.slowest_round_s},
                          {"total_time_s", r.virtual_s},
                          {"time_to_target_s", r.to_target_s},
                          {"energy_j", r.energy_j},
                          {"final_accuracy", r.final_accuracy}};
  }
  const nlohmann::json j = {{"policies", policies}, {"bound", bound}};
  auto s = tandem::WriteFileAtomically(path, j.dump(2) + "\n");
  if (!s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());
}

void WriteComparison(const std::vector<Result>& results,
                     const std::string& path) {
  tandem::LineChart acc;
  acc.title = "Test accuracy against virtual time, by policy";
  acc.x_label = "virtual time (s)";
  acc.y_label = "test accuracy (%)";
  acc.y_from_zero = false;
  tandem::BarChart slow{"Slowest device's mean round time",
                        "seconds (virtual)",
                        {},
                        {{"policy", {}}}};
  tandem::BarChart energy{
      "Device energy over the run", "energy (J)", {}, {{"policy", {}}}};
  double i = 0;
  for (const Result& r : results) {
    acc.series.push_back(r.accuracy);
    slow.categories.push_back(r.policy);
    slow.stacks[0].points.push_back({i, r.slowest_round_s});
    energy.categories.push_back(r.policy);
    energy.stacks[0].points.push_back({i, r.energy_j});
    ++i;
  }
  const std::string html = absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Tandem "
      "offload policies</title></head><body style=\"font-family:sans-serif\">"
      "<h1>Offload policies compared</h1>",
      tandem::RenderLineChart(acc), tandem::RenderBarChart(slow),
      tandem::RenderBarChart(energy), "</body></html>\n");
  auto s = tandem::WriteFileAtomically(path, html);
  if (s.ok()) std::printf("comparison report: %s\n", path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  tandem::ml::ReuseFreedTensorMemory();   // as the programs run
  std::string path = "configs/fedadapt-5dev.json", out, json_path;
  std::vector<std::string> policies = {"none", "fixed", "greedy"}, overrides;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--config")) path = argv[i + 1];
    if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    if (!std::strcmp(argv[i], "--json")) json_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--policies")) {
      policies = absl::StrSplit(argv[i + 1], ',', absl::SkipEmpty());
    }
    if (!std::strcmp(argv[i], "--set")) {
      for (absl::string_view o : absl::StrSplit(argv[i + 1], ',')) {
        overrides.emplace_back(o);
      }
    }
    if (!std::strcmp(argv[i], "--rounds")) {
      overrides.push_back(absl::StrCat("server.rounds=", argv[i + 1]));
    }
  }
  auto config = tandem::LoadConfig(path, overrides);
  if (config.ok()) {
    absl::Status names = tandem::server::CheckRegisteredNames(*config);
    if (!names.ok()) config = names;
  }
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  if (!out.empty()) config->output.dir = out;
  // Profiled compute: every run and the bound share one profile.
  std::shared_ptr<const tandem::ml::ModelProfile> profile;
  if (config->fleet.compute_time == tandem::ComputeTime::kProfiled) {
    auto data = tandem::sim::LoadFleetData(*config);
    auto measured =
        data.ok() ? tandem::ml::ProfileOnOneCore(*config, data->input)
                  : absl::StatusOr<tandem::ml::ModelProfile>(data.status());
    if (!measured.ok()) {
      std::fprintf(stderr, "%s\n",
                   std::string(measured.status().message()).c_str());
      return 1;
    }
    profile = std::make_shared<const tandem::ml::ModelProfile>(*measured);
  }
  std::vector<Result> results;
  std::string dir;
  for (const std::string& p : policies) {
    results.push_back(Run(*config, p, profile, &dir));
  }
  PrintTable(results);
  std::printf("(target accuracy %.2f; -1 = not reached)\n",
              config->server.target_accuracy);
  const nlohmann::json bound = PrintBound(*config, profile.get());
  if (!json_path.empty()) WriteResultsJson(results, bound, json_path);
  WriteComparison(results, config->output.dir + "/comparison.html");
  return 0;
}
