// The coordinator over an in-process gRPC channel, driven by hand-written
// device calls: task delivery, FedAvg of known updates, every rejection path,
// and a failed round that is retried.
#include "server/coordinator.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "core/file_io.h"
#include "core/run_writer.h"
#include "core/tensor_codec.h"
#include "core/weights_codec.h"
#include "gtest/gtest.h"
#include "ml/data/synthetic.h"
#include "ml/model.h"
#include "ml/trainer.h"
#include "server/coordinator_service.h"
#include "server/device_tokens.h"
#include "tests/server/device_calls.h"

namespace tandem::server {
namespace {

class CoordinatorTest : public ::testing::Test {
 protected:
  void Start(int min_updates, int retries, int devices = 2,
             const nlohmann::json& offload = nullptr,
             const std::string& mode = "exact") {
    Config c;
    if (!offload.is_null()) {
      c.offload.policy = "fixed";
      c.offload.fixed = offload;
      c.offload.on_failure = OnSplitFailure::kLocal;
      c.offload.mode = ValueOf(OffloadModeNames(), mode, "mode").value();
    }
    c.seed = 5;
    c.server.rounds = rounds_;
    c.server.min_devices = devices;
    c.server.round_deadline_s = 30;
    c.server.max_round_retries = retries;
    c.server.poll_timeout_s = 1;
    c.model.name = "mlp";
    if (device_timeout_s_ > 0) {
      c.server.device_timeout_s = device_timeout_s_;
      c.server.round_deadline_s = 10 * device_timeout_s_;
    }
    c.strategy.min_updates = min_updates;
    c.strategy.fraction = fraction_;
    c.strategy.over_selection = over_selection_;
    c.strategy.admission = admission_;
    c.strategy.buffer_size = buffer_size_;
    c.strategy.concurrency = concurrency_;
    c.output.dir = ::testing::TempDir() + "/coordinator_test_runs";
    c.server.tokens_file = tokens_file_;
    data::SyntheticOptions so;
    so.train_size = 200;
    so.test_size = 50;
    data::TrainTest tt = data::MakeSyntheticDataset(so).value();
    train_set_ = std::make_shared<const data::Dataset>(std::move(tt.train));
    CoordinatorOptions o;
    o.config = c;
    o.clock = clock_;
    o.test_set = std::make_shared<const data::Dataset>(std::move(tt.test));
    coordinator_ = Coordinator::Create(o).value();
    server_ = CoordinatorServer::Start(coordinator_.get(), "127.0.0.1:0",
                                       absl::Seconds(1))
                  .value();
    stub_ = v1::Coordinator::NewStub(server_->InProcessChannel());
    runner_ = std::thread([this] { result_ = coordinator_->Run(); });
  }

  void TearDown() override {
    if (runner_.joinable()) {
      coordinator_->Stop();
      runner_.join();
    }
  }

  std::string Join(const std::string& id, const std::string& cls = "") {
    grpc::ClientContext ctx;
    v1::JoinRequest req;
    req.set_device_id(id);
    if (!tokens_file_.empty()) req.set_token("token-" + id);
    req.mutable_profile()->set_device_class(cls);
    v1::JoinReply reply;
    EXPECT_TRUE(stub_->Join(&ctx, req, &reply).ok());
    return reply.session_id();
  }

  v1::TaskHeader Pull(const std::string& id, const std::string& session,
                      Weights* weights) {
    return PullTrainTask(stub_.get(), id, session, weights);
  }

  grpc::Status Push(const std::string& id, const std::string& session,
                    int64_t round, const Weights& w, int64_t samples,
                    bool skip_chunk = false) {
    return PushUpdate(stub_.get(), id, session, round, w, samples, skip_chunk);
  }

  // Round `round`'s device lines in metrics.jsonl: device -> "status:reason"
  // ("accepted" alone for an accepted one). Each device once.
  std::map<std::string, std::string> DeviceOutcomes(int64_t round) {
    std::map<std::string, std::string> out;
    const std::vector<nlohmann::json> lines =
        ReadMetrics(coordinator_->run_dir()).value();
    for (const nlohmann::json& j : lines) {
      if (j["type"] != "device" || j["round"] != round) continue;
      std::string what = j["status"];
      if (j.contains("reason")) what += ":" + j["reason"].get<std::string>();
      EXPECT_TRUE(out.emplace(j["device"], what).second) << j;
    }
    return out;
  }

