#include "offload/cost_model.h"

#include <cmath>
#include <string>

#include "core/link_trace.h"
#include "gtest/gtest.h"
#include "offload/split_policy.h"

namespace tandem::offload {
namespace {

// Three stages; numbers chosen so every cost can be worked out by hand.
ml::ModelProfile HandProfile() {
  ml::ModelProfile p;
  p.model = "hand";
  p.input_elements = 50;
  p.stages = {
      {"a", 1e-3, 100, 400}, {"b", 4e-3, 10, 4000}, {"c", 1e-3, 10, 400}};
  return p;
}

RoundShape HandRound() {
  RoundShape r;
  r.examples = 100;
  r.batch_size = 10;
  r.activation_bytes = 4;
  return r;
}

DeviceEstimate SlowDevice() {
  DeviceEstimate d;
  d.slowdown = 10;
  d.bandwidth_mbps = 8;  // 1 MB/s
  d.latency_ms = 0;
  return d;
}

TEST(CostModelTest, HandComputedTimesAndMemory) {
  auto costs = EvaluateSplits(HandProfile(), SlowDevice(), HandRound());
  ASSERT_EQ(costs.size(), 3u);
  // Split 1: device 10 x 100 x 1 ms = 1 s; tail 100 x 5 ms = 0.5 s; head
  // weights 400 B each way; 10 batches of 4,000 B activations (+80 B labels)
  // up and 4,000 B gradients down at 1 MB/s.
  EXPECT_NEAR(costs[0].device_compute_s, 1.0, 1e-12);
  EXPECT_NEAR(costs[0].tail_s, 0.5, 1e-12);
  EXPECT_NEAR(costs[0].up_s, 0.0004 + 10 * 0.00408, 1e-12);
  EXPECT_NEAR(costs[0].down_s, 0.0004 + 10 * 0.004, 1e-12);
  EXPECT_NEAR(costs[0].time_s, 1.5816, 1e-9);
  EXPECT_NEAR(costs[1].time_s, 5 + 0.1 + 2 * 0.0044 + 0.0048 + 0.004, 1e-9);
  EXPECT_NEAR(costs[2].time_s, 6 + 2 * 0.0048, 1e-9);  // no offload
  EXPECT_EQ(costs[2].tail_s, 0);
  // Memory: 3 x head params + batch x 4 B x (input + 2 x head activations).
  EXPECT_EQ(costs[0].memory_bytes, 1200 + 40 * (50 + 200));
  EXPECT_EQ(costs[1].memory_bytes, 13200 + 40 * (50 + 220));
  EXPECT_EQ(costs[2].memory_bytes, 14400 + 40 * (50 + 240));
  EXPECT_EQ(ChooseSplit(costs, 1.0), 1);
}

// Local loss on the hand profile, with an auxiliary classifier after stage a
// of 1 ms per example and 400 B: 10 batches of 10, window 4, no latency.
ml::ModelProfile HandProfileWithAux() {
  ml::ModelProfile p = HandProfile();
  p.stages[0].aux_seconds_per_example = 1e-3;
  p.stages[0].aux_param_bytes = 400;
  return p;
}

TEST(CostModelTest, LocalLossComputeBoundPipeline) {
  RoundShape r = HandRound();
  r.mode = SplitMode::kLocalLoss;
  DeviceEstimate d = SlowDevice();
  d.power_compute_w = 2;
  d.power_transmit_w = 1;
  d.power_receive_w = 0.5;
  const SplitCost c = EvaluateSplits(HandProfileWithAux(), d, r)[0];
  EXPECT_EQ(c.mode, SplitMode::kLocalLoss);
  // Per batch: compute 10 x 10 x (1 + 1) ms = 0.2 s; upload 4,080 B at
  // 1 MB/s = 4.08 ms, hidden behind the next batch's compute; tail 10 x 5 ms
  // = 50 ms, done before the next arrival. Head and classifier weights,
  // 800 B, down before and up after: 0.8 ms each.
  EXPECT_NEAR(c.device_compute_s, 2.0, 1e-12);
  EXPECT_NEAR(c.tail_s, 0.5, 1e-12);
  EXPECT_NEAR(c.up_s, 10 * 0.00408 + 0.0008, 1e-12);
  EXPECT_NEAR(c.down_s, 0.0008, 1e-12);
  EXPECT_NEAR(c.time_s, 0.0008 + (2.0 + 0.00408 + 0.05) + 0.0008, 1e-12);
  EXPECT_NEAR(c.energy_j, 2 * 2.0 + 1 * c.up_s + 0.5 * 0.0008, 1e-12);
  // Memory: exact's, plus 4 queued batches of 10 x 100 floats.
  EXPECT_EQ(c.memory_bytes, 1200 + 16000 + 40 * (50 + 200));
  // Exact mode on the same device waits for every gradient.
  r.mode = SplitMode::kExact;
  EXPECT_NEAR(EvaluateSplits(HandProfileWithAux(), d, r)[0].time_s, 1.5816,
              1e-9);
}

TEST(CostModelTest, LocalLossUploadAndTailBoundPipeline) {
  RoundShape r = HandRound();
  r.mode = SplitMode::kLocalLoss;
  DeviceEstimate d = SlowDevice();
  d.slowdown = 1;
  d.bandwidth_mbps = 0.8;  // 100 kB/s
  const SplitCost c = EvaluateSplits(HandProfileWithAux(), d, r)[0];
  // Compute 20 ms, upload 40.8 ms, tail 50 ms per batch: the first batch
  // arrives at 60.8 ms and the tail then runs back to back for 10 batches.
  EXPECT_NEAR(c.time_s, 0.008 + (0.0608 + 10 * 0.05) + 0.008, 1e-12);
  // No offload, for the policies to compare: 100 x 6 ms + the model.
  EXPECT_NEAR(EvaluateSplits(HandProfileWithAux(), d, r)[2].time_s,
              0.6 + 2 * 0.048, 1e-12);
}

TEST(CostModelTest, PlacementsCoverBothModes) {
  RoundShape r = HandRound();
  const auto costs =
      EvaluatePlacements(HandProfileWithAux(), SlowDevice(), r,
                         {SplitMode::kExact, SplitMode::kLocalLoss});
  // Exact split points 1, 2, then local-loss split points 1, 2, then no
  // offload once.
  ASSERT_EQ(costs.size(), 5u);
  EXPECT_EQ(costs[2].mode, SplitMode::kLocalLoss);
  EXPECT_EQ(costs[2].split, 1);
  EXPECT_EQ(costs[4].split, 3);
  // At 8 Mbit/s the fastest is exact split point 1 (1.58 s) against local
  // loss split point 1 (2.06 s, its classifier doubles the head's compute).
  const size_t best = ChoosePlacement(costs, 1.0);
  EXPECT_EQ(costs[best].split, 1);
  EXPECT_EQ(costs[best].mode, SplitMode::kExact);
}

TEST(CostModelTest, BreakEvenLinkThroughput) {
  // Split 1 moves 81,600 B (0.6528 Mbit) in 1.5 s of compute; no offload
  // moves 9,600 B (0.0768 Mbit) in 6 s: equal at 0.576 / 4.5 = 0.128 Mbit/s.
  const double b = BreakEvenMbps(HandProfile(), SlowDevice(), HandRound(), 1);
  EXPECT_NEAR(b, 0.128, 1e-9);
  DeviceEstimate at = SlowDevice();
  at.bandwidth_mbps = b;
  auto costs = EvaluateSplits(HandProfile(), at, HandRound());
  EXPECT_NEAR(costs[0].time_s, costs[2].time_s, 1e-9);
  at.bandwidth_mbps = 0.9 * b;  // below it, local training beats split 1
  costs = EvaluateSplits(HandProfile(), at, HandRound());
  EXPECT_GT(costs[0].time_s, costs[2].time_s);
  // No offload needs no link; a fast device never gains from offloading.
  EXPECT_EQ(BreakEvenMbps(HandProfile(), SlowDevice(), HandRound(), 3), 0);
  DeviceEstimate fast = SlowDevice();
  fast.slowdown = 0.1;
  EXPECT_TRUE(std::isinf(BreakEvenMbps(HandProfile(), fast, HandRound(), 1)));
}

TEST(CostModelTest, EnergyWeightChangesTheChoice) {
  DeviceEstimate d = SlowDevice();
  d.power_compute_w = 0.01;  // cheap to compute, dear to transmit
  d.power_transmit_w = 100;
  auto costs = EvaluateSplits(HandProfile(), d, HandRound());
  EXPECT_EQ(ChooseSplit(costs, 1.0), 1);  // fastest
  EXPECT_EQ(ChooseSplit(costs, 0.0), 3);  // least energy: send nothing
  EXPECT_NEAR(costs[2].energy_j, 6 * 0.01 + 100 * 0.0048, 1e-9);
}

TEST(CostModelTest, MemoryBudgetExcludesSplitsThatDoNotFit) {
  DeviceEstimate fast;
  fast.slowdown = 0.1;
  fast.bandwidth_mbps = 1000;
  EXPECT_EQ(ChooseSplit(EvaluateSplits(HandProfile(), fast, HandRound()), 1),
            3);
  fast.memory_budget_bytes = 20000;  // only split 1 (11,200 B) fits
  auto costs = EvaluateSplits(HandProfile(), fast, HandRound());
  EXPECT_TRUE(costs[0].fits);
  EXPECT_FALSE(costs[1].fits);
  EXPECT_EQ(ChooseSplit(costs, 1.0), 1);
  fast.memory_budget_bytes = 1000;  // nothing fits: the smallest
  EXPECT_EQ(ChooseSplit(EvaluateSplits(HandProfile(), fast, HandRound()), 1),
            1);
}

// A device the policy knows nothing about but its link's latency.
DeviceView UnknownDevice(const std::string& id, const std::string& device_class,
                         double latency_ms = 0) {
  DeviceView view;
  view.id = id;
  view.device_class = device_class;
  view.device.slowdown = 0;
  view.device.latency_ms = latency_ms;
  return view;
}

// A greedy policy over the hand profile, batches of 10.
absl::StatusOr<std::unique_ptr<SplitPolicy>> HandGreedy() {
  OffloadConfig config;
  config.policy = "greedy";
  PolicyContext context;
  context.num_stages = 3;
  context.profile = HandProfile();
  context.batch_size = 10;
  return CreateSplitPolicy(config, context);
}

TEST(GreedyPolicyTest, MeasuresFirstThenOffloadsOnlyTheSlowDevice) {
  auto policy = HandGreedy();
  ASSERT_TRUE(policy.ok()) << policy.status();
  const DeviceView slow = UnknownDevice("slow", "pi");
  const DeviceView fast = UnknownDevice("fast", "jetson");
  EXPECT_EQ((*policy)->Choose(slow).split, 3);  // nothing measured yet
  // Round 1 without offload: slow took 6 s of compute (10x one core), 9,600 B
  // in 9.6 ms (8 Mbit/s); fast 0.06 s (0.1x) on the same link.
  DeviceOutcome a{"slow", 3, 6.0, 0, 0.0096, 6.0096, 0, 100, 10, 9600};
  DeviceOutcome b{"fast", 3, 0.06, 0, 0.0096, 0.0696, 0, 100, 10, 9600};
  (*policy)->Observe(1, {a, b});
  EXPECT_EQ((*policy)->Choose(slow).split, 1);
  EXPECT_EQ((*policy)->Choose(fast).split, 3);
}

// Near a tie (slowdown 1.36: split 1 beats no offload by 8 ms, while its 22
// transfers carry 110 ms of latency), greedy must read the link and the
// coordinator's load right: latency not counted twice, its own tail not
// counted as another device's. Fed the outcomes the cost model predicts.
class GreedyNearATie : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = *HandGreedy();
    truth_.slowdown = 1.36;
    truth_.latency_ms = 5;
  }

