// A model Tandem exports (ml/export.h) loads in PyTorch (Debian's
// python3-torch, tests/ml/check_export.py) and gives Tandem's logits and
// predictions on 100 Fashion-MNIST test examples.
#include "ml/export.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "ml/data/dataset.h"
#include "ml/runtime.h"
#include "ml/trainer.h"
#include "tests/ml/torchscript_files.h"

namespace tandem::ml {
namespace {

constexpr int kExamples = 100;

// The first kExamples test images, normalised as MakeBatch does, as float
// features with mean 0 and std 1: both sides then read the same floats.
data::Dataset NormalisedTestImages(const data::TrainTest& tt) {
  data::Dataset images = tt.test.Head(kExamples);
  data::Dataset out = images;
  out.pixels.clear();
  out.float_features = true;
  const float scale = 1.0f / (255.0f * tt.test.std[0]);
  const float shift = -tt.test.mean[0] / tt.test.std[0];
  for (uint8_t p : images.pixels) out.features.push_back(p * scale + shift);
  out.mean = {0.0f};
  out.std = {1.0f};
  return out;
}

void WriteFloats(const std::string& path, const std::vector<float>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(float)));
}

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> v;
  float x;
  while (in.read(reinterpret_cast<char*>(&x), sizeof(x))) v.push_back(x);
  return v;
}

int ArgMax(const std::vector<float>& logits, int row, int classes) {
  int best = 0;
  for (int c = 1; c < classes; ++c) {
    if (logits[row * classes + c] > logits[row * classes + best]) best = c;
  }
  return best;
}

class ExportTest : public ::testing::TestWithParam<bool> {};

TEST_P(ExportTest, PyTorchLoadsItAndComputesTandemsLogits) {
  const bool torchscript = GetParam();
  SetComputeThreads(1);
  data::DataSource source;  // Fashion-MNIST
  data::TrainTest tt = data::LoadDataset(source).value();
  const std::string name =
      torchscript
          ? TorchScriptModelName(test_models::TorchScriptModelFile("cnn"))
          : "cnn";
  auto model = Model::Create(name, {1, 28, 28, 10}, 4).value();
  TrainOptions o;
  o.max_batches = 20;  // trained weights, not the initial ones
  ASSERT_TRUE(TrainLocal(*model, tt.train, o).ok());

  const std::string dir = ::testing::TempDir();
  const std::string file = dir + ExportFileName(*model, "export_test");
  ASSERT_TRUE(ExportForPyTorch(*model, file).ok());
  const data::Dataset x = NormalisedTestImages(tt);
  WriteFloats(dir + "export_inputs.f32", x.features);
  const std::vector<float> ours = PredictLogits(*model, x, 32).value();

  const std::string command =
      std::string("/usr/bin/python3 ") + TANDEM_SOURCE_DIR +
      "/tests/ml/check_export.py " +
      (torchscript ? "--torchscript '" + file + "'"
                   : "--state_dict '" + file + "' --model cnn") +
      " --inputs '" + dir + "export_inputs.f32' --shape " +
      std::to_string(kExamples) + ",1,28,28 --out '" + dir +
      "export_logits.f32'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const std::vector<float> theirs = ReadFloats(dir + "export_logits.f32");
  ASSERT_EQ(theirs.size(), ours.size());
  // Different processes, the same ATen kernels on one thread: the issue's
  // bound, 1e-5, on logits of magnitude about 10.
  int same_prediction = 0, ours_correct = 0, theirs_correct = 0;
  for (int i = 0; i < kExamples; ++i) {
    for (int c = 0; c < 10; ++c) {
      ASSERT_NEAR(theirs[i * 10 + c], ours[i * 10 + c], 1e-5) << i << "," << c;
    }
    const int label = x.labels[i];
    same_prediction += ArgMax(ours, i, 10) == ArgMax(theirs, i, 10);
    ours_correct += ArgMax(ours, i, 10) == label;
    theirs_correct += ArgMax(theirs, i, 10) == label;
  }
  EXPECT_EQ(same_prediction, kExamples);
  EXPECT_EQ(theirs_correct, ours_correct);
  EXPECT_GT(ours_correct, 30);  // 3x chance: trained logits, not noise
}

INSTANTIATE_TEST_SUITE_P(Kinds, ExportTest, ::testing::Values(false, true),
                         [](const auto& info) {
                           return info.param ? "TorchScript" : "ZooStateDict";
                         });

}  // namespace
}  // namespace tandem::ml
