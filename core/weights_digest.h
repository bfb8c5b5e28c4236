// A checksum of model weights that two runs can compare: SHA-256 (OpenSSL)
// of the layout and the values, as 64 lowercase hex digits.
//
//   summary["weights_sha256"] = WeightsSha256(final_weights);
//
// The digest covers, for each tensor in layout order, its name, a NUL byte,
// its kind (0 parameter, 1 buffer), its rank as a little-endian uint32 and
// each dimension as a little-endian int64; then every value as little-endian
// float32 bits, in buffer order. Equal digests mean bit-identical weights
// (-0.0 and 0.0, or two NaN payloads, differ).
#ifndef TANDEM_CORE_WEIGHTS_DIGEST_H_
#define TANDEM_CORE_WEIGHTS_DIGEST_H_

#include <string>

#include "core/weights.h"

namespace tandem {

std::string WeightsSha256(const Weights& weights);

}  // namespace tandem

#endif  // TANDEM_CORE_WEIGHTS_DIGEST_H_