  // What the device reports after training at `split` over a link of
  // `mbps` (8 = the truth's).
  DeviceOutcome Outcome(int split, double mbps) {
    DeviceEstimate d = truth_;
    d.bandwidth_mbps = mbps;
    const SplitCost c =
        EvaluateSplits(HandProfile(), d, HandRound())[split - 1];
    const int transfers = split < 3 ? 22 : 2;
    const double link = c.up_s + c.down_s;
    const double bytes = (link - transfers * 0.005) * mbps * 1e6 / 8;
    return DeviceOutcome{
        "pi", split, c.device_compute_s,         c.tail_s, link, c.time_s, 0,
        100,  10,    static_cast<int64_t>(bytes)};
  }

  std::unique_ptr<SplitPolicy> policy_;
  DeviceEstimate truth_ = SlowDevice();
  DeviceView pi_ = UnknownDevice("pi", "pi3", /*latency_ms=*/5);
};

TEST_F(GreedyNearATie, StaysAtTheBestSplit) {
  const auto costs = EvaluateSplits(HandProfile(), truth_, HandRound());
  ASSERT_LT(costs[0].time_s, costs[2].time_s);
  ASSERT_GT(costs[0].time_s + 0.11, costs[2].time_s);
  EXPECT_EQ(policy_->Choose(pi_).split, 3);  // measures first
  policy_->Observe(1, {Outcome(3, 8)});
  for (int round = 2; round <= 4; ++round) {
    EXPECT_EQ(policy_->Choose(pi_).split, 1) << "round " << round;
    policy_->Observe(round, {Outcome(1, 8)});
  }
}

