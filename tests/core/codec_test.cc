#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/weights_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMiB = int64_t{1} << 20;

// Weights of one tensor of `n` floats, value i at index i.
Weights Iota(int64_t n) {
  Weights w(WeightsLayout::Create({{"w", {n}}}).value());
  for (int64_t i = 0; i < n; ++i) w.values()[i] = static_cast<float>(i);
  return w;
}

v1::WeightsChunk Chunk(int64_t offset, int64_t bytes) {
  v1::WeightsChunk c;
  c.set_offset(offset);
  c.set_data(std::string(static_cast<size_t>(bytes), '\0'));
  return c;
}

TEST(CodecTest, LayoutRoundTripsThroughProto) {
  const WeightsLayout layout =
      WeightsLayout::Create({{"conv.weight", {8, 1, 3, 3}},
                             {"bn.running_var", {8}, TensorKind::kBuffer},
                             {"scalar", {}},
                             {"empty", {0, 4}}})
          .value();
  v1::WeightsLayout proto;
  proto.add_tensors()->set_name("stale");  // cleared by LayoutToProto
  LayoutToProto(layout, &proto);
  ASSERT_EQ(proto.tensors_size(), 4);
  EXPECT_EQ(proto.tensors(0).name(), "conv.weight");
  EXPECT_EQ(proto.tensors(0).shape_size(), 4);
  EXPECT_EQ(proto.tensors(0).shape(3), 3);
  EXPECT_FALSE(proto.tensors(0).is_buffer());
  EXPECT_TRUE(proto.tensors(1).is_buffer());
  EXPECT_EQ(proto.tensors(2).shape_size(), 0);

  // Through the wire bytes too.
  v1::WeightsLayout parsed;
  ASSERT_TRUE(parsed.ParseFromString(proto.SerializeAsString()));
  absl::StatusOr<WeightsLayout> back = LayoutFromProto(parsed);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, layout) << layout.DescribeDifference(*back);
  EXPECT_EQ(back->tensors()[1].kind, TensorKind::kBuffer);
  EXPECT_EQ(back->tensors()[0].kind, TensorKind::kParameter);
  EXPECT_EQ(back->tensors()[2].offset, 80);  // 72 + 8, recomputed
  EXPECT_EQ(back->total_floats(), 81);
}

TEST(CodecTest, BufferKindMismatchIsALayoutDifference) {
  const WeightsLayout a = WeightsLayout::Create({{"x", {2}}}).value();
  v1::WeightsLayout proto;
  LayoutToProto(a, &proto);
  proto.mutable_tensors(0)->set_is_buffer(true);
  EXPECT_NE(LayoutFromProto(proto).value(), a);
}

TEST(CodecTest, LayoutFromProtoRejectsBadLayouts) {
  v1::WeightsLayout dup;
  dup.add_tensors()->set_name("a");
  dup.add_tensors()->set_name("a");
  absl::StatusOr<WeightsLayout> s = LayoutFromProto(dup);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("duplicate tensor name 'a'"));

  v1::WeightsLayout negative;
  v1::TensorLayout* t = negative.add_tensors();
  t->set_name("b");
  t->add_shape(4);
  t->add_shape(-2);
  s = LayoutFromProto(negative);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("invalid dimension -2"));

  v1::WeightsLayout unnamed;
  unnamed.add_tensors()->add_shape(1);
  EXPECT_FALSE(LayoutFromProto(unnamed).ok());
}

// Each dimension is allowed, but their product overflows int64: a layout
// from the wire must not wrap around to a small size.
TEST(CodecTest, LayoutFromProtoRejectsOverflowingShape) {
  v1::WeightsLayout huge;
  v1::TensorLayout* t = huge.add_tensors();
  t->set_name("huge");
  for (int i = 0; i < 3; ++i) t->add_shape(int64_t{1} << 31);  // 2^93 floats
  absl::StatusOr<WeightsLayout> s = LayoutFromProto(huge);
  ASSERT_FALSE(s.ok()) << "total_floats " << s->total_floats();
  EXPECT_THAT(s.status().message(), HasSubstr("2^34"));
}

