// A model, seen from outside ml/ without LibTorch: an ordered list of stages,
// and its state is Weights. It comes from the zoo ("mlp", "cnn", "vgg5") or
// from a TorchScript file authored in PyTorch ("torchscript:<path>", see
// ml/torchscript_net.cc for what such a file must hold).
//
// Stages are the units a model can be split between: a device with split
// point s runs stages [0, s) and the coordinator runs [s, num_stages()).
// Split point num_stages() means no offload. Tensor names start with "s<i>."
// for stage i.
//
//   TANDEM_ASSIGN_OR_RETURN(auto model, Model::Create("cnn", {1, 28, 28}, 7));
//   Weights w = model->GetWeights();
//
// A Model is not thread-safe: one per trainer thread.
#ifndef TANDEM_ML_MODEL_H_
#define TANDEM_ML_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/weights.h"
#include "ml/data/dataset.h"

namespace tandem::ml {

struct InputShape {
  int channels = 1;
  int height = 28;
  int width = 28;
  int num_classes = 10;
  // Dimensions of one example: 3 = [C, H, W]; 2 = [C, W] (H is 1), e.g.
  // sensor windows; 1 = [C] features (H and W are 1), e.g. tabular rows.
  int rank = 3;
};

// The input shape of `dataset`'s examples.
inline InputShape InputShapeOf(const data::Dataset& dataset) {
  return {dataset.channels, dataset.height, dataset.width, dataset.num_classes,
          dataset.rank};
}

// The zoo's names accepted by Model::Create: "mlp", "cnn", "vgg5".
std::vector<std::string> ModelNames();

// Model::Create's name for the TorchScript file at `path`.
inline constexpr char kTorchScriptPrefix[] = "torchscript:";
inline std::string TorchScriptModelName(const std::string& path) {
  return kTorchScriptPrefix + path;
}

class Model {
 public:
  struct Impl;  // defined in ml/internal/model_impl.h (LibTorch)

  // Builds `name` for `input`: a zoo model initialised deterministically
  // from `seed`, or a TorchScript file's model with the file's own weights
  // (seed unused). InvalidArgument names what does not fit: a file that is
  // not TorchScript, no stages, a stage that does not take the one before,
  // an output that is not num_classes logits, NaN or Inf weights.
  static absl::StatusOr<std::unique_ptr<Model>> Create(const std::string& name,
                                                       const InputShape& input,
                                                       uint64_t seed);
  ~Model();

  const std::string& name() const;
  const InputShape& input() const;
  int num_stages() const;
  const std::vector<std::string>& stage_names() const;
  // Legal split points: 1 .. num_stages() (num_stages() = no offload).
  std::vector<int> SplitPoints() const;

  // Parameters and buffers (batch-norm statistics) of all stages.
  const WeightsLayout& layout() const;
  Weights GetWeights() const;
  // Fails, changing nothing, unless `w` has exactly this model's layout.
  absl::Status SetWeights(const Weights& w);

  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::ml

#endif  // TANDEM_ML_MODEL_H_
