// Attacks on the coordinator over loopback TCP (issue #12, "Trust no
// device"): calls without the device's session, guessing sessions, taking
// over a live device id, inflating the sample count, leaving or abandoning
// for another device, and injecting lines into the log. Each test fails if
// its defence is removed.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/clock.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/weights_codec.h"
#include "gtest/gtest.h"
#include "ml/data/synthetic.h"
#include "server/coordinator.h"
#include "server/coordinator_service.h"
#include "server/session_id.h"
#include "tests/server/device_calls.h"

namespace tandem::server {
namespace {

constexpr int kExamplesPerDevice = 10;  // each device's partition (IID)

class SecurityTest : public ::testing::Test {
 protected:
  // A coordinator for `devices` devices (one round, at least `min_updates`
  // updates) on 127.0.0.1, port 0, with a training set of
  // kExamplesPerDevice examples per device. `run`: also drive the round.
  void Start(int devices, int min_updates, bool run = true) {
    Config c;
    c.seed = 5;
    c.model.name = "mlp";
    c.server.rounds = 1;
    c.server.min_devices = devices;
    c.server.round_deadline_s = 30;
    c.server.max_round_retries = 0;
    c.server.poll_timeout_s = 1;
    c.server.device_timeout_s = device_timeout_s_;
    c.strategy.min_updates = min_updates;
    // Hostile joins come from many more ids than partitions: shared, so the
    // limits under test (join rate, registry size) are what refuses them.
    c.data.share_partitions = true;
    c.output.dir = ::testing::TempDir() + "/security_test_runs";
    if (configure_) configure_(c);
    data::SyntheticOptions so;
    so.train_size = kExamplesPerDevice * devices;
    so.test_size = 50;
    data::TrainTest tt = data::MakeSyntheticDataset(so).value();
    CoordinatorOptions o;
    o.config = c;
    o.clock = clock_;
    o.test_set = std::make_shared<const data::Dataset>(std::move(tt.test));
    o.train_set = std::make_shared<const data::Dataset>(std::move(tt.train));
    coordinator_ = Coordinator::Create(o).value();
    server_ = CoordinatorServer::Start(coordinator_.get(), "127.0.0.1:0",
                                       absl::Seconds(1), {},
                                       StreamLimitsFor(c.server))
                  .value();
    stub_ = v1::Coordinator::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
    if (run) runner_ = std::thread([this] { result_ = coordinator_->Run(); });
  }

  void TearDown() override {
    if (runner_.joinable()) {
      coordinator_->Stop();
      runner_.join();
    }
    SetLogSink(nullptr);
  }

  grpc::Status Join(const std::string& id, const std::string& resume,
                    std::string* session, const std::string& cls = "") {
    grpc::ClientContext ctx;
    v1::JoinRequest req;
    req.set_device_id(id);
    req.set_resume_session(resume);
    req.mutable_profile()->set_device_class(cls);
    v1::JoinReply reply;
    grpc::Status s = stub_->Join(&ctx, req, &reply);
    *session = reply.session_id();
    return s;
  }
  std::string Join(const std::string& id) {
    std::string session;
    EXPECT_TRUE(Join(id, "", &session).ok()) << id;
    return session;
  }

  // One PullTask call; its status (the header and weights are dropped).
  grpc::Status PullOnce(const std::string& id, const std::string& session) {
    grpc::ClientContext ctx;
    v1::PullTaskRequest req;
    req.set_device_id(id);
    req.set_session_id(session);
    auto reader = stub_->PullTask(&ctx, req);
    v1::TaskChunk chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish();
  }

  // Pulls until a TRAIN task arrives; returns its round and weights.
  int64_t Pull(const std::string& id, const std::string& session,
               Weights* weights) {
    const v1::TaskHeader h = PullTrainTask(stub_.get(), id, session, weights);
    return h.kind() == v1::TaskHeader::TRAIN ? h.round() : -1;
  }

  grpc::Status Push(const std::string& id, const std::string& session,
                    int64_t round, const Weights& w, int64_t samples,
                    std::string* reason = nullptr) {
    grpc::Status s = PushUpdate(stub_.get(), id, session, round, w, samples);
    if (reason != nullptr) *reason = s.error_message();
    return s;
  }

