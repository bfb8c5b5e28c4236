#include "core/weights_digest.h"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>

#include "absl/strings/escaping.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the digest is over little-endian bytes; add byte swapping");

namespace tandem {
namespace {

using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

template <typename T>
void AddValue(EVP_MD_CTX* ctx, T v) {
  EVP_DigestUpdate(ctx, &v, sizeof(v));
}

void AddLayout(EVP_MD_CTX* ctx, const WeightsLayout& layout) {
  for (const TensorSpec& t : layout.tensors()) {
    EVP_DigestUpdate(ctx, t.name.data(), t.name.size());
    AddValue<uint8_t>(ctx, 0);
    AddValue<uint8_t>(ctx, static_cast<uint8_t>(t.kind));
    AddValue<uint32_t>(ctx, static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) AddValue<int64_t>(ctx, d);
  }
}

}  // namespace

std::string WeightsSha256(const Weights& weights) {
  DigestContext ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  AddLayout(ctx.get(), weights.layout());
  EVP_DigestUpdate(ctx.get(), weights.data(),
                   static_cast<size_t>(weights.size()) * sizeof(float));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace tandem
