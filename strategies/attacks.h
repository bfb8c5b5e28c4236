// Model-poisoning attacks for simulations: turn an honest update into a
// malicious one so robust strategies and validation can be exercised.
//
//   TANDEM_ASSIGN_OR_RETURN(Attack a, ParseAttack("sign_flip"));
//   ApplyAttack(a, /*scale=*/4.0, seed, global, local);
//
// With d = local - global over parameter tensors (buffers are left honest):
//   none:      unchanged
//   random:    global + noise, noise ~ N(0, s^2) per value with
//              s = scale * ||d|| / sqrt(#parameters), so ||noise|| ~
//              scale*||d||
//   sign_flip: global - scale * d
//   scale:     global + scale * d
//   nan:       about 1% of the parameter values (at least one) set to NaN
//   class_swap: global + scale * (swap(local) - global), where swap(local)
//              is the device's trained model with the output rows of
//              classes 0 and 1 exchanged (the last rank-2 parameter tensor
//              and the rank-1 one after it, its bias): at scale 5, a
//              boosted model replacement; below 1, a slow drift that moves
//              the model that share of the way to the swapped model each
//              round
//   label_flip: the update is left as trained; the device trains on labels
//              mapped y -> classes - 1 - y (FlipLabels, applied to its data)
// Deterministic from `seed`.
#ifndef TANDEM_STRATEGIES_ATTACKS_H_
#define TANDEM_STRATEGIES_ATTACKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/weights.h"

namespace tandem {

enum class Attack {
  kNone,
  kRandom,
  kSignFlip,
  kScale,
  kNan,
  kClassSwap,
  kLabelFlip
};

// "none", "random", "sign_flip", "scale", "nan", "class_swap",
// "label_flip"; InvalidArgument otherwise.
absl::StatusOr<Attack> ParseAttack(absl::string_view name);
// The names ParseAttack knows.
std::vector<std::string> AttackNames();
absl::string_view AttackName(Attack attack);

// Requires local and global to have the same layout (otherwise local is left
// unchanged).
void ApplyAttack(Attack attack, double scale, uint64_t seed,
                 const Weights& global, Weights& local);

// label_flip's poisoned labels: each y < classes becomes classes - 1 - y.
void FlipLabels(int classes, std::vector<uint8_t>& labels);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_ATTACKS_H_