  // The run's latest checkpoint's weights; its round in *round if non-null.
  Weights LatestCheckpoint(int64_t* round) {
    return DecodeCheckpoint(
               ReadFile(coordinator_->run_dir() + "/checkpoints/latest.ckpt")
                   .value(),
               round)
        .value();
  }

  static Weights Shifted(const Weights& w, float by) {
    Weights out = w;
    for (float& x : out.values()) x += by;
    return out;
  }

  // `global` trained for an epoch on the synthetic training set.
  Weights Trained(const Weights& global) {
    const data::Dataset& d = *train_set_;
    auto model = ml::Model::Create(
        "mlp", {d.channels, d.height, d.width, d.num_classes}, 1);
    EXPECT_TRUE(model.ok());
    EXPECT_TRUE((*model)->SetWeights(global).ok());
    ml::TrainOptions o;
    o.learning_rate = 0.05;
    EXPECT_TRUE(ml::TrainLocal(**model, d, o).ok());
    return (*model)->GetWeights();
  }

  // tokens_file_'s text: device `id` holds the token "token-<id>".
  static std::string TokenLines(const std::vector<std::string>& ids) {
    std::string text;
    for (const std::string& id : ids) {
      const DeviceTokens::Digest d = DeviceTokens::Sha256("token-" + id);
      absl::StrAppend(&text, id, " ",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(d.data()), d.size())),
                      "\n");
    }
    return text;
  }

  const Clock* clock_ = &RealClock();
  std::string tokens_file_;  // server.tokens_file; empty: no tokens
  int rounds_ = 1;
  double fraction_ = 1;
  double over_selection_ = 1;
  Admission admission_ = Admission::kAdaptive;
  int buffer_size_ = 0, concurrency_ = 0;
  std::shared_ptr<const data::Dataset> train_set_;
  double device_timeout_s_ = 0;  // 0: the default
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  std::thread runner_;
  absl::StatusOr<nlohmann::json> result_;
};

TEST_F(CoordinatorTest, AggregatesValidUpdatesAndRejectsBadOnes) {
  // d1 and d2 are honest; d3..d6 each send one bad update, which ends their
  // part in the round (they do not get the task again).
  Start(/*min_updates=*/2, /*retries=*/0, /*devices=*/6);
  std::map<std::string, std::string> session;
  for (const char* id : {"d1", "d2", "d3", "d4", "d5", "d6"}) {
    session[id] = Join(id);
  }
  Weights global, unused;
  const int64_t round = Pull("d1", session["d1"], &global).round();
  ASSERT_EQ(round, 1);
  for (const char* id : {"d2", "d3", "d4", "d5", "d6"}) {
    Pull(id, session[id], &unused);
  }
  EXPECT_EQ(Push("stranger", "x", round, global, 10).error_code(),
            grpc::NOT_FOUND);
  EXPECT_EQ(Push("d1", session["d1"], round + 6, global, 10).error_code(),
            grpc::FAILED_PRECONDITION);
  Weights wrong(WeightsLayout::Create({{"w", {3}}}).value());
  EXPECT_EQ(Push("d3", session["d3"], round, wrong, 10).error_code(),
            grpc::INVALID_ARGUMENT);
  Weights nan = Shifted(global, 1);
  nan.values()[7] = std::nanf("");
  EXPECT_FALSE(Push("d4", session["d4"], round, nan, 10).ok());
  EXPECT_FALSE(
      Push("d5", session["d5"], round, global, 10, /*skip_chunk=*/true).ok());
  EXPECT_FALSE(Push("d6", session["d6"], round, global, 0).ok());
  // A refused device cannot try again in the same round.
  EXPECT_EQ(Push("d4", session["d4"], round, global, 10).error_code(),
            grpc::ALREADY_EXISTS);

  ASSERT_TRUE(Push("d1", session["d1"], round, Shifted(global, 1), 100).ok());
  EXPECT_EQ(
      Push("d1", session["d1"], round, Shifted(global, 1), 100).error_code(),
      grpc::ALREADY_EXISTS);
  ASSERT_TRUE(Push("d2", session["d2"], round, Shifted(global, 3), 300).ok());
  runner_.join();
  ASSERT_TRUE(result_.ok()) << result_.status();
  const nlohmann::json& summary = *result_;
  EXPECT_EQ(summary["rounds"], 1);
  const nlohmann::json& r = summary["rejections"];
  EXPECT_EQ(r["unknown_device"], 1);
  EXPECT_EQ(r["wrong_round"], 1);
  EXPECT_EQ(r["layout_mismatch"], 1);
  EXPECT_EQ(r["non_finite"], 1);
  EXPECT_EQ(r["malformed"], 1);
  EXPECT_EQ(r["no_samples"], 1);
  EXPECT_EQ(r["duplicate"], 2);
  EXPECT_EQ(summary["rejected_updates"], 8);
  // Every sampled device's outcome has its line, refused ones with why.
  const std::map<std::string, std::string> expected = {
      {"d1", "accepted"},
      {"d2", "accepted"},
      {"d3", "rejected:layout_mismatch"},
      {"d4", "rejected:non_finite"},
      {"d5", "rejected:malformed"},
      {"d6", "rejected:no_samples"}};
  EXPECT_EQ(DeviceOutcomes(round), expected);

  // FedAvg by samples: global + (1 x 100 + 3 x 300) / 400 = global + 2.5.
  int64_t ckpt_round = 0;
  Weights next = LatestCheckpoint(&ckpt_round);
  EXPECT_EQ(ckpt_round, 1);
  for (int64_t i = 0; i < global.size(); i += 97) {
    ASSERT_NEAR(next.values()[i], global.values()[i] + 2.5f, 1e-5) << i;
  }
}

