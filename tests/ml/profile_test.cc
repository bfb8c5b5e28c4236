#include "ml/profile.h"

#include "gtest/gtest.h"
#include "ml/runtime.h"

namespace tandem::ml {
namespace {

TEST(ProfileTest, Vgg5StagesSizesAndTimes) {
  SetComputeThreads(1);
  auto p = ProfileModel("vgg5", {1, 28, 28, 10}, 8, 1);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->stages.size(), 7u);
  EXPECT_EQ(p->input_elements, 784);
  EXPECT_EQ(p->stages[0].out_elements, 32 * 28 * 28);
  EXPECT_EQ(p->stages[1].out_elements, 32 * 14 * 14);
  EXPECT_EQ(p->stages[5].out_elements, 128);
  EXPECT_EQ(p->stages[6].out_elements, 10);
  EXPECT_EQ(p->stages[1].param_bytes, 0);  // pooling has no parameters
  // fc1: 3136 x 128 weights + 128 biases.
  EXPECT_EQ(p->stages[5].param_bytes, 4 * (3136 * 128 + 128));
  auto model = Model::Create("vgg5", {1, 28, 28, 10}, 1).value();
  int64_t total = 0;
  for (const StageProfile& s : p->stages) {
    EXPECT_GT(s.TrainSeconds(8), 0) << s.name;
    EXPECT_GE(s.train_seconds_per_example, 0) << s.name;
    EXPECT_GE(s.train_seconds_per_batch, 0) << s.name;
    total += s.param_bytes;
  }
  EXPECT_EQ(total, model->layout().total_bytes());
  // conv2 (32 -> 64 channels at 14x14) costs more than fc2 (128 -> 10).
  EXPECT_GT(p->stages[2].TrainSeconds(8), p->stages[6].TrainSeconds(8));
  EXPECT_EQ(p->batch_size, 8);
}

// A step of n examples costs n * per_example + per_batch: per example, the
// per-batch part shrinks with the batch.
TEST(ProfileTest, PerBatchPartIsSharedByTheBatchsExamples) {
  ModelProfile p;
  p.stages.resize(2);
  p.stages[0].train_seconds_per_example = 1e-3;
  p.stages[0].train_seconds_per_batch = 8e-3;
  p.stages[0].aux_seconds_per_example = 1e-4;
  p.stages[0].aux_seconds_per_batch = 4e-4;
  p.stages[1].train_seconds_per_example = 2e-3;
  EXPECT_DOUBLE_EQ(StageSeconds(p, 0, 2), 3e-3);  // no batch size: 0 part
  EXPECT_DOUBLE_EQ(StageSeconds(AtBatchSize(p, 4), 0, 2), 5e-3);
  EXPECT_DOUBLE_EQ(StageSeconds(AtBatchSize(p, 8), 0, 1), 2e-3);
  EXPECT_DOUBLE_EQ(LocalLossHeadSeconds(AtBatchSize(p, 4), 1), 3.2e-3);
}

}  // namespace
}  // namespace tandem::ml
