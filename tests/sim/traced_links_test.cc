// Links that follow Mahimahi traces in the simulator: the generator is
// seeded and its files match its segments; a run's link time follows the
// trace it was given; bad trace settings are refused naming the key; the
// cost arena plays traced fleets on its virtual clock.
#include <map>

#include "core/file_io.h"
#include "core/link_trace.h"
#include "gtest/gtest.h"
#include "offload/split_policy.h"
#include "sim/cost_arena.h"
#include "sim/random_scenario.h"
#include "sim/trace_generator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

TEST(FadingTraceTest, SeededAndItsFileMatchesItsSegments) {
  FadingTraceSpec spec =
      ParseFadingTraceSpec(
          "good_mbps=30,bad_mbps=0.5,mean_good_s=2,mean_bad_s=1,seconds=30,"
          "seed=5")
          .value();
  EXPECT_EQ(FadingTraceName(spec), "fading-good30-bad0.5-on2s-off1s-30s-seed5");
  const auto segments = FadingSegments(spec);
  EXPECT_GT(segments.size(), 5u);  // about 20 stays in 30 s
  const auto again = FadingSegments(spec);
  ASSERT_EQ(again.size(), segments.size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].end_ms, segments[i].end_ms);
  }
  spec.seed = 6;
  const auto other = FadingSegments(spec);
  EXPECT_TRUE(other.size() != segments.size() ||
              other[0].end_ms != segments[0].end_ms);
  const LinkTrace exact =
      LinkTrace::FromSegments(segments, 30000, "segments").value();
  const LinkTrace file =
      LinkTrace::Parse(MahimahiText(segments, 30000), "file").value();
  EXPECT_DOUBLE_EQ(file.period_s(), 30);
  for (double t = 0; t < 60; t += 0.37) {
    EXPECT_NEAR(file.DeliveredBytes(t), exact.DeliveredBytes(t),
                2 * kMahimahiPacketBytes)
        << t;
  }
}

TEST(FadingTraceTest, BadSpecsNameTheKey) {
  for (const char* bad : {"good_mbps=-1", "seed=x", "colour=red",
                          "good_mbps=10,seconds=0", "mean_bad_s=0"}) {
    auto s = ParseFadingTraceSpec(bad);
    EXPECT_FALSE(s.ok()) << bad;
  }
  EXPECT_NE(
      ParseFadingTraceSpec("colour=red").status().message().find("colour"),
      std::string::npos);
}

// One device of mlp, no latency, both directions on `trace_text`.
Config OneTracedDevice(const std::string& name, const std::string& trace_text) {
  Config c = SmallRun("mlp", 1, 2, 200, "traced_runs_" + name);
  c.fleet.classes[0].device.latency_ms = 0;
  const std::string path = ::testing::TempDir() + "/" + name + ".trace";
  EXPECT_TRUE(WriteFileAtomically(path, trace_text).ok());
  c.fleet.link_traces.push_back({"dev-00", path, path});
  return c;
}

std::string EveryNthMillisecond(int n, int period_ms) {
  std::string text;
  for (int ms = n; ms <= period_ms; ms += n) text += std::to_string(ms) + "\n";
  return text;
}

std::map<int, nlohmann::json> DeviceLines(const Config& c) {
  SimOptions o;
  o.config = c;
  auto r = RunSimulation(o);
  EXPECT_TRUE(r.ok()) << r.status();
  std::map<int, nlohmann::json> out;
  if (!r.ok()) return out;
  for (const nlohmann::json& j : Records(r->run_dir, "device")) {
    out[j["round"].get<int>()] = j;
  }
  return out;
}

TEST(TracedLinkRunTest, LinkTimeIsTheBytesOverTheTrace) {
  // A packet every millisecond: 1.5 MB/s; every second millisecond: half.
  const auto full =
      DeviceLines(OneTracedDevice("every1", EveryNthMillisecond(1, 1000)));
  const auto half =
      DeviceLines(OneTracedDevice("every2", EveryNthMillisecond(2, 1000)));
  ASSERT_EQ(full.size(), 2u);
  ASSERT_EQ(half.size(), 2u);
  for (int round : {1, 2}) {
    const nlohmann::json& f = full.at(round);
    const double bytes =
        f["bytes_down"].get<double>() + f["bytes_up"].get<double>();
    // Within a packet's worth per transfer of the fluid's bytes / rate.
    EXPECT_NEAR(f["link_s"].get<double>(), bytes / 1.5e6, 2e-3) << f;
    EXPECT_NEAR(half.at(round)["link_s"].get<double>(),
                2 * f["link_s"].get<double>(), 4e-3);
  }
}

TEST(TracedLinkRunTest, BadTraceSettingsNameTheKey) {
  Config c = OneTracedDevice("bad", "1\n2\n");
  c.fleet.link_traces[0].device = "dev-09";
  SimOptions o;
  o.config = c;
  auto r = RunSimulation(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("link_traces[0].device"),
            std::string::npos)
      << r.status();
  c = OneTracedDevice("bad", "1\n2\n");
  c.fleet.classes[0].uplink_trace = "/nonexistent/up.trace";
  o.config = c;
  r = RunSimulation(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("classes[0].uplink_trace"),
            std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("/nonexistent/up.trace"),
            std::string::npos);
  c = OneTracedDevice("bad", "1\n2\n");
  c.fleet.bandwidth_events.push_back({"dev-00", 1, 2, 5});
  o.config = c;
  r = RunSimulation(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("follows a trace"), std::string::npos)
      << r.status();
}

TEST(TracedArenaTest, TheBoundAtTheSameStartIsNoSlowerThanGreedy) {
  const auto profiles =
      ZooProfiles(std::string(TANDEM_SOURCE_DIR) + "/configs/profiles").value();
  std::mt19937_64 rng(99);
  ScenarioOptions so;
  so.rounds = 4;
  so.max_devices = 6;
  so.links = LinkProcess::kFadingTrace;
  for (int k = 0; k < 4; ++k) {
    CostScenario s = DrawScenario(rng, profiles, so);
    ASSERT_TRUE(s.fleet[0].estimate.traced());
    s.config.offload.policy = "greedy";
    auto policy =
        offload::CreateSplitPolicy(s.config.offload, s.context).value();
    for (int r = 1; r <= so.rounds; ++r) {
      const double start = s.clock_s;
      const double t = PlayRound(s, r, *policy).slowest_s;
      EXPECT_NEAR(s.clock_s, start + t, 1e-9 * s.clock_s);
      EXPECT_LE(BoundRound(s, r, start), t * (1 + 1e-9)) << k << " " << r;
    }
  }
}

}  // namespace
}  // namespace tandem::sim
