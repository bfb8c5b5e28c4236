// The model zoo: each model as ordered stages with their names, built in
// C++ as a StageNet.
#include <torch/torch.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ml/internal/max_pool.h"
#include "ml/internal/model_impl.h"

namespace tandem::ml {
namespace {

namespace nn = torch::nn;

struct StageSpec {
  std::string name;
  nn::Sequential module;
};

// Constants of the small CNN for 28x28 greyscale images: two 5x5
// convolutions with 2x2 max-pooling, then two fully-connected layers.
constexpr int kCnnConv1 = 16;
constexpr int kCnnConv2 = 32;
constexpr int kCnnHidden = 128;
constexpr int kMlpHidden = 200;

nn::Sequential ConvBnRelu(int in, int out) {
  return nn::Sequential(
      {{"conv", nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1))},
       {"bn", nn::BatchNorm2d(out)},
       {"relu", nn::ReLU()}});
}

nn::Sequential MaxPool() { return nn::Sequential({{"pool", MaxPool2x2()}}); }

std::vector<StageSpec> Mlp(const InputShape& in) {
  const int flat = in.channels * in.height * in.width;
  return {
      {"fc1", nn::Sequential({{"flatten", nn::Flatten()},
                              {"fc", nn::Linear(flat, kMlpHidden)},
                              {"relu", nn::ReLU()}})},
      {"fc2", nn::Sequential({{"fc", nn::Linear(kMlpHidden, kMlpHidden)},
                              {"relu", nn::ReLU()}})},
      {"fc3", nn::Sequential({{"fc", nn::Linear(kMlpHidden, in.num_classes)}})},
  };
}

std::vector<StageSpec> Cnn(const InputShape& in) {
  const int flat = kCnnConv2 * (in.height / 4) * (in.width / 4);
  auto conv = [](int a, int b) {
    return nn::Sequential(
        {{"conv", nn::Conv2d(nn::Conv2dOptions(a, b, 5).padding(2))},
         {"relu", nn::ReLU()},
         {"pool", MaxPool2x2()}});
  };
  return {
      {"conv1", conv(in.channels, kCnnConv1)},
      {"conv2", conv(kCnnConv1, kCnnConv2)},
      {"fc1", nn::Sequential({{"flatten", nn::Flatten()},
                              {"fc", nn::Linear(flat, kCnnHidden)},
                              {"relu", nn::ReLU()}})},
      {"fc2", nn::Sequential({{"fc", nn::Linear(kCnnHidden, in.num_classes)}})},
  };
}

// FedAdapt's VGG-5: conv 32, pool, conv 64, pool, conv 64, fc 128, fc 10,
// batch norm after every convolution. Seven stages, as FedAdapt's layers.
std::vector<StageSpec> Vgg5(const InputShape& in) {
  const int flat = 64 * (in.height / 4) * (in.width / 4);
  return {
      {"conv1", ConvBnRelu(in.channels, 32)},
      {"pool1", MaxPool()},
      {"conv2", ConvBnRelu(32, 64)},
      {"pool2", MaxPool()},
      {"conv3", ConvBnRelu(64, 64)},
      {"fc1", nn::Sequential({{"flatten", nn::Flatten()},
                              {"fc", nn::Linear(flat, 128)},
                              {"relu", nn::ReLU()}})},
      {"fc2", nn::Sequential({{"fc", nn::Linear(128, in.num_classes)}})},
  };
}

absl::StatusOr<std::vector<StageSpec>> BuildStages(const std::string& name,
                                                   const InputShape& in) {
  if (name != "mlp" && (in.height < 4 || in.width < 4)) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "': unsupported input ", in.channels, "x",
                     in.height, "x", in.width));
  }
  if (name == "mlp") return Mlp(in);
  if (name == "cnn") return Cnn(in);
  if (name == "vgg5") return Vgg5(in);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown model '", name, "' (known: mlp, cnn, vgg5)"));
}

// A network as ordered stages; stage i is registered as "s<i>".
class StagedNetImpl : public nn::Module {
 public:
  void AddStage(nn::Sequential stage) {
    const std::string name = absl::StrCat("s", stages_.size());
    stages_.push_back(register_module(name, stage));
  }
  int num_stages() const { return static_cast<int>(stages_.size()); }
  nn::Sequential& stage(int i) { return stages_[i]; }

 private:
  std::vector<nn::Sequential> stages_;
};
TORCH_MODULE(StagedNet);

void Collect(nn::Module& m, const std::string& prefix,
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

class ZooNet final : public StageNet {
 public:
  explicit ZooNet(StagedNet net) : net_(std::move(net)) {}
  int num_stages() const override { return net_->num_stages(); }
  torch::Tensor Forward(torch::Tensor x, int begin, int end) override {
    for (int i = begin; i < end; ++i) x = net_->stage(i)->forward(x);
    return x;
  }
  std::vector<torch::Tensor> Parameters(int begin, int end) override {
    std::vector<torch::Tensor> params;
    for (int s = begin; s < end; ++s) {
      for (const torch::Tensor& p : net_->stage(s)->parameters()) {
        params.push_back(p);
      }
    }
    return params;
  }
  void SetTraining(bool on) override { net_->train(on); }
  std::vector<NamedTensor> Tensors() override {
    std::vector<NamedTensor> out;
    Collect(*net_, "", &out);
    return out;
  }
  // A state dict (name -> tensor) that torch.load reads, named as the
  // modules of examples/pytorch/tandem_models.py: "<stage name>.<path>".
  void SaveForPyTorch(const std::string& path,
                      const std::vector<std::string>& stage_names) override {
    c10::Dict<std::string, torch::Tensor> dict;
    for (int s = 0; s < num_stages(); ++s) {
      std::vector<NamedTensor> tensors;
      Collect(*net_->stage(s), "", &tensors);
      for (const NamedTensor& t : tensors) {
        dict.insert(stage_names[s] + "." + t.name, t.tensor.detach().clone());
      }
    }
    const std::vector<char> bytes = torch::pickle_save(dict);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
  }

 private:
  StagedNet net_;
};

}  // namespace

absl::Mutex& TorchSeedMutex() {
  static absl::Mutex* const mu = new absl::Mutex();
  return *mu;
}

std::vector<std::string> ModelNames() { return {"mlp", "cnn", "vgg5"}; }

absl::StatusOr<std::unique_ptr<StageNet>> BuildZooNet(
    const std::string& name, const InputShape& input,
    std::vector<std::string>* stage_names) {
  if (input.rank != 3 && name != "mlp") {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name,
                     "' takes images (C x H x W); the data's "
                     "examples have rank ",
                     input.rank));
  }
  auto stages = BuildStages(name, input);
  if (!stages.ok()) return stages.status();
  StagedNet net;
  for (StageSpec& s : *stages) {
    stage_names->push_back(s.name);
    net->AddStage(s.module);
  }
  return std::unique_ptr<StageNet>(new ZooNet(net));
}

}  // namespace tandem::ml