  // Whether the coordinator knew the heartbeat's sender.
  bool Heartbeat(const std::string& id, const std::string& session,
                 int64_t round = -1, bool abandoned = false) {
    grpc::ClientContext ctx;
    v1::HeartbeatRequest req;
    req.set_device_id(id);
    req.set_session_id(session);
    req.set_round(round);
    if (abandoned) {
      req.set_state(v1::HeartbeatRequest::ABANDONED);
      req.set_reason("forged");
    }
    v1::HeartbeatReply reply;
    EXPECT_TRUE(stub_->Heartbeat(&ctx, req, &reply).ok());
    return reply.known();
  }

  grpc::Status Leave(const std::string& id, const std::string& session,
                     const std::string& reason = "bye") {
    grpc::ClientContext ctx;
    v1::LeaveRequest req;
    req.set_device_id(id);
    req.set_session_id(session);
    req.set_reason(reason);
    v1::LeaveReply reply;
    return stub_->Leave(&ctx, req, &reply);
  }

  grpc::Status SplitOpen(const std::string& id, const std::string& session) {
    auto split_stub = v1::SplitTraining::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    auto stream = split_stub->Train(&ctx);
    v1::SplitRequest req;
    req.mutable_open()->set_device_id(id);
    req.mutable_open()->set_session_id(session);
    req.mutable_open()->set_round(1);
    req.mutable_open()->set_split_point(1);
    stream->Write(req);
    stream->WritesDone();
    v1::SplitReply reply;
    while (stream->Read(&reply)) {
    }
    return stream->Finish();
  }

  // Waits for the run; its summary.
  nlohmann::json Finish() {
    runner_.join();
    EXPECT_TRUE(result_.ok()) << result_.status();
    return result_.ok() ? *result_ : nlohmann::json::object();
  }

  Weights Checkpoint() const {
    int64_t round = 0;
    return DecodeCheckpoint(
               ReadFile(coordinator_->run_dir() + "/checkpoints/latest.ckpt")
                   .value(),
               &round)
        .value();
  }

  static Weights Shifted(const Weights& w, float by) {
    Weights out = w;
    for (float& x : out.values()) x += by;
    return out;
  }

  // Every value of `got` is `want`'s plus `by`.
  static void ExpectShifted(const Weights& got, const Weights& want, float by) {
    ASSERT_EQ(got.size(), want.size());
    for (int64_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got.values()[i], want.values()[i] + by, 1e-5) << i;
    }
  }

  static int Dropouts(const nlohmann::json& summary, const std::string& id) {
    for (const auto& d : summary.at("devices")) {
      if (d.at("id") == id) return d.at("dropouts");
    }
    ADD_FAILURE() << "no device " << id;
    return -1;
  }

