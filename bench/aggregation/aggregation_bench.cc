// Aggregation throughput and memory, measured in one run:
//
//  1. Peak RSS growth of FedAvg over 1,000 updates generated one at a time
//     and moved in, against the size of one update: FedAvg adds each update
//     to an exact fixed-point sum as it arrives and keeps none, so expect
//     about 6 updates' worth whatever n (the caller's global, the strategy's
//     copy, the 64-bit sum (2), the result, the update in flight).
//  2. A STREAM triad a[i] = b[i] + s * c[i] over arrays much larger than the
//     last-level cache (bytes counted as 3 arrays).
//  3. Every strategy aggregating 100 VGG-5 updates (3x32x32 input, ~583k
//     floats) with validation on (finite check and a norm bound): GB/s of
//     update bytes, and the ratio to the triad. The 100 updates (233 MB) do
//     not fit in cache, so each is read from memory.
//
//   aggregation_bench [--quick]   (--quick: smaller triad, 50 updates,
//                                  200 for the memory test; ~10 s)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/aggregation/bench_util.h"
#include "core/weights.h"
#include "nlohmann/json.hpp"
#include "strategies/strategy.h"

namespace tandem {
namespace {

struct Settings {
  int64_t triad_floats = int64_t{1} << 26;  // 268 MB per array
  int triad_reps = 5;
  int updates = 100;
  int reps = 3;
  int memory_updates = 1000;
};

// VGG-5 for 3x32x32 inputs, as laid out by ml/ (weights, biases, batch-norm
// affine parameters and running statistics as buffers).
WeightsLayout Vgg5Layout() {
  std::vector<TensorSpec> specs;
  auto param = [&](std::string name, std::vector<int64_t> shape) {
    specs.push_back({std::move(name), std::move(shape)});
  };
  auto conv_bn = [&](const std::string& conv, const std::string& bn, int64_t in,
                     int64_t out) {
    param(conv + ".weight", {out, in, 3, 3});
    param(conv + ".bias", {out});
    param(bn + ".weight", {out});
    param(bn + ".bias", {out});
    specs.push_back({bn + ".running_mean", {out}, TensorKind::kBuffer});
    specs.push_back({bn + ".running_var", {out}, TensorKind::kBuffer});
  };
  conv_bn("conv1", "bn1", 3, 32);
  conv_bn("conv2", "bn2", 32, 64);
  conv_bn("conv3", "bn3", 64, 64);
  param("fc1.weight", {128, 4096});
  param("fc1.bias", {128});
  param("fc2.weight", {10, 128});
  param("fc2.bias", {10});
  return *WeightsLayout::Create(std::move(specs));
}

ClientUpdate MakeUpdate(const Weights& global, int k) {
  ClientUpdate u;
  u.device_id = "dev" + std::to_string(1000 + k);
  u.round = 1;
  u.num_samples = 100 + k;
  u.loss_before = 1.0 + 0.01 * k;
  u.weights = Weights(global.layout());
  Fill(u.weights, static_cast<uint64_t>(k) + 7, &global);
  return u;
}

StrategyOptions Options(const std::string& name) {
  StrategyOptions o;
  o.name = name;
  o.max_update_norm = 1e6;  // validation on: the norm is computed and checked
  if (name == "fedprox") o.params = {{"mu", 0.01}};
  if (name == "krum" || name == "multikrum") o.params = {{"num_malicious", 10}};
  if (name == "bulyan") o.params = {{"num_malicious", 10}};
  if (name == "dp_fixed_server" || name == "dp_fixed_client") {
    o.params = {{"noise_multiplier", 1.0}, {"clipping_norm", 100.0}};
  }
  return o;
}

// FedAvg over updates created one at a time and moved in.
void MeasureMemory(const Settings& s) {
  const double before = PeakRssBytes();
  Weights global(Vgg5Layout());
  Fill(global, 1, nullptr);
  std::unique_ptr<Strategy> fedavg = *CreateStrategy(Options("fedavg"));
  if (!fedavg->BeginRound(1, global, s.memory_updates).ok()) std::abort();
  for (int k = 0; k < s.memory_updates; ++k) {
    if (!fedavg->AddUpdate(MakeUpdate(global, k), nullptr).ok()) std::abort();
  }
  absl::StatusOr<Weights> next = fedavg->FinishRound();
  if (!next.ok()) std::abort();
  const double growth = PeakRssBytes() - before;
  const double one = static_cast<double>(global.layout().total_bytes());
  std::printf(
      "memory: fedavg over %d updates: peak RSS +%.1f MB = %.1f x one "
      "update (%.2f MB)\n"
      "        (no update is kept: the caller's global, the strategy's "
      "copy of it,\n         the 64-bit fixed-point sum, the result and the "
      "update in flight)\n\n",
      s.memory_updates, growth / 1e6, growth / one, one / 1e6);
}

// Evicts the updates from the caches so every run reads them from memory.
class CacheFlusher {
 public:
  explicit CacheFlusher(int64_t bytes) : buffer_(bytes / 4, 1.0f) {}
  void Flush() {
    float sum = 0;
    for (size_t i = 0; i < buffer_.size(); i += 16) sum += buffer_[i];
    buffer_[0] = sum * 0.0f + 1.0f;
  }