TEST_F(CoordinatorTest, OverSelectionAggregatesTheFirstToFinish) {
  // Half of 4 devices aggregated, twice that sampled: all 4 train, the round
  // closes when the first 2 updates are in, without waiting for the others
  // (the round deadline is 30 s).
  fraction_ = 0.5;
  over_selection_ = 2;
  Start(/*min_updates=*/2, /*retries=*/0, /*devices=*/4);
  std::map<std::string, std::string> session;
  for (const char* id : {"d1", "d2", "d3", "d4"}) session[id] = Join(id);
  Weights global, unused;
  const int64_t round = Pull("d3", session["d3"], &global).round();
  for (const char* id : {"d1", "d2", "d4"}) {
    EXPECT_EQ(Pull(id, session[id], &unused).round(), round) << id;
  }
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Push("d3", session["d3"], round, Shifted(global, 1), 100).ok());
  ASSERT_TRUE(Push("d1", session["d1"], round, Shifted(global, 3), 300).ok());
  runner_.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ASSERT_TRUE(result_.ok()) << result_.status();
  // The slower two were not needed: not dropped, and their late updates
  // are refused.
  EXPECT_FALSE(Push("d2", session["d2"], round, global, 10).ok());
  const auto rounds = ReadMetrics(coordinator_->run_dir()).value();
  const nlohmann::json& r = rounds.back();
  EXPECT_EQ(r["sampled"], 4) << r;
  EXPECT_EQ(r["participants"], 2) << r;
  EXPECT_EQ(r["dropped"], 0) << r;
  const std::map<std::string, std::string> expected = {
      {"d1", "accepted"},
      {"d2", "unneeded:over-selection's target was reached first"},
      {"d3", "accepted"},
      {"d4", "unneeded:over-selection's target was reached first"}};
  EXPECT_EQ(DeviceOutcomes(round), expected);
  Weights next = LatestCheckpoint(nullptr);
  for (int64_t i = 0; i < global.size(); i += 97) {
    ASSERT_NEAR(next.values()[i], global.values()[i] + 2.5f, 1e-5) << i;
  }
}

