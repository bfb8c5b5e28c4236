// Weights on the wire: layout <-> proto, and the flat buffer as chunks of at
// most kMaxChunkBytes raw little-endian float32 bytes.
//
// Sender:   for (int i = 0; i < NumChunks(w); ++i) FillChunk(w, i, &chunk);
// Receiver: WeightsAssembler a(layout); a.Add(chunk)...; a.Finish();
#ifndef TANDEM_CORE_WEIGHTS_CODEC_H_
#define TANDEM_CORE_WEIGHTS_CODEC_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/weights.h"
#include "proto/tandem.pb.h"

namespace tandem {

inline constexpr int64_t kMaxChunkBytes = int64_t{1} << 20;

void LayoutToProto(const WeightsLayout& layout, v1::WeightsLayout* out);
absl::StatusOr<WeightsLayout> LayoutFromProto(const v1::WeightsLayout& proto);

// Number of chunks the values of `w` travel in (at least 1, even if empty).
int NumChunks(const Weights& w, int64_t chunk_bytes = kMaxChunkBytes);
void FillChunk(const Weights& w, int index, v1::WeightsChunk* chunk,
               int64_t chunk_bytes = kMaxChunkBytes);

// Rebuilds weights from chunks that arrive in order. Rejects chunks that
// skip or overlap bytes, run past the layout's size, exceed kMaxChunkBytes or
// are not whole floats. Not thread-safe.
class WeightsAssembler {
 public:
  explicit WeightsAssembler(WeightsLayout layout);
  absl::Status Add(const v1::WeightsChunk& chunk);
  int64_t bytes_received() const { return received_; }
  // Fails unless every byte arrived. Leaves the assembler empty.
  absl::StatusOr<Weights> Finish();

 private:
  Weights weights_;
  int64_t received_ = 0;
};

}  // namespace tandem

#endif  // TANDEM_CORE_WEIGHTS_CODEC_H_
