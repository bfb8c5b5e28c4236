#include "core/weights_codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the wire carries little-endian floats; add byte swapping");

namespace tandem {

void LayoutToProto(const WeightsLayout& layout, v1::WeightsLayout* out) {
  out->Clear();
  for (const TensorSpec& t : layout.tensors()) {
    v1::TensorLayout* p = out->add_tensors();
    p->set_name(t.name);
    for (int64_t d : t.shape) p->add_shape(d);
    p->set_is_buffer(t.kind == TensorKind::kBuffer);
  }
}

absl::StatusOr<WeightsLayout> LayoutFromProto(const v1::WeightsLayout& proto) {
  std::vector<TensorSpec> specs;
  specs.reserve(proto.tensors_size());
  for (const v1::TensorLayout& p : proto.tensors()) {
    TensorSpec t;
    t.name = p.name();
    t.shape.assign(p.shape().begin(), p.shape().end());
    t.kind = p.is_buffer() ? TensorKind::kBuffer : TensorKind::kParameter;
    specs.push_back(std::move(t));
  }
  return WeightsLayout::Create(std::move(specs));
}

int NumChunks(const Weights& w, int64_t chunk_bytes) {
  const int64_t bytes = w.layout().total_bytes();
  return static_cast<int>(
      std::max<int64_t>(1, (bytes + chunk_bytes - 1) / chunk_bytes));
}

void FillChunk(const Weights& w, int index, v1::WeightsChunk* chunk,
               int64_t chunk_bytes) {
  const int64_t total = w.layout().total_bytes();
  const int64_t begin = std::min<int64_t>(total, index * chunk_bytes);
  const int64_t end = std::min<int64_t>(total, begin + chunk_bytes);
  chunk->set_offset(begin);
  chunk->set_data(reinterpret_cast<const char*>(w.data()) + begin,
                  static_cast<size_t>(end - begin));
}

WeightsAssembler::WeightsAssembler(WeightsLayout layout)
    : weights_(std::move(layout)) {}

absl::Status WeightsAssembler::Add(const v1::WeightsChunk& chunk) {
  const int64_t size = static_cast<int64_t>(chunk.data().size());
  const int64_t total = weights_.layout().total_bytes();
  if (chunk.offset() != received_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights chunk at byte ", chunk.offset(), ", expected ", received_));
  }
  if (size > kMaxChunkBytes || size % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights chunk of ", size,
                     " bytes (must be whole floats, <= ", kMaxChunkBytes, ")"));
  }
  if (received_ + size > total) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights chunks run past the layout's ", total, " bytes"));
  }
  if (size == 0) return absl::OkStatus();  // data() may be null: no memcpy.
  std::memcpy(reinterpret_cast<char*>(weights_.data()) + received_,
              chunk.data().data(), static_cast<size_t>(size));
  received_ += size;
  return absl::OkStatus();
}

absl::StatusOr<Weights> WeightsAssembler::Finish() {
  const int64_t total = weights_.layout().total_bytes();
  if (received_ != total) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights incomplete: got ", received_, " of ", total, " bytes"));
  }
  return std::move(weights_);
}

}  // namespace tandem
