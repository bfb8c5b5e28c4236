// The local-loss schedule, worked out by hand.
#include "core/pipeline_schedule.h"

#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(PipelineScheduleTest, UploadBoundBatchesOverlapTheirCompute) {
  // Compute 1 s and upload 2 s per batch, window 2, latency 0.5 s, tail 1 s.
  PipelineSchedule p(/*window=*/2, /*latency_s=*/0.5);
  // Batch 1 computes [0, 1], uploads [1, 3], arrives 3.5, tail [3.5, 4.5].
  EXPECT_DOUBLE_EQ(p.AddBatch(1, 2), 3.5);
  EXPECT_DOUBLE_EQ(p.AddTail(3.5, 1), 4.5);
  // Batch 2 computes [1, 2] while batch 1 uploads; uploads [3, 5].
  EXPECT_DOUBLE_EQ(p.AddBatch(1, 2), 5.5);
  EXPECT_DOUBLE_EQ(p.AddTail(5.5, 1), 6.5);
  // Batch 3 waits for batch 1's upload (window 2): computes [3, 4].
  EXPECT_DOUBLE_EQ(p.AddBatch(1, 2), 7.5);
  EXPECT_DOUBLE_EQ(p.compute_end(), 4);
  EXPECT_DOUBLE_EQ(p.AddTail(7.5, 1), 8.5);
  EXPECT_DOUBLE_EQ(p.AddBatch(1, 2), 9.5);
  EXPECT_DOUBLE_EQ(p.AddTail(9.5, 1), 10.5);
  EXPECT_DOUBLE_EQ(p.compute_end(), 6);
  EXPECT_DOUBLE_EQ(p.upload_end(), 9);
  EXPECT_DOUBLE_EQ(p.tail_end(), 10.5);
  EXPECT_DOUBLE_EQ(p.compute_s(), 4);
  EXPECT_DOUBLE_EQ(p.upload_s(), 8);
  EXPECT_EQ(p.batches(), 4);
}

TEST(PipelineScheduleTest, ComputeBoundBatchesHideTheirUploads) {
  // Compute 2 s, upload 1 s: the device never waits; the round is its
  // compute plus the last upload and the last tail step.
  PipelineSchedule p(/*window=*/4, /*latency_s=*/0);
  double arrival = 0;
  for (int i = 0; i < 3; ++i) {
    arrival = p.AddBatch(2, 1);
    p.AddTail(arrival, 0.5);
  }
  EXPECT_DOUBLE_EQ(arrival, 7);
  EXPECT_DOUBLE_EQ(p.tail_end(), 7.5);
}

TEST(PipelineScheduleTest, WindowOfOneSerialisesComputeAndUpload) {
  // Back-pressure: with one batch in flight the next compute waits for the
  // previous upload, so nothing overlaps.
  PipelineSchedule p(/*window=*/1, /*latency_s=*/0);
  for (int i = 0; i < 3; ++i) p.AddBatch(2, 1);
  EXPECT_DOUBLE_EQ(p.upload_end(), 9);
  EXPECT_DOUBLE_EQ(p.compute_end(), 8);
}

TEST(PipelineScheduleTest, SlowTailDrainsAfterTheLastArrival) {
  PipelineSchedule p(/*window=*/4, /*latency_s=*/0);
  for (int i = 0; i < 3; ++i) p.AddTail(p.AddBatch(1, 0), 5);
  // Arrivals at 1, 2, 3; tail steps [1, 6], [6, 11], [11, 16].
  EXPECT_DOUBLE_EQ(p.tail_end(), 16);
}

}  // namespace
}  // namespace tandem
