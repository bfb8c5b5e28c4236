#include "ml/model.h"

#include "absl/strings/match.h"
#include "core/weights_codec.h"
#include "gtest/gtest.h"

namespace tandem::ml {
namespace {

struct Case {
  std::string name;
  InputShape input;
  int stages;
};

class ModelZooTest : public testing::TestWithParam<Case> {};

TEST_P(ModelZooTest, StagesNamesAndSplitPoints) {
  const Case& c = GetParam();
  auto model = Model::Create(c.name, c.input, 1);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->num_stages(), c.stages);
  EXPECT_EQ((*model)->SplitPoints().back(), c.stages);
  EXPECT_EQ((*model)->SplitPoints().front(), 1);
  for (const TensorSpec& t : (*model)->layout().tensors()) {
    EXPECT_TRUE(absl::StartsWith(t.name, "s")) << t.name;
  }
}

TEST_P(ModelZooTest, SameSeedSameWeightsAndRoundTrip) {
  const Case& c = GetParam();
  auto a = Model::Create(c.name, c.input, 7).value();
  auto b = Model::Create(c.name, c.input, 7).value();
  auto other = Model::Create(c.name, c.input, 8).value();
  Weights wa = a->GetWeights();
  EXPECT_EQ(wa.layout(), b->layout());
  Weights wb = b->GetWeights();
  ASSERT_EQ(wa.size(), wb.size());
  EXPECT_EQ(0, std::memcmp(wa.data(), wb.data(), wa.size() * 4));
  // Load a's weights into `other`: they must come back bit for bit.
  ASSERT_TRUE(other->SetWeights(wa).ok());
  Weights back = other->GetWeights();
  for (int64_t i = 0; i < wa.size(); ++i) {
    ASSERT_EQ(wa.values()[i], back.values()[i]) << i;
  }
}

TEST_P(ModelZooTest, WireCodecRoundTripAcrossChunkBoundaries) {
  const Case& c = GetParam();
  Weights w = Model::Create(c.name, c.input, 3).value()->GetWeights();
  v1::WeightsLayout proto;
  LayoutToProto(w.layout(), &proto);
  auto layout = LayoutFromProto(proto);
  ASSERT_TRUE(layout.ok());
  ASSERT_EQ(*layout, w.layout());
  // A chunk size that is not a divisor of the total: the last chunk is short.
  const int64_t chunk_bytes = 4 * 1021;
  WeightsAssembler assembler(*layout);
  for (int i = 0; i < NumChunks(w, chunk_bytes); ++i) {
    v1::WeightsChunk chunk;
    FillChunk(w, i, &chunk, chunk_bytes);
    ASSERT_LE(static_cast<int64_t>(chunk.data().size()), chunk_bytes);
    ASSERT_TRUE(assembler.Add(chunk).ok());
  }
  auto back = assembler.Finish();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(0, std::memcmp(back->data(), w.data(), w.size() * 4));
}

INSTANTIATE_TEST_SUITE_P(Zoo, ModelZooTest,
                         testing::Values(Case{"mlp", {1, 28, 28, 10}, 3},
                                         Case{"cnn", {1, 28, 28, 10}, 4},
                                         Case{"vgg5", {1, 28, 28, 10}, 7},
                                         Case{"vgg5", {3, 32, 32, 10}, 7}),
                         [](const testing::TestParamInfo<Case>& info) {
                           return info.param.name +
                                  std::to_string(info.param.input.channels);
                         });

TEST(ModelTest, Vgg5HasBatchNormBuffers) {
  auto m = Model::Create("vgg5", {3, 32, 32, 10}, 1).value();
  int buffers = 0;
  for (const TensorSpec& t : m->layout().tensors()) {
    buffers += t.kind == TensorKind::kBuffer;
  }
  EXPECT_EQ(buffers, 9);  // 3 batch norms x (mean, var, count)
  EXPECT_EQ(m->layout().Find("s5.fc.weight"), m->layout().Find("s5.fc.weight"));
  const int fc = m->layout().Find("s5.fc.weight");
  ASSERT_GE(fc, 0);
  EXPECT_EQ(m->layout().tensors()[fc].shape,
            (std::vector<int64_t>{128, 64 * 8 * 8}));
}

TEST(ModelTest, RejectsForeignLayoutAndUnknownNames) {
  auto cnn = Model::Create("cnn", {1, 28, 28, 10}, 1).value();
  auto mlp = Model::Create("mlp", {1, 28, 28, 10}, 1).value();
  const Weights before = cnn->GetWeights();
  absl::Status s = cnn->SetWeights(mlp->GetWeights());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  Weights after = cnn->GetWeights();
  EXPECT_EQ(0, std::memcmp(before.data(), after.data(), before.size() * 4));
  EXPECT_FALSE(Model::Create("resnet", {1, 28, 28, 10}, 1).ok());
}

TEST(WeightsAssemblerTest, RejectsGapsOverflowAndShortInput) {
  Weights w(WeightsLayout::Create({{"a", {10}}}).value());
  v1::WeightsChunk chunk;
  chunk.set_offset(4);
  chunk.set_data(std::string(8, '\0'));
  WeightsAssembler gap(w.layout());
  EXPECT_FALSE(gap.Add(chunk).ok());
  WeightsAssembler overflow(w.layout());
  chunk.set_offset(0);
  chunk.set_data(std::string(44, '\0'));
  EXPECT_FALSE(overflow.Add(chunk).ok());
  WeightsAssembler ragged(w.layout());
  chunk.set_data(std::string(6, '\0'));
  EXPECT_FALSE(ragged.Add(chunk).ok());
  WeightsAssembler shorter(w.layout());
  chunk.set_data(std::string(8, '\0'));
  ASSERT_TRUE(shorter.Add(chunk).ok());
  EXPECT_FALSE(shorter.Finish().ok());
}

}  // namespace
}  // namespace tandem::ml
