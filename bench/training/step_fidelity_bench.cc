// How well a model profile predicts what training really costs (issue 24):
// for each zoo model, one LibTorch thread, Fashion-MNIST, one epoch over
// 1,000 examples in batches of 100, the CPU seconds per example of the real
// training loop (ml::TrainLocal) and of a local-loss head at split point 2
// (ml::TrainHeadLocalLoss, its activations encoded int8 as a device sends
// them) against what ml::ProfileModel predicts for the same batch size. The
// simulator charges virtual time from those predictions, so predicted /
// real is how fast virtual time runs against a real device; the profile is
// measured at the run's batch size, as the simulator does. Medians of 5.
//
//   build/bench/training/step_fidelity_bench
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/tensor_codec.h"
#include "ml/aux_classifier.h"
#include "ml/blas_kernel.h"
#include "ml/data/dataset.h"
#include "ml/model.h"
#include "ml/profile.h"
#include "ml/runtime.h"
#include "ml/split.h"
#include "ml/trainer.h"

namespace {

namespace ml = tandem::ml;

constexpr int kExamples = 1000, kBatch = 100, kRepetitions = 5, kSplit = 2;

[[noreturn]] void Fail(const absl::Status& s) {
  std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
  std::exit(1);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

ml::TrainOptions Options() {
  ml::TrainOptions o;
  o.batch_size = kBatch;
  o.learning_rate = 0.01;
  o.momentum = 0.9;
  return o;
}

// Encodes each batch's activations as a device does before sending them.
class EncodingSink : public ml::ActivationSink {
 public:
  absl::Status Send(int64_t, ml::SplitTensor a, std::vector<int64_t>,
                    double) override {
    tandem::v1::Tensor wire;
    tandem::EncodeTensor(a.shape, a.values, tandem::ActivationCodec::kInt8,
                         &wire);
    return absl::OkStatus();
  }
};

double TrainSecondsPerExample(ml::Model& model,
                              const tandem::data::Dataset& data) {
  const double t0 = tandem::ThreadCpuSeconds();
  auto stats = ml::TrainLocal(model, data, Options());
  if (!stats.ok()) Fail(stats.status());
  return (tandem::ThreadCpuSeconds() - t0) / data.size();
}

double HeadSecondsPerExample(ml::Model& model,
                             const tandem::data::Dataset& data) {
  std::vector<float> aux = ml::InitAux(model, kSplit, 1);
  EncodingSink sink;
  const double t0 = tandem::ThreadCpuSeconds();
  auto stats =
      ml::TrainHeadLocalLoss(model, kSplit, &aux, data, Options(), sink);
  if (!stats.ok()) Fail(stats.status());
  return (tandem::ThreadCpuSeconds() - t0) / data.size();
}

}  // namespace

int main(int argc, char** argv) {
  ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  ml::ReuseFreedTensorMemory();
  ml::SetComputeThreads(1);
  ml::SetBlasThreads(1);
  auto tt = tandem::data::LoadDataset(tandem::data::DataSource());
  if (!tt.ok()) Fail(tt.status());
  const tandem::data::Dataset train = tt->train.Head(kExamples);
  std::printf("%s\n", ml::DescribeRuntime().c_str());
  std::printf("%-5s %-10s %12s %12s %10s\n", "model", "what", "real ms/100",
              "profile", "prof/real");
  for (const std::string name : {"mlp", "cnn", "vgg5"}) {
    const ml::InputShape input = {1, 28, 28, 10};
    auto model = ml::Model::Create(name, input, 1);
    if (!model.ok()) Fail(model.status());
    std::vector<double> train_s, head_s, profile_s, profile_head_s;
    (void)TrainSecondsPerExample(**model, train);  // warm-up
    for (int r = 0; r < kRepetitions; ++r) {
      train_s.push_back(TrainSecondsPerExample(**model, train));
      head_s.push_back(HeadSecondsPerExample(**model, train));
      auto p = ml::ProfileModel(name, input, kBatch, 15);
      if (!p.ok()) Fail(p.status());
      const ml::ModelProfile at = ml::AtBatchSize(*p, kBatch);
      profile_s.push_back(ml::StageSeconds(at, 0, (*model)->num_stages()));
      profile_head_s.push_back(ml::LocalLossHeadSeconds(at, kSplit));
    }
    const double t = Median(train_s), pt = Median(profile_s);
    const double h = Median(head_s), ph = Median(profile_head_s);
    std::printf("%-5s %-10s %12.3f %12.3f %10.3f\n", name.c_str(), "train",
                1e5 * t, 1e5 * pt, pt / t);
    std::printf("%-5s %-10s %12.3f %12.3f %10.3f\n", name.c_str(), "ll-head:2",
                1e5 * h, 1e5 * ph, ph / h);
  }
  return 0;
}
