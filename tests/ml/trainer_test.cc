#include "ml/trainer.h"

#include "gtest/gtest.h"
#include "ml/data/synthetic.h"
#include "ml/runtime.h"

namespace tandem::ml {
namespace {

data::TrainTest Synthetic(int channels, int size) {
  data::DataSource s;
  s.kind = "synthetic";
  s.synthetic_train = 600;
  s.synthetic_test = 200;
  s.channels = channels;
  s.height = size;
  s.width = size;
  s.seed = 3;
  return data::LoadDataset(s).value();
}

TEST(TrainerTest, CnnLearnsSyntheticData) {
  SetComputeThreads(1);
  data::TrainTest tt = Synthetic(1, 28);
  auto model = Model::Create("cnn", {1, 28, 28, 10}, 1).value();
  const double before = Evaluate(*model, tt.test, 100).value().accuracy;
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 20;
  o.learning_rate = 0.05;
  auto stats = TrainLocal(*model, tt.train, o);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->samples, 600);
  EXPECT_EQ(stats->batches, 60);
  EXPECT_GT(stats->cpu_seconds, 0);
  const double after = Evaluate(*model, tt.test, 100).value().accuracy;
  EXPECT_LT(before, 0.3);
  EXPECT_GT(after, 0.9);
}

TEST(TrainerTest, Vgg5TrainsWithBatchNormOnColourImages) {
  SetComputeThreads(1);
  data::TrainTest tt = Synthetic(3, 32);
  auto model = Model::Create("vgg5", {3, 32, 32, 10}, 1).value();
  TrainOptions o;
  o.max_batches = 15;
  o.batch_size = 20;
  o.learning_rate = 0.02;
  o.loss_before = true;
  auto stats = TrainLocal(*model, tt.train, o);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->batches, 15);
  EXPECT_LT(stats->mean_loss, stats->loss_before);
}

TEST(TrainerTest, ProximalTermKeepsWeightsCloser) {
  SetComputeThreads(1);
  data::TrainTest tt = Synthetic(1, 28);
  auto plain = Model::Create("mlp", {1, 28, 28, 10}, 1).value();
  auto prox = Model::Create("mlp", {1, 28, 28, 10}, 1).value();
  const Weights start = plain->GetWeights();
  TrainOptions o;
  o.batch_size = 20;
  o.learning_rate = 0.1;
  ASSERT_TRUE(TrainLocal(*plain, tt.train, o).ok());
  o.proximal_mu = 1.0;
  ASSERT_TRUE(TrainLocal(*prox, tt.train, o).ok());
  auto dist = [&](const Weights& w) {
    double d = 0;
    for (int64_t i = 0; i < w.size(); ++i) {
      const double x = w.values()[i] - start.values()[i];
      d += x * x;
    }
    return d;
  };
  EXPECT_LT(dist(prox->GetWeights()), 0.8 * dist(plain->GetWeights()));
}

TEST(TrainerTest, CancelStopsTraining) {
  data::TrainTest tt = Synthetic(1, 28);
  auto model = Model::Create("mlp", {1, 28, 28, 10}, 1).value();
  std::atomic<bool> cancel{true};
  TrainOptions o;
  o.cancel = &cancel;
  EXPECT_TRUE(absl::IsCancelled(TrainLocal(*model, tt.train, o).status()));
}

TEST(TrainerTest, EmptyDataIsAnError) {
  auto model = Model::Create("mlp", {1, 28, 28, 10}, 1).value();
  data::Dataset empty;
  EXPECT_FALSE(TrainLocal(*model, empty, TrainOptions()).ok());
  EXPECT_FALSE(Evaluate(*model, empty, 10).ok());
}

TEST(RuntimeTest, ReportsBlasAndThreads) {
  SetComputeThreads(2);
  EXPECT_EQ(ComputeThreads(), 2);
  SetComputeThreads(1);
  EXPECT_EQ(ComputeThreads(), 1);
  EXPECT_NE(DescribeRuntime().find("BLAS: "), std::string::npos);
}

}  // namespace
}  // namespace tandem::ml
