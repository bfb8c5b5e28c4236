// Local training throughput (images/s) of the zoo's models on Fashion-MNIST
// with 1 and all LibTorch threads, measured in one run, plus this process's
// peak resident memory. The one-thread figure is taken twice: first with
// glibc's default allocator settings, then after ReuseFreedTensorMemory()
// (as the programs run), and the ratio printed. Last, the one-thread figures
// of the BLAS kernel this run chose (ml/blas_kernel.h) against OpenBLAS's
// SSE3 Prescott kernel, measured by a child process of this benchmark with
// OPENBLAS_CORETYPE=Prescott in the same run.
//
//   build/bench/training/training_bench [--batches N]
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ml/blas_kernel.h"
#include "ml/data/dataset.h"
#include "ml/model.h"
#include "ml/runtime.h"
#include "ml/trainer.h"

namespace {

using tandem::data::Dataset;

double ImagesPerSecond(const std::string& name, const Dataset& data,
                       int threads, int batches) {
  auto model = tandem::ml::Model::Create(
      name, {data.channels, data.height, data.width, data.num_classes}, 1);
  if (!model.ok()) std::abort();
  tandem::ml::SetComputeThreads(threads);
  tandem::ml::SetBlasThreads(threads);
  tandem::ml::TrainOptions o;
  o.batch_size = 100;
  o.learning_rate = 0.01;
  o.max_batches = 3;  // warm-up
  (void)tandem::ml::TrainLocal(**model, data, o);
  o.max_batches = batches;
  auto stats = tandem::ml::TrainLocal(**model, data, o);
  if (!stats.ok()) {
    std::fprintf(stderr, "%s\n", std::string(stats.status().message()).c_str());
    std::abort();
  }
  return static_cast<double>(stats->batches * o.batch_size) /
         stats->wall_seconds;
}

// One-thread images/s of each model under OPENBLAS_CORETYPE=Prescott, from
// a child process (OpenBLAS reads the variable only when it loads).
std::vector<double> PrescottImagesPerSecond(int batches, size_t models) {
  // popen runs a shell, whose /proc/self/exe is the shell: resolve ours.
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return {};
  self[n] = '\0';
  const std::string command =
      "OPENBLAS_CORETYPE=Prescott '" + std::string(self) +
      "' --kernel_child --batches " + std::to_string(batches);
  std::vector<double> out;
  FILE* child = popen(command.c_str(), "r");
  if (child == nullptr) return out;
  double v = 0;
  while (out.size() < models && std::fscanf(child, "%lf", &v) == 1) {
    out.push_back(v);
  }
  pclose(child);
  return out;
}

void PrintKernelComparison(const std::vector<std::string>& models,
                           const std::vector<double>& chosen, int batches) {
  const std::string kernel = tandem::ml::LoadedBlasCore();
  if (kernel.empty() || kernel == "Prescott") return;
  const std::vector<double> prescott =
      PrescottImagesPerSecond(batches, models.size());
  if (prescott.size() != models.size()) {
    std::printf("Prescott child run failed: no kernel comparison\n");
    return;
  }
  std::printf("kernel %s\n", tandem::ml::BlasKernelNote().c_str());
  std::printf("%-6s %14s %14s %10s\n", "model", ("img/s " + kernel).c_str(),
              "img/s Prescott", "ratio");
  for (size_t m = 0; m < models.size(); ++m) {
    std::printf("%-6s %14.0f %14.0f %10.2f\n", models[m].c_str(), chosen[m],
                prescott[m], chosen[m] / prescott[m]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  int batches = 30;
  bool kernel_child = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--kernel_child") == 0) kernel_child = true;
    if (i + 1 < argc && std::strcmp(argv[i], "--batches") == 0)
      batches = std::atoi(argv[i + 1]);
  }
  tandem::data::DataSource source;  // Fashion-MNIST from the Debian package
  auto tt = tandem::data::LoadDataset(source);
  if (!tt.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tt.status().message()).c_str());
    return 1;
  }
  const Dataset train = tt->train.Head(100 * (batches + 3));
  const int cores = tandem::ml::NumCores();
  const std::vector<std::string> models = {"mlp", "cnn", "vgg5"};
  if (kernel_child) {  // PrescottImagesPerSecond's child: one thread only
    tandem::ml::ReuseFreedTensorMemory();
    for (const std::string& name : models) {
      std::printf("%.1f\n", ImagesPerSecond(name, train, 1, batches));
    }
    return 0;
  }
  std::vector<double> default_alloc;
  for (const std::string& name : models) {
    default_alloc.push_back(ImagesPerSecond(name, train, 1, batches));
  }
  tandem::ml::ReuseFreedTensorMemory();
  std::printf("%s\n", tandem::ml::DescribeRuntime().c_str());
  std::printf("%-6s %16s %12s %12s %12s %10s\n", "model", "1 thr, default",
              "img/s 1 thr",
              ("img/s " + std::to_string(cores) + " thr").c_str(),
              "kept/default", "all/1 thr");
  std::vector<double> one_thread;
  for (size_t m = 0; m < models.size(); ++m) {
    const double one = ImagesPerSecond(models[m], train, 1, batches);
    const double all = ImagesPerSecond(models[m], train, cores, batches);
    one_thread.push_back(one);
    std::printf("%-6s %16.0f %12.0f %12.0f %12.2f %10.2f\n", models[m].c_str(),
                default_alloc[m], one, all, one / default_alloc[m], all / one);
  }
  PrintKernelComparison(models, one_thread, batches);
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS of this process: %.1f MiB\n", usage.ru_maxrss / 1024.0);
  return 0;
}
