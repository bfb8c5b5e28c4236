// An exact, order-independent weighted sum of deltas, sum_k w_k (x_k - g),
// in 64-bit fixed point: each term is rounded once to a grid fixed for the
// round, and integer addition is associative, so the sum has the same bits
// whatever order the terms were added in, and subtracting a term undoes it
// exactly. Memory: two floats' worth per model float; no update is kept.
//
// The grid of each tensor t has step 2^(e_t - 29), where 2^e_t is the
// smallest power of two >= max(max |g_t|, 1/16): 5 bits finer than float's
// step at the tensor's largest global value. A term must satisfy
// |w (x - g)| <= 2^(e_t + 18), for example weights up to 65,536 samples on
// deltas up to 4 max |g_t|; TryAdd refuses a term beyond that (it changes
// nothing) so that the caller can sum it another way. At most kMaxTerms
// terms are added, so the integer sum cannot overflow.
//
//   FixedPointSum s;
//   s.Reset(global);
//   if (!s.TryAdd(global, x, w, w)) { /* hold x, add it in float instead */ }
//   s.Read(nullptr, out);  // out[i] = the sum, rounded once to float
#ifndef TANDEM_STRATEGIES_FIXED_POINT_SUM_H_
#define TANDEM_STRATEGIES_FIXED_POINT_SUM_H_

#include <cstdint>
#include <vector>

#include "core/weights.h"
#include "strategies/update_validator.h"

namespace tandem {

// Not thread-safe.
class FixedPointSum {
 public:
  static constexpr int kMaxTerms = 1 << 15;

  // Starts an empty sum whose grid is set by `global` (finite); every later
  // call passes the same global model.
  void Reset(const Weights& global);

  // Adds w (x - g), g = global, w = w_param on parameter tensors and w_buffer
  // on buffer tensors; x has g's layout. False, with the sum unchanged, when
  // x is not finite, a term is beyond its tensor's range or kMaxTerms terms
  // are in already. `scan` (if not null) gets x's ValueScan, from the same
  // pass over x.
  bool TryAdd(const Weights& global, const Weights& x, float w_param,
              float w_buffer, ValueScan* scan = nullptr);
  // Removes a term that TryAdd added with the same arguments, exactly.
  void Subtract(const Weights& global, const Weights& x, float w_param,
                float w_buffer);

  int terms() const { return terms_; }
  // out[i] = sum[i] + extra[i] (extra may be null), rounded once to float;
  // out has total_floats() elements.
  void Read(const double* extra, float* out) const;

 private:
  // Adds or subtracts the term, scanning x into *scan if not null; true
  // when some of it is beyond the range or not finite.
  bool Apply(const Weights& global, const Weights& x, float w_param,
             float w_buffer, bool subtract, ValueScan* scan);

  struct Tensor {
    int64_t offset;
    int64_t numel;
    bool parameter;
    double step;  // a power of two
  };

  std::vector<Tensor> tensors_;
  std::vector<uint64_t> acc_;  // two's complement: wraps, never UB
  int terms_ = 0;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_FIXED_POINT_SUM_H_
