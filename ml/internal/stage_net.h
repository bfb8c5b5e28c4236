// LibTorch side of a model's stages, whatever built them: the zoo's C++
// modules (ml/model_zoo.cc) or a TorchScript file authored in PyTorch
// (ml/torchscript_net.cc). Trainers, split training and the profile see only
// this interface. Only ml/ sources include this header.
#ifndef TANDEM_ML_INTERNAL_STAGE_NET_H_
#define TANDEM_ML_INTERNAL_STAGE_NET_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace tandem::ml {

// One entry per tensor of a model's layout, in layout order.
struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
  bool is_buffer = false;
};

// Ordered stages with their parameters and buffers. Not thread-safe.
class StageNet {
 public:
  virtual ~StageNet() = default;

  virtual int num_stages() const = 0;
  // Runs stages [begin, end) on x.
  virtual torch::Tensor Forward(torch::Tensor x, int begin, int end) = 0;
  // The parameters of stages [begin, end), in layout order.
  virtual std::vector<torch::Tensor> Parameters(int begin, int end) = 0;
  // Training mode (batch norm uses batch statistics) or evaluation mode.
  virtual void SetTraining(bool on) = 0;
  // Every parameter and buffer, named "s<i>.<path in stage i>": parameters
  // then buffers of each module, walking modules in registration order (a
  // stable order both sides of the wire agree on).
  virtual std::vector<NamedTensor> Tensors() = 0;
  // Writes the model so that PyTorch loads it (ml/export.h); `stage_names`
  // are the model's. Throws c10::Error / std::exception on failure.
  virtual void SaveForPyTorch(const std::string& path,
                              const std::vector<std::string>& stage_names) = 0;

  torch::Tensor forward(torch::Tensor x) { return Forward(x, 0, num_stages()); }
  std::vector<torch::Tensor> parameters() {
    return Parameters(0, num_stages());
  }
  void ZeroGrad() {
    for (torch::Tensor& p : parameters()) {
      if (p.grad().defined()) p.grad().zero_();
    }
  }
};

}  // namespace tandem::ml

#endif  // TANDEM_ML_INTERNAL_STAGE_NET_H_
