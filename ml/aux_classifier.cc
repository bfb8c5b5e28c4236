#include "ml/aux_classifier.h"

#include <torch/torch.h>

#include "absl/synchronization/mutex.h"
#include "ml/internal/aux_net.h"
#include "ml/internal/model_impl.h"

namespace tandem::ml {

torch::nn::Sequential MakeAuxNet(const std::vector<int64_t>& cut_shape,
                                 int num_classes) {
  namespace nn = torch::nn;
  if (cut_shape.size() == 3) {
    const int64_t h = std::min(cut_shape[1], kAuxPooledSide);
    const int64_t w = std::min(cut_shape[2], kAuxPooledSide);
    return nn::Sequential(
        {{"pool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({h, w}))},
         {"flatten", nn::Flatten()},
         {"fc", nn::Linear(cut_shape[0] * h * w, num_classes)}});
  }
  int64_t flat = 1;
  for (int64_t d : cut_shape) flat *= d;
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

int64_t AuxSize(const Model& model, int cut) {
  torch::nn::Sequential net =
      MakeAuxNet(model.impl().cut_shapes.at(cut), model.input().num_classes);
  return AuxParamCount(net);
}

std::vector<float> InitAux(const Model& model, int cut, uint64_t seed) {
  // LibTorch's generator is global: seed and build under one lock.
  absl::MutexLock lock(&TorchSeedMutex());
  torch::manual_seed(seed + 7919 * static_cast<uint64_t>(cut));
  torch::nn::Sequential net =
      MakeAuxNet(model.impl().cut_shapes.at(cut), model.input().num_classes);
  return GetAuxParams(net);
}

}  // namespace tandem::ml
