// Which auxiliary classifier for offload.mode "local_loss": trains one
// device's share of Fashion-MNIST with a local-loss head at a split point
// and a tail fitted on the head's activations as they come (the
// coordinator's part), once per classifier form, and prints the joined
// model's test accuracy after each round (one epoch each, optimisers
// restarted as in FL rounds) against end-to-end training with the same
// seeds, and the head's compute per 100 examples with each classifier (one
// thread).
//
//   build/bench/split/aux_choice [--model vgg5] [--split 2] [--examples 12000]
//       [--rounds 3]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/seeds.h"
#include "ml/aux_classifier.h"
#include "ml/blas_kernel.h"
#include "ml/data/run_data.h"
#include "ml/runtime.h"
#include "ml/split.h"
#include "ml/split_weights.h"
#include "ml/trainer.h"

namespace {

using tandem::ml::AuxForm;

// The coordinator's side, in process: fit the tail on each batch.
class TailSink : public tandem::ml::ActivationSink {
 public:
  explicit TailSink(tandem::ml::TailTrainer* tail) : tail_(tail) {}
  absl::Status Send(int64_t, tandem::ml::SplitTensor activations,
                    std::vector<int64_t> labels, double) override {
    return tail_->Fit(activations, labels).status();
  }

 private:
  tandem::ml::TailTrainer* tail_;
};

struct Setup {
  std::string model = "vgg5";
  int split = 2;
  int64_t examples = 12000;
  int rounds = 3;
  tandem::data::Dataset train, test;
  tandem::ml::InputShape input;
};

tandem::ml::TrainOptions RoundOptions(int round) {
  tandem::ml::TrainOptions o;
  o.batch_size = 100;
  o.learning_rate = 0.05;
  o.momentum = 0.9;
  o.seed = tandem::StreamSeed(1, static_cast<uint64_t>(round));
  return o;
}

double Accuracy(tandem::ml::Model& m, const Setup& s) {
  return tandem::ml::Evaluate(m, s.test, 500).value().accuracy;
}

// Accuracy after each round, and the head's CPU seconds per 100 examples.
std::vector<double> LocalLoss(const Setup& s, AuxForm form, double* cpu) {
  auto model = tandem::ml::Model::Create(s.model, s.input, 1).value();
  std::vector<float> aux = tandem::ml::InitAux(*model, s.split, 1, form);
  std::vector<double> acc;
  *cpu = 0;
  for (int r = 1; r <= s.rounds; ++r) {
    const tandem::Weights global = model->GetWeights();
    auto tail = tandem::ml::TailTrainer::Create(s.model, s.input, s.split,
                                                global, RoundOptions(r))
                    .value();
    TailSink sink(tail.get());
    auto stats = tandem::ml::TrainHeadLocalLoss(*model, s.split, &aux, s.train,
                                                RoundOptions(r), sink, form)
                     .value();
    *cpu += stats.cpu_seconds * 100 / stats.examples_seen / s.rounds;
    tandem::Weights joined = model->GetWeights();
    (void)tandem::ml::MergeStages(tail->TailWeights(), &joined);
    (void)model->SetWeights(joined);
    acc.push_back(Accuracy(*model, s));
  }
  return acc;
}

std::vector<double> EndToEnd(const Setup& s) {
  auto model = tandem::ml::Model::Create(s.model, s.input, 1).value();
  std::vector<double> acc;
  for (int r = 1; r <= s.rounds; ++r) {
    (void)tandem::ml::TrainLocal(*model, s.train, RoundOptions(r)).value();
    acc.push_back(Accuracy(*model, s));
  }
  return acc;
}

void PrintRow(const char* name, const std::vector<double>& acc, double cpu) {
  std::printf("%-22s", name);
  for (double a : acc) std::printf(" %8.2f", 100 * a);
  if (cpu > 0) std::printf("   %8.2f", 1e3 * cpu);
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  tandem::ml::ReuseFreedTensorMemory();
  tandem::ml::SetComputeThreads(1);
  Setup s;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--model")) s.model = argv[i + 1];
    if (!std::strcmp(argv[i], "--split")) s.split = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--examples"))
      s.examples = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) s.rounds = std::atoi(argv[i + 1]);
  }
  tandem::Config c;
  auto tt = tandem::data::LoadDataset(tandem::data::SourceForConfig(c));
  if (!tt.ok()) {
    std::fprintf(stderr, "%s\n", tt.status().ToString().c_str());
    return 1;
  }
  s.train = tt->train.Head(s.examples);
  s.test = tt->test;
  s.input = {s.train.channels, s.train.height, s.train.width,
             s.train.num_classes};
  std::printf(
      "%s, split point %d, %lld examples, test accuracy (%%) by round, "
      "head ms per 100 examples (1 thread)\n",
      s.model.c_str(), s.split, static_cast<long long>(s.examples));
  PrintRow("end to end", EndToEnd(s), 0);
  for (AuxForm f :
       {AuxForm::kPool4, AuxForm::kPool2, AuxForm::kGlobal, AuxForm::kFlat}) {
    double cpu = 0;
    const std::vector<double> acc = LocalLoss(s, f, &cpu);
    PrintRow(tandem::ml::AuxFormName(f), acc, cpu);
  }
  return 0;
}
