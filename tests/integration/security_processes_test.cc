// Device identity over real processes (issue #12): tandem-server with mutual
// TLS and certificates from deploy/make-certs.sh, and with per-device join
// tokens from deploy/make-token.sh; tandem-client as the devices.
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/subprocess.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

const std::string kBin = TANDEM_BINARY_DIR;
const std::string kSource = TANDEM_SOURCE_DIR;

class SecurityProcessesTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir(); }

  // Runs a deploy/ script to completion; its exit code.
  int RunScript(const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), {"/bin/bash", kSource + "/deploy/" + name});
    auto p = Subprocess::Start(args, dir_ + "/" + name + ".log");
    if (!p.ok()) return -1;
    auto rc = (*p)->Wait(absl::Seconds(60));
    return rc.ok() ? *rc : -1;
  }

  // Two devices, one round of one epoch on 600 images.
  nlohmann::json Config() {
    return {{"server",
             {{"rounds", 1},
              {"min_devices", 2},
              {"join_timeout_s", 60},
              {"round_deadline_s", 60},
              {"poll_timeout_s", 2}}},
            {"model", {{"name", "mlp"}}},
            {"data", {{"train_limit", 600}, {"test_limit", 200}}},
            {"strategy", {{"name", "fedavg"}, {"min_updates", 2}}},
            {"output", {{"dir", dir_ + "/runs"}}}};
  }

  std::unique_ptr<Subprocess> StartServer(const nlohmann::json& config) {
    const std::string path = dir_ + "/config.json";
    std::ofstream(path) << config.dump(2);
    auto s = Subprocess::Start(
        {kBin + "/server/tandem-server", "--config=" + path,
         "--listen=127.0.0.1:0", "--port_file=" + dir_ + "/port"},
        dir_ + "/server.log");
    EXPECT_TRUE(s.ok());
    port_ = s.ok() ? WaitForPortFile(dir_ + "/port") : 0;
    EXPECT_GT(port_, 0) << ReadFileOrEmpty(dir_ + "/server.log");
    return s.ok() ? *std::move(s) : nullptr;
  }

  // A client for `id` with `extra` flags; `log` names its log file.
  std::unique_ptr<Subprocess> StartClient(const std::string& id,
                                          const std::string& log,
                                          std::vector<std::string> extra) {
    std::vector<std::string> argv = {kBin + "/client/tandem-client",
                                     absl::StrCat("--server=127.0.0.1:", port_),
                                     "--device_id=" + id, "--threads=1",
                                     "--give_up_after_s=3"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto c = Subprocess::Start(argv, dir_ + "/" + log + ".log");
    EXPECT_TRUE(c.ok());
    return c.ok() ? *std::move(c) : nullptr;
  }

  // Waits for `p` to exit; its code (-1 on timeout or signal).
  static int ExitCode(Subprocess* p, absl::Duration timeout) {
    auto rc = p->Wait(timeout);
    return rc.ok() ? *rc : -1;
  }

  nlohmann::json Summary() {
    for (const auto& e : fs::directory_iterator(dir_ + "/runs")) {
      return nlohmann::json::parse(
          ReadFileOrEmpty(e.path().string() + "/summary.json"), nullptr, false);
    }
    return nullptr;
  }

  std::string dir_;
  int port_ = 0;
};

