#include "ml/model.h"

#include <torch/torch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "ml/internal/model_impl.h"

namespace tandem::ml {
namespace {

// Runs one zero example through the stages to learn each split point's
// shape, and checks that the model maps it to num_classes logits.
absl::StatusOr<std::vector<std::vector<int64_t>>> ProbeSplitShapes(
    const std::string& name, StageNet& net, const InputShape& in) {
  torch::NoGradGuard no_grad;
  net.SetTraining(false);
  torch::Tensor x = ExampleInput(in);
  std::vector<std::vector<int64_t>> shapes;
  for (int s = 0; s <= net.num_stages(); ++s) {
    // TorchScript stages were checked to chain at load (LoadTorchScriptNet);
    // the zoo's always do.
    if (s > 0) x = net.Forward(x, s - 1, s);
    auto sizes = x.sizes().vec();
    shapes.emplace_back(sizes.begin() + 1, sizes.end());
  }
  net.SetTraining(true);
  if (shapes.back() != std::vector<int64_t>{in.num_classes}) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "': its output per example is [",
                     absl::StrJoin(shapes.back(), ","), "], expected [",
                     in.num_classes, "] (one logit per class of the data)"));
  }
  return shapes;
}

absl::StatusOr<std::unique_ptr<StageNet>> BuildNet(
    const std::string& name, const InputShape& input, uint64_t seed,
    std::vector<std::string>* stage_names) {
  if (absl::StartsWith(name, kTorchScriptPrefix)) {
    return LoadTorchScriptNet(name.substr(strlen(kTorchScriptPrefix)), input,
                              stage_names);
  }
  // LibTorch's default generator is global: seed and build under one lock
  // so concurrent Create calls stay deterministic.
  absl::MutexLock lock(&TorchSeedMutex());
  torch::manual_seed(seed);
  return BuildZooNet(name, input, stage_names);
}

}  // namespace

torch::Tensor ExampleInput(const InputShape& in, int64_t batch) {
  if (in.rank == 1) return torch::zeros({batch, in.channels});
  if (in.rank == 2) return torch::zeros({batch, in.channels, in.width});
  return torch::zeros({batch, in.channels, in.height, in.width});
}

void CopyToWeights(const std::vector<NamedTensor>& tensors, Weights* w) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto dst = w->tensor(static_cast<int>(i));
    torch::Tensor src =
        tensors[i].tensor.detach().to(torch::kFloat32).contiguous();
    std::memcpy(dst.data(), src.data_ptr<float>(), dst.size() * sizeof(float));
  }
}

void CopyFromWeights(const Weights& w, std::vector<NamedTensor>* tensors) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < tensors->size(); ++i) {
    torch::Tensor& dst = (*tensors)[i].tensor;
    auto src = w.tensor(static_cast<int>(i));
    torch::Tensor view = torch::from_blob(const_cast<float*>(src.data()),
                                          dst.sizes(), torch::kFloat32);
    dst.copy_(view.to(dst.scalar_type()));
  }
}

absl::StatusOr<std::unique_ptr<Model>> Model::Create(const std::string& name,
                                                     const InputShape& input,
                                                     uint64_t seed) {
  if (input.channels < 1 || input.height < 1 || input.width < 1 ||
      input.num_classes < 2 || input.rank < 1 || input.rank > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "': unsupported input ", input.channels,
                     "x", input.height, "x", input.width, " (rank ", input.rank,
                     ") with ", input.num_classes, " classes"));
  }
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->input = input;
  try {
    TANDEM_ASSIGN_OR_RETURN(impl->net,
                            BuildNet(name, input, seed, &impl->stage_names));
    impl->tensors = impl->net->Tensors();
    TANDEM_ASSIGN_OR_RETURN(impl->split_shapes,
                            ProbeSplitShapes(name, *impl->net, input));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("building model '", name, "': ", e.what()));
  }
  std::vector<TensorSpec> specs;
  for (const NamedTensor& t : impl->tensors) {
    specs.push_back(
        {t.name, t.tensor.sizes().vec(),
         t.is_buffer ? TensorKind::kBuffer : TensorKind::kParameter});
  }
  TANDEM_ASSIGN_OR_RETURN(impl->layout,
                          WeightsLayout::Create(std::move(specs)));
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

const std::string& Model::name() const { return impl_->name; }
const InputShape& Model::input() const { return impl_->input; }
int Model::num_stages() const { return impl_->net->num_stages(); }
const std::vector<std::string>& Model::stage_names() const {
  return impl_->stage_names;
}

std::vector<int> Model::SplitPoints() const {
  std::vector<int> points;
  for (int s = 1; s <= num_stages(); ++s) points.push_back(s);
  return points;
}

const WeightsLayout& Model::layout() const { return impl_->layout; }

Weights Model::GetWeights() const {
  Weights w(impl_->layout);
  CopyToWeights(impl_->tensors, &w);
  return w;
}

absl::Status Model::SetWeights(const Weights& w) {
  const std::string diff = impl_->layout.DescribeDifference(w.layout());
  if (!diff.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights do not fit model '", impl_->name, "': ", diff));
  }
  CopyFromWeights(w, &impl_->tensors);
  return absl::OkStatus();
}

}  // namespace tandem::ml
