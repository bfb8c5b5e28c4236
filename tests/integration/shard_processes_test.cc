// Issue #10, sharded fleets: a tandem-server --fleet and two
// tandem-sim --shard I/2 processes on loopback give the single-process
// tandem-sim run's metrics line for line (wall-clock fields aside), summary
// and final weights, for the zoo's mlp and the same mlp written in PyTorch
// (TorchScript); a bad --shard is refused.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/subprocess.h"
#include "tests/ml/torchscript_files.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

const std::string kBin = TANDEM_BINARY_DIR;
const char* const kWallClockFields[] = {"wall_time_s", "round_wall_s", "cpu_s",
                                        "run_dir"};

// Four devices in two classes, compute charged from mlp's pinned profile;
// `torchscript`: the model file, "" for the zoo's mlp.
nlohmann::json FleetConfig(const std::string& out,
                           const std::string& torchscript) {
  nlohmann::json c = {
      {"seed", 3},
      {"server",
       {{"rounds", 3}, {"min_devices", 4}, {"round_deadline_s", 300}}},
      {"model", {{"name", "mlp"}}},
      {"data",
       {{"train_limit", 800},
        {"test_limit", 400},
        {"partition", "dirichlet"},
        {"alpha", 0.5}}},
      {"training", {{"local_epochs", 1}, {"learning_rate", 0.05}}},
      {"strategy",
       {{"name", "fedadam"}, {"params", {{"eta", 0.01}}}, {"min_updates", 4}}},
      {"fleet",
       {{"compute_time", "profiled"},
        {"profile", std::string(TANDEM_SOURCE_DIR) +
                        "/configs/profiles/mlp-fashion-mnist.json"},
        {"concurrency", 2},
        {"classes",
         {{{"name", "slow"},
           {"count", 2},
           {"slowdown", 40},
           {"bandwidth_mbps", 1000}},
          {{"name", "fast"}, {"count", 2}, {"slowdown", 1}}}}}},
      {"output", {{"dir", out}}}};
  if (!torchscript.empty()) c["model"] = {{"torchscript", torchscript}};
  return c;
}

std::string OnlyRun(const std::string& dir) {
  std::string run;
  for (const auto& e : fs::directory_iterator(dir)) run = e.path().string();
  return run;
}

std::vector<nlohmann::json> Lines(const std::string& run) {
  std::vector<nlohmann::json> out;
  for (absl::string_view line : absl::StrSplit(
           ReadFileOrEmpty(run + "/metrics.jsonl"), '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line);
    for (const char* key : kWallClockFields) j.erase(key);
    out.push_back(j);
  }
  return out;
}

nlohmann::json Summary(const std::string& run) {
  nlohmann::json j =
      nlohmann::json::parse(ReadFileOrEmpty(run + "/summary.json"));
  for (const char* key : kWallClockFields) j.erase(key);
  return j;
}

class ShardModelTest : public ::testing::TestWithParam<bool> {};

TEST_P(ShardModelTest, TwoShardsGiveTheSingleProcessRun) {
  const std::string dir = FreshTestDir();
  const std::string config = dir + "/config.json";
  const std::string model =
      GetParam() ? test_models::TorchScriptModelFile("mlp") : "";
  ASSERT_EQ(model.empty(), !GetParam());
  std::ofstream(config) << FleetConfig(dir + "/runs", model).dump(2);

  auto single =
      Subprocess::Start({kBin + "/sim/tandem-sim", "--config=" + config,
                         "--out=" + dir + "/single"},
                        dir + "/single.log");
  ASSERT_TRUE(single.ok());
  auto rc = (*single)->Wait(absl::Minutes(3));
  ASSERT_TRUE(rc.ok() && *rc == 0) << ReadFileOrEmpty(dir + "/single.log");

  auto server = Subprocess::Start(
      {kBin + "/server/tandem-server", "--config=" + config, "--fleet",
       "--listen=127.0.0.1:0", "--port_file=" + dir + "/port",
       "--out=" + dir + "/sharded"},
      dir + "/server.log");
  ASSERT_TRUE(server.ok());
  const int port = WaitForPortFile(dir + "/port");
  ASSERT_GT(port, 0) << ReadFileOrEmpty(dir + "/server.log");
  std::vector<std::unique_ptr<Subprocess>> shards;
  for (const char* slice : {"0/2", "1/2"}) {
    auto shard =
        Subprocess::Start({kBin + "/sim/tandem-sim", "--config=" + config,
                           absl::StrCat("--shard=", slice),
                           absl::StrCat("--server=127.0.0.1:", port)},
                          absl::StrCat(dir, "/shard-", shards.size(), ".log"));
    ASSERT_TRUE(shard.ok());
    shards.push_back(*std::move(shard));
  }
  rc = (*server)->Wait(absl::Minutes(3));
  ASSERT_TRUE(rc.ok() && *rc == 0) << ReadFileOrEmpty(dir + "/server.log");
  for (auto& shard : shards) {
    rc = shard->Wait(absl::Seconds(60));
    ASSERT_TRUE(rc.ok() && *rc == 0) << ReadFileOrEmpty(shard->log_path());
    EXPECT_NE(ReadFileOrEmpty(shard->log_path()).find("2 devices, 0 ended"),
              std::string::npos);
  }

  const std::string a = OnlyRun(dir + "/single"), b = OnlyRun(dir + "/sharded");
  const std::vector<nlohmann::json> want = Lines(a), got = Lines(b);
  ASSERT_EQ(got.size(), want.size());
  int rounds = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].dump(), want[i].dump()) << "metrics line " << i + 1;
    rounds += want[i]["type"] == "round";
  }
  EXPECT_EQ(rounds, 3);
  EXPECT_EQ(Summary(b).dump(), Summary(a).dump());
  if (GetParam()) {
    EXPECT_EQ(Summary(b)["model"], "torchscript:" + model);
  }
}

INSTANTIATE_TEST_SUITE_P(ZooAndTorchScript, ShardModelTest, ::testing::Bool());

TEST(ShardProcessesTest, RefusesABadShard) {
  const std::string dir = FreshTestDir();
  const std::string config = dir + "/config.json";
  std::ofstream(config) << FleetConfig(dir + "/runs", "").dump(2);
  for (const char* shard : {"2/2", "1", "a/b"}) {
    auto sim = Subprocess::Start(
        {kBin + "/sim/tandem-sim", "--config=" + config,
         absl::StrCat("--shard=", shard), "--server=127.0.0.1:1"},
        dir + "/bad.log");
    ASSERT_TRUE(sim.ok());
    auto rc = (*sim)->Wait(absl::Seconds(60));
    ASSERT_TRUE(rc.ok());
    EXPECT_NE(*rc, 0) << shard;
    EXPECT_NE(ReadFileOrEmpty(dir + "/bad.log").find("--shard"),
              std::string::npos)
        << ReadFileOrEmpty(dir + "/bad.log");
  }
}

}  // namespace
}  // namespace tandem::testing
