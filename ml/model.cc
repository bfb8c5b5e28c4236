#include "ml/model.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "ml/internal/model_impl.h"

namespace tandem::ml {

void StagedNetImpl::AddStage(torch::nn::Sequential stage) {
  const std::string name = absl::StrCat("s", stages_.size());
  stages_.push_back(register_module(name, stage));
}

torch::Tensor StagedNetImpl::Forward(torch::Tensor x, int begin, int end) {
  for (int i = begin; i < end; ++i) x = stages_[i]->forward(x);
  return x;
}

namespace {

void Collect(torch::nn::Module& m, const std::string& prefix,
             std::vector<NamedTensor>* out) {
  for (auto& p : m.named_parameters(/*recurse=*/false)) {
    out->push_back({prefix + p.key(), p.value(), false});
  }
  for (auto& b : m.named_buffers(/*recurse=*/false)) {
    out->push_back({prefix + b.key(), b.value(), true});
  }
  for (auto& child : m.named_children()) {
    Collect(*child.value(), prefix + child.key() + ".", out);
  }
}

}  // namespace

std::vector<NamedTensor> CollectTensors(torch::nn::Module& module) {
  std::vector<NamedTensor> out;
  Collect(module, "", &out);
  return out;
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
