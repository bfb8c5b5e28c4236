// Per-batch training time of the zoo's models authored in PyTorch and
// loaded from TorchScript against the same architectures built in C++, in
// one run: one LibTorch thread, Fashion-MNIST, batch 32, the same initial
// weights. Runs alternate (zoo, TorchScript) so drift on a noisy machine
// hits both; the median of the repetitions is reported.
//
//   bench/torchscript_speed.sh   (writes the TorchScript files, then runs)
//   build/bench/training/torchscript_bench DIR   (DIR holds mlp.pt, ...)
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "ml/blas_kernel.h"
#include "ml/data/dataset.h"
#include "ml/model.h"
#include "ml/runtime.h"
#include "ml/trainer.h"

namespace {

using tandem::ml::Model;

constexpr int kBatches = 40, kRepetitions = 7, kBatchSize = 32;

double SecondsPerBatch(Model& model, const tandem::data::Dataset& data) {
  tandem::ml::TrainOptions o;
  o.batch_size = kBatchSize;
  o.max_batches = kBatches;
  auto stats = tandem::ml::TrainLocal(model, data, o);
  if (!stats.ok()) {
    std::fprintf(stderr, "%s\n", std::string(stats.status().message()).c_str());
    std::exit(1);
  }
  return stats->wall_seconds / static_cast<double>(stats->batches);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  if (argc != 2) {
    std::fprintf(stderr, "usage: torchscript_bench DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  tandem::ml::ReuseFreedTensorMemory();
  tandem::ml::SetComputeThreads(1);
  tandem::ml::SetBlasThreads(1);
  auto tt = tandem::data::LoadDataset(tandem::data::DataSource());
  if (!tt.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tt.status().message()).c_str());
    return 1;
  }
  const tandem::data::Dataset train = tt->train.Head(kBatchSize * kBatches);
  std::printf("%s\n", tandem::ml::DescribeRuntime().c_str());
  std::printf("%-6s %14s %14s %12s\n", "model", "C++ ms/batch", "TS ms/batch",
              "TS/C++");
  for (const std::string name : {"mlp", "cnn", "vgg5"}) {
    auto zoo = Model::Create(name, {1, 28, 28, 10}, 1).value();
    auto script = Model::Create(tandem::ml::TorchScriptModelName(dir + "/" +
                                                                 name + ".pt"),
                                {1, 28, 28, 10}, 1)
                      .value();
    (void)SecondsPerBatch(*zoo, train);  // warm-up
    (void)SecondsPerBatch(*script, train);
    std::vector<double> zoo_s, script_s;
    for (int r = 0; r < kRepetitions; ++r) {
      zoo_s.push_back(SecondsPerBatch(*zoo, train));
      script_s.push_back(SecondsPerBatch(*script, train));
    }
    const double z = Median(zoo_s), s = Median(script_s);
    std::printf("%-6s %14.2f %14.2f %12.3f\n", name.c_str(), 1e3 * z, 1e3 * s,
                s / z);
  }
  return 0;
}
