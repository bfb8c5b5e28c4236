// The coordinator's Prometheus endpoint (server.metrics_listen): one round
// driven by hand-written device calls, then GET /metrics over a socket; the
// values must match the round, and the text must pass `promtool check
// metrics` when promtool is installed.
#include "server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ml/data/synthetic.h"
#include "server/coordinator.h"
#include "server/coordinator_service.h"
#include "tests/server/device_calls.h"

namespace tandem::server {
namespace {

// The body of GET `path` on 127.0.0.1:`port` (HTTP/1.0: read to the close).
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    ADD_FAILURE() << "cannot connect to port " << port;
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
  EXPECT_EQ(write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;)
    response.append(buf, n);
  close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// Sample lines "name{labels} value" of the exposition text, by "name{labels}".
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value;
    if (space != absl::string_view::npos &&
        absl::SimpleAtod(line.substr(space + 1), &value)) {
      samples[std::string(line.substr(0, space))] = value;
    }
  }
  return samples;
}

class MetricsTest : public ::testing::Test {
 protected:
  // One round of 2 devices on the mlp; d1 and d2 report, a stranger and a
  // duplicate are refused. Returns the run's summary.
  nlohmann::json RunOneRound() {
    Config c;
    c.seed = 5;
    c.server.rounds = 1;
    c.server.min_devices = 2;
    c.server.poll_timeout_s = 1;
    c.server.max_round_retries = 0;
    c.server.metrics_listen = "127.0.0.1:0";
    c.model.name = "mlp";
    c.strategy.min_updates = 2;
    c.output.dir = ::testing::TempDir() + "/metrics_test_runs";
    data::SyntheticOptions so;
    so.train_size = 10;
    so.test_size = 50;
    CoordinatorOptions o;
    o.config = c;
    o.test_set = std::make_shared<const data::Dataset>(
        data::MakeSyntheticDataset(so).value().test);
    coordinator_ = Coordinator::Create(o).value();
    server_ = CoordinatorServer::Start(coordinator_.get(), "127.0.0.1:0",
                                       absl::Seconds(1))
                  .value();
    auto stub = v1::Coordinator::NewStub(server_->InProcessChannel());
    absl::StatusOr<nlohmann::json> result;
    std::thread runner([&] { result = coordinator_->Run(); });
    std::map<std::string, std::string> session;
    for (const char* id : {"d1", "d2"}) {
      grpc::ClientContext ctx;
      v1::JoinRequest req;
      req.set_device_id(id);
      v1::JoinReply reply;
      EXPECT_TRUE(stub->Join(&ctx, req, &reply).ok());
      session[id] = reply.session_id();
    }
    Weights unused;
    const int64_t round =
        PullTrainTask(stub.get(), "d1", session["d1"], &global_).round();
    PullTrainTask(stub.get(), "d2", session["d2"], &unused);
    EXPECT_FALSE(
        PushUpdate(stub.get(), "stranger", "x", round, global_, 10).ok());
    EXPECT_TRUE(
        PushUpdate(stub.get(), "d1", session["d1"], round, global_, 10).ok());
    EXPECT_FALSE(
        PushUpdate(stub.get(), "d1", session["d1"], round, global_, 10).ok());
    EXPECT_TRUE(
        PushUpdate(stub.get(), "d2", session["d2"], round, global_, 10).ok());
    runner.join();
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : nlohmann::json();
  }

  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  Weights global_;
};

TEST_F(MetricsTest, ServesTheRoundsCounts) {
  const nlohmann::json summary = RunOneRound();
  const int port = coordinator_->metrics().port();
  ASSERT_GT(port, 0);
  const std::map<std::string, double> m = Samples(HttpGet(port, "/metrics"));
  auto value = [&m](const std::string& name) {
    auto it = m.find(name);
    EXPECT_NE(it, m.end()) << name << " not served";
    return it == m.end() ? -1 : it->second;
  };
  EXPECT_EQ(value("tandem_rounds_completed_total"), 1);
  EXPECT_EQ(value("tandem_round_attempts_failed_total"), 0);
  EXPECT_EQ(value("tandem_rounds_rolled_back_total"), 0);
  EXPECT_EQ(value("tandem_round_time_seconds_count"), 1);
  EXPECT_EQ(value("tandem_round_wall_seconds_count"), 1);
  EXPECT_GT(value("tandem_round_wall_seconds_sum"), 0);
  EXPECT_EQ(value("tandem_device_joins_total"), 2);
  EXPECT_EQ(value("tandem_devices_joined"), 2);
  EXPECT_EQ(value("tandem_devices_active"), 2);
  EXPECT_EQ(value("tandem_device_dropouts_total"), 0);
  EXPECT_EQ(value("tandem_updates_accepted_total"), 2);
  EXPECT_EQ(value(R"(tandem_updates_rejected_total{reason="unknown_device"})"),
            1);
  EXPECT_EQ(value(R"(tandem_updates_rejected_total{reason="duplicate"})"), 1);
  EXPECT_EQ(value(R"(tandem_updates_rejected_total{reason="other"})"), 0);
  // Each device pulled the global weights and pushed them back (+ headers).
  const double weight_bytes = 4.0 * global_.size();
  EXPECT_GE(value("tandem_sent_bytes_total"), 2 * weight_bytes);
  EXPECT_LT(value("tandem_sent_bytes_total"), 2.2 * weight_bytes);
  // The stranger's and the duplicate's weights are never read.
  EXPECT_GE(value("tandem_received_bytes_total"), 2 * weight_bytes);
  EXPECT_LT(value("tandem_received_bytes_total"), 2.2 * weight_bytes);
  EXPECT_EQ(value("tandem_split_streams_opened_total"), 0);
  EXPECT_EQ(value("tandem_tail_compute_seconds_total"), 0);
  EXPECT_DOUBLE_EQ(value("tandem_test_accuracy"),
                   summary.value("final_accuracy", -1.0));
}

TEST_F(MetricsTest, ScrapePassesPromtool) {
  RunOneRound();
  const std::string text = HttpGet(coordinator_->metrics().port(), "/metrics");
  ASSERT_NE(text.find("tandem_updates_rejected_total"), std::string::npos);
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (deploy/install-deps.sh --ci)";
  }
  const std::string file = ::testing::TempDir() + "/metrics_test_scrape.txt";
  std::ofstream(file) << text;
  const std::string out = file + ".promtool";
  const int rc = std::system(
      ("promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
  std::ifstream in(out);
  const std::string report((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << report << "\n" << text;
}

TEST(CoordinatorMetricsTest, NoEndpointWithoutAnAddress) {
  auto m = CoordinatorMetrics::Create("", {"duplicate"});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->port(), 0);
}

TEST(CoordinatorMetricsTest, PortInUseIsAnError) {
  auto first = CoordinatorMetrics::Create("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = CoordinatorMetrics::Create(
      absl::StrCat("127.0.0.1:", (*first)->port()), {});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("server.metrics_listen"),
            std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace tandem::server
