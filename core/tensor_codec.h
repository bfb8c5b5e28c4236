// Activations and gradients on the wire: float32 values with a shape, sent
// as fp32 (exact), fp16 (IEEE half) or int8 (per-tensor scale, value =
// scale x q with q in [-127, 127]).
//
//   v1::Tensor t;
//   EncodeTensor(shape, values, ActivationCodec::kInt8, &t);
//   TANDEM_ASSIGN_OR_RETURN(DecodedTensor d, DecodeTensor(t, kMaxElements));
#ifndef TANDEM_CORE_TENSOR_CODEC_H_
#define TANDEM_CORE_TENSOR_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/name_table.h"
#include "proto/tandem.pb.h"

namespace tandem {

enum class ActivationCodec { kFp32, kFp16, kInt8 };

const NameTable<ActivationCodec>& ActivationCodecNames();
absl::StatusOr<ActivationCodec> ParseActivationCodec(const std::string& name);
const char* ActivationCodecName(ActivationCodec codec);
// Bytes per element on the wire: fp32 4, fp16 2, int8 1.
int ActivationCodecBytes(ActivationCodec codec);

void EncodeTensor(const std::vector<int64_t>& shape,
                  const std::vector<float>& values, ActivationCodec codec,
                  v1::Tensor* out);

struct DecodedTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Checks dtype, that every dimension is positive, that the element count is
// at most `max_elements`, and that the bytes match the shape exactly.
absl::StatusOr<DecodedTensor> DecodeTensor(const v1::Tensor& tensor,
                                           int64_t max_elements);

// Integer labels as an INT64 tensor, and back (same checks).
void EncodeLabels(const std::vector<int64_t>& labels, v1::Tensor* out);
absl::StatusOr<std::vector<int64_t>> DecodeLabels(const v1::Tensor& tensor,
                                                  int64_t max_elements);

// IEEE 754 binary16 conversions (round to nearest even).
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);

}  // namespace tandem

#endif  // TANDEM_CORE_TENSOR_CODEC_H_
