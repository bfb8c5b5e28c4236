// Per-round framework overhead on loopback: 10 devices (threads, each with
// its own TCP channel to 127.0.0.1), cnn on Fashion-MNIST, wall-clock time.
// Overhead of a round = its wall time (task sent -> last update in, before
// evaluation) minus the slowest device's training time. Printed per round
// and as a fraction of the round, measured in one run.
//
//   build/bench/round_overhead/round_overhead [--rounds N] [--batches N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "core/config.h"
#include "core/run_writer.h"
#include "ml/blas_kernel.h"
#include "ml/runtime.h"
#include "sim/fleet_simulator.h"

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  tandem::ml::ReuseFreedTensorMemory();   // as the programs run
  int rounds = 5, batches = 20;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batches")) batches = std::atoi(argv[i + 1]);
  }
  tandem::Config c;
  c.server.rounds = rounds;
  c.server.min_devices = 10;
  c.model.name = "cnn";
  c.data.train_limit = 20000;
  c.data.test_limit = 2000;
  c.training.batch_size = 32;
  c.training.max_batches = batches;
  c.strategy.min_updates = 10;
  c.fleet.concurrency = 10;  // all train at once: max training time = span
  c.fleet.classes.push_back({});
  c.fleet.classes[0].count = 10;
  c.output.dir = "/tmp/tandem-bench-runs";
  c.output.checkpoints = false;
  tandem::sim::SimOptions o;
  o.config = c;
  o.loopback = true;
  o.wall_time = true;
  o.run_name = "round-overhead";
  auto result = tandem::sim::RunSimulation(o);
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(result.status().message()).c_str());
    return 1;
  }
  std::map<int, double> max_compute, round_wall;
  const std::vector<nlohmann::json> metrics =
      tandem::ReadMetrics(result->run_dir).value();
  for (const nlohmann::json& j : metrics) {
    const int r = j["round"];
    if (j["type"] == "device" && j.contains("compute_s")) {
      max_compute[r] = std::max(max_compute[r], j["compute_s"].get<double>());
    } else if (j["type"] == "round") {
      round_wall[r] = j["round_wall_s"];
    }
  }
  std::printf("round  wall_s  slowest_train_s  overhead_ms  overhead/round\n");
  double sum_over = 0, sum_wall = 0;
  for (const auto& [r, wall] : round_wall) {
    const double over = wall - max_compute[r];
    std::printf("%5d  %6.3f  %15.3f  %11.1f  %13.3f\n", r, wall, max_compute[r],
                1e3 * over, over / wall);
    sum_over += over;
    sum_wall += wall;
  }
  std::printf(
      "mean overhead %.1f ms per round = %.3f of the round wall time "
      "(10 devices, cnn, %d batches each, loopback TCP)\n",
      1e3 * sum_over / round_wall.size(), sum_over / sum_wall, batches);
  return 0;
}
