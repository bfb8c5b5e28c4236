#include "ml/profile.h"

#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "ml/aux_classifier.h"
#include "ml/internal/aux_net.h"
#include "ml/internal/model_impl.h"
#include "ml/split.h"
#include "ml/split_weights.h"

namespace tandem::ml {
namespace {

// Median over `reps` of one stage's forward + backward on `x`. Every stage
// but the first also computes the gradient of its input, as in training.
double TimeStage(StageNet& net, int stage, const torch::Tensor& x, int reps) {
  std::vector<double> times;
  for (int r = 0; r < reps + 1; ++r) {  // +1: warm-up
    torch::Tensor in = x.detach().requires_grad_(stage > 0);
    const double t0 = MonotonicSeconds();
    torch::Tensor out = net.Forward(in, stage, stage + 1);
    out.backward(torch::ones_like(out));
    if (r > 0) times.push_back(MonotonicSeconds() - t0);
    net.ZeroGrad();
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Median over `reps` of the auxiliary classifier's forward + backward at the
// split point whose activations are `x`.
double TimeAux(const std::vector<int64_t>& split_shape, int classes,
               const torch::Tensor& x, int reps) {
  torch::nn::Sequential aux = MakeAuxNet(split_shape, classes);
  torch::Tensor y = torch::zeros({x.size(0)}, torch::kInt64);
  std::vector<double> times;
  for (int r = 0; r < reps + 1; ++r) {
    torch::Tensor in = x.detach().requires_grad_(true);
    const double t0 = MonotonicSeconds();
    torch::nn::functional::cross_entropy(aux->forward(in), y).backward();
    if (r > 0) times.push_back(MonotonicSeconds() - t0);
    aux->zero_grad();
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

double StageSeconds(const ModelProfile& profile, int begin, int end) {
  double t = 0;
  const int n = static_cast<int>(profile.stages.size());
  for (int s = std::max(0, begin); s < std::min(end, n); ++s) {
    t += profile.stages[s].train_seconds_per_example;
  }
  return t;
}

double LocalLossHeadSeconds(const ModelProfile& profile, int split) {
  double t = StageSeconds(profile, 0, split);
  if (split >= 1 && split < static_cast<int>(profile.stages.size())) {
    t += profile.stages[split - 1].aux_seconds_per_example;
  }
  return t;
}

namespace {

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

}  // namespace

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
  if (batch < 2 || reps < 1) {
    return absl::InvalidArgumentError("profile: batch >= 2 and reps >= 1");
  }
  ModelProfile p = EmptyProfile(name, input);
  try {
    StageNet& net = *(*model)->impl().net;
    net.SetTraining(true);
    torch::Tensor x = torch::randn(ExampleInput(input, batch).sizes());
    for (int s = 0; s < (*model)->num_stages(); ++s) {
      StageProfile st;
      SetSizes(**model, s, st);
      st.train_seconds_per_example = TimeStage(net, s, x, reps) / batch;
      {
        torch::NoGradGuard no_grad;
        x = net.Forward(x, s, s + 1).detach();
      }
      if (s + 1 < (*model)->num_stages()) {
        st.aux_seconds_per_example =
            TimeAux(SplitShape(**model, s + 1), input.num_classes, x, reps) /
            batch;
      }
      p.stages.push_back(st);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("profile: ", e.what()));
  }
  return p;
}

}  // namespace tandem::ml