TEST_F(GreedyNearATie, FollowsALinkThatDropsAndRecovers) {
  OffloadConfig config;
  config.policy = "greedy";
  config.link_guard = false;
  PolicyContext context;
  context.num_stages = 3;
  context.profile = HandProfile();
  context.batch_size = 10;
  policy_ = *CreateSplitPolicy(config, context);
  policy_->Choose(pi_).split;
  policy_->Observe(1, {Outcome(3, 8)});
  EXPECT_EQ(policy_->Choose(pi_).split, 1);
  policy_->Observe(2, {Outcome(1, 0.8)});  // the link fell to a tenth
  EXPECT_EQ(policy_->Choose(pi_).split, 3);
  policy_->Observe(3, {Outcome(3, 8)});  // and came back
  EXPECT_EQ(policy_->Choose(pi_).split, 1);
}

TEST_F(GreedyNearATie, UnderTheGuardPlansOnTheBestRecentLink) {
  // The guard measures the link on each download, so greedy keeps offering
  // the split point through a short drop and follows a long one after 3
  // rounds.
  policy_->Choose(pi_);
  policy_->Observe(1, {Outcome(3, 8)});
  for (int round = 2; round <= 4; ++round) {
    EXPECT_EQ(policy_->Choose(pi_).split, 1) << "round " << round;
    policy_->Observe(round, {Outcome(3, 0.8)});  // the guard sent it local
  }
  EXPECT_EQ(policy_->Choose(pi_).split, 3);  // low for 3 rounds: taken
}