TEST_F(CoordinatorTest, BufferedAggregationRebasesAndWeighsAStaleUpdate) {
  // FedBuff with a buffer of one update: d1 and d2 both start from round
  // 1's model w0. d1's update (w0 + 1) makes round 1's aggregate; d2's
  // (w0 + 2) is then one version stale: its change, 2, is weighted
  // 1/sqrt(2) and added to the current model.
  rounds_ = 2;
  buffer_size_ = 1;
  concurrency_ = 2;
  Start(/*min_updates=*/1, /*retries=*/0, /*devices=*/2);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  Weights w0, unused;
  const int64_t round = Pull("d1", s1, &w0).round();
  ASSERT_EQ(Pull("d2", s2, &unused).round(), round);
  ASSERT_TRUE(Push("d1", s1, round, Shifted(w0, 1), 100).ok());
  // d1 goes on from round 2's model, the first aggregate.
  Weights w1;
  ASSERT_EQ(Pull("d1", s1, &w1).round(), round + 1);
  for (int64_t i = 0; i < w0.size(); i += 97) {
    ASSERT_NEAR(w1.values()[i], w0.values()[i] + 1, 1e-5) << i;
  }
  EXPECT_EQ(Push("d1", s1, round, w1, 100).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "its task is of round 2 now";
  ASSERT_TRUE(Push("d2", s2, round, Shifted(w0, 2), 100).ok());
  runner_.join();
  ASSERT_TRUE(result_.ok()) << result_.status();
  Weights next = LatestCheckpoint(nullptr);
  for (int64_t i = 0; i < w0.size(); i += 97) {
    ASSERT_NEAR(next.values()[i], w0.values()[i] + 1 + 2 / std::sqrt(2.0), 1e-5)
        << i;
  }
  int stale = 0;
  const auto metrics = ReadMetrics(coordinator_->run_dir()).value();
  for (const nlohmann::json& j : metrics) {
    if (j["type"] != "device") continue;
    if (j["device"] == "d2") {
      EXPECT_EQ(j["round"], round + 1) << j;
      EXPECT_EQ(j["task_round"], round) << j;
      EXPECT_EQ(j["staleness"], 1) << j;
      ++stale;
    }
  }
  EXPECT_EQ(stale, 1);
}

TEST_F(CoordinatorTest, SilentDeviceTimesOutOnTheInjectedClock) {
  // Timeouts far beyond the test's real duration: only the manual clock
  // can make the silent device time out.
  ManualClock clock;
  clock_ = &clock;
  device_timeout_s_ = 1e5;
  Start(/*min_updates=*/1, /*retries=*/0, /*devices=*/2);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  // Both poll at once: on a clock that stands still, the first round opens
  // only once every joined device has asked for a task.
  Weights global, unused;
  auto pull2 = std::async(std::launch::async,
                          [&] { return Pull("d2", s2, &unused).round(); });
  const int64_t round = Pull("d1", s1, &global).round();
  ASSERT_EQ(pull2.get(), round);
  ASSERT_TRUE(Push("d1", s1, round, Shifted(global, 1), 10).ok());
  clock.Advance(1e5 + 1);  // d2 has not been heard from since its pull
  std::promise<void> done;
  std::thread joiner([this, &done] {
    runner_.join();
    done.set_value();
  });
  const std::future_status ended =
      done.get_future().wait_for(std::chrono::seconds(20));
  if (ended != std::future_status::ready) coordinator_->Stop();
  joiner.join();
  ASSERT_EQ(ended, std::future_status::ready)
      << "the round did not end on the manual clock";
  ASSERT_TRUE(result_.ok()) << result_.status();
  EXPECT_EQ((*result_).at("rounds"), 1);
  const nlohmann::json& devices = (*result_).at("devices");
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].at("dropouts"), 0);
  EXPECT_EQ(devices[1].at("dropouts"), 1);  // d2, sorted by id
  const std::map<std::string, std::string> expected = {
      {"d1", "accepted"}, {"d2", "dropped:timed out"}};
  EXPECT_EQ(DeviceOutcomes(round), expected);
}

TEST_F(CoordinatorTest, RoundWithTooFewUpdatesFailsAndIsRetried) {
  Start(/*min_updates=*/2, /*retries=*/1);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  Weights global, unused;
  Pull("d1", s1, &global);
  Pull("d2", s2, &unused);
  ASSERT_TRUE(Push("d1", s1, 1, Shifted(global, 1), 10).ok());
  {  // d2 gives up this attempt.
    grpc::ClientContext ctx;
    v1::HeartbeatRequest hb;
    hb.set_device_id("d2");
    hb.set_session_id(s2);
    hb.set_round(1);
    hb.set_state(v1::HeartbeatRequest::ABANDONED);
    v1::HeartbeatReply reply;
    ASSERT_TRUE(stub_->Heartbeat(&ctx, hb, &reply).ok());
    EXPECT_TRUE(reply.known());
  }
  // The retry: both devices get the round again and both report.
  Pull("d1", s1, &unused);
  Pull("d2", s2, &unused);
  ASSERT_TRUE(Push("d1", s1, 1, Shifted(global, 1), 10).ok());
  ASSERT_TRUE(Push("d2", s2, 1, Shifted(global, 1), 10).ok());
  runner_.join();
  ASSERT_TRUE(result_.ok()) << result_.status();
  EXPECT_EQ((*result_)["rounds"], 1);
  EXPECT_EQ((*result_)["failed_attempts"], 1);
  const std::string metrics =
      ReadFile(coordinator_->run_dir() + "/metrics.jsonl").value();
  EXPECT_NE(metrics.find("\"status\":\"failed\""), std::string::npos);
  EXPECT_NE(metrics.find("strategy.min_updates"), std::string::npos);
}