TEST(CodecTest, ExactlyTwoMiBIsTwoFullChunks) {
  const Weights w = Iota(2 * kMiB / 4);
  ASSERT_EQ(w.layout().total_bytes(), 2 * kMiB);
  ASSERT_EQ(NumChunks(w), 2);
  WeightsAssembler assembler(w.layout());
  for (int i = 0; i < 2; ++i) {
    v1::WeightsChunk chunk;
    FillChunk(w, i, &chunk);
    EXPECT_EQ(chunk.offset(), i * kMiB);
    ASSERT_EQ(static_cast<int64_t>(chunk.data().size()), kMiB);
    float first;
    std::memcpy(&first, chunk.data().data(), 4);
    EXPECT_EQ(first, static_cast<float>(i * kMiB / 4));
    ASSERT_TRUE(assembler.Add(chunk).ok());
  }
  EXPECT_EQ(assembler.bytes_received(), 2 * kMiB);
  absl::StatusOr<Weights> back = assembler.Finish();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->layout(), w.layout());
  EXPECT_EQ(std::memcmp(back->data(), w.data(), 2 * kMiB), 0);
}

TEST(CodecTest, OneFloatMoreThanTwoMiBIsThreeChunks) {
  const Weights w = Iota(2 * kMiB / 4 + 1);
  ASSERT_EQ(NumChunks(w), 3);
  v1::WeightsChunk last;
  FillChunk(w, 2, &last);
  EXPECT_EQ(last.offset(), 2 * kMiB);
  ASSERT_EQ(last.data().size(), 4u);
  float v;
  std::memcpy(&v, last.data().data(), 4);
  EXPECT_EQ(v, static_cast<float>(2 * kMiB / 4));
}

TEST(CodecTest, SmallChunkSizeSplitsAndReassembles) {
  const Weights w = Iota(10);  // 40 bytes in chunks of 12: 12, 12, 12, 4
  ASSERT_EQ(NumChunks(w, 12), 4);
  WeightsAssembler assembler(w.layout());
  for (int i = 0; i < 4; ++i) {
    v1::WeightsChunk chunk;
    FillChunk(w, i, &chunk, 12);
    EXPECT_EQ(chunk.data().size(), i < 3 ? 12u : 4u);
    ASSERT_TRUE(assembler.Add(chunk).ok()) << i;
  }
  absl::StatusOr<Weights> back = assembler.Finish();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->values()[9], 9.0f);
}

TEST(CodecTest, ZeroFloatsIsOneEmptyChunk) {
  for (const WeightsLayout& layout :
       {WeightsLayout::Create({}).value(),
        WeightsLayout::Create({{"none", {0}}}).value()}) {
    const Weights w(layout);
    ASSERT_EQ(NumChunks(w), 1);
    v1::WeightsChunk chunk;
    FillChunk(w, 0, &chunk);
    EXPECT_EQ(chunk.offset(), 0);
    EXPECT_TRUE(chunk.data().empty());
    WeightsAssembler assembler(layout);
    ASSERT_TRUE(assembler.Add(chunk).ok());
    absl::StatusOr<Weights> back = assembler.Finish();
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->size(), 0);
    EXPECT_EQ(back->layout(), layout);
  }
}

TEST(CodecTest, AssemblerRejectsOversizedChunk) {
  const Weights w = Iota(2 * kMiB / 4);
  WeightsAssembler assembler(w.layout());
  absl::Status s = assembler.Add(Chunk(0, kMaxChunkBytes + 4));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat(kMaxChunkBytes + 4)));
  EXPECT_EQ(assembler.bytes_received(), 0);
  // Exactly kMaxChunkBytes is fine.
  EXPECT_TRUE(assembler.Add(Chunk(0, kMaxChunkBytes)).ok());
}

TEST(CodecTest, AssemblerRejectsGapsOverlapsPartialFloatsAndOverrun) {
  const Weights w = Iota(4);  // 16 bytes
  WeightsAssembler a(w.layout());
  EXPECT_THAT(a.Add(Chunk(4, 4)).message(), HasSubstr("expected 0"));
  ASSERT_TRUE(a.Add(Chunk(0, 8)).ok());
  EXPECT_FALSE(a.Add(Chunk(4, 4)).ok());  // overlaps
  EXPECT_FALSE(a.Add(Chunk(8, 3)).ok());  // not whole floats
  EXPECT_THAT(a.Add(Chunk(8, 12)).message(), HasSubstr("run past"));
  absl::StatusOr<Weights> partial = a.Finish();
  ASSERT_FALSE(partial.ok());
  EXPECT_THAT(partial.status().message(), HasSubstr("got 8 of 16 bytes"));
}

}  // namespace
}  // namespace tandem
