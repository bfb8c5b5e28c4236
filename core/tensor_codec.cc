#include "core/tensor_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tandem {
namespace {

absl::StatusOr<int64_t> CheckShape(const v1::Tensor& t, int64_t max_elements) {
  if (t.shape_size() == 0 || t.shape_size() > 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor with ", t.shape_size(), " dimensions"));
  }
  int64_t n = 1;
  for (int64_t d : t.shape()) {
    if (d <= 0 || d > max_elements || n > max_elements / d) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor dimension ", d, " out of range (at most ",
                       max_elements, " elements)"));
    }
    n *= d;
  }
  return n;
}

absl::Status CheckBytes(const v1::Tensor& t, int64_t n, int64_t elem_bytes) {
  if (static_cast<int64_t>(t.data().size()) != n * elem_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor of ", n, " elements has ", t.data().size(),
                     " bytes, expected ", n * elem_bytes));
  }
  return absl::OkStatus();
}

}  // namespace

const NameTable<ActivationCodec>& ActivationCodecNames() {
  static const auto* names =
      new NameTable<ActivationCodec>{{"fp32", ActivationCodec::kFp32},
                                     {"fp16", ActivationCodec::kFp16},
                                     {"int8", ActivationCodec::kInt8}};
  return *names;
}

absl::StatusOr<ActivationCodec> ParseActivationCodec(const std::string& name) {
  return ValueOf(ActivationCodecNames(), name, "activation codec");
}

const char* ActivationCodecName(ActivationCodec codec) {
  return NameOf(ActivationCodecNames(), codec).c_str();
}

int ActivationCodecBytes(ActivationCodec codec) {
  switch (codec) {
    case ActivationCodec::kFp32:
      return 4;
    case ActivationCodec::kFp16:
      return 2;
    case ActivationCodec::kInt8:
      return 1;
  }
  return 4;
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u |
                                 (abs > 0x7f800000u ? 0x200u : 0));
  }
  if (abs >= 0x477ff000u)
    return static_cast<uint16_t>(sign | 0x7c00u);  // overflow
  if (abs < 0x38800000u) {                         // subnormal half (or zero)
    const float a = std::fabs(f);
    const uint32_t q = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f));
    return static_cast<uint16_t>(sign | q);
  }
  // Normal: rebias exponent, round mantissa to nearest even.
  uint32_t h = abs - 0x38000000u;
  const uint32_t round = 0xfffu + ((h >> 13) & 1u);
  h = (h + round) >> 13;
  return static_cast<uint16_t>(sign | h);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  float f;
  if (exp == 0) {
    f = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -f : f;
  }
  uint32_t x;
  if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 112) << 23) | (mant << 13);
  }
  std::memcpy(&f, &x, 4);
  return f;
}

void EncodeTensor(const std::vector<int64_t>& shape,
                  const std::vector<float>& values, ActivationCodec codec,
                  v1::Tensor* out) {
  out->Clear();
  for (int64_t d : shape) out->add_shape(d);
  std::string* data = out->mutable_data();
  switch (codec) {
    case ActivationCodec::kFp32:
      out->set_dtype(v1::Tensor::FLOAT32);
      data->assign(reinterpret_cast<const char*>(values.data()),
                   values.size() * 4);
      break;
    case ActivationCodec::kFp16: {
      out->set_dtype(v1::Tensor::FLOAT16);
      data->resize(values.size() * 2);
      uint16_t* h = reinterpret_cast<uint16_t*>(data->data());
      for (size_t i = 0; i < values.size(); ++i) h[i] = FloatToHalf(values[i]);
      break;
    }
    case ActivationCodec::kInt8: {
      out->set_dtype(v1::Tensor::INT8);
      float max_abs = 0;
      for (float v : values) max_abs = std::max(max_abs, std::fabs(v));
      const float scale = max_abs > 0 ? max_abs / 127.0f : 1.0f;
      out->set_scale(scale);
      data->resize(values.size());
      int8_t* q = reinterpret_cast<int8_t*>(data->data());
      for (size_t i = 0; i < values.size(); ++i) {
        const float r = std::nearbyint(values[i] / scale);
        q[i] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
      }
      break;
    }
  }
}

absl::StatusOr<DecodedTensor> DecodeTensor(const v1::Tensor& t,
                                           int64_t max_elements) {
  absl::StatusOr<int64_t> n = CheckShape(t, max_elements);
  if (!n.ok()) return n.status();
  DecodedTensor d;
  d.shape.assign(t.shape().begin(), t.shape().end());
  d.values.resize(static_cast<size_t>(*n));
  absl::Status ok;
  switch (t.dtype()) {
    case v1::Tensor::FLOAT32:
      if (!(ok = CheckBytes(t, *n, 4)).ok()) return ok;
      std::memcpy(d.values.data(), t.data().data(), t.data().size());
      break;
    case v1::Tensor::FLOAT16: {
      if (!(ok = CheckBytes(t, *n, 2)).ok()) return ok;
      const uint16_t* h = reinterpret_cast<const uint16_t*>(t.data().data());
      for (int64_t i = 0; i < *n; ++i) d.values[i] = HalfToFloat(h[i]);
      break;
    }
    case v1::Tensor::INT8: {
      if (!(ok = CheckBytes(t, *n, 1)).ok()) return ok;
      if (!std::isfinite(t.scale()) || t.scale() <= 0) {
        return absl::InvalidArgumentError("int8 tensor with a bad scale");
      }
      const int8_t* q = reinterpret_cast<const int8_t*>(t.data().data());
      for (int64_t i = 0; i < *n; ++i) d.values[i] = t.scale() * q[i];
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("tensor dtype ", t.dtype(), " is not a float codec"));
  }
  for (float v : d.values) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError("tensor contains NaN or Inf");
    }
  }
  return d;
}

void EncodeLabels(const std::vector<int64_t>& labels, v1::Tensor* out) {
  out->Clear();
  out->set_dtype(v1::Tensor::INT64);
  out->add_shape(static_cast<int64_t>(labels.size()));
  out->set_data(reinterpret_cast<const char*>(labels.data()),
                labels.size() * 8);
}

absl::StatusOr<std::vector<int64_t>> DecodeLabels(const v1::Tensor& t,
                                                  int64_t max_elements) {
  if (t.dtype() != v1::Tensor::INT64 || t.shape_size() != 1) {
    return absl::InvalidArgumentError("labels must be a 1-d INT64 tensor");
  }
  absl::StatusOr<int64_t> n = CheckShape(t, max_elements);
  if (!n.ok()) return n.status();
  absl::Status ok = CheckBytes(t, *n, 8);
  if (!ok.ok()) return ok;
  std::vector<int64_t> labels(static_cast<size_t>(*n));
  std::memcpy(labels.data(), t.data().data(), t.data().size());
  return labels;
}

}  // namespace tandem
