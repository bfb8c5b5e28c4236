#include "ml/aux_classifier.h"

#include <torch/torch.h>

#include "absl/synchronization/mutex.h"
#include "core/seeds.h"
#include "ml/internal/aux_net.h"
#include "ml/internal/model_impl.h"

namespace tandem::ml {

namespace {

// Largest side of the pooled map the linear layer reads, by form.
int64_t PooledSide(AuxForm form) {
  switch (form) {
    case AuxForm::kPool4:
      return 4;
    case AuxForm::kPool2:
      return 2;
    case AuxForm::kGlobal:
      return 1;
    case AuxForm::kFlat:
      break;
  }
  return 0;  // no pooling
}

}  // namespace

const char* AuxFormName(AuxForm form) {
  switch (form) {
    case AuxForm::kPool4:
      return "pool4x4+linear";
    case AuxForm::kPool2:
      return "pool2x2+linear";
    case AuxForm::kGlobal:
      return "global-pool+linear";
    case AuxForm::kFlat:
      return "linear";
  }
  return "?";
}

torch::nn::Sequential MakeAuxNet(const std::vector<int64_t>& split_shape,
                                 int num_classes, AuxForm form) {
  namespace nn = torch::nn;
  const int64_t side = PooledSide(form);
  if (split_shape.size() == 3 && side > 0) {
    const int64_t h = std::min(split_shape[1], side);
    const int64_t w = std::min(split_shape[2], side);
    return nn::Sequential(
        {{"pool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({h, w}))},
         {"flatten", nn::Flatten()},
         {"fc", nn::Linear(split_shape[0] * h * w, num_classes)}});
  }
  int64_t flat = 1;
  for (int64_t d : split_shape) flat *= d;
  return nn::Sequential(
      {{"flatten", nn::Flatten()}, {"fc", nn::Linear(flat, num_classes)}});
}

int64_t AuxParamCount(torch::nn::Sequential& net) {
  int64_t n = 0;
  for (const torch::Tensor& p : net->parameters()) n += p.numel();
  return n;
}

std::vector<float> GetAuxParams(torch::nn::Sequential& net) {
  std::vector<float> flat;
  for (const torch::Tensor& p : net->parameters()) {
    torch::Tensor c = p.detach().contiguous();
    flat.insert(flat.end(), c.data_ptr<float>(),
                c.data_ptr<float>() + c.numel());
  }
  return flat;
}

void SetAuxParams(torch::nn::Sequential& net, const std::vector<float>& flat) {
  torch::NoGradGuard no_grad;
  size_t at = 0;
  for (torch::Tensor& p : net->parameters()) {
    const int64_t n = p.numel();
    p.copy_(torch::from_blob(const_cast<float*>(flat.data() + at), p.sizes(),
                             torch::kFloat32));
    at += static_cast<size_t>(n);
  }
}

int64_t AuxSize(const Model& model, int split, AuxForm form) {
  torch::nn::Sequential net = MakeAuxNet(model.impl().split_shapes.at(split),
                                         model.input().num_classes, form);
  return AuxParamCount(net);
}

std::vector<float> InitAux(const Model& model, int split, uint64_t seed,
                           AuxForm form) {
  // LibTorch's generator is global: seed and build under one lock.
  absl::MutexLock lock(&TorchSeedMutex());
  torch::manual_seed(seed + kSideSeedStride * static_cast<uint64_t>(split));
  torch::nn::Sequential net = MakeAuxNet(model.impl().split_shapes.at(split),
                                         model.input().num_classes, form);
  return GetAuxParams(net);
}

}  // namespace tandem::ml
