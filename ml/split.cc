#include "ml/split.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/clock.h"
#include "core/status_macros.h"
#include "ml/internal/aux_net.h"
#include "ml/internal/model_impl.h"
#include "ml/internal/train_loop.h"
#include "ml/split_weights.h"

namespace tandem::ml {
namespace {

torch::optim::SGD MakeSgd(std::vector<torch::Tensor> params,
                          const TrainOptions& o) {
  return torch::optim::SGD(std::move(params),
                           torch::optim::SGDOptions(o.learning_rate)
                               .momentum(o.momentum)
                               .weight_decay(o.weight_decay));
}

SplitTensor ToSplitTensor(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  SplitTensor out;
  out.shape = c.sizes().vec();
  out.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return out;
}

torch::Tensor FromSplitTensor(const SplitTensor& c) {
  return torch::from_blob(const_cast<float*>(c.values.data()), c.shape,
                          torch::kFloat32)
      .clone();
}

absl::Status CheckSplitTensor(const SplitTensor& c,
                              const std::vector<int64_t>& per_example,
                              size_t n_labels, const char* what) {
  std::vector<int64_t> want = {static_cast<int64_t>(n_labels)};
  want.insert(want.end(), per_example.begin(), per_example.end());
  int64_t numel = 1;
  for (int64_t d : c.shape) numel *= d;
  if (c.shape != want || numel != static_cast<int64_t>(c.values.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": expected shape [", absl::StrJoin(want, ","), "], got [",
        absl::StrJoin(c.shape, ","), "] with ", c.values.size(), " values"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainStats> TrainHeadImpl(Model& model, int split,
                                         const data::Dataset& data,
                                         const TrainOptions& opt,
                                         SplitTransport& transport) {
  StageNet& net = *model.impl().net;
  net.SetTraining(true);
  torch::optim::SGD sgd = MakeSgd(net.Parameters(0, split), opt);
  const std::vector<int64_t>& split_shape = model.impl().split_shapes[split];
  int64_t step_no = 0;
  double transport_cpu = 0;
  auto step = [&](const Batch& b) -> absl::StatusOr<double> {
    sgd.zero_grad();
    torch::Tensor act = net.Forward(b.x, 0, split);
    std::vector<int64_t> labels(b.y.data_ptr<int64_t>(),
                                b.y.data_ptr<int64_t>() + b.y.numel());
    double loss = 0;
    const double cpu0 = ThreadCpuSeconds();
    absl::StatusOr<SplitTensor> grad =
        transport.Exchange(step_no++, ToSplitTensor(act), labels, &loss);
    transport_cpu += ThreadCpuSeconds() - cpu0;
    if (!grad.ok()) return grad.status();
    absl::Status shape_ok =
        CheckSplitTensor(*grad, split_shape, labels.size(), "gradient");
    if (!shape_ok.ok()) return shape_ok;
    act.backward(FromSplitTensor(*grad));
    sgd.step();
    return loss;
  };
  auto stats = RunTrainLoop(data, opt, step);
  // Encoding and sending are the transport's, not the head's compute.
  if (stats.ok()) stats->cpu_seconds -= transport_cpu;
  return stats;
}

absl::StatusOr<TrainStats> TrainLocalLossImpl(
    Model& model, int split, std::vector<float>* aux, const data::Dataset& data,
    const TrainOptions& opt, ActivationSink& sink, AuxForm form) {
  StageNet& net = *model.impl().net;
  net.SetTraining(true);
  torch::nn::Sequential aux_net = MakeAuxNet(model.impl().split_shapes[split],
                                             model.input().num_classes, form);
  if (AuxParamCount(aux_net) != static_cast<int64_t>(aux->size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "auxiliary classifier: expected ", AuxParamCount(aux_net),
        " weights for split point ", split, ", got ", aux->size()));
  }
  SetAuxParams(aux_net, *aux);
  std::vector<torch::Tensor> params = net.Parameters(0, split);
  for (const torch::Tensor& p : aux_net->parameters()) params.push_back(p);
  torch::optim::SGD sgd = MakeSgd(std::move(params), opt);
  int64_t step_no = 0;
  double sink_cpu = 0;
  auto step = [&](const Batch& b) -> absl::StatusOr<double> {
    const double cpu0 = ThreadCpuSeconds();
    sgd.zero_grad();
    torch::Tensor act = net.Forward(b.x, 0, split);
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(aux_net->forward(act), b.y);
    loss.backward();
    sgd.step();
    SplitTensor sent = ToSplitTensor(act);
    std::vector<int64_t> labels(b.y.data_ptr<int64_t>(),
                                b.y.data_ptr<int64_t>() + b.y.numel());
    const double cpu1 = ThreadCpuSeconds();
    absl::Status s =
        sink.Send(step_no++, std::move(sent), std::move(labels), cpu1 - cpu0);
    sink_cpu += ThreadCpuSeconds() - cpu1;
    if (!s.ok()) return s;
    return loss.item<double>();
  };
  auto stats = RunTrainLoop(data, opt, step);
  if (!stats.ok()) return stats;
  stats->cpu_seconds -= sink_cpu;  // encoding and sending are the sink's
  *aux = GetAuxParams(aux_net);
  return stats;
}

// A split point of `model` and sane training arguments.
absl::Status CheckHeadArgs(const Model& model, int split,
                           const data::Dataset& data,
                           const TrainOptions& options) {
  if (split < 1 || split >= model.num_stages()) {
    return absl::InvalidArgumentError(
        absl::StrCat("split point ", split, " is out of range for '",
                     model.name(), "' (1..", model.num_stages() - 1, ")"));
  }
  return CheckTrainArgs(data, options);
}

}  // namespace

std::vector<int64_t> SplitShape(const Model& model, int split) {
  return model.impl().split_shapes.at(split);
}

absl::StatusOr<TrainStats> TrainHead(Model& model, int split,
                                     const data::Dataset& data,
                                     const TrainOptions& options,
                                     SplitTransport& transport) {
  absl::Status args = CheckHeadArgs(model, split, data, options);
  if (!args.ok()) return args;
  try {
    return TrainHeadImpl(model, split, data, options, transport);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("split training: ", e.what()));
  }
}

absl::StatusOr<TrainStats> TrainHeadLocalLoss(
    Model& model, int split, std::vector<float>* aux, const data::Dataset& data,
    const TrainOptions& options, ActivationSink& sink, AuxForm form) {
  absl::Status args = CheckHeadArgs(model, split, data, options);
  if (!args.ok()) return args;
  try {
    return TrainLocalLossImpl(model, split, aux, data, options, sink, form);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("local-loss training: ", e.what()));
  }
}

struct TailTrainer::Impl {
  std::unique_ptr<Model> model;
  int split = 0;
  std::unique_ptr<torch::optim::SGD> sgd;
  int64_t steps = 0;
  int64_t examples = 0;
  double cpu_seconds = 0;
};

TailTrainer::TailTrainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TailTrainer::~TailTrainer() = default;

absl::StatusOr<std::unique_ptr<TailTrainer>> TailTrainer::Create(
    const std::string& model_name, const InputShape& input, int split,
    const Weights& global, const TrainOptions& options) {
  auto impl = std::make_unique<Impl>();
  auto model = Model::Create(model_name, input, 0);
  if (!model.ok()) return model.status();
  impl->model = *std::move(model);
  if (split < 1 || split >= impl->model->num_stages()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "split point ", split, " is out of range for '", model_name, "'"));
  }
  absl::Status s = impl->model->SetWeights(global);
  if (!s.ok()) return s;
  impl->split = split;
  try {
    StageNet& net = *impl->model->impl().net;
    net.SetTraining(true);
    impl->sgd = std::make_unique<torch::optim::SGD>(
        MakeSgd(net.Parameters(split, net.num_stages()), options));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("tail: ", e.what()));
  }
  return std::unique_ptr<TailTrainer>(new TailTrainer(std::move(impl)));
}

