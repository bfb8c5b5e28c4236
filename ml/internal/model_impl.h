// LibTorch side of ml::Model: the staged module. Only ml/ sources include
// this header.
#ifndef TANDEM_ML_INTERNAL_MODEL_IMPL_H_
#define TANDEM_ML_INTERNAL_MODEL_IMPL_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/weights.h"
#include "ml/model.h"

namespace tandem::ml {

// A network as ordered stages; stage i is registered as "s<i>".
class StagedNetImpl : public torch::nn::Module {
 public:
  void AddStage(torch::nn::Sequential stage);
  int num_stages() const { return static_cast<int>(stages_.size()); }
  torch::nn::Sequential& stage(int i) { return stages_[i]; }
  // Runs stages [begin, end) on x.
  torch::Tensor Forward(torch::Tensor x, int begin, int end);
  torch::Tensor forward(torch::Tensor x) { return Forward(x, 0, num_stages()); }

 private:
  std::vector<torch::nn::Sequential> stages_;
};
TORCH_MODULE(StagedNet);

// One entry per tensor of the layout, in layout order.
struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
  bool is_buffer = false;
};

// Parameters then buffers of each module, walking modules in registration
// order: a stable order both sides of the wire agree on.
std::vector<NamedTensor> CollectTensors(torch::nn::Module& module);

struct Model::Impl {
  std::string name;
  InputShape input;
  std::vector<std::string> stage_names;
  StagedNet net{nullptr};
  std::vector<NamedTensor> tensors;
  WeightsLayout layout;
  // split_shapes[s]: per-example activation shape after stages [0, s).
  std::vector<std::vector<int64_t>> split_shapes;
};

// Held while seeding LibTorch's global generator and drawing initial
// weights from it, so concurrent model builds stay deterministic.
absl::Mutex& TorchSeedMutex();

// Copies tensors into / out of a flat buffer laid out as `layout`.
void CopyToWeights(const std::vector<NamedTensor>& tensors, Weights* w);
void CopyFromWeights(const Weights& w, std::vector<NamedTensor>* tensors);

}  // namespace tandem::ml

#endif  // TANDEM_ML_INTERNAL_MODEL_IMPL_H_
