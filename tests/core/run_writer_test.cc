#include "core/run_writer.h"

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh, empty folder under the test temp dir (emptied again by the next
// run of the same test, so runs do not pile up).
std::string FreshDir(const std::string& name) {
  const std::string dir =
      absl::StrCat(testing::TempDir(), "/run_writer_test_", name);
  fs::remove_all(dir);
  return dir;
}

std::vector<std::string> FilesBelow(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  return names;
}

// Small weights with a parameter and a buffer and awkward float values.
Weights TestWeights() {
  Weights w(
      WeightsLayout::Create({{"conv.weight", {2, 3}},
                             {"bn.running_mean", {3}, TensorKind::kBuffer},
                             {"fc.bias", {}}})
          .value());
  const float values[] = {1.5f,
                          -0.0f,
                          std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::max(),
                          3.0e-20f,
                          123456.789f,
                          -7.25f,
                          0.1f,
                          std::numeric_limits<float>::quiet_NaN()};
  static_assert(sizeof(values) / sizeof(float) == 10, "");
  std::memcpy(w.data(), values, sizeof(values));
  return w;
}

TEST(RunWriterTest, CreateWritesConfig) {
  const std::string base = FreshDir("create");
  const nlohmann::json config = {
      {"seed", 3}, {"server", {{"rounds", 2}}}, {"name", "qs"}};
  absl::StatusOr<std::unique_ptr<RunWriter>> run =
      RunWriter::Create(base, "quickstart", config);
  ASSERT_TRUE(run.ok()) << run.status();
  const std::string dir = (*run)->dir();
  EXPECT_EQ(fs::path(dir).parent_path(), fs::path(base));
  EXPECT_THAT(fs::path(dir).filename().string(), HasSubstr("-quickstart"));
  EXPECT_TRUE(fs::is_directory(dir + "/checkpoints"));

  absl::StatusOr<std::string> text = ReadFile(dir + "/config.json");
  ASSERT_TRUE(text.ok()) << text.status();
  nlohmann::json back = nlohmann::json::parse(*text, nullptr, false);
  ASSERT_FALSE(back.is_discarded()) << *text;
  EXPECT_EQ(back, config);
}

TEST(RunWriterTest, AppendMetricsWritesOneObjectPerLine) {
  const std::string base = FreshDir("metrics");
  auto run = RunWriter::Create(base, "m", nlohmann::json::object()).value();
  const std::vector<nlohmann::json> records = {
      {{"type", "round"}, {"round", 1}, {"loss", 2.25}},
      {{"type", "round"}, {"round", 2}, {"note", "line\nbreak"}},
      {{"type", "eval"}, {"accuracy", 0.875}, {"per_class", {1, 2, 3}}},
  };
  for (const nlohmann::json& r : records) {
    ASSERT_TRUE(run->AppendMetrics(r).ok());
  }
  // Flushed per record: readable while the writer is still open.
  std::ifstream in(run->dir() + "/metrics.jsonl");
  std::string line;
  std::vector<nlohmann::json> back;
  while (std::getline(in, line)) {
    back.push_back(nlohmann::json::parse(line, nullptr, false));
    ASSERT_FALSE(back.back().is_discarded()) << line;
  }
  EXPECT_EQ(back, records);
}

TEST(RunWriterTest, WriteSummaryReplacesWithoutTempFiles) {
  const std::string base = FreshDir("summary");
  auto run = RunWriter::Create(base, "s", nlohmann::json::object()).value();
  ASSERT_TRUE(
      run->WriteSummary({{"rounds", 1}, {"long", std::string(5000, 'x')}})
          .ok());
  ASSERT_TRUE(run->WriteSummary({{"rounds", 2}}).ok());
  absl::StatusOr<std::string> text = ReadFile(run->dir() + "/summary.json");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(nlohmann::json::parse(*text), (nlohmann::json{{"rounds", 2}}));
  for (const std::string& name : FilesBelow(run->dir())) {
    EXPECT_THAT(name, ::testing::Not(HasSubstr(".tmp."))) << name;
  }
}

// Threads replacing the same file must each leave a whole file: the temp
// files of concurrent writers must not collide.
TEST(RunWriterTest, ConcurrentWriteSummaryNeverTearsTheFile) {
  const std::string base = FreshDir("concurrent");
  auto run = RunWriter::Create(base, "c", nlohmann::json::object()).value();
  constexpr int kThreads = 4;
  constexpr int kWrites = 50;
  std::vector<nlohmann::json> payloads;
  for (int t = 0; t < kThreads; ++t) {
    payloads.push_back(
        {{"writer", t}, {"pad", std::string(200000 + 1000 * t, 'a' + t)}});
  }
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        if (!run->WriteSummary(payloads[t]).ok()) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], 0) << "writer " << t;
  const nlohmann::json back = nlohmann::json::parse(
      ReadFile(run->dir() + "/summary.json").value(), nullptr, false);
  ASSERT_FALSE(back.is_discarded());
  EXPECT_EQ(back, payloads.at(back["writer"].get<int>()));
  for (const std::string& name : FilesBelow(run->dir())) {
    EXPECT_THAT(name, ::testing::Not(HasSubstr(".tmp."))) << name;
  }
}

