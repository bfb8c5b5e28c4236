// The model zoo: each model as ordered stages with their names.
#include <torch/torch.h>

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
  if (in.channels < 1 || in.height < 4 || in.width < 4 || in.num_classes < 2) {
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

// Runs one zero example through the stages to learn each split point's
// shape.
std::vector<std::vector<int64_t>> ProbeSplitShapes(StagedNetImpl& net,
                                                   const InputShape& in) {
  torch::NoGradGuard no_grad;
  net.eval();
  torch::Tensor x = torch::zeros({1, in.channels, in.height, in.width});
  std::vector<std::vector<int64_t>> shapes;
  for (int s = 0; s <= net.num_stages(); ++s) {
    if (s > 0) x = net.Forward(x, s - 1, s);
    auto sizes = x.sizes().vec();
    shapes.emplace_back(sizes.begin() + 1, sizes.end());
  }
  net.train();
  return shapes;
}

}  // namespace

absl::Mutex& TorchSeedMutex() {
  static absl::Mutex* const mu = new absl::Mutex();
  return *mu;
}

std::vector<std::string> ModelNames() { return {"mlp", "cnn", "vgg5"}; }

absl::StatusOr<std::unique_ptr<Model>> Model::Create(const std::string& name,
                                                     const InputShape& input,
                                                     uint64_t seed) {
  // LibTorch's default generator is global: seed and build under one lock
  // so concurrent Create calls stay deterministic.
  absl::MutexLock lock(&TorchSeedMutex());
  torch::manual_seed(seed);
  auto stages = BuildStages(name, input);
  if (!stages.ok()) return stages.status();
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->input = input;
  try {
    impl->net = StagedNet();
    for (StageSpec& s : *stages) {
      impl->stage_names.push_back(s.name);
      impl->net->AddStage(s.module);
    }
    impl->tensors = CollectTensors(*impl->net);
    impl->split_shapes = ProbeSplitShapes(*impl->net, input);
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
  auto layout = WeightsLayout::Create(std::move(specs));
  if (!layout.ok()) return layout.status();
  impl->layout = *std::move(layout);
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

}  // namespace tandem::ml
