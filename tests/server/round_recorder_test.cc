// RoundRecorder: typed records become the documented metrics lines, virtual
// time adds up only over aggregated rounds, and the target is reached once.
#include "server/round_recorder.h"

#include <fstream>
#include <vector>

#include "gtest/gtest.h"

namespace tandem::server {
namespace {

std::vector<nlohmann::json> ReadLines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

DeviceRoundRecord Accepted(const std::string& id, double time_s) {
  DeviceRoundRecord r;
  r.round = 1;
  r.device = id;
  r.device_class = "pi";
  r.samples = 40;
  r.split = 2;
  r.mode = SplitMode::kLocalLoss;
  r.has_tail = true;
  r.tail_s = 0.5;
  r.tail_batches = 4;
  r.measurements.set_round_time_s(time_s);
  r.measurements.set_compute_s(1.5);
  r.measurements.set_batches(4);
  r.measurements.set_bytes_up(100);
  r.measurements.set_bytes_down(20);
  return r;
}

TEST(RoundRecordsTest, DeviceLineHasEveryField) {
  const nlohmann::json j = ToJson(Accepted("a", 3));
  EXPECT_EQ(j.at("type"), "device");
  EXPECT_EQ(j.at("status"), "accepted");
  EXPECT_EQ(j.at("mode"), "local_loss");
  EXPECT_EQ(j.at("split"), 2);
  EXPECT_EQ(j.at("samples"), 40);
  EXPECT_EQ(j.at("tail_s"), 0.5);
  EXPECT_EQ(j.at("round_time_s"), 3.0);
  EXPECT_FALSE(j.contains("fallback_local"));
  DeviceRoundRecord dropped;
  dropped.status = DeviceRoundRecord::Status::kDropped;
  dropped.reason = "battery";
  const nlohmann::json d = ToJson(dropped);
  EXPECT_EQ(d.at("status"), "dropped");
  EXPECT_EQ(d.at("reason"), "battery");
  EXPECT_FALSE(d.contains("round_time_s"));
  const std::pair<DeviceRoundRecord::Status, const char*> others[] = {
      {DeviceRoundRecord::Status::kRejected, "rejected"},
      {DeviceRoundRecord::Status::kUnneeded, "unneeded"}};
  for (const auto& [status, name] : others) {
    dropped.status = status;
    const nlohmann::json o = ToJson(dropped);
    EXPECT_EQ(o.at("status"), name);
    EXPECT_EQ(o.at("reason"), "battery");
    EXPECT_FALSE(o.contains("samples"));
  }
}

TEST(RoundRecordsTest, OutcomeCarriesWhatThePolicyLearnsFrom) {
  const offload::DeviceOutcome o = OutcomeOf(Accepted("a", 3));
  EXPECT_EQ(o.id, "a");
  EXPECT_EQ(o.split, 2);
  EXPECT_EQ(o.mode, SplitMode::kLocalLoss);
  EXPECT_EQ(o.compute_s, 1.5);
  EXPECT_EQ(o.tail_s, 0.5);
  EXPECT_EQ(o.round_time_s, 3);
  EXPECT_EQ(o.samples, 40);
  EXPECT_EQ(o.batches, 4);
  EXPECT_EQ(o.bytes, 120);
}

TEST(RoundRecorderTest, TalliesAggregatedRoundsOnly) {
  Config config;
  config.server.target_accuracy = 0.5;
  auto run = RunWriter::Create(::testing::TempDir() + "/recorder_test", "r",
                               nlohmann::json::object())
                 .value();
  std::vector<nlohmann::json> seen;
  RoundRecorder recorder(config, run.get(), [&seen](const nlohmann::json& l) {
    seen.push_back(l);
  });
  RoundRecord failed;
  failed.round = 1;
  failed.opened = true;
  failed.round_time_s = 100;  // not aggregated: no virtual time
  failed.reason = "1 of 2 updates arrived";
  ASSERT_TRUE(recorder.Record({Accepted("a", 100)}, failed).ok());
  RoundRecord ok;
  ok.round = 1;
  ok.opened = true;
  ok.aggregated = true;
  ok.round_time_s = 4;
  ok.evaluated = true;
  ok.accuracy = 0.6;
  ASSERT_TRUE(recorder.Record({Accepted("a", 4), Accepted("b", 2)}, ok).ok());
  ok.round = 2;
  ok.accuracy = 0.7;
  ASSERT_TRUE(recorder.Record({}, ok).ok());

  const RunTally& t = recorder.tally();
  EXPECT_EQ(t.rounds_done, 2);
  EXPECT_EQ(t.failed_attempts, 1);
  EXPECT_DOUBLE_EQ(t.virtual_time_s, 8);
  EXPECT_DOUBLE_EQ(t.best_accuracy, 0.7);
  EXPECT_TRUE(t.target_reached);
  EXPECT_EQ(t.target_round, 1);  // the first round that reached it
  EXPECT_DOUBLE_EQ(t.target_virtual_s, 4);

  const auto lines = ReadLines(run->dir() + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 6u);  // 1 + 1, 2 + 1, 0 + 1
  EXPECT_EQ(lines[1].at("status"), "failed");
  EXPECT_EQ(lines[1].at("virtual_time_s"), 0.0);
  EXPECT_EQ(lines[4].at("virtual_time_s"), 4.0);
  EXPECT_EQ(lines[5].at("virtual_time_s"), 8.0);
  ASSERT_EQ(seen.size(), 3u);  // the round lines only
  EXPECT_EQ(seen[2], lines[5]);
}

}  // namespace
}  // namespace tandem::server