TEST_F(SecurityProcessesTest, MutualTlsAdmitsOnlyEachDeviceAsItself) {
  const std::string certs = dir_ + "/certs";
  ASSERT_EQ(RunScript("make-certs.sh", {certs, "localhost", "dev-a", "dev-b"}),
            0)
      << ReadFileOrEmpty(dir_ + "/make-certs.sh.log");
  nlohmann::json config = Config();
  config["server"]["tls_cert"] = certs + "/server.crt";
  config["server"]["tls_key"] = certs + "/server.key";
  config["server"]["tls_client_ca"] = certs + "/ca.crt";
  auto server = StartServer(config);
  ASSERT_GT(port_, 0);
  auto as = [&](const std::string& device) -> std::vector<std::string> {
    return {"--tls_ca=" + certs + "/ca.crt",
            "--tls_cert=" + certs + "/devices/" + device + ".crt",
            "--tls_key=" + certs + "/devices/" + device + ".key"};
  };

  // dev-b's certificate cannot join as dev-a: refused, not retried.
  auto impostor = StartClient("dev-a", "impostor", as("dev-b"));
  EXPECT_EQ(ExitCode(impostor.get(), absl::Seconds(30)), 1);
  EXPECT_NE(ReadFileOrEmpty(impostor->log_path())
                .find("the certificate is for device 'dev-b'"),
            std::string::npos)
      << ReadFileOrEmpty(impostor->log_path());
  // Without a certificate, or without TLS, no connection at all.
  auto anonymous =
      StartClient("dev-a", "anonymous", {"--tls_ca=" + certs + "/ca.crt"});
  auto plain = StartClient("dev-a", "plain", {});
  EXPECT_EQ(ExitCode(anonymous.get(), absl::Seconds(30)), 1);
  EXPECT_EQ(ExitCode(plain.get(), absl::Seconds(30)), 1);

  // Each with its own certificate: the round runs.
  auto a = StartClient("dev-a", "dev-a", as("dev-a"));
  auto b = StartClient("dev-b", "dev-b", as("dev-b"));
  EXPECT_EQ(ExitCode(server.get(), absl::Seconds(120)), 0)
      << ReadFileOrEmpty(dir_ + "/server.log");
  EXPECT_EQ(ExitCode(a.get(), absl::Seconds(30)), 0);
  EXPECT_EQ(ExitCode(b.get(), absl::Seconds(30)), 0);
  nlohmann::json summary = Summary();
  ASSERT_TRUE(summary.is_object());
  EXPECT_EQ(summary["rounds"], 1);
  EXPECT_EQ(summary["devices"].size(), 2u) << summary.dump();
  for (const nlohmann::json& d : summary["devices"]) EXPECT_EQ(d["rounds"], 1);
  EXPECT_EQ(ReadFileOrEmpty(dir_ + "/server.log").find("WITHOUT TLS"),
            std::string::npos);
}

TEST_F(SecurityProcessesTest, JoinTokensAreCheckedPerDevice) {
  const std::string tokens = dir_ + "/tokens";
  ASSERT_EQ(RunScript("make-token.sh", {"dev-a", tokens, dir_ + "/a.token"}),
            0);
  ASSERT_EQ(RunScript("make-token.sh", {"dev-b", tokens, dir_ + "/b.token"}),
            0);
  nlohmann::json config = Config();
  config["server"]["tokens_file"] = tokens;
  auto server = StartServer(config);
  ASSERT_GT(port_, 0);

  // dev-b's token is not dev-a's; no token is no token.
  auto stolen =
      StartClient("dev-a", "stolen", {"--token_file=" + dir_ + "/b.token"});
  auto none = StartClient("dev-a", "none", {});
  EXPECT_EQ(ExitCode(stolen.get(), absl::Seconds(30)), 1);
  EXPECT_EQ(ExitCode(none.get(), absl::Seconds(30)), 1);
  EXPECT_NE(ReadFileOrEmpty(stolen->log_path()).find("wrong or missing token"),
            std::string::npos)
      << ReadFileOrEmpty(stolen->log_path());

  auto a = StartClient("dev-a", "dev-a", {"--token_file=" + dir_ + "/a.token"});
  auto b = StartClient("dev-b", "dev-b", {"--token_file=" + dir_ + "/b.token"});
  EXPECT_EQ(ExitCode(server.get(), absl::Seconds(120)), 0)
      << ReadFileOrEmpty(dir_ + "/server.log");
  EXPECT_EQ(ExitCode(a.get(), absl::Seconds(30)), 0);
  EXPECT_EQ(ExitCode(b.get(), absl::Seconds(30)), 0);
  // The run directory names the file, never a token.
  const std::string run_config = ReadFileOrEmpty(
      fs::directory_iterator(dir_ + "/runs")->path().string() + "/config.json");
  const std::string token(
      absl::StripAsciiWhitespace(ReadFileOrEmpty(dir_ + "/a.token")));
  ASSERT_EQ(token.size(), 64u);
  EXPECT_NE(run_config.find("tokens_file"), std::string::npos);
  EXPECT_EQ(run_config.find(token), std::string::npos);
}

}  // namespace
}  // namespace tandem::testing
