// Revocation without a restart: a tokens file that withdraws a device's
// token ends its session (a long-poll in progress returns within a second,
// heartbeats say unknown, a rejoin is refused) and leaves the others be; the
// watch hands every new version of the file that loads to its callback.
#include <chrono>
#include <fstream>
#include <future>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "ml/data/synthetic.h"
#include "server/coordinator.h"
#include "server/device_tokens.h"
#include "server/tokens_watch.h"

namespace tandem::server {
namespace {

std::string Line(const std::string& id, const std::string& token) {
  const DeviceTokens::Digest d = DeviceTokens::Sha256(token);
  return absl::StrCat(id, " ",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(d.data()), d.size())),
                      "\n");
}

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::unique_ptr<Coordinator> WithTokens(const std::string& tokens_file) {
  Config c;
  c.model.name = "mlp";
  c.server.tokens_file = tokens_file;
  c.server.min_devices = 2;
  c.output.dir = ::testing::TempDir() + "/revocation_runs";
  data::SyntheticOptions so;
  so.train_size = 10;
  so.test_size = 10;
  CoordinatorOptions o;
  o.config = c;
  o.test_set = std::make_shared<const data::Dataset>(
      data::MakeSyntheticDataset(so).value().test);
  return Coordinator::Create(o).value();
}

std::string JoinAs(Coordinator& c, const std::string& id,
                   const std::string& token) {
  v1::JoinRequest req;
  req.set_device_id(id);
  req.set_token(token);
  auto reply = c.devices()->Join(req);
  return reply.ok() ? reply->session_id() : "";
}

bool Known(Coordinator& c, const std::string& id, const std::string& session) {
  v1::HeartbeatRequest req;
  req.set_device_id(id);
  req.set_session_id(session);
  auto reply = c.devices()->Heartbeat(req);
  return reply.ok() && reply->known();
}

TEST(RevocationTest, AWithdrawnTokenEndsTheSessionWithinASecond) {
  const std::string file =
      Write("tokens-ab", Line("dev-a", "secret-a") + Line("dev-b", "secret-b"));
  auto coordinator = WithTokens(file);
  const std::string a = JoinAs(*coordinator, "dev-a", "secret-a");
  const std::string b = JoinAs(*coordinator, "dev-b", "secret-b");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  // dev-a waits for a task (no round is open: it would wait 30 s).
  auto poll = std::async(std::launch::async, [&] {
    v1::PullTaskRequest req;
    req.set_device_id("dev-a");
    req.set_session_id(a);
    return coordinator->devices()->WaitForTask(req, absl::Seconds(30)).status();
  });
  absl::SleepFor(absl::Milliseconds(200));
  auto next = DeviceTokens::Parse(Line("dev-b", "secret-b"), "tokens-b");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(coordinator->devices()->ReplaceTokens(*std::move(next)),
            std::vector<std::string>{"dev-a"});
  ASSERT_EQ(poll.wait_for(std::chrono::seconds(1)), std::future_status::ready)
      << "the revoked device's long-poll is still waiting";
  EXPECT_EQ(poll.get().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(Known(*coordinator, "dev-a", a));
  EXPECT_TRUE(JoinAs(*coordinator, "dev-a", "secret-a").empty());
  EXPECT_TRUE(Known(*coordinator, "dev-b", b));
}

TEST(RevocationTest, TheWatchHandsOnEveryNewFileThatLoads) {
  const std::string file = Write("tokens-watch", Line("dev-a", "secret-a"));
  absl::Mutex mu;
  std::vector<int> sizes;  // of each version handed on
  TokensFileWatch watch(file, [&](DeviceTokens t) {
    absl::MutexLock lock(&mu);
    sizes.push_back(t.size());
  });
  auto handed = [&](size_t n) {
    absl::MutexLock lock(&mu);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return sizes.size() >= n;
    };
    return mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(2));
  };
  Write("tokens-watch", Line("dev-a", "secret-a") + Line("dev-b", "b"));
  ASSERT_TRUE(handed(1));
  Write("tokens-watch", "dev-c not-a-digest\n");  // refused: not handed on
  absl::SleepFor(absl::Seconds(1));
  watch.ReloadNow();  // the same broken file again
  absl::SleepFor(absl::Milliseconds(700));
  Write("tokens-watch", "");
  ASSERT_TRUE(handed(2));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(sizes, (std::vector<int>{2, 0}));
}

}  // namespace
}  // namespace tandem::server