TEST(RunWriterTest, WriteCheckpointWritesRoundAndLatest) {
  const std::string base = FreshDir("ckpt");
  auto run = RunWriter::Create(base, "k", nlohmann::json::object()).value();
  Weights w = TestWeights();
  ASSERT_TRUE(run->WriteCheckpoint(7, w).ok());
  w.values()[0] = 99.0f;
  ASSERT_TRUE(run->WriteCheckpoint(12, w).ok());

  const std::string ckpt = run->dir() + "/checkpoints/";
  EXPECT_TRUE(fs::exists(ckpt + "round-00007.ckpt"));
  EXPECT_TRUE(fs::exists(ckpt + "round-00012.ckpt"));
  EXPECT_EQ(ReadFile(ckpt + "latest.ckpt").value(),
            ReadFile(ckpt + "round-00012.ckpt").value());
  EXPECT_EQ(FilesBelow(ckpt).size(), 3u);  // no temp files left

  int64_t round = -1;
  absl::StatusOr<Weights> old =
      DecodeCheckpoint(ReadFile(ckpt + "round-00007.ckpt").value(), &round);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(round, 7);
  EXPECT_EQ(old->values()[0], 1.5f);
  absl::StatusOr<Weights> latest =
      DecodeCheckpoint(ReadFile(ckpt + "latest.ckpt").value(), &round);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(round, 12);
  EXPECT_EQ(latest->values()[0], 99.0f);
}

TEST(RunWriterCheckpointTest, RoundTripsBitForBit) {
  const Weights w = TestWeights();
  const int64_t kRound = 123456789012;
  const std::string bytes = EncodeCheckpoint(kRound, w);
  EXPECT_EQ(bytes.substr(0, 8), "TNDMCKPT");
  int64_t round = 0;
  absl::StatusOr<Weights> back = DecodeCheckpoint(bytes, &round);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(round, kRound);
  EXPECT_EQ(back->layout(), w.layout());
  EXPECT_EQ(back->layout().tensors()[1].kind, TensorKind::kBuffer);
  EXPECT_EQ(back->layout().tensors()[0].kind, TensorKind::kParameter);
  ASSERT_EQ(back->size(), w.size());
  EXPECT_EQ(std::memcmp(back->data(), w.data(), w.size() * sizeof(float)), 0);
  EXPECT_TRUE(std::isnan(back->values()[9]));
  EXPECT_TRUE(std::signbit(back->values()[1]));
  // A null round pointer is allowed.
  EXPECT_TRUE(DecodeCheckpoint(bytes, nullptr).ok());
}

TEST(RunWriterCheckpointTest, StateRoundTripsAndMustFitTheFile) {
  RunState state;
  state.values = {{"tally", {{"virtual_time_s", 12.5}}}};
  state.arrays["strategy.m"] = {1, -2, 3.5f};
  state.arrays["empty"] = {};
  const std::string bytes = EncodeCheckpoint(4, TestWeights(), state);
  RunState back;
  int64_t round = 0;
  absl::StatusOr<Weights> w = DecodeCheckpoint(bytes, &round, &back);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(round, 4);
  EXPECT_EQ(back.values, state.values);
  EXPECT_EQ(back.arrays, state.arrays);
  // Every truncation is refused, not read as a shorter array.
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeCheckpoint(bytes.substr(0, n), nullptr, &back).ok());
  }
}

// A checkpoint file of `version` with `header` and one float, its CRC right.
std::string Forged(uint32_t version, const nlohmann::json& header,
                   float value) {
  const std::string text = header.dump();
  auto u32 = [](uint32_t v) {
    return std::string(reinterpret_cast<const char*>(&v), 4);
  };
  std::string out = "TNDMCKPT" + u32(version) + u32(text.size()) + text +
                    std::string(reinterpret_cast<const char*>(&value), 4);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(out.data()),
                          static_cast<uInt>(out.size()));
  return out + u32(static_cast<uint32_t>(crc));
}

// A version 1 file, as written before checkpoints held state.
std::string VersionOneCheckpoint(int64_t round, float value) {
  return Forged(
      1, {{"round", round}, {"layout", {{{"name", "w"}, {"shape", {1}}}}}},
      value);
}