  const Clock* clock_ = &RealClock();
  double device_timeout_s_ = 30;
  std::function<void(Config&)> configure_;  // limits under test
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  std::thread runner_;
  absl::StatusOr<nlohmann::json> result_;
};

TEST(SessionIdTest, HexOf128RandomBitsComparedExactly) {
  std::set<std::string> seen;
  const std::regex hex32("[0-9a-f]{32}");
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewSessionId();
    ASSERT_TRUE(std::regex_match(id, hex32)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated " << id;
  }
  const std::string id = NewSessionId();
  EXPECT_TRUE(SessionMatches(id, id));
  EXPECT_FALSE(SessionMatches(id, id.substr(0, 31)));
  EXPECT_FALSE(SessionMatches(id, id + "0"));
  std::string flipped = id;
  flipped[31] = flipped[31] == '0' ? '1' : '0';
  EXPECT_FALSE(SessionMatches(id, flipped));
  EXPECT_FALSE(SessionMatches("", ""));  // no session: nothing matches
}

TEST_F(SecurityTest, SessionsAreRandomAndNewAtEveryJoin) {
  Start(/*devices=*/3, /*min_updates=*/1, /*run=*/false);
  std::vector<std::string> ids = {Join("d1"), Join("d2"), Join("d3")};
  std::string again;
  ASSERT_TRUE(Join("d1", ids[0], &again).ok());
  ids.push_back(again);
  const std::regex hex32("[0-9a-f]{32}");
  for (const std::string& id : ids) {
    EXPECT_TRUE(std::regex_match(id, hex32)) << id;
  }
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST_F(SecurityTest, CallsWithoutTheDevicesSessionAreRefused) {
  Start(/*devices=*/2, /*min_updates=*/2);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  // What an outsider can try: the old sequential ids, a well-formed guess,
  // none, and (for a token holder) another device's session.
  const std::vector<std::string> guesses = {
      "s1", "s2", "s3", "", std::string(32, '0'), s1.substr(0, 31), s2};
  for (const std::string& g : guesses) {
    EXPECT_EQ(PullOnce("d1", g).error_code(), grpc::NOT_FOUND) << g;
    EXPECT_FALSE(Heartbeat("d1", g)) << g;
    EXPECT_EQ(Leave("d1", g).error_code(), grpc::NOT_FOUND) << g;
  }
  Weights global, unused;
  const int64_t round = Pull("d1", s1, &global);
  ASSERT_EQ(round, 1);
  Pull("d2", s2, &unused);
  Weights zeros = global;
  std::fill(zeros.values().begin(), zeros.values().end(), 0.0f);
  for (const std::string& g : guesses) {
    EXPECT_EQ(Push("d1", g, round, zeros, 10).error_code(),
              grpc::FAILED_PRECONDITION)
        << g;
    EXPECT_FALSE(Heartbeat("d1", g, round, /*abandoned=*/true)) << g;
    EXPECT_EQ(SplitOpen("d1", g).error_code(), grpc::NOT_FOUND) << g;
  }
  // None of it touched d1's round: its own update is still awaited.
  ASSERT_TRUE(Push("d1", s1, round, Shifted(global, 1), 10).ok());
  ASSERT_TRUE(Push("d2", s2, round, Shifted(global, 3), 10).ok());
  const nlohmann::json summary = Finish();
  EXPECT_EQ(summary["rounds"], 1);
  EXPECT_EQ(summary["rejections"]["wrong_session"], guesses.size());
  EXPECT_EQ(Dropouts(summary, "d1"), 0);
  ExpectShifted(Checkpoint(), global, 2.0f);  // (1 x 10 + 3 x 10) / 20
}

TEST_F(SecurityTest, JoiningUnderALiveDeviceIdIsRefused) {
  Start(/*devices=*/2, /*min_updates=*/1, /*run=*/false);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  std::string taken;
  for (const std::string& resume : {std::string(), std::string("s1"), s2}) {
    grpc::Status s = Join("d1", resume, &taken);
    EXPECT_EQ(s.error_code(), grpc::ALREADY_EXISTS) << resume;
    EXPECT_NE(s.error_message().find("live session"), std::string::npos)
        << s.error_message();
  }
  EXPECT_TRUE(Heartbeat("d1", s1));  // the device keeps its session
  // The device itself, reconnecting with its session, gets a new one.
  std::string resumed;
  ASSERT_TRUE(Join("d1", s1, &resumed).ok());
  EXPECT_NE(resumed, s1);
  EXPECT_FALSE(Heartbeat("d1", s1));
  EXPECT_TRUE(Heartbeat("d1", resumed));
}

TEST_F(SecurityTest, ExpiredOrLeftDeviceMayRejoin) {
  ManualClock clock;
  clock_ = &clock;
  device_timeout_s_ = 100;
  Start(/*devices=*/2, /*min_updates=*/1, /*run=*/false);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  Weights w(WeightsLayout::Create({{"w", {3}}}).value());
  clock.Advance(60);
  // Calls without the session do not keep d1 alive.
  EXPECT_FALSE(Heartbeat("d1", "s1"));
  EXPECT_FALSE(Push("d1", "s1", 1, w, 10).ok());
  EXPECT_EQ(PullOnce("d1", "s1").error_code(), grpc::NOT_FOUND);
  std::string session;
  EXPECT_EQ(Join("d1", "", &session).error_code(), grpc::ALREADY_EXISTS);
  clock.Advance(50);  // 110 s since d1 was last heard from
  ASSERT_TRUE(Join("d1", "", &session).ok());
  EXPECT_NE(session, s1);
  // A device that left may come back at once.
  ASSERT_TRUE(Leave("d2", s2).ok());
  ASSERT_TRUE(Join("d2", "", &session).ok());
}

TEST_F(SecurityTest, InflatedSampleCountIsRejected) {
  // d1 and d2 are honest; d3 pushes all zeros claiming 10^9 samples, d4
  // one sample more than its partition holds.
  Start(/*devices=*/4, /*min_updates=*/2);
  std::map<std::string, std::string> session;
  for (const char* id : {"d1", "d2", "d3", "d4"}) session[id] = Join(id);
  Weights global, unused;
  const int64_t round = Pull("d1", session["d1"], &global);
  for (const char* id : {"d2", "d3", "d4"}) Pull(id, session[id], &unused);
  Weights zeros = global;
  std::fill(zeros.values().begin(), zeros.values().end(), 0.0f);
  std::string reason;
  EXPECT_EQ(
      Push("d3", session["d3"], round, zeros, 1000000000, &reason).error_code(),
      grpc::INVALID_ARGUMENT);
  EXPECT_NE(reason.find("claims 1000000000 samples"), std::string::npos)
      << reason;
  EXPECT_EQ(Push("d4", session["d4"], round, zeros, kExamplesPerDevice + 1)
                .error_code(),
            grpc::INVALID_ARGUMENT);
  ASSERT_TRUE(Push("d1", session["d1"], round, Shifted(global, 1), 4).ok());
  ASSERT_TRUE(
      Push("d2", session["d2"], round, Shifted(global, 3), kExamplesPerDevice)
          .ok());
  const nlohmann::json summary = Finish();
  EXPECT_EQ(summary["rounds"], 1);
  EXPECT_EQ(summary["rejections"]["too_many_samples"], 2);
  // The honest devices' FedAvg: (1 x 4 + 3 x 10) / 14.
  ExpectShifted(Checkpoint(), global, 34.0f / 14.0f);
}

TEST_F(SecurityTest, LeaveOrAbandonForAnotherDeviceFails) {
  Start(/*devices=*/2, /*min_updates=*/2);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  Weights global, unused;
  const int64_t round = Pull("d1", s1, &global);
  Pull("d2", s2, &unused);
  // d1 holds a valid session, but not d2's.
  EXPECT_EQ(Leave("d2", s1).error_code(), grpc::NOT_FOUND);
  EXPECT_FALSE(Heartbeat("d2", s1, round, /*abandoned=*/true));
  ASSERT_TRUE(Push("d2", s2, round, Shifted(global, 3), 10).ok());
  ASSERT_TRUE(Push("d1", s1, round, Shifted(global, 1), 10).ok());
  const nlohmann::json summary = Finish();
  EXPECT_EQ(summary["rounds"], 1);
  EXPECT_EQ(Dropouts(summary, "d2"), 0);
  ExpectShifted(Checkpoint(), global, 2.0f);
}

TEST_F(SecurityTest, DeviceStringsAreLoggedEscaped) {
  absl::Mutex mu;
  std::vector<std::string> lines;
  SetLogSink([&](absl::string_view line) {
    absl::MutexLock lock(&mu);
    lines.emplace_back(line);
  });
  Start(/*devices=*/2, /*min_updates=*/1, /*run=*/false);
  // A forged log line, a control byte and U+2028 (a line separator to some
  // log viewers): valid UTF-8, so protobuf lets it through.
  const std::string evil = "evil\nE00:00:00.000 forged\x01\xe2\x80\xa8";
  std::string session;
  ASSERT_TRUE(Join(evil, "", &session, "cls\nx").ok());
  ASSERT_TRUE(Leave(evil, session, "bye\nE00:00:00.000 forged").ok());
  Weights w(WeightsLayout::Create({{"w", {3}}}).value());
  EXPECT_FALSE(Push(evil + "?", "s", 1, w, 10).ok());  // unknown device
  ASSERT_TRUE(Join(std::string(128, 'a'), "", &session).ok());
  // Invalid UTF-8 (0xff) is refused by protobuf on the wire; a caller in
  // the process can still pass it.
  EXPECT_FALSE(Join("raw\xff", "", &session).ok());
  v1::JoinRequest raw;
  raw.set_device_id("raw\xff\n");
  ASSERT_TRUE(coordinator_->devices()->Join(raw).ok());
  SetLogSink(nullptr);

  absl::MutexLock lock(&mu);
  std::string log;
  for (const std::string& line : lines) {
    // One line each: the only newline ends it, no control or raw bytes.
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    for (size_t i = 0; i + 1 < line.size(); ++i) {
      const unsigned char c = line[i];
      EXPECT_TRUE(c >= 0x20 && c != 0x7f && c != 0xff) << line;
    }
    EXPECT_EQ(line.find("\xe2\x80\xa8"), std::string::npos) << line;
    log += line;
  }
  const std::string escaped = "evil\\nE00:00:00.000 forged\\x01\\xe2\\x80\\xa8";
  EXPECT_NE(log.find("device " + escaped + " joined (class 'cls\\nx'"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(escaped + " left: bye\\nE00:00:00.000 forged"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("unknown device '" + escaped + "?'"), std::string::npos)
      << log;
  EXPECT_NE(log.find("device " + std::string(64, 'a') + "… joined"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("device raw\\xff\\n joined"), std::string::npos) << log;
}

TEST_F(SecurityTest, JoinFloodIsRateLimited) {
  configure_ = [](Config& c) { c.server.max_joins_per_s = 20; };
  Start(2, 2, /*run=*/false);
  const absl::Time t0 = absl::Now();
  int accepted = 0, limited = 0;
  for (int i = 0; i < 200; ++i) {
    std::string session;
    grpc::Status s = Join(absl::StrCat("sybil-", i), "", &session);
    if (s.ok()) ++accepted;
    if (s.error_code() == grpc::RESOURCE_EXHAUSTED) ++limited;
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - t0);
  EXPECT_GE(accepted, 20);  // the burst
  EXPECT_LE(accepted, 20 + 20 * elapsed + 1) << elapsed << " s";
  EXPECT_EQ(accepted + limited, 200);
  absl::SleepFor(absl::Milliseconds(200));  // 4 tokens back
  std::string session;
  EXPECT_TRUE(Join("honest", "", &session).ok());
}

TEST_F(SecurityTest, RegistryIsBoundedAndForgetsSilentStrangers) {
  device_timeout_s_ = 0.3;
  configure_ = [](Config& c) { c.server.max_devices = 5; };
  Start(2, 2, /*run=*/false);
  std::string session;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Join(absl::StrCat("sybil-", i), "", &session).ok());
  }
  grpc::Status full = Join("late", "", &session);
  EXPECT_EQ(full.error_code(), grpc::RESOURCE_EXHAUSTED)
      << full.error_message();
  // Silent for longer than device_timeout_s, never trained: forgotten.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_TRUE(Join("late", "", &session).ok());
}

TEST_F(SecurityTest, SilentStreamsAreCancelled) {
  configure_ = [](Config& c) { c.server.stream_idle_s = 0.3; };
  Start(2, 2, /*run=*/false);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                          grpc::InsecureChannelCredentials());
  auto split = v1::SplitTraining::NewStub(channel);
  const absl::Time t0 = absl::Now();
  grpc::ClientContext push_ctx, split_ctx;
  push_ctx.set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(20));
  split_ctx.set_deadline(push_ctx.deadline());
  v1::PushUpdateReply reply;
  auto push = stub_->PushUpdate(&push_ctx, &reply);
  auto stream = split->Train(&split_ctx);
  // Neither sends a message: each holds a server thread until cancelled.
  EXPECT_EQ(push->Finish().error_code(), grpc::CANCELLED);
  EXPECT_EQ(stream->Finish().error_code(), grpc::CANCELLED);
  EXPECT_LT(absl::ToDoubleSeconds(absl::Now() - t0), 5);
}

TEST_F(SecurityTest, OpenStreamsAreCapped) {
  configure_ = [](Config& c) { c.server.max_streams = 3; };
  Start(2, 2, /*run=*/false);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientWriter<v1::UpdateChunk>>> silent;
  v1::PushUpdateReply reply;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    silent.push_back(stub_->PushUpdate(contexts.back().get(), &reply));
  }
  // Let the server start all three handlers.
  for (int i = 0; i < 100 && server_->open_streams() < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(server_->open_streams(), 3);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto fourth = stub_->PushUpdate(&ctx, &reply);
  grpc::Status s = fourth->Finish();
  EXPECT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED) << s.error_message();
  for (auto& c : contexts) c->TryCancel();
  for (auto& w : silent) w->Finish();
  for (int i = 0; i < 100 && server_->open_streams() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(server_->open_streams(), 0);  // places are freed
}

// Mutates `m`'s wire bytes (bit flips, a cut, random bytes, a copied run)
// until they parse as M again (else returns `m`).
template <typename M>
M Mutate(const M& m, std::mt19937_64& rng) {
  const std::string bytes = m.SerializeAsString();
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string b = bytes;
    const size_t n = b.size();
    switch (rng() % 4) {
      case 0:
        for (int i = 0, flips = 1 + rng() % 8; i < flips && n > 0; ++i) {
          b[rng() % n] ^= static_cast<char>(1 << (rng() % 8));
        }
        break;
      case 1:
        b.resize(rng() % (n + 1));
        break;
      case 2:
        b.insert(rng() % (n + 1),
                 std::string(1 + rng() % 16, static_cast<char>(rng())));
        break;
      default:
        if (n > 0) {
          const size_t at = rng() % n;
          b.insert(rng() % (n + 1), b.substr(at, 1 + rng() % 32));
        }
    }
    M out;
    if (out.ParseFromString(b)) return out;
  }
  return m;
}

