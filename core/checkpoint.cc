#include "core/checkpoint.h"

#include <zlib.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace tandem {
namespace {

constexpr char kMagic[8] = {'T', 'N', 'D', 'M', 'C', 'K', 'P', 'T'};
constexpr uint32_t kVersion = 2;  // 1: no state, no arrays

void PutU32(std::string* out, uint32_t v) {
  out->append(reinterpret_cast<const char*>(&v), 4);
}

uint32_t GetU32(const std::string& s, size_t at) {
  uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}

void PutFloats(std::string* out, const float* values, size_t n) {
  // An empty vector's data() may be null, which append must not get.
  if (n > 0) out->append(reinterpret_cast<const char*>(values), n * 4);
}

nlohmann::json LayoutToJson(const WeightsLayout& layout) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const TensorSpec& t : layout.tensors()) {
    tensors.push_back({{"name", t.name},
                       {"shape", t.shape},
                       {"buffer", t.kind == TensorKind::kBuffer}});
  }
  return tensors;
}

absl::StatusOr<WeightsLayout> LayoutFromJson(const nlohmann::json& j) {
  if (!j.is_array()) return absl::InvalidArgumentError("layout not an array");
  std::vector<TensorSpec> specs;
  for (const nlohmann::json& t : j) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string() ||
        !t.contains("shape") || !t["shape"].is_array() ||
        (t.contains("buffer") && !t["buffer"].is_boolean())) {
      return absl::InvalidArgumentError("checkpoint: layout entry malformed");
    }
    TensorSpec s;
    s.name = t["name"].get<std::string>();
    for (const nlohmann::json& d : t["shape"]) {
      if (!d.is_number_integer()) {
        return absl::InvalidArgumentError("checkpoint: layout shape malformed");
      }
      s.shape.push_back(d.get<int64_t>());
    }
    s.kind =
        t.value("buffer", false) ? TensorKind::kBuffer : TensorKind::kParameter;
    specs.push_back(std::move(s));
  }
  return WeightsLayout::Create(std::move(specs));
}

// The arrays the header lists, as (name, size) pairs in payload order.
absl::StatusOr<std::vector<std::pair<std::string, size_t>>> ArraySizes(
    const nlohmann::json& header, size_t max_values) {
  std::vector<std::pair<std::string, size_t>> sizes;
  const nlohmann::json* arrays =
      header.contains("arrays") ? &header["arrays"] : nullptr;
  if (arrays == nullptr) return sizes;
  if (!arrays->is_array()) {
    return absl::InvalidArgumentError("checkpoint: arrays malformed");
  }
  size_t total = 0;
  for (const nlohmann::json& a : *arrays) {
    if (!a.is_array() || a.size() != 2 || !a[0].is_string() ||
        !a[1].is_number_unsigned() || a[1].get<uint64_t>() > max_values) {
      return absl::InvalidArgumentError("checkpoint: malformed array entry");
    }
    total += a[1].get<size_t>();
    if (total > max_values) {
      return absl::InvalidArgumentError("checkpoint: arrays run past the end");
    }
    sizes.emplace_back(a[0].get<std::string>(), a[1].get<size_t>());
  }
  return sizes;
}

}  // namespace

std::string EncodeCheckpoint(int64_t round, const Weights& weights,
                             const RunState& state) {
  nlohmann::json arrays = nlohmann::json::array();
  for (const auto& [name, values] : state.arrays) {
    arrays.push_back({name, values.size()});
  }
  const std::string header = nlohmann::json{
      {"round", round},
      {"layout", LayoutToJson(weights.layout())},
      {"state", state.values},
      {"arrays", arrays}}.dump();
  std::string out(kMagic, sizeof(kMagic));
  PutU32(&out, kVersion);
  PutU32(&out, static_cast<uint32_t>(header.size()));
  out += header;
  PutFloats(&out, weights.data(), static_cast<size_t>(weights.size()));
  for (const auto& [name, values] : state.arrays) {
    PutFloats(&out, values.data(), values.size());
  }
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(out.data()),
                    static_cast<uInt>(out.size()));
  PutU32(&out, static_cast<uint32_t>(crc));
  return out;
}

absl::StatusOr<Weights> DecodeCheckpoint(const std::string& bytes,
                                         int64_t* round, RunState* state) {
  if (bytes.size() < 20 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return absl::InvalidArgumentError("checkpoint: bad magic or too short");
  }
  const size_t body = bytes.size() - 4;
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()),
                    static_cast<uInt>(body));
  if (static_cast<uint32_t>(crc) != GetU32(bytes, body)) {
    return absl::DataLossError("checkpoint: CRC mismatch (corrupt file)");
  }
  const uint32_t version = GetU32(bytes, 8);
  if (version != 1 && version != kVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: unsupported version ", version));
  }
  const size_t header_len = GetU32(bytes, 12);
  if (16 + header_len > body) {
    return absl::InvalidArgumentError("checkpoint: header runs past the end");
  }
  nlohmann::json header = nlohmann::json::parse(
      bytes.substr(16, header_len), nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object() ||
      !header.contains("layout") || !header.contains("round") ||
      !header["round"].is_number_integer()) {
    return absl::InvalidArgumentError("checkpoint: malformed header");
  }
  TANDEM_ASSIGN_OR_RETURN(WeightsLayout layout,
                          LayoutFromJson(header["layout"]));
  const size_t values_bytes = body - 16 - header_len;
  const size_t weights_bytes = static_cast<size_t>(layout.total_bytes());
  if (values_bytes < weights_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: ", values_bytes,
                     " bytes of values, layout needs ", weights_bytes));
  }
  TANDEM_ASSIGN_OR_RETURN(
      auto arrays, ArraySizes(header, (values_bytes - weights_bytes) / 4));
  size_t arrays_bytes = 0;
  for (const auto& a : arrays) arrays_bytes += a.second * 4;
  if (weights_bytes + arrays_bytes != values_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: ", values_bytes,
                     " bytes of values, layout and arrays "
                     "need ",
                     weights_bytes + arrays_bytes));
  }
  const char* at = bytes.data() + 16 + header_len;
  Weights w(std::move(layout));
  // An empty layout's data() may be null, which memcpy must not get.
  if (weights_bytes > 0) std::memcpy(w.data(), at, weights_bytes);
  at += weights_bytes;
  if (state != nullptr) {
    *state = RunState{};
    const nlohmann::json* values =
        header.contains("state") ? &header["state"] : nullptr;
    if (values != nullptr && values->is_object()) state->values = *values;
    for (const auto& [name, n] : arrays) {
      std::vector<float>& v = state->arrays[name];
      v.resize(n);
      if (n > 0) std::memcpy(v.data(), at, n * 4);
      at += n * 4;
    }
  }
  if (round != nullptr) *round = header["round"].get<int64_t>();
  return w;
}

}  // namespace tandem
