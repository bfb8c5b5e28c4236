// A user's own model and data across real processes (issue 21): a 1-D CNN
// authored in PyTorch (TorchScript) over synthetic accelerometer windows,
// tandem-server and two tandem-client processes over mutual TLS, each
// client with its own .npz; one was installed with the model file, the
// other fetches it over TLS (--fetch_model). One device offloads in
// local_loss mode. The run exports its model.
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/subprocess.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

const std::string kBin = TANDEM_BINARY_DIR;
const std::string kSource = TANDEM_SOURCE_DIR;

int RunToEnd(const std::vector<std::string>& argv, const std::string& log) {
  auto p = Subprocess::Start(argv, log);
  if (!p.ok()) return -1;
  auto rc = (*p)->Wait(absl::Seconds(120));
  return rc.ok() ? *rc : -1;
}

std::vector<nlohmann::json> Lines(const std::string& path,
                                  const std::string& type) {
  std::vector<nlohmann::json> out;
  for (absl::string_view line :
       absl::StrSplit(ReadFileOrEmpty(path), '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

TEST(OwnModelProcessesTest, TorchScriptModelOnDevicesOwnFilesOverMutualTls) {
  const std::string dir = FreshTestDir();
  ASSERT_EQ(RunToEnd({"/usr/bin/python3",
                      kSource + "/tests/integration/make_sensor_files.py", dir},
                     dir + "/python.log"),
            0)
      << ReadFileOrEmpty(dir + "/python.log");
  const std::string certs = dir + "/certs";
  ASSERT_EQ(RunToEnd({"/bin/bash", kSource + "/deploy/make-certs.sh", certs,
                      "localhost", "dev-a", "dev-b"},
                     dir + "/certs.log"),
            0)
      << ReadFileOrEmpty(dir + "/certs.log");
  const nlohmann::json config = {
      {"seed", 1},
      {"server",
       {{"rounds", 2},
        {"min_devices", 2},
        {"join_timeout_s", 60},
        {"round_deadline_s", 60},
        {"poll_timeout_s", 2},
        {"tls_cert", certs + "/server.crt"},
        {"tls_key", certs + "/server.key"},
        {"tls_client_ca", certs + "/ca.crt"}}},
      {"model", {{"torchscript", dir + "/cnn1d.pt"}}},
      {"data",
       {{"dataset", "tensor"},
        {"path", dir + "/train.npz"},
        {"test_path", dir + "/test.npz"}}},
      {"training", {{"batch_size", 20}, {"learning_rate", 0.05}}},
      {"strategy", {{"name", "fedavg"}, {"min_updates", 2}}},
      {"offload",
       {{"policy", "fixed"}, {"mode", "local_loss"}, {"fixed", {{"slow", 2}}}}},
      {"output", {{"dir", dir + "/runs"}}}};
  std::ofstream(dir + "/config.json") << config.dump(2);
  auto server = Subprocess::Start(
      {kBin + "/server/tandem-server", "--config=" + dir + "/config.json",
       "--listen=127.0.0.1:0", "--port_file=" + dir + "/port"},
      dir + "/server.log");
  ASSERT_TRUE(server.ok());
  const int port = WaitForPortFile(dir + "/port");
  ASSERT_GT(port, 0) << ReadFileOrEmpty(dir + "/server.log");
  auto client = [&](const std::string& id, const std::string& cls) {
    return Subprocess::Start(
        {kBin + "/client/tandem-client",
         absl::StrCat("--server=localhost:", port), "--device_id=" + id,
         "--device_class=" + cls, "--threads=1", "--give_up_after_s=10",
         id == "dev-a" ? "--fetch_model=" + dir + "/fetched.pt"
                       : "--model=" + dir + "/cnn1d.pt",
         "--data=" + dir + "/" + id + ".npz", "--tls_ca=" + certs + "/ca.crt",
         "--tls_cert=" + certs + "/devices/" + id + ".crt",
         "--tls_key=" + certs + "/devices/" + id + ".key"},
        dir + "/" + id + ".log");
  };
  auto a = client("dev-a", "fast");
  auto b = client("dev-b", "slow");
  ASSERT_TRUE(a.ok() && b.ok());
  auto rc = (*server)->Wait(absl::Minutes(4));
  ASSERT_TRUE(rc.ok()) << rc.status();
  ASSERT_EQ(*rc, 0) << ReadFileOrEmpty(dir + "/server.log")
                    << ReadFileOrEmpty(dir + "/dev-a.log")
                    << ReadFileOrEmpty(dir + "/dev-b.log");
  std::string run;
  for (const auto& e : fs::directory_iterator(dir + "/runs")) {
    run = e.path().string();
  }
  const std::vector<nlohmann::json> rounds =
      Lines(run + "/metrics.jsonl", "round");
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& r : rounds) EXPECT_EQ(r["participants"], 2);
  int offloaded = 0;
  for (const auto& d : Lines(run + "/metrics.jsonl", "device")) {
    if (d["device"] == "dev-b") {
      EXPECT_EQ(d["mode"], "local_loss");
      EXPECT_EQ(d["split"], 2);
      EXPECT_GT(d["tail_batches"].get<int>(), 0);
      ++offloaded;
    } else {
      EXPECT_EQ(d["split"], 4);      // cnn1d's four stages: no offload
      EXPECT_EQ(d["samples"], 240);  // dev-a.npz, all of it
    }
  }
  EXPECT_EQ(offloaded, 2);
  const nlohmann::json summary =
      nlohmann::json::parse(ReadFileOrEmpty(run + "/summary.json"));
  EXPECT_EQ(summary["status"], "ok");
  EXPECT_GT(summary["final_accuracy"].get<double>(), 0.25);  // 4 classes
  EXPECT_EQ(summary["export"]["final"], "final.pt");
  EXPECT_TRUE(fs::exists(run + "/final.pt"));
  EXPECT_EQ(ReadFileOrEmpty(dir + "/fetched.pt"),
            ReadFileOrEmpty(dir + "/cnn1d.pt"));
  EXPECT_NE(ReadFileOrEmpty(dir + "/dev-a.log").find("model file"),
            std::string::npos);
}

// A model file is code: a client fetches one only over TLS.
TEST(OwnModelProcessesTest, FetchingAModelWithoutTlsExitsTwo) {
  const std::string dir = FreshTestDir();
  EXPECT_EQ(RunToEnd({kBin + "/client/tandem-client", "--device_id=dev-a",
                      "--server=127.0.0.1:1", "--fetch_model=" + dir + "/m.pt"},
                     dir + "/client.log"),
            2);
  const std::string log = ReadFileOrEmpty(dir + "/client.log");
  EXPECT_NE(log.find("--fetch_model needs --tls_ca"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir + "/m.pt"));
}

// Bad input exits 2 with an error naming the file, before any training.
TEST(OwnModelProcessesTest, ABadModelFileExitsTwoNamingIt) {
  const std::string dir = FreshTestDir();
  const std::string bad = dir + "/model.pt";
  std::ofstream(bad) << "not TorchScript\n";
  EXPECT_EQ(
      RunToEnd({kBin + "/sim/tandem-sim",
                "--config=" + kSource + "/configs/quickstart.json",
                "--out=" + dir + "/runs", "--set=model.torchscript=" + bad},
               dir + "/sim.log"),
      2);
  const std::string log = ReadFileOrEmpty(dir + "/sim.log");
  EXPECT_NE(log.find("model file " + bad + " is not a TorchScript module"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("Exception raised from"), std::string::npos)
      << "a C++ backtrace in the message: " << log;
}

}  // namespace
}  // namespace tandem::testing