 private:
  std::vector<float> buffer_;
};

// Plain weighted sum with no validation: the floor for FedAvg.
double BaselineSeconds(const Weights& global,
                       const std::vector<ClientUpdate>& updates, int reps,
                       CacheFlusher& flusher) {
  double best = 1e30;
  std::vector<float> acc(global.size());
  for (int r = 0; r < reps; ++r) {
    flusher.Flush();
    const double t0 = Now();
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (const ClientUpdate& u : updates) {
      const float w = static_cast<float>(u.num_samples);
      float* __restrict a = acc.data();
      const float* __restrict x = u.weights.data();
#pragma omp simd
      for (int64_t i = 0; i < global.size(); ++i) a[i] += w * x[i];
    }
    best = std::min(best, Now() - t0);
  }
  return best;
}

// Best time of Begin + AddUpdate x n + Finish, or a negative value on error.
// `owned`: updates are moved in (AddUpdate(ClientUpdate&&), copies made
// before the clock starts); otherwise passed by const reference.
double StrategySeconds(const std::string& name, const Weights& global,
                       const std::vector<ClientUpdate>& updates, int reps,
                       bool owned, CacheFlusher& flusher) {
  std::unique_ptr<Strategy> strategy = *CreateStrategy(Options(name));
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    std::vector<ClientUpdate> copies;
    if (owned) copies = updates;
    flusher.Flush();
    const double t0 = Now();
    if (!strategy->BeginRound(1, global, static_cast<int>(updates.size()))
             .ok()) {
      return -1;
    }
    for (size_t k = 0; k < updates.size(); ++k) {
      absl::Status st = owned
                            ? strategy->AddUpdate(std::move(copies[k]), nullptr)
                            : strategy->AddUpdate(updates[k], nullptr);
      if (!st.ok()) {
        std::printf("%s: %s\n", name.c_str(),
                    std::string(st.message()).c_str());
        return -1;
      }
    }
    absl::StatusOr<Weights> next = strategy->FinishRound();
    if (!next.ok()) {
      std::printf("%s: %s\n", name.c_str(),
                  std::string(next.status().message()).c_str());
      return -1;
    }
    best = std::min(best, Now() - t0);
  }
  return best;
}

void Run(const Settings& s) {
  MeasureMemory(s);
  const double triad = TriadGBps(s.triad_floats, s.triad_reps);

  Weights global(Vgg5Layout());
  Fill(global, 1, nullptr);
  std::vector<ClientUpdate> updates;
  for (int k = 0; k < s.updates; ++k) updates.push_back(MakeUpdate(global, k));
  const double bytes =
      static_cast<double>(s.updates) * global.layout().total_bytes();
  std::printf("%d updates of VGG-5 (%lld floats, %.2f MB each), best of %d\n",
              s.updates, static_cast<long long>(global.size()),
              global.layout().total_bytes() / 1e6, s.reps);
  CacheFlusher flusher(s.triad_floats * 8);
  std::printf("%-22s %24s   %24s\n", "", "moved in (AddUpdate&&)",
              "by const reference");
  std::printf("%-22s %8s %8s %7s   %8s %8s %7s\n", "strategy", "ms", "GB/s",
              "/triad", "ms", "GB/s", "/triad");
  auto cell = [&](double seconds) {
    if (seconds < 0) {
      std::printf("   %24s", "failed");
      return;
    }
    const double gbps = bytes / seconds / 1e9;
    std::printf(" %8.1f %8.2f %7.2f  ", seconds * 1e3, gbps, gbps / triad);
  };
  std::printf("%-22s", "(sum, no validation)");
  cell(BaselineSeconds(global, updates, s.reps, flusher));
  std::printf("\n");
  for (const std::string& name : StrategyNames()) {
    std::printf("%-22s", name.c_str());
    cell(StrategySeconds(name, global, updates, s.reps, true, flusher));
    cell(StrategySeconds(name, global, updates, s.reps, false, flusher));
    std::printf("\n");
  }
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  tandem::Settings s;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      s.triad_floats = int64_t{1} << 25;
      s.triad_reps = 3;
      s.reps = 2;
      s.updates = 50;
      s.memory_updates = 200;
    } else {
      std::fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
      return 2;
    }
  }
  tandem::Run(s);
  return 0;
}