TEST(RunWriterCheckpointTest, ForgedHeadersAreRefusedNotThrown) {
  const char* const bad[] = {
      R"({"round": "7", "layout": [{"name": "w", "shape": [1]}]})",
      R"({"layout": [{"name": "w", "shape": [1]}]})",
      R"({"round": 1, "layout": [{"name": 5, "shape": [1]}]})",
      R"({"round": 1, "layout": [{"name": "w", "shape": ["1"]}]})",
      R"({"round": 1, "layout": [{"name": "w", "shape": 1}]})",
      R"({"round": 1, "layout": [{"name": "w", "shape": [1], "buffer": 2}]})",
      R"({"round": 1, "layout": [{"name": "w", "shape": [1]}],
          "arrays": [["m", -1]]})",
      R"({"round": 1, "layout": [{"name": "w", "shape": [1]}],
          "arrays": "m"})",
      R"({"round": 1, "layout": [{"name": "w", "shape": [1]}],
          "arrays": [["m", 1]]})",
  };
  for (const char* header : bad) {
    RunState state;
    absl::StatusOr<Weights> w = DecodeCheckpoint(
        Forged(2, nlohmann::json::parse(header), 1.0f), nullptr, &state);
    EXPECT_FALSE(w.ok()) << header;
  }
  // A state that is not an object is no state.
  const char* const odd_state =
      R"({"round": 1, "state": 5, "layout": [{"name": "w", "shape": [1]}]})";
  RunState state;
  EXPECT_TRUE(DecodeCheckpoint(Forged(2, nlohmann::json::parse(odd_state), 1),
                               nullptr, &state)
                  .ok());
  EXPECT_TRUE(state.values.empty());
}

TEST(RunWriterCheckpointTest, VersionOneFilesLoadWithAnEmptyState) {
  RunState state;
  state.values["stale"] = true;
  int64_t round = 0;
  absl::StatusOr<Weights> w =
      DecodeCheckpoint(VersionOneCheckpoint(7, 2.5f), &round, &state);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(round, 7);
  EXPECT_EQ(w->values()[0], 2.5f);
  EXPECT_TRUE(state.values.empty());
  EXPECT_TRUE(state.arrays.empty());
}

TEST(RunWriterCheckpointTest, EmptyWeightsRoundTrip) {
  const Weights w(WeightsLayout::Create({}).value());
  int64_t round = -1;
  absl::StatusOr<Weights> back =
      DecodeCheckpoint(EncodeCheckpoint(0, w), &round);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(round, 0);
  EXPECT_EQ(back->size(), 0);
}

TEST(RunWriterCheckpointTest, AnyFlippedByteIsDetected) {
  const std::string bytes = EncodeCheckpoint(3, TestWeights());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      absl::StatusOr<Weights> w = DecodeCheckpoint(bad, nullptr);
      ASSERT_FALSE(w.ok()) << "byte " << i;
      // The magic is checked before the CRC: a file that does not start
      // with it is not a checkpoint at all.
      const absl::StatusCode expected = i < 8
                                            ? absl::StatusCode::kInvalidArgument
                                            : absl::StatusCode::kDataLoss;
      EXPECT_EQ(w.status().code(), expected)
          << "byte " << i << ": " << w.status();
    }
  }
}

TEST(RunWriterCheckpointTest, TruncatedFileFailsCleanly) {
  const std::string bytes = EncodeCheckpoint(3, TestWeights());
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<Weights> w = DecodeCheckpoint(bytes.substr(0, n), nullptr);
    EXPECT_FALSE(w.ok()) << "length " << n;
  }
  // Extra bytes at the end are rejected too.
  EXPECT_FALSE(DecodeCheckpoint(bytes + "x", nullptr).ok());
}

TEST(RunWriterTest, SameSecondGivesDifferentFolders) {
  const std::string base = FreshDir("same_second");
  std::set<std::string> dirs;
  std::vector<std::unique_ptr<RunWriter>> runs;
  // Four runs take well under a second, so at most two distinct time
  // stamps: at least two runs share a second and need the numeric suffix.
  for (int i = 0; i < 4; ++i) {
    auto run = RunWriter::Create(base, "twin", {{"i", i}});
    ASSERT_TRUE(run.ok()) << run.status();
    dirs.insert((*run)->dir());
    runs.push_back(*std::move(run));
  }
  EXPECT_EQ(dirs.size(), 4u);
  bool suffixed = false;
  for (const std::string& d : dirs) {
    suffixed |= absl::EndsWith(d, "-twin-1");
  }
  EXPECT_TRUE(suffixed);
  // Each keeps its own config.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(nlohmann::json::parse(
                  ReadFile(runs[i]->dir() + "/config.json").value())["i"],
              i);
  }
}

TEST(RunWriterTest, ReadFileOfMissingPathIsNotFound) {
  absl::StatusOr<std::string> s =
      ReadFile(testing::TempDir() + "/run_writer_test_missing");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tandem
