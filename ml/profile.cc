#include "ml/profile.h"

#include <torch/torch.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "core/tensor_codec.h"
#include "ml/aux_classifier.h"
#include "ml/internal/aux_net.h"
#include "ml/internal/batch.h"
#include "ml/internal/model_impl.h"
#include "ml/split.h"
#include "ml/split_weights.h"

namespace tandem::ml {
namespace {

// The per-example and per-batch parts of a cost timed at `full` and at
// `half` (= full / 2) examples: t(n) = per_example * n + per_batch. Noise
// that would make either part negative leaves the whole cost per example.
struct Parts {
  double per_example = 0, per_batch = 0;
};
Parts Split(double t_full, double t_half, int full, int half) {
  Parts p;
  p.per_example = (t_full - t_half) / (full - half);
  p.per_batch = t_full - p.per_example * full;
  if (p.per_example < 0 || p.per_batch < 0) p = {t_full / full, 0};
  return p;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A uint8 data set of `n` random examples of `input`'s shape.
data::Dataset RandomExamples(const InputShape& input, int n) {
  data::Dataset d;
  d.rank = input.rank;
  d.channels = input.channels;
  d.height = input.height;
  d.width = input.width;
  d.num_classes = input.num_classes;
  std::mt19937 rng(1);
  d.pixels.resize(static_cast<size_t>(n * d.example_size()));
  for (uint8_t& p : d.pixels) p = static_cast<uint8_t>(rng() & 0xff);
  for (int i = 0; i < n; ++i) d.labels.push_back(i % input.num_classes);
  return d;
}

// What one training step costs stage `stage` on `x` ([n, ...]): forward,
// backward (with the input's gradient, but for the first stage), the
// optimiser step on its parameters (SGD with momentum, as training uses),
// and: for the first stage, forming the batch from stored examples; for the
// last, the loss. Median over `reps` after a warm-up.
double TimeStage(StageNet& net, int stage, const torch::Tensor& x,
                 const data::Dataset& examples, int reps) {
  const int last = net.num_stages() - 1;
  torch::optim::SGD sgd(net.Parameters(stage, stage + 1),
                        torch::optim::SGDOptions(0.01).momentum(0.9));
  std::vector<int64_t> idx(static_cast<size_t>(x.size(0)));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  const torch::Tensor y = torch::zeros({x.size(0)}, torch::kInt64);
  std::vector<double> times;
  for (int r = 0; r < reps + 1; ++r) {  // +1: warm-up
    const double t0 = MonotonicSeconds();
    torch::Tensor in = x;
    if (stage == 0) in = MakeBatch(examples, idx.data(), x.size(0)).x;
    in = in.detach().requires_grad_(stage > 0);
    sgd.zero_grad();
    torch::Tensor out = net.Forward(in, stage, stage + 1);
    if (stage == last) {
      torch::nn::functional::cross_entropy(out, y).backward();
    } else {
      out.backward(torch::ones_like(out));
    }
    sgd.step();
    if (r > 0) times.push_back(MonotonicSeconds() - t0);
  }
  return Median(times);
}

// The auxiliary classifier's step at the split point whose activations are
// `x`: forward, loss, backward, its optimiser step, and the int8 encoding of
// the activations the device sends (offload.activation_codec's default).
double TimeAux(const std::vector<int64_t>& split_shape, int classes,
               const torch::Tensor& x, int reps) {
  torch::nn::Sequential aux = MakeAuxNet(split_shape, classes);
  torch::optim::SGD sgd(aux->parameters(),
                        torch::optim::SGDOptions(0.01).momentum(0.9));
  torch::Tensor y = torch::zeros({x.size(0)}, torch::kInt64);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  std::vector<double> times;
  for (int r = 0; r < reps + 1; ++r) {
    torch::Tensor in = x.detach().requires_grad_(true);
    const double t0 = MonotonicSeconds();
    sgd.zero_grad();
    torch::nn::functional::cross_entropy(aux->forward(in), y).backward();
    sgd.step();
    const torch::Tensor flat = x.contiguous();
    std::vector<float> values(flat.data_ptr<float>(),
                              flat.data_ptr<float>() + flat.numel());
    v1::Tensor wire;
    EncodeTensor(shape, values, ActivationCodec::kInt8, &wire);
    if (r > 0) times.push_back(MonotonicSeconds() - t0);
  }
  return Median(times);
}

// The stage's sizes; `s + 1` is the split point after it.
void SetSizes(const Model& model, int s, StageProfile& st) {
  st.name = model.stage_names()[s];
  st.out_elements = 1;
  for (int64_t d : SplitShape(model, s + 1)) st.out_elements *= d;
  st.param_bytes = SliceLayout(model.layout(), s, s + 1).total_bytes();
  if (s + 1 < model.num_stages()) {
    st.aux_param_bytes = 4 * AuxSize(model, s + 1);
  }
}

ModelProfile EmptyProfile(const std::string& name, const InputShape& input) {
  ModelProfile p;
  p.model = name;
  p.input_elements =
      static_cast<int64_t>(input.channels) * input.height * input.width;
  return p;
}

// Times every stage (and auxiliary classifier) of `model` on batches of
// `n` examples: total seconds per stage.
struct StageTimes {
  std::vector<double> train, aux;
};
StageTimes TimeStages(Model& model, const InputShape& input, int n, int reps) {
  StageNet& net = *model.impl().net;
  net.SetTraining(true);
  const data::Dataset examples = RandomExamples(input, n);
  torch::Tensor x = torch::randn(ExampleInput(input, n).sizes());
  StageTimes t;
  for (int s = 0; s < model.num_stages(); ++s) {
    t.train.push_back(TimeStage(net, s, x, examples, reps));
    {
      torch::NoGradGuard no_grad;
      x = net.Forward(x, s, s + 1).detach();
    }
    t.aux.push_back(
        s + 1 < model.num_stages()
            ? TimeAux(SplitShape(model, s + 1), input.num_classes, x, reps)
            : 0);
  }
  return t;
}

}  // namespace

double StageProfile::TrainSeconds(int batch) const {
  return train_seconds_per_example +
         (batch > 0 ? train_seconds_per_batch / batch : 0);
}

double StageProfile::AuxSeconds(int batch) const {
  return aux_seconds_per_example +
         (batch > 0 ? aux_seconds_per_batch / batch : 0);
}

ModelProfile AtBatchSize(ModelProfile profile, int batch) {
  profile.batch_size = batch;
  return profile;
}

double StageSeconds(const ModelProfile& profile, int begin, int end) {
  double t = 0;
  const int n = static_cast<int>(profile.stages.size());
  for (int s = std::max(0, begin); s < std::min(end, n); ++s) {
    t += profile.stages[s].TrainSeconds(profile.batch_size);
  }
  return t;
}

double LocalLossHeadSeconds(const ModelProfile& profile, int split) {
  double t = StageSeconds(profile, 0, split);
  if (split >= 1 && split < static_cast<int>(profile.stages.size())) {
    t += profile.stages[split - 1].AuxSeconds(profile.batch_size);
  }
  return t;
}

absl::StatusOr<ModelProfile> StageSizes(const std::string& name,
                                        const InputShape& input) {
  auto model = Model::Create(name, input, 1);
  if (!model.ok()) return model.status();
  ModelProfile p = EmptyProfile(name, input);
  try {
    for (int s = 0; s < (*model)->num_stages(); ++s) {
      SetSizes(**model, s, p.stages.emplace_back());
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("profile: ", e.what()));
  }
  return p;
}

absl::StatusOr<ModelProfile> ProfileModel(const std::string& name,
                                          const InputShape& input, int batch,
                                          int reps) {
  auto model = Model::Create(name, input, 1);
  if (!model.ok()) return model.status();
  if (batch < 4 || reps < 1) {
    return absl::InvalidArgumentError("profile: batch >= 4 and reps >= 1");
  }
  ModelProfile p = EmptyProfile(name, input);
  p.batch_size = batch;
  const int half = batch / 2;
  try {
    const StageTimes full = TimeStages(**model, input, batch, reps);
    const StageTimes part = TimeStages(**model, input, half, reps);
    for (int s = 0; s < (*model)->num_stages(); ++s) {
      StageProfile& st = p.stages.emplace_back();
      SetSizes(**model, s, st);
      const Parts train = Split(full.train[s], part.train[s], batch, half);
      st.train_seconds_per_example = train.per_example;
      st.train_seconds_per_batch = train.per_batch;
      const Parts aux = Split(full.aux[s], part.aux[s], batch, half);
      st.aux_seconds_per_example = aux.per_example;
      st.aux_seconds_per_batch = aux.per_batch;
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("profile: ", e.what()));
  }
  return p;
}

}  // namespace tandem::ml
