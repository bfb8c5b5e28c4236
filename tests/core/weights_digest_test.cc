#include "core/weights_digest.h"

#include "gtest/gtest.h"

namespace tandem {
namespace {

// "a" [2] (parameter) = {1, -2.5}, "bn" [] (buffer) = {0.5}.
Weights TwoTensors() {
  Weights w(WeightsLayout::Create({{"a", {2}, TensorKind::kParameter},
                                   {"bn", {}, TensorKind::kBuffer}})
                .value());
  w.values()[0] = 1.0f;
  w.values()[1] = -2.5f;
  w.values()[2] = 0.5f;
  return w;
}

TEST(WeightsDigestTest, IsSha256OfTheDocumentedBytes) {
  // Python: hashlib.sha256(b"a\0" + bytes([0]) + pack("<I", 1) +
  //   pack("<q", 2) + b"bn\0" + bytes([1]) + pack("<I", 0) +
  //   pack("<fff", 1.0, -2.5, 0.5)).hexdigest()
  EXPECT_EQ(WeightsSha256(TwoTensors()),
            "fc441b219c70523e14e04f6a2288cfefe3efdf5104872034a0a8503f0ea780de");
  // No tensors: the digest of no bytes.
  EXPECT_EQ(WeightsSha256(Weights()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(WeightsDigestTest, ChangesWithAnyBitOfValuesOrLayout) {
  const std::string base = WeightsSha256(TwoTensors());
  Weights w = TwoTensors();
  w.values()[2] = -0.5f;
  EXPECT_NE(WeightsSha256(w), base);
  Weights zero = TwoTensors(), negative_zero = TwoTensors();
  zero.values()[0] = 0.0f;
  negative_zero.values()[0] = -0.0f;
  EXPECT_NE(WeightsSha256(zero), WeightsSha256(negative_zero));
  // The same three floats under another name or shape.
  Weights renamed(WeightsLayout::Create({{"b", {2}, TensorKind::kParameter},
                                         {"bn", {}, TensorKind::kBuffer}})
                      .value());
  Weights reshaped(
      WeightsLayout::Create({{"a", {3}, TensorKind::kParameter}}).value());
  for (Weights* other : {&renamed, &reshaped}) {
    for (int i = 0; i < 3; ++i) other->values()[i] = TwoTensors().values()[i];
    EXPECT_NE(WeightsSha256(*other), base);
  }
}

}  // namespace
}  // namespace tandem
