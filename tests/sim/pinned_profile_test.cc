// fleet.profile: a pinned profile makes the offload bound a function of the
// config alone; a wrong or broken profile file is refused with its path.
#include <fstream>

#include "gtest/gtest.h"
#include "ml/profile_file.h"
#include "sim/cost_fleet.h"
#include "sim/offload_bound.h"
#include "tests/ml/torchscript_files.h"

namespace tandem::sim {
namespace {

constexpr char kVgg5Profile[] = "configs/profiles/vgg5-fashion-mnist.json";

Config FiveDevices() {
  Config c;
  c.model.name = "vgg5";
  c.server.rounds = 3;
  c.training.batch_size = 100;
  c.offload.activation_codec = ActivationCodec::kInt8;
  c.fleet.profile = std::string(TANDEM_SOURCE_DIR) + "/" + kVgg5Profile;
  c.fleet.classes.resize(2);
  c.fleet.classes[0].name = "pi3";
  c.fleet.classes[0].count = 2;
  c.fleet.classes[0].device.slowdown = 10;
  c.fleet.classes[0].device.bandwidth_mbps = 40;
  c.fleet.classes[1].name = "jetson";
  c.fleet.classes[1].device.slowdown = 2;
  c.fleet.classes[1].device.bandwidth_mbps = 80;
  return c;
}

TEST(PinnedProfileTest, BoundIsTheSameOnEveryRun) {
  auto a = ComputeOffloadBound(FiveDevices());
  auto b = ComputeOffloadBound(FiveDevices());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->dump(), b->dump());
  // The shipped profile's own figures, not a fresh measurement.
  auto p =
      ml::ReadProfile(FiveDevices().fleet.profile, "vgg5", {1, 28, 28, 10});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_DOUBLE_EQ((*a)["stages"][0]["train_ms_per_100"].get<double>(),
                   1e5 * p->stages[0].TrainSeconds(100));
}

TEST(PinnedProfileTest, ProfileOfAnotherModelIsRefused) {
  Config c = FiveDevices();
  c.model.name = "cnn";
  auto bound = ComputeOffloadBound(c);
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.status().message().find("$.fleet.profile"), std::string::npos)
      << bound.status();
  EXPECT_NE(bound.status().message().find("'vgg5'"), std::string::npos);
}

// A profile fits any model of its stage layout: a TorchScript VGG-5 gets
// the zoo's pinned vgg5 figures, so the same fleet has the same bound.
TEST(PinnedProfileTest, TorchScriptModelOfTheSameLayoutUsesIt) {
  Config c = FiveDevices();
  c.model.name.clear();
  c.model.torchscript = test_models::TorchScriptModelFile("vgg5");
  ASSERT_FALSE(c.model.torchscript.empty());
  auto zoo = ComputeOffloadBound(FiveDevices());
  auto script = ComputeOffloadBound(c);
  ASSERT_TRUE(zoo.ok()) << zoo.status();
  ASSERT_TRUE(script.ok()) << script.status();
  EXPECT_EQ((*zoo)["devices"].dump(), (*script)["devices"].dump());
  EXPECT_EQ((*zoo)["stages"].size(), (*script)["stages"].size());
}

TEST(PinnedProfileTest, TorchScriptModelOfAnotherLayoutIsRefused) {
  Config c = FiveDevices();
  c.model.name.clear();
  c.model.torchscript = test_models::TorchScriptModelFile("cnn");
  ASSERT_FALSE(c.model.torchscript.empty());
  auto bound = ComputeOffloadBound(c);
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.status().message().find("does not fit"), std::string::npos)
      << bound.status();
}

TEST(PinnedProfileTest, BrokenFilesNameTheFile) {
  const std::string path = ::testing::TempDir() + "/broken.profile.json";
  for (const char* text :
       {"{not json", "{\"model\": \"vgg5\"}",
        "{\"model\": \"vgg5\", \"input\": [1, 28, 28, 10], \"stages\": "
        "[{\"name\": \"a\", \"train_seconds_per_example\": -1, "
        "\"aux_seconds_per_example\": 0, \"out_elements\": 1, "
        "\"param_bytes\": 0, \"aux_param_bytes\": 0}]}"}) {
    std::ofstream(path) << text;
    auto p = ml::ReadProfile(path, "vgg5", {1, 28, 28, 10});
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_NE(p.status().message().find(path), std::string::npos) << p.status();
  }
  EXPECT_FALSE(
      ml::ReadProfile(path + ".missing", "vgg5", {1, 28, 28, 10}).ok());
}

TEST(CostFleetTest, ExamplesComeFromTheDataSetAndItsPartitioner) {
  Config c = FiveDevices();
  c.data.train_limit = 3000;
  c.data.partition = "dirichlet";
  c.data.alpha = 0.3;
  auto data = LoadFleetData(c);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->input.channels, 1);
  EXPECT_EQ(data->input.height, 28);
  ASSERT_EQ(data->examples.size(), 3u);
  int64_t sum = 0;
  for (int64_t n : data->examples) sum += n;
  EXPECT_EQ(sum, 3000);
  EXPECT_NE(data->examples[0], data->examples[1]);  // Dirichlet shares
  const auto fleet = CostFleet(c, *data, ml::ModelProfile{}).value();
  EXPECT_EQ(fleet[2].view.examples, data->examples[2]);
}

}  // namespace
}  // namespace tandem::sim