// A full disk fails the checkpoint and then the model export: the run must
// stop with the checkpoint's error, not the export's.
TEST_F(CoordinatorTest, UnwritableCheckpointStopsTheRunWithItsOwnError) {
  rounds_ = 2;
  Start(/*min_updates=*/1, /*retries=*/0, /*devices=*/1);
  const std::string s1 = Join("d1");
  Weights global;
  Pull("d1", s1, &global);
  // A rename cannot replace a non-empty folder, so both writes fail.
  const std::string dir = coordinator_->run_dir();
  std::filesystem::create_directories(dir + "/checkpoints/latest.ckpt/x");
  std::filesystem::create_directories(dir + "/final.state_dict.pt.partial/x");
  ASSERT_TRUE(Push("d1", s1, 1, Shifted(global, 1), 10).ok());
  runner_.join();
  ASSERT_FALSE(result_.ok());
  EXPECT_NE(result_.status().message().find("checkpoint of round 1: "),
            std::string::npos)
      << result_.status();
  EXPECT_NE(result_.status().message().find("latest.ckpt"), std::string::npos)
      << result_.status();
  // The round's own checkpoint was written before latest.ckpt failed.
  EXPECT_TRUE(std::filesystem::exists(dir + "/checkpoints/round-00001.ckpt"));
}

TEST_F(CoordinatorTest, OffloadingDeviceFallsBackToLocalTraining) {
  // d1 is told to offload at split point 1 of the 3-stage mlp; with on_failure
  // "local" its task carries the whole model. Its split stream fails (it asks
  // for a split point its task did not give it), so it sends a whole model
  // instead.
  Start(/*min_updates=*/2, /*retries=*/0, /*devices=*/2, {{"slow", 1}});
  const std::string s1 = Join("d1", "slow"), s2 = Join("d2", "fast");
  Weights global, unused;
  v1::TaskHeader task = Pull("d1", s1, &global);
  Pull("d2", s2, &unused);
  EXPECT_EQ(task.split_point(), 1);
  EXPECT_EQ(task.num_stages(), 3);
  EXPECT_TRUE(task.fallback_local());
  EXPECT_EQ(global.layout().tensors().size(), 6u);  // all of it, not the head
  {
    auto split_stub = v1::SplitTraining::NewStub(server_->InProcessChannel());
    grpc::ClientContext ctx;
    auto stream = split_stub->Train(&ctx);
    v1::SplitRequest open;
    open.mutable_open()->set_device_id("d1");
    open.mutable_open()->set_session_id(s1);
    open.mutable_open()->set_round(1);
    open.mutable_open()->set_split_point(2);
    stream->Write(open);
    stream->WritesDone();
    EXPECT_EQ(stream->Finish().error_code(), grpc::INVALID_ARGUMENT);
  }
  ASSERT_TRUE(Push("d1", s1, 1, Shifted(global, 1), 10).ok());
  ASSERT_TRUE(Push("d2", s2, 1, Shifted(global, 3), 10).ok());
  runner_.join();
  ASSERT_TRUE(result_.ok()) << result_.status();
  EXPECT_EQ((*result_)["rounds"], 1);
  const std::string metrics =
      ReadFile(coordinator_->run_dir() + "/metrics.jsonl").value();
  EXPECT_NE(metrics.find("\"fallback_local\":true"), std::string::npos)
      << metrics;
}

