// Models authored in PyTorch and loaded from TorchScript files
// (ml/torchscript_net.cc): stages, names, the file's own weights, training
// equal to the zoo's, and a clear error for each way a file can be wrong.
#include <cmath>
#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/model.h"
#include "ml/runtime.h"
#include "ml/split_weights.h"
#include "ml/trainer.h"
#include "tests/ml/torchscript_files.h"

namespace tandem::ml {
namespace {

using tandem::test_models::BadTorchScriptFile;
using tandem::test_models::TorchScriptModelFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const InputShape kImages{1, 28, 28, 10};

data::TrainTest Synthetic() {
  data::DataSource s;
  s.kind = "synthetic";
  s.synthetic_train = 96;
  s.synthetic_test = 32;
  s.seed = 5;
  return data::LoadDataset(s).value();
}

bool BitEqual(const Weights& a, const Weights& b) {
  return a.layout() == b.layout() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(TorchScriptModelTest, StagesAndTensorNamesAreTheZoos) {
  const std::string file = TorchScriptModelFile("vgg5");
  auto script = Model::Create(TorchScriptModelName(file), kImages, 0);
  ASSERT_TRUE(script.ok()) << script.status();
  auto zoo = Model::Create("vgg5", kImages, 1).value();
  EXPECT_EQ((*script)->num_stages(), 7);
  EXPECT_EQ((*script)->stage_names(), zoo->stage_names());
  // Names, shapes and kinds, batch-norm buffers included.
  EXPECT_EQ((*script)->layout(), zoo->layout());
  EXPECT_EQ((*script)->name(), "torchscript:" + file);
}

TEST(TorchScriptModelTest, InitialWeightsAreTheFilesOwn) {
  const std::string name = TorchScriptModelName(TorchScriptModelFile("cnn"));
  // Two loads of one file give its weights whatever the seed, bit for bit.
  // The file was drawn by PyTorch from seed 1, which initialises these
  // layers as LibTorch does from seed 1: the zoo's seed-1 weights, not the
  // seed-2 ones asked for here.
  Weights a = Model::Create(name, kImages, 1).value()->GetWeights();
  Weights b = Model::Create(name, kImages, 2).value()->GetWeights();
  EXPECT_TRUE(BitEqual(a, b));
  EXPECT_TRUE(
      BitEqual(b, Model::Create("cnn", kImages, 1).value()->GetWeights()));
  EXPECT_FALSE(
      BitEqual(b, Model::Create("cnn", kImages, 2).value()->GetWeights()));
  // Each model owns its tensors: training one leaves the other loaded copy.
  auto trained = Model::Create(name, kImages, 0).value();
  TrainOptions o;
  o.max_batches = 2;
  auto stats = TrainLocal(*trained, Synthetic().train, o);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_FALSE(BitEqual(trained->GetWeights(), a));
  EXPECT_TRUE(
      BitEqual(Model::Create(name, kImages, 0).value()->GetWeights(), a));
}

// The same layers, weights, batches and thread count run the same ATen
// kernels in the same order (TorchScript runs unoptimised on the
// interpreter), so the trained weights are compared bit for bit.
TEST(TorchScriptModelTest, TrainsExactlyAsTheZoosCnn) {
  SetComputeThreads(1);
  data::TrainTest tt = Synthetic();
  auto zoo = Model::Create("cnn", kImages, 3).value();
  auto script = Model::Create(TorchScriptModelName(TorchScriptModelFile("cnn")),
                              kImages, 0)
                    .value();
  ASSERT_TRUE(script->SetWeights(zoo->GetWeights()).ok());
  TrainOptions o;
  o.batch_size = 16;
  o.learning_rate = 0.05;
  o.momentum = 0.9;
  o.weight_decay = 1e-4;
  ASSERT_TRUE(TrainLocal(*zoo, tt.train, o).ok());
  auto trained = TrainLocal(*script, tt.train, o);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_TRUE(BitEqual(zoo->GetWeights(), script->GetWeights()));
  EXPECT_EQ(Evaluate(*zoo, tt.test, 8)->loss,
            Evaluate(*script, tt.test, 8)->loss);
}

TEST(TorchScriptModelTest, OneDimensionalSensorModel) {
  const InputShape windows{3, 1, 128, 6, /*rank=*/2};
  auto model = Model::Create(
      TorchScriptModelName(TorchScriptModelFile("cnn1d")), windows, 0);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->num_stages(), 4);
  EXPECT_THAT((*model)->stage_names(),
              ElementsAre("conv1", "conv2", "fc1", "fc2"));
}

struct BadFile {
  std::string file;
  std::vector<std::string> message;  // substrings
};

class BadTorchScriptTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadTorchScriptTest, IsRefusedNamingTheFileAndTheProblem) {
  const std::string path = BadTorchScriptFile(GetParam().file);
  auto model = Model::Create(TorchScriptModelName(path), kImages, 0);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument)
      << model.status();
  EXPECT_THAT(std::string(model.status().message()), HasSubstr(path));
  for (const std::string& part : GetParam().message) {
    EXPECT_THAT(std::string(model.status().message()), HasSubstr(part));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Files, BadTorchScriptTest,
    ::testing::Values(
        BadFile{"not_torchscript", {"is not a TorchScript module"}},
        BadFile{"no_stages", {"no stages"}},
        BadFile{"not_its_stages", {"its forward is not its stages in order"}},
        BadFile{"bad_chain",
                {"stage 1 ('1') does not take the output of the stage before"}},
        BadFile{"wrong_input",
                {"stage 0 ('0') does not take the data's input", ",1,28,28]"}},
        BadFile{"five_classes", {"[5]", "expected [10]"}},
        BadFile{"nan_weights", {"s0.1.weight holds NaN or Inf"}}),
    [](const auto& info) { return info.param.file; });

TEST(TorchScriptModelTest, AMissingFileIsNotFound) {
  auto model =
      Model::Create(TorchScriptModelName("/nonexistent/model.pt"), kImages, 0);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("/nonexistent/model.pt"));
}

}  // namespace
}  // namespace tandem::ml