// Resident memory of this process, from /proc/self/status (MiB).
double ResidentMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024;
  }
  return 0;
}

// Every RPC gets mutated messages from a joined device that was not sampled
// (a few thousand in CI; TANDEM_FUZZ_CASES sets how many). The coordinator
// must answer each within its deadline, take no update from it, and still
// run the honest round to its end.
TEST_F(SecurityTest, MutatedMessagesToEveryCallAreRefused) {
  const char* env = std::getenv("TANDEM_FUZZ_CASES");
  const int cases = env != nullptr ? std::atoi(env) : 2000;
  configure_ = [](Config& c) { c.server.round_deadline_s = 600; };
  Start(2, 2);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  Weights global, unused;
  ASSERT_EQ(Pull("d1", s1, &global), 1);
  ASSERT_EQ(Pull("d2", s2, &unused), 1);
  const std::string sf = Join("f");  // joined after round 1 was sampled
  auto split = v1::SplitTraining::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                          grpc::InsecureChannelCredentials()));

  v1::JoinRequest join;
  join.set_device_id("f");
  join.set_resume_session(sf);
  join.mutable_profile()->set_device_class("fuzz");
  v1::PullTaskRequest pull;
  pull.set_device_id("f");
  pull.set_session_id(sf);
  pull.mutable_timing()->add_seconds_per_example(0.001);
  pull.mutable_timing()->set_examples(96);
  v1::HeartbeatRequest beat;
  beat.set_device_id("f");
  beat.set_session_id(sf);
  beat.set_round(1);
  beat.set_state(v1::HeartbeatRequest::ABANDONED);
  v1::LeaveRequest leave;
  leave.set_device_id("f");
  leave.set_session_id(sf);
  v1::UpdateChunk header;
  v1::UpdateHeader* h = header.mutable_header();
  h->set_device_id("f");
  h->set_session_id(sf);
  h->set_round(1);
  h->set_num_samples(kExamplesPerDevice);
  LayoutToProto(global.layout(), h->mutable_layout());
  v1::SplitRequest open, batch;
  open.mutable_open()->set_device_id("f");
  open.mutable_open()->set_session_id(sf);
  open.mutable_open()->set_round(1);
  open.mutable_open()->set_split_point(1);
  batch.mutable_batch()->set_step(0);

  // Keeps the seeds on f's current session, so mutants get past it.
  auto set_session = [&](const std::string& session) {
    join.set_resume_session(session);
    pull.set_session_id(session);
    beat.set_session_id(session);
    leave.set_session_id(session);
    header.mutable_header()->set_session_id(session);
    open.mutable_open()->set_session_id(session);
  };
  std::mt19937_64 rng(11);
  std::map<int, int> codes;
  const double rss_before = ResidentMiB();
  auto with_deadline = [](grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(2000));
  };
  for (int i = 0; i < cases; ++i) {
    grpc::ClientContext ctx;
    with_deadline(&ctx);
    grpc::Status s;
    switch (i % 6) {
      case 0: {
        v1::JoinReply r;
        const v1::JoinRequest mutant = Mutate(join, rng);
        s = stub_->Join(&ctx, mutant, &r);
        if (s.ok() && mutant.device_id() == "f") set_session(r.session_id());
        break;
      }
      case 1: {
        // Under a second: the coordinator answers WAIT at once rather than
        // long-polling.
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(900));
        auto reader = stub_->PullTask(&ctx, Mutate(pull, rng));
        v1::TaskChunk chunk;
        while (reader->Read(&chunk)) {
        }
        s = reader->Finish();
        break;
      }
      case 2: {
        v1::HeartbeatReply r;
        s = stub_->Heartbeat(&ctx, Mutate(beat, rng), &r);
        break;
      }
      case 3: {
        v1::LeaveReply r;
        const v1::LeaveRequest mutant = Mutate(leave, rng);
        s = stub_->Leave(&ctx, mutant, &r);
        if (s.ok() && mutant.device_id() == "f") {
          std::string again;  // joins are rate-limited: retry
          for (int k = 0; k < 100 && !Join("f", "", &again).ok(); ++k) {
            absl::SleepFor(absl::Milliseconds(10));
          }
          set_session(again);
        }
        break;
      }
      case 4: {
        v1::PushUpdateReply r;
        auto writer = stub_->PushUpdate(&ctx, &r);
        // The whole model after the mutated header, one chunk mutated half
        // the time: a mutant that keeps the header valid is a complete
        // update from a device that was not sampled.
        writer->Write(Mutate(header, rng));
        const int bad = rng() % (2 * NumChunks(global));
        for (int k = 0; k < NumChunks(global); ++k) {
          v1::UpdateChunk chunk;
          FillChunk(global, k, chunk.mutable_weights());
          writer->Write(k == bad ? Mutate(chunk, rng) : chunk);
        }
        writer->WritesDone();
        s = writer->Finish();
        EXPECT_FALSE(s.ok()) << "a mutated update was accepted";
        break;
      }
      default: {
        auto stream = split->Train(&ctx);
        stream->Write(Mutate(open, rng));
        if (rng() % 2) stream->Write(Mutate(batch, rng));
        stream->WritesDone();
        v1::SplitReply r;
        while (stream->Read(&r)) {
        }
        s = stream->Finish();
      }
    }
    ++codes[s.error_code()];
    ASSERT_NE(s.error_code(), grpc::DEADLINE_EXCEEDED) << "call " << i;
  }
  const double rss_after = ResidentMiB();
  std::printf("fuzz: %d cases, RSS %.1f -> %.1f MiB; status codes:", cases,
              rss_before, rss_after);
  for (const auto& [code, n] : codes) std::printf(" %d:%d", code, n);
  std::printf("\n");
  EXPECT_LT(rss_after - rss_before, 64);
  // The honest devices finish the round; nothing else was aggregated.
  ASSERT_TRUE(Push("d1", s1, 1, Shifted(global, 1), kExamplesPerDevice).ok());
  ASSERT_TRUE(Push("d2", s2, 1, Shifted(global, 1), kExamplesPerDevice).ok());
  const nlohmann::json summary = Finish();
  EXPECT_EQ(summary["rounds"], 1);
  EXPECT_EQ(summary["failed_attempts"], 0);
  ExpectShifted(Checkpoint(), global, 1);
}

}  // namespace
}  // namespace tandem::server
