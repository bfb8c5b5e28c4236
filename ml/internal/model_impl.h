// LibTorch side of ml::Model: its stages and tensors. Only ml/ sources
// include this header.
#ifndef TANDEM_ML_INTERNAL_MODEL_IMPL_H_
#define TANDEM_ML_INTERNAL_MODEL_IMPL_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/weights.h"
#include "ml/internal/stage_net.h"
#include "ml/model.h"

namespace tandem::ml {

struct Model::Impl {
  std::string name;
  InputShape input;
  std::vector<std::string> stage_names;
  std::unique_ptr<StageNet> net;
  std::vector<NamedTensor> tensors;
  WeightsLayout layout;
  // split_shapes[s]: per-example activation shape after stages [0, s).
  std::vector<std::vector<int64_t>> split_shapes;
};

// The zoo's stages for `name` (ml/model_zoo.cc), drawn from LibTorch's
// global generator (hold TorchSeedMutex()).
absl::StatusOr<std::unique_ptr<StageNet>> BuildZooNet(
    const std::string& name, const InputShape& input,
    std::vector<std::string>* stage_names);

// The stages of the TorchScript file at `path` (ml/torchscript_net.cc).
// Checks that no weight is NaN or Inf and that the stages chained give the
// module's own forward on a batch of `input`'s shape.
absl::StatusOr<std::unique_ptr<StageNet>> LoadTorchScriptNet(
    const std::string& path, const InputShape& input,
    std::vector<std::string>* stage_names);

// Held while seeding LibTorch's global generator and drawing initial
// weights from it, so concurrent model builds stay deterministic.
absl::Mutex& TorchSeedMutex();

// A zero batch of one example of `input`'s shape ([1, C, H, W], [1, C, W]
// or [1, C] by input.rank).
torch::Tensor ExampleInput(const InputShape& input, int64_t batch = 1);

// Copies tensors into / out of a flat buffer laid out as `layout`.
void CopyToWeights(const std::vector<NamedTensor>& tensors, Weights* w);
void CopyFromWeights(const Weights& w, std::vector<NamedTensor>* tensors);

}  // namespace tandem::ml

#endif  // TANDEM_ML_INTERNAL_MODEL_IMPL_H_
