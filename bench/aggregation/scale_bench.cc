// Aggregation at scale, against this machine's memory and numpy, in one run:
// FedAvg, FedAvgM, FedAdam, median, trimmed mean, Krum and Bulyan on 10 to
// 1,000 updates of 1 M and 10 M parameters. For each: milliseconds per
// round (Begin, every AddUpdate, Finish; best of 2), GB/s of update bytes,
// the ratio to a STREAM triad measured in the same run, and numpy's time for
// the same reduction on inputs of the same shape and distribution
// (numpy_aggregation.py, run by /usr/bin/python3 from this program).
//
// The FedAvg family streams: 16 distinct updates are passed by reference,
// cycled under fresh device ids, so n updates never need n models. The
// robust rules keep every update (moved in, copies made before the clock),
// so they run where n x params fits in 4 GB, and Krum and Bulyan (n^2
// distances) up to 100 updates.
//
//   aggregation_scale_bench [--quick] [--no_numpy]
//     --quick: 1 M parameters, 10 and 100 updates
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/aggregation/bench_util.h"
#include "nlohmann/json.hpp"
#include "strategies/strategy.h"

namespace tandem {
namespace {

constexpr int kPool = 16;

struct Rule {
  const char* strategy;  // CreateStrategy name
  const char* numpy;     // numpy_aggregation.py name ("" = none)
  bool keeps;            // keeps every update
  bool pairwise;         // n^2 distances
};

const Rule kRules[] = {
    {"fedavg", "fedavg", false, false},
    {"fedavgm", "fedavgm", false, false},
    {"fedadam", "fedadam", false, false},
    {"fedmedian", "median", true, false},
    {"fedtrimmedavg", "trimmed_mean", true, false},
    {"krum", "krum", true, true},
    {"bulyan", "", true, true},
};

bool Runs(const Rule& r, int64_t params, int n) {
  if (!r.keeps) return true;
  if (static_cast<double>(params) * n > 1e9) return false;  // 4 GB
  return !r.pairwise || n <= 100;
}

StrategyOptions Options(const Rule& r, int n) {
  StrategyOptions o;
  o.name = r.strategy;
  if (o.name == "fedavgm") o.params = {{"server_momentum", 0.9}};
  if (o.name == "fedtrimmedavg") o.params = {{"beta", 0.2}};
  if (o.name == "krum" || o.name == "bulyan") {
    o.params = {{"num_malicious", n / 10}};
  }
  return o;
}

WeightsLayout Flat(int64_t params) {
  return *WeightsLayout::Create({{"w", {params}}});
}

// Seconds for one round of `n` updates cycled from `pool`, or -1.
double RoundSeconds(const Rule& r, const Weights& global,
                    std::vector<ClientUpdate>& pool, int n) {
  std::unique_ptr<Strategy> s = *CreateStrategy(Options(r, n));
  std::vector<ClientUpdate> copies;
  if (r.keeps) {
    for (int k = 0; k < n; ++k) copies.push_back(pool[k % kPool]);
  }
  const double t0 = Now();
  if (!s->BeginRound(1, global, n).ok()) return -1;
  for (int k = 0; k < n; ++k) {
    ClientUpdate& u = r.keeps ? copies[k] : pool[k % kPool];
    u.device_id = "dev" + std::to_string(100000 + k);
    u.num_samples = 100 + k;
    absl::Status st = r.keeps ? s->AddUpdate(std::move(u), nullptr)
                              : s->AddUpdate(u, nullptr);
    if (!st.ok()) {
      std::printf("%s: %s\n", r.strategy, std::string(st.message()).c_str());
      return -1;
    }
  }
  if (!s->FinishRound().ok()) return -1;
  return Now() - t0;
}

// numpy's best seconds per rule for (params, n), from numpy_aggregation.py.
std::map<std::string, double> NumpySeconds(int64_t params, int n) {
  std::string cmd = "/usr/bin/python3 " TANDEM_SOURCE_DIR
                    "/bench/aggregation/numpy_aggregation.py " +
                    std::to_string(params) + " " + std::to_string(n);
  for (const Rule& r : kRules) {
    if (*r.numpy != '\0' && Runs(r, params, n))
      cmd += std::string(" ") + r.numpy;
  }
  std::map<std::string, double> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::string text;
  char buf[4096];
  while (fgets(buf, sizeof buf, p) != nullptr) text += buf;
  if (pclose(p) != 0) {
    std::printf("numpy reference failed: %s\n", cmd.c_str());
    return out;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto& [k, v] : j.items()) out[k] = v.get<double>();
  return out;
}

void Case(int64_t params, int n, double triad, bool numpy) {
  Weights global(Flat(params));
  Fill(global, 1, nullptr);
  std::vector<ClientUpdate> pool(kPool);
  for (int k = 0; k < kPool; ++k) {
    pool[k].round = 1;
    pool[k].weights = Weights(global.layout());
    Fill(pool[k].weights, static_cast<uint64_t>(k) + 7, &global);
  }
  const std::map<std::string, double> ref =
      numpy ? NumpySeconds(params, n) : std::map<std::string, double>();
  const double bytes = 4.0 * static_cast<double>(params) * n;
  for (const Rule& r : kRules) {
    if (!Runs(r, params, n)) continue;
    double best = 1e30;
    for (int rep = 0; rep < 2; ++rep) {
      const double t = RoundSeconds(r, global, pool, n);
      if (t < 0) best = -1;
      if (best < 0) break;
      best = std::min(best, t);
    }
    std::printf("%5lldM %5d  %-14s", static_cast<long long>(params / 1000000),
                n, r.strategy);
    if (best < 0) {
      std::printf(" failed\n");
      continue;
    }
    const double gbps = bytes / best / 1e9;
    std::printf(" %10.1f %7.2f %7.2f", best * 1e3, gbps, gbps / triad);
    auto it = ref.find(r.numpy);
    if (it != ref.end()) {
      std::printf(" %10.1f %8.2f", it->second * 1e3, it->second / best);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  bool quick = false;
  bool numpy = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--no_numpy") == 0) {
      numpy = false;
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--no_numpy]\n", argv[0]);
      return 2;
    }
  }
  const double triad = tandem::TriadGBps(int64_t{1} << 26, 5);
  std::printf("%6s %5s  %-14s %10s %7s %7s %10s %8s\n", "params", "n",
              "strategy", "ms", "GB/s", "/triad", "numpy ms", "x numpy");
  const std::vector<int64_t> sizes =
      quick ? std::vector<int64_t>{1000000}
            : std::vector<int64_t>{1000000, 10000000};
  const std::vector<int> counts =
      quick ? std::vector<int>{10, 100} : std::vector<int>{10, 100, 1000};
  for (int64_t p : sizes) {
    for (int n : counts) tandem::Case(p, n, triad, numpy);
  }
  return 0;
}