TEST(GreedyPolicyTest, RejectsBadBudgets) {
  OffloadConfig config;
  config.policy = "greedy";
  config.memory_budget_mb = {{"pi", -1}};
  PolicyContext context;
  context.num_stages = 3;
  context.profile = HandProfile();
  auto policy = CreateSplitPolicy(config, context);
  ASSERT_FALSE(policy.ok());
  EXPECT_NE(policy.status().message().find("memory_budget_mb.pi"),
            std::string::npos);
}

// A trace of one packet a millisecond (12 Mbit/s) from `begin_ms` to the
// period's end.
DeviceEstimate TracedAt12Mbps(double begin_ms, double period_ms) {
  auto trace = std::make_shared<const LinkTrace>(
      LinkTrace::FromSegments({{begin_ms, period_ms, 12}}, period_ms, "t")
          .value());
  DeviceEstimate d = SlowDevice();
  d.bandwidth_mbps = 1e-3;  // not used: both directions are traced
  d.uplink = d.downlink = TracedLink{trace, 0};
  return d;
}

TEST(CostModelTest, ATracedLinkAtOneRateCostsAsTheConstantLink) {
  ml::ModelProfile p = HandProfile();
  p.stages[0].aux_seconds_per_example = 1e-3;
  p.stages[0].aux_param_bytes = 400;
  DeviceEstimate flat = SlowDevice();
  flat.bandwidth_mbps = 12;
  flat.latency_ms = 3;
  DeviceEstimate traced = TracedAt12Mbps(0, 1000);
  traced.latency_ms = 3;
  traced.start_s = 12.345;  // any start: the trace is flat
  for (SplitMode mode : {SplitMode::kExact, SplitMode::kLocalLoss}) {
    RoundShape r = HandRound();
    r.mode = mode;
    const auto a = EvaluateSplits(p, flat, r);
    const auto b = EvaluateSplits(p, traced, r);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(b[i].time_s, a[i].time_s, 1e-9) << SplitModeName(mode) << i;
      EXPECT_NEAR(b[i].up_s, a[i].up_s, 1e-9);
      EXPECT_NEAR(b[i].down_s, a[i].down_s, 1e-9);
      EXPECT_NEAR(b[i].device_compute_s, a[i].device_compute_s, 1e-12);
      EXPECT_DOUBLE_EQ(b[i].bytes, a[i].bytes);
      EXPECT_GT(a[i].bytes, 0);
    }
  }
}

TEST(CostModelTest, ATracedRoundWaitsOutAFade) {
  // Off for the first second of every two, then 12 Mbit/s (1.5 MB/s). No
  // offload moves the 4,800 B of weights each way around 6 s of compute.
  DeviceEstimate d = TracedAt12Mbps(1000, 2000);
  const double move = 4800 / 1.5e6;
  d.start_s = 0;  // waits 1 s for the download; uploads at 7 s, link on
  EXPECT_NEAR(EvaluateSplits(HandProfile(), d, HandRound())[2].time_s,
              1 + move + 6 + move, 1e-9);
  d.start_s = 1;  // downloads at once; uploads at 7 s + move, link on
  EXPECT_NEAR(EvaluateSplits(HandProfile(), d, HandRound())[2].time_s,
              move + 6 + move, 1e-9);
  d.start_s = 0.5;  // waits 0.5 s; the upload at 7 s
  EXPECT_NEAR(EvaluateSplits(HandProfile(), d, HandRound())[2].time_s,
              0.5 + move + 6 + move, 1e-9);
}

}  // namespace
}  // namespace tandem::offload