const std::vector<int64_t>& TailTrainer::split_shape() const {
  return impl_->model->impl().split_shapes[impl_->split];
}

absl::Status TailTrainer::CheckBatch(const SplitTensor& activations,
                                     const std::vector<int64_t>& labels) const {
  absl::Status shape_ok = CheckSplitTensor(activations, split_shape(),
                                           labels.size(), "activations");
  if (!shape_ok.ok()) return shape_ok;
  const int classes = impl_->model->input().num_classes;
  for (int64_t y : labels) {
    if (y < 0 || y >= classes) {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", y, " out of range [0, ", classes, ")"));
    }
  }
  if (labels.size() < 2) {
    return absl::InvalidArgumentError("a split batch needs 2+ examples");
  }
  return absl::OkStatus();
}

namespace {

// Forward, loss, backward and step of a tail; the input's gradient into
// `grad` when not null. Returns the loss.
double TailStep(TailTrainer::Impl& impl, const SplitTensor& activations,
                const std::vector<int64_t>& labels, SplitTensor* grad) {
  StageNet& net = *impl.model->impl().net;
  torch::Tensor x =
      FromSplitTensor(activations).requires_grad_(grad != nullptr);
  torch::Tensor y = torch::tensor(labels, torch::kInt64);
  impl.sgd->zero_grad();
  torch::Tensor out = net.Forward(x, impl.split, net.num_stages());
  torch::Tensor l = torch::nn::functional::cross_entropy(out, y);
  l.backward();
  impl.sgd->step();
  if (grad != nullptr) *grad = ToSplitTensor(x.grad());
  ++impl.steps;
  impl.examples += static_cast<int64_t>(labels.size());
  return l.item<double>();
}

}  // namespace

absl::StatusOr<SplitTensor> TailTrainer::Step(
    const SplitTensor& activations, const std::vector<int64_t>& labels,
    double* loss) {
  TANDEM_RETURN_IF_ERROR(CheckBatch(activations, labels));
  const double cpu0 = ThreadCpuSeconds();
  try {
    SplitTensor grad;
    *loss = TailStep(*impl_, activations, labels, &grad);
    impl_->cpu_seconds += ThreadCpuSeconds() - cpu0;
    return grad;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("tail step: ", e.what()));
  }
}

absl::StatusOr<double> TailTrainer::Fit(const SplitTensor& activations,
                                        const std::vector<int64_t>& labels) {
  TANDEM_RETURN_IF_ERROR(CheckBatch(activations, labels));
  const double cpu0 = ThreadCpuSeconds();
  try {
    const double loss = TailStep(*impl_, activations, labels, nullptr);
    impl_->cpu_seconds += ThreadCpuSeconds() - cpu0;
    return loss;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("tail step: ", e.what()));
  }
}

Weights TailTrainer::TailWeights() const {
  Weights full = impl_->model->GetWeights();
  return SliceStages(full, impl_->split, impl_->model->num_stages());
}

int64_t TailTrainer::steps() const { return impl_->steps; }
int64_t TailTrainer::examples() const { return impl_->examples; }
double TailTrainer::cpu_seconds() const { return impl_->cpu_seconds; }

}  // namespace tandem::ml