// Opens d1's split stream in `mode` at split point 1 and sends one batch whose
// activations have the wrong shape; returns the stream's status.
grpc::Status BadSplitStream(CoordinatorServer& server, const std::string& s1,
                            v1::SplitMode mode) {
  auto split_stub = v1::SplitTraining::NewStub(server.InProcessChannel());
  grpc::ClientContext ctx;
  auto stream = split_stub->Train(&ctx);
  v1::SplitRequest req;
  req.mutable_open()->set_device_id("d1");
  req.mutable_open()->set_session_id(s1);
  req.mutable_open()->set_round(1);
  req.mutable_open()->set_split_point(1);
  req.mutable_open()->set_mode(mode);
  stream->Write(req);
  req.Clear();
  EncodeTensor({2, 3}, {1, 2, 3, 4, 5, 6}, ActivationCodec::kFp32,
               req.mutable_batch()->mutable_activations());
  EncodeLabels({0, 1}, req.mutable_batch()->mutable_labels());
  stream->Write(req);
  stream->WritesDone();
  v1::SplitReply reply;
  while (stream->Read(&reply)) {
  }
  return stream->Finish();
}

TEST_F(CoordinatorTest, BrokenLocalLossStreamFallsBackToLocalTraining) {
  // As with an exact stream: the tail is freed, the failure counted, and
  // with on_failure "local" the device's whole model is accepted instead.
  Start(/*min_updates=*/2, /*retries=*/0, /*devices=*/2, {{"slow", 1}},
        "local_loss");
  const std::string s1 = Join("d1", "slow"), s2 = Join("d2", "fast");
  Weights global, unused;
  v1::TaskHeader task = Pull("d1", s1, &global);
  Pull("d2", s2, &unused);
  EXPECT_EQ(task.split_point(), 1);
  EXPECT_EQ(task.split_mode(), v1::LOCAL_LOSS);
  EXPECT_EQ(task.window(), 4);
  EXPECT_GT(task.aux_weights_size(), 0);
  // A stream in the other mode is refused before any tail is built.
  EXPECT_EQ(BadSplitStream(*server_, s1, v1::EXACT).error_code(),
            grpc::INVALID_ARGUMENT);
  EXPECT_EQ(BadSplitStream(*server_, s1, v1::LOCAL_LOSS).error_code(),
            grpc::INVALID_ARGUMENT);
  ASSERT_TRUE(Push("d1", s1, 1, Shifted(global, 1), 10).ok());
  ASSERT_TRUE(Push("d2", s2, 1, Shifted(global, 3), 10).ok());
  runner_.join();
  ASSERT_TRUE(result_.ok()) << result_.status();
  EXPECT_EQ((*result_)["rounds"], 1);
  EXPECT_EQ((*result_)["rejections"]["split_failed"], 1);
  const std::string metrics =
      ReadFile(coordinator_->run_dir() + "/metrics.jsonl").value();
  EXPECT_NE(metrics.find("\"fallback_local\":true"), std::string::npos)
      << metrics;
}

