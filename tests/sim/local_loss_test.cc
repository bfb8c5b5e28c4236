// offload.mode "local_loss" end to end in the simulator: the modelled
// pipeline's times to the millisecond, and a coordinator tail that trained
// on exactly the activations the device computed.
#include <cmath>

#include "client/device_data.h"
#include "core/file_io.h"
#include "core/seeds.h"
#include "gtest/gtest.h"
#include "ml/aux_classifier.h"
#include "ml/data/run_data.h"
#include "ml/runtime.h"
#include "ml/split.h"
#include "ml/split_weights.h"
#include "sim/fleet_simulator.h"
#include "tests/sim/small_run.h"

namespace tandem::sim {
namespace {

// One device offloading cnn at split point 2 in local-loss mode.
Config OneLocalLossDevice(int64_t examples, int rounds,
                          const std::string& dir) {
  Config c = SmallRun("cnn", 1, rounds, examples, dir);
  c.offload.policy = "fixed";
  c.offload.mode = OffloadMode::kLocalLoss;
  c.offload.fixed = {{"dev", 2}};
  return c;
}

// cnn's stages at 1, 2, 3 and 4 ms per example; the classifier at split point 2
// (after stage 1) at 0.5 ms.
std::shared_ptr<const ml::ModelProfile> HandProfile() {
  ml::ModelProfile p;
  p.model = "cnn";
  p.input_elements = 784;
  for (double ms : {1.0, 2.0, 3.0, 4.0}) {
    p.stages.push_back({"s", ms / 1e3, 1, 1});
  }
  p.stages[1].aux_seconds_per_example = 0.5e-3;
  return std::make_shared<const ml::ModelProfile>(p);
}

TEST(LocalLossTest, ProfiledTimesFollowThePipeline) {
  // 192 examples in 6 batches of 32, slowdown 2, a link so fast that
  // transfers take under a microsecond: the head computes 32 x 2 x 3.5 ms =
  // 224 ms per batch, the tail (one core to itself) takes 32 x 7 ms = 224
  // ms per batch as each arrives, so the round is the head's compute and the
  // last batch's tail step.
  SimOptions o;
  o.config = OneLocalLossDevice(192, 2, "local_loss_time_runs");
  o.config.fleet.compute_time = ComputeTime::kProfiled;
  o.config.fleet.classes[0].device.slowdown = 2;
  o.config.fleet.classes[0].device.bandwidth_mbps = 1e6;
  o.config.fleet.classes[0].device.latency_ms = 0;
  o.compute_profile = HandProfile();
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  int lines = 0;
  for (const nlohmann::json& j : Records(r->run_dir, "device")) {
    ASSERT_EQ(j["status"], "accepted") << j;
    ++lines;
    EXPECT_EQ(j["mode"], "local_loss");
    EXPECT_EQ(j["split"], 2);
    // Round 1 also pays the stage timing before the first task: 3 batches
    // of 32 and 3 of 16 of all four stages, 2 x 144 x 10 ms.
    const double timing = j["round"] == 1 ? 2.88 : 0.0;
    EXPECT_NEAR(j["compute_s"].get<double>(), 1.344, 1e-9);
    EXPECT_NEAR(j["timing_s"].get<double>(), timing, 1e-9);
    EXPECT_NEAR(j["tail_s"].get<double>(), 1.344, 1e-9);
    EXPECT_NEAR(j["round_time_s"].get<double>(), 1.344 + 0.224 + timing, 1e-5);
  }
  EXPECT_EQ(lines, 2);
}

// Records what the device hands its stream.
class RecordingSink : public ml::ActivationSink {
 public:
  absl::Status Send(int64_t, ml::SplitTensor activations,
                    std::vector<int64_t> labels, double) override {
    batches.push_back({std::move(activations), std::move(labels)});
    return absl::OkStatus();
  }
  std::vector<std::pair<ml::SplitTensor, std::vector<int64_t>>> batches;
};

// Largest |a - b| over two weights of one layout; NaN if either has one.
float MaxDifference(const Weights& a, const Weights& b) {
  float worst = 0;
  for (size_t i = 0; i < a.values().size(); ++i) {
    const float d = std::fabs(a.values()[i] - b.values()[i]);
    if (!(d <= worst)) worst = d;  // keeps NaN
  }
  return worst;
}

// Weights of `trained` farther from `w` than FedAvg's rounding of the single
// update w over `global` allows (see the comparison below).
int CountOutsideFedAvgRounding(const Weights& w, const Weights& global,
                               const Weights& trained) {
  constexpr double kUnit = 0x1.0p-24;
  int outside = 0;
  for (size_t i = 0; i < w.values().size(); ++i) {
    const double wi = w.values()[i], gi = global.values()[i];
    const double bound = 5 * kUnit * (std::fabs(wi - gi) + std::fabs(wi));
    if (!(std::fabs(trained.values()[i] - wi) <= bound)) ++outside;
  }
  return outside;
}

TEST(LocalLossTest, CoordinatorTailEqualsOfflineTrainingOnTheActivations) {
  // fp32 on the wire: the tail must see exactly what the head computed, so
  // the round's model equals the head and tail trained here, offline.
  Config c = OneLocalLossDevice(300, 1, "local_loss_exact_runs");
  c.output.checkpoints = true;
  SimOptions o;
  o.config = c;
  auto r = RunSimulation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  int64_t round = 0;
  auto trained = DecodeCheckpoint(
      ReadFile(r->run_dir + "/checkpoints/latest.ckpt").value(), &round);
  ASSERT_TRUE(trained.ok()) << trained.status();
  ASSERT_EQ(round, 1);

  // The same arithmetic as the simulation's: one LibTorch thread, as its
  // devices and tails ran (RunSimulation leaves this thread at all cores,
  // for evaluation, and a second thread splits convolutions' gradient sums
  // differently), one BLAS thread (RunSimulation's), the same kernel.
  ml::SetComputeThreads(1);
  // The device's data and task, as the coordinator and simulator make them.
  data::TrainTest tt = data::LoadDataset(data::SourceForConfig(c)).value();
  data::Dataset mine =
      data::PartitionForSpec(tt.train.Head(300), data::SpecForConfig(c))
          .value()[0];
  const ml::InputShape input{1, 28, 28, 10};
  auto model = ml::Model::Create("cnn", input, c.seed).value();
  const Weights global = model->GetWeights();
  ml::TrainOptions t;
  t.batch_size = c.training.batch_size;
  t.learning_rate = c.training.learning_rate;
  t.momentum = c.training.momentum;
  t.seed = StreamSeed(c.seed, 1);  // round 1's task seed
  std::vector<float> aux = ml::InitAux(*model, 2, c.seed);
  RecordingSink sink;
  ASSERT_TRUE(ml::TrainHeadLocalLoss(*model, 2, &aux, mine, t, sink).ok());
  auto tail = ml::TailTrainer::Create("cnn", input, 2, global, t).value();
  for (const auto& [act, labels] : sink.batches) {
    ASSERT_TRUE(tail->Fit(act, labels).ok());
  }
  Weights offline = model->GetWeights();
  ASSERT_TRUE(ml::MergeStages(tail->TailWeights(), &offline).ok());
  ASSERT_EQ(offline.layout(), trained->layout());
  // Training is the same arithmetic, but the round's model is FedAvg of the
  // one update, global + ((w - global) * n) * (1/n) in float: four roundings
  // of the change and one of the sum. So each weight is within
  // gamma_4 |w - global| + u |w| of w (u = 2^-24), bounded above by
  // 5u (|w - global| + |w|); a tail trained otherwise is far outside.
  EXPECT_EQ(CountOutsideFedAvgRounding(offline, global, *trained), 0);
  // And training changed the tail: the comparison is not of two copies of
  // the initial weights.
  EXPECT_GT(MaxDifference(global, *trained), 1e-3);
}

}  // namespace
}  // namespace tandem::sim
