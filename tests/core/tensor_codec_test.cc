#include "core/tensor_codec.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace tandem {
namespace {

std::vector<float> RandomValues(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

DecodedTensor RoundTrip(const std::vector<float>& v, ActivationCodec codec,
                        size_t* bytes) {
  v1::Tensor t;
  EncodeTensor({static_cast<int64_t>(v.size())}, v, codec, &t);
  *bytes = t.data().size();
  return DecodeTensor(t, 1 << 24).value();
}

TEST(TensorCodecTest, Fp32IsExact) {
  const std::vector<float> v = RandomValues(1000, 1);
  size_t bytes;
  EXPECT_EQ(RoundTrip(v, ActivationCodec::kFp32, &bytes).values, v);
  EXPECT_EQ(bytes, 4000u);
}

TEST(TensorCodecTest, Fp16WithinHalfPrecision) {
  const std::vector<float> v = RandomValues(1000, 2);
  size_t bytes;
  DecodedTensor d = RoundTrip(v, ActivationCodec::kFp16, &bytes);
  EXPECT_EQ(bytes, 2000u);
  for (size_t i = 0; i < v.size(); ++i) {
    // 11 significant bits: relative error <= 2^-11.
    EXPECT_LE(std::fabs(d.values[i] - v[i]), std::fabs(v[i]) * 0.000489 + 1e-7)
        << v[i];
  }
  EXPECT_EQ(HalfToFloat(FloatToHalf(1.0f)), 1.0f);
  EXPECT_EQ(HalfToFloat(FloatToHalf(-2.5f)), -2.5f);
  EXPECT_EQ(HalfToFloat(FloatToHalf(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(HalfToFloat(FloatToHalf(1e6f))));
  EXPECT_NEAR(HalfToFloat(FloatToHalf(1e-6f)), 1e-6f, 6e-8f);  // subnormal
}

TEST(TensorCodecTest, Int8WithinHalfAStep) {
  const std::vector<float> v = RandomValues(1000, 3);
  size_t bytes;
  DecodedTensor d = RoundTrip(v, ActivationCodec::kInt8, &bytes);
  EXPECT_EQ(bytes, 1000u);
  float max_abs = 0;
  for (float x : v) max_abs = std::max(max_abs, std::fabs(x));
  const float step = max_abs / 127.0f;
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_LE(std::fabs(d.values[i] - v[i]), 0.5f * step + 1e-6f);
  }
}

TEST(TensorCodecTest, RejectsMalformedTensors) {
  v1::Tensor t;
  EncodeTensor({2, 3}, std::vector<float>(6, 1.0f), ActivationCodec::kFp32, &t);
  ASSERT_TRUE(DecodeTensor(t, 100).ok());
  EXPECT_FALSE(DecodeTensor(t, 5).ok());  // too many elements
  v1::Tensor short_data = t;
  short_data.mutable_data()->pop_back();
  EXPECT_FALSE(DecodeTensor(short_data, 100).ok());
  v1::Tensor negative = t;
  negative.set_shape(0, -2);
  EXPECT_FALSE(DecodeTensor(negative, 100).ok());
  v1::Tensor nan = t;
  const float bad = std::nanf("");
  std::memcpy(nan.mutable_data()->data(), &bad, 4);
  EXPECT_FALSE(DecodeTensor(nan, 100).ok());
  v1::Tensor int8 = t;
  EncodeTensor({2, 3}, std::vector<float>(6, 1.0f), ActivationCodec::kInt8,
               &int8);
  int8.set_scale(-1);
  EXPECT_FALSE(DecodeTensor(int8, 100).ok());
}

TEST(TensorCodecTest, LabelsRoundTrip) {
  v1::Tensor t;
  EncodeLabels({3, 1, 4, 1, 5}, &t);
  EXPECT_EQ(DecodeLabels(t, 100).value(),
            (std::vector<int64_t>{3, 1, 4, 1, 5}));
  t.mutable_data()->resize(7);
  EXPECT_FALSE(DecodeLabels(t, 100).ok());
}

}  // namespace
}  // namespace tandem
