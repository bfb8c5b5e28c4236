#include "strategies/fixed_point_sum.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "strategies/vector_clones.h"

namespace tandem {
namespace {

// A term's grid index must stay below 2^47, so kMaxTerms of them sum below
// 2^62 (see the header).
constexpr double kLimit = 140737488355328.0;  // 2^47
// Adding 1.5 * 2^52 to |v| < 2^51 rounds v to an integer (to nearest, ties to
// even) in the low bits of the double: the conversion without a branch or a
// per-element call, so the loop vectorises.
constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52

uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

// Independent lanes, so the loop vectorises without -ffast-math.
constexpr int kLanes = 8;

struct TermStats {
  DeltaStats delta;     // of x - g
  bool beyond = false;  // some |term| > kLimit
};

// acc[i] += round(w (x[i] - g[i]) * inv_step), negated when `negate` is ~0,
// for i < n, with the statistics of x - g from the same pass. Each term
// depends on x[i], g[i] and w alone (for weights and deltas of ordinary size
// the product is exact in double, so the only rounding is to the integer
// grid). A term beyond 2^51 or not finite adds garbage, which the caller
// subtracts again: the same garbage, since unsigned arithmetic wraps.
TANDEM_VECTOR_CLONES
TermStats AddTerms(const float* __restrict x, const float* __restrict g,
                   double w_inv_step, uint64_t negate, uint64_t* __restrict acc,
                   int64_t n) {
  const uint64_t round_bits = Bits(kRound);
  double sq[kLanes] = {};
  float probe[kLanes] = {};  // x * 0: NaN once some x is not finite
  uint64_t beyond[kLanes] = {};
  auto step = [&](int64_t i, int j) {
    const double d = static_cast<double>(x[i]) - static_cast<double>(g[i]);
    sq[j] += d * d;
    probe[j] += x[i] * 0.0f;
    const double v = d * w_inv_step;
    beyond[j] |= static_cast<uint64_t>(std::fabs(v) > kLimit);
    const uint64_t term = Bits(v + kRound) - round_bits;
    acc[i] += (term ^ negate) - negate;  // -t = ~t + 1
  };
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) step(i + j, j);
  }
  for (; i < n; ++i) step(i, 0);
  TermStats out;
  float p = 0;
  for (int j = 0; j < kLanes; ++j) {
    out.delta.sq += sq[j];
    p += probe[j];
    out.beyond |= beyond[j] != 0;
  }
  out.delta.finite = p == 0;
  return out;
}

// The grid step of a tensor whose largest |global value| is `peak`:
// 2^(e - 29), 2^e the smallest power of two >= max(peak, 1/16).
double GridStep(float peak) {
  int e = 0;
  const double m = std::frexp(std::max(static_cast<double>(peak), 0.0625), &e);
  if (m == 0.5) --e;  // peak is a power of two: 2^e = peak
  return std::ldexp(1.0, e - 29);
}

}  // namespace

void FixedPointSum::Reset(const Weights& global) {
  tensors_.clear();
  for (const TensorSpec& t : global.layout().tensors()) {
    const float* g = global.data() + t.offset;
    float peak = 0;
    for (int64_t i = 0; i < t.numel; ++i)
      peak = std::max(peak, std::fabs(g[i]));
    tensors_.push_back(
        {t.offset, t.numel, t.kind == TensorKind::kParameter, GridStep(peak)});
  }
  acc_.assign(static_cast<size_t>(global.layout().total_floats()), 0);
  terms_ = 0;
}

bool FixedPointSum::Apply(const Weights& global, const Weights& x,
                          float w_param, float w_buffer, bool subtract,
                          ValueScan* scan) {
  bool beyond = false;
  for (size_t k = 0; k < tensors_.size(); ++k) {
    const Tensor& t = tensors_[k];
    const double w = t.parameter ? w_param : w_buffer;
    const TermStats stats =
        AddTerms(x.data() + t.offset, global.data() + t.offset, w / t.step,
                 subtract ? ~uint64_t{0} : 0, acc_.data() + t.offset, t.numel);
    beyond |= stats.beyond || !stats.delta.finite;
    if (scan != nullptr)
      scan->Add(global.layout(), static_cast<int>(k), stats.delta);
  }
  return beyond;
}

bool FixedPointSum::TryAdd(const Weights& global, const Weights& x,
                           float w_param, float w_buffer, ValueScan* scan) {
  if (scan != nullptr) *scan = ValueScan();
  if (terms_ >= kMaxTerms) {
    if (scan != nullptr) *scan = ScanUpdate(global, x);
    return false;
  }
  if (Apply(global, x, w_param, w_buffer, false, scan)) {
    Apply(global, x, w_param, w_buffer, true, nullptr);
    return false;
  }
  ++terms_;
  return true;
}

void FixedPointSum::Subtract(const Weights& global, const Weights& x,
                             float w_param, float w_buffer) {
  Apply(global, x, w_param, w_buffer, true, nullptr);
  --terms_;
}

void FixedPointSum::Read(const double* extra, float* out) const {
  for (const Tensor& t : tensors_) {
    for (int64_t i = t.offset; i < t.offset + t.numel; ++i) {
      // The bits are a two's-complement int64 (below 2^62 in magnitude).
      double v = static_cast<double>(static_cast<int64_t>(acc_[i])) * t.step;
      if (extra != nullptr) v += extra[i];
      out[i] = static_cast<float>(v);
    }
  }
}

}  // namespace tandem