// A poisoned aggregate is rolled back, not aggregated and not retried: the
// global model stays what the last good round made, and the run goes on.
TEST_F(CoordinatorTest, PoisonedAggregatesAreRolledBack) {
  rounds_ = 3;
  // Admission would clip these updates (its own test: AdmissionTest); the
  // rollback check is tested alone.
  admission_ = Admission::kOff;
  Start(/*min_updates=*/2, /*retries=*/0);
  const std::string s1 = Join("d1"), s2 = Join("d2");
  Weights global, unused;
  Pull("d1", s1, &global);
  Pull("d2", s2, &unused);
  const Weights good = Trained(global);
  ASSERT_TRUE(Push("d1", s1, 1, good, 100).ok());
  ASSERT_TRUE(Push("d2", s2, 1, good, 100).ok());
  // Round 2: zeroed weights, which guess one class (accuracy falls far).
  Weights after1, after2;
  Pull("d1", s1, &after1);
  Pull("d2", s2, &unused);
  for (size_t i = 0; i < good.values().size(); ++i) {
    ASSERT_NEAR(after1.values()[i], good.values()[i], 1e-6) << i;
  }
  Weights zero = good;
  for (float& x : zero.values()) x = 0;
  ASSERT_TRUE(Push("d1", s1, 2, zero, 100).ok());
  ASSERT_TRUE(Push("d2", s2, 2, zero, 100).ok());
  // Round 3: finite weights so large that the test loss is not.
  Pull("d1", s1, &after2);
  Pull("d2", s2, &unused);
  EXPECT_EQ(after2.values(), after1.values());  // round 2 rolled back
  grpc::Status huge = Push("d1", s1, 3, Shifted(good, 1e16f), 100);
  ASSERT_TRUE(huge.ok()) << huge.error_code() << " " << huge.error_message();
  ASSERT_TRUE(Push("d2", s2, 3, Shifted(good, 1e16f), 100).ok());
  runner_.join();
  ASSERT_TRUE(result_.ok()) << result_.status();
  EXPECT_EQ((*result_)["rounds"], 3);
  EXPECT_EQ((*result_)["rollbacks"], 2);
  EXPECT_EQ((*result_)["failed_attempts"], 0);
  auto metrics = ReadMetrics(coordinator_->run_dir());
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  std::vector<nlohmann::json> rounds;
  for (const nlohmann::json& j : *metrics) {
    if (j["type"] == "round") rounds.push_back(j);
  }
  ASSERT_EQ(rounds.size(), 3u);
  EXPECT_EQ(rounds[0]["status"], "ok");
  const double accuracy = rounds[0]["accuracy"].get<double>();
  EXPECT_GT(accuracy, 0.5);  // the trained model: something to fall from
  EXPECT_EQ(rounds[1]["status"], "rolled_back");
  EXPECT_NE(rounds[1]["reason"].get<std::string>().find(
                "server.rollback_accuracy_drop"),
            std::string::npos)
      << rounds[1];
  EXPECT_LT(rounds[1]["rejected_accuracy"].get<double>(), accuracy - 0.25);
  EXPECT_EQ(rounds[2]["status"], "rolled_back");
  EXPECT_NE(rounds[2]["reason"].get<std::string>().find("not finite"),
            std::string::npos)
      << rounds[2];
  EXPECT_DOUBLE_EQ((*result_)["final_accuracy"].get<double>(), accuracy);
}

// A device revoked after its update was accepted: the round does not
// count it. It is run again without the device, and the model is the
// others' alone.
TEST_F(CoordinatorTest, ARevokedDevicesAcceptedUpdateIsLeftOutOfTheRound) {
  tokens_file_ = ::testing::TempDir() + "/coordinator_test_tokens";
  std::ofstream(tokens_file_) << TokenLines({"d1", "d2", "d3"});
  Start(/*min_updates=*/2, /*retries=*/1, /*devices=*/3);
  const std::string s1 = Join("d1"), s2 = Join("d2"), s3 = Join("d3");
  ASSERT_FALSE(s1.empty());
  Weights global, unused;
  Pull("d1", s1, &global);
  Pull("d2", s2, &unused);
  Pull("d3", s3, &unused);
  ASSERT_TRUE(Push("d1", s1, 1, Shifted(global, 0.6f), 10).ok());
  auto without_d1 = DeviceTokens::Parse(TokenLines({"d2", "d3"}), "tokens");
  ASSERT_TRUE(without_d1.ok()) << without_d1.status();
  EXPECT_EQ(coordinator_->devices()->ReplaceTokens(*std::move(without_d1)),
            std::vector<std::string>{"d1"});
  ASSERT_TRUE(Push("d2", s2, 1, Shifted(global, 0.5f), 10).ok());
  ASSERT_TRUE(Push("d3", s3, 1, Shifted(global, 0.5f), 10).ok());
  // The attempt without d1.
  Pull("d2", s2, &unused);
  Pull("d3", s3, &unused);
  ASSERT_TRUE(Push("d2", s2, 1, Shifted(global, 0.5f), 10).ok());
  ASSERT_TRUE(Push("d3", s3, 1, Shifted(global, 0.5f), 10).ok());
  runner_.join();
  ASSERT_TRUE(result_.ok()) << result_.status();
  EXPECT_EQ((*result_)["failed_attempts"], 1);
  const std::string metrics =
      ReadFile(coordinator_->run_dir() + "/metrics.jsonl").value();
  EXPECT_NE(metrics.find("device d1 was revoked after its update was "
                         "accepted"),
            std::string::npos)
      << metrics;
  const Weights model = LatestCheckpoint(nullptr);
  const Weights others = Shifted(global, 0.5f);
  ASSERT_EQ(model.size(), others.size());
  for (int64_t i = 0; i < model.size(); ++i) {
    ASSERT_NEAR(model.values()[i], others.values()[i], 1e-5) << i;
  }
}

}  // namespace
}  // namespace tandem::server
