// Split step overhead on loopback, by split point: one device training with a
// fixed split over TCP to 127.0.0.1, wall-clock times. Per batch:
//   step     = head compute + wait for the coordinator
//   overhead = wait - tail compute  (encoding, gRPC, loopback, scheduling)
// printed in ms and as a fraction of the step, for every split point of the
// model.
//
//   build/bench/split/split_overhead [--model vgg5] [--batches 40] [--codec
//   fp32]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/config.h"
#include "core/run_writer.h"
#include "ml/blas_kernel.h"
#include "ml/model.h"
#include "ml/runtime.h"
#include "sim/fleet_simulator.h"

namespace {

struct Figures {
  double step_ms = 0, overhead_ms = 0, tail_ms = 0, head_ms = 0;
};

Figures RunSplit(const std::string& model, int split, int batches,
                 const std::string& codec) {
  tandem::Config c;
  c.server.rounds = 1;
  c.server.min_devices = 1;
  c.model.name = model;
  c.data.train_limit = 100 * batches;
  c.data.test_limit = 500;
  c.training.batch_size = 100;
  c.strategy.min_updates = 1;
  c.offload.policy = "fixed";
  c.offload.fixed = {{"dev", split}};
  c.offload.activation_codec = tandem::ParseActivationCodec(codec).value();
  c.fleet.classes.push_back({});
  c.fleet.classes[0].name = "dev";
  c.output.dir = "/tmp/tandem-bench-runs";
  c.output.checkpoints = false;
  tandem::sim::SimOptions o;
  o.config = c;
  o.loopback = true;
  o.wall_time = true;
  auto r = tandem::sim::RunSimulation(o);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
    std::exit(1);
  }
  const std::vector<nlohmann::json> metrics =
      tandem::ReadMetrics(r->run_dir).value();
  for (const nlohmann::json& j : metrics) {
    if (j["type"] != "device") continue;
    const double n = j["batches"].get<double>();
    const double compute = j["compute_s"].get<double>();
    const double wait = j["link_s"].get<double>();  // split wait (+ weights)
    const double tail = j.value("tail_s", 0.0);
    Figures f;
    f.head_ms = 1e3 * compute / n;
    f.tail_ms = 1e3 * tail / n;
    f.step_ms = 1e3 * (compute + wait) / n;
    f.overhead_ms = 1e3 * (wait - tail) / n;
    return f;
  }
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  tandem::ml::ReuseFreedTensorMemory();   // as the programs run
  std::string model = "vgg5", codec = "fp32";
  int batches = 40;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
    if (!std::strcmp(argv[i], "--codec")) codec = argv[i + 1];
    if (!std::strcmp(argv[i], "--batches")) batches = std::atoi(argv[i + 1]);
  }
  auto m = tandem::ml::Model::Create(model, {1, 28, 28, 10}, 1).value();
  std::printf("%s on Fashion-MNIST, batch 100, %s activations, loopback TCP\n",
              model.c_str(), codec.c_str());
  std::printf(
      "split after    head_ms  tail_ms  step_ms  overhead_ms  "
      "overhead/step\n");
  for (int split = 1; split < m->num_stages(); ++split) {
    Figures f = RunSplit(model, split, batches, codec);
    std::printf("%3d  %-8s %8.2f %8.2f %8.2f %12.2f %14.3f\n", split,
                m->stage_names()[split - 1].c_str(), f.head_ms, f.tail_ms,
                f.step_ms, f.overhead_ms, f.overhead_ms / f.step_ms);
  }
  return 0;
}
