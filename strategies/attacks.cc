#include "strategies/attacks.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "strategies/deterministic_rng.h"
#include "strategies/update_validator.h"

namespace tandem {
namespace {

constexpr struct {
  Attack attack;
  absl::string_view name;
} kAttacks[] = {{Attack::kNone, "none"},
                {Attack::kRandom, "random"},
                {Attack::kSignFlip, "sign_flip"},
                {Attack::kScale, "scale"},
                {Attack::kNan, "nan"},
                {Attack::kClassSwap, "class_swap"},
                {Attack::kLabelFlip, "label_flip"}};

// Share of parameter values the nan attack poisons.
constexpr double kNanShare = 0.01;

int64_t ParameterCount(const WeightsLayout& layout) {
  int64_t n = 0;
  for (const TensorSpec& t : layout.tensors()) {
    if (t.kind == TensorKind::kParameter) n += t.numel;
  }
  return n;
}

// local = global + factor * (local - global) on parameters.
void ScaleDelta(double factor, const Weights& global, Weights& local) {
  const float f = static_cast<float>(factor);
  for (const TensorSpec& t : global.layout().tensors()) {
    if (t.kind != TensorKind::kParameter) continue;
    const float* g = global.data() + t.offset;
    float* x = local.data() + t.offset;
    for (int64_t i = 0; i < t.numel; ++i) x[i] = g[i] + f * (x[i] - g[i]);
  }
}

void RandomNoise(double scale, uint64_t seed, const Weights& global,
                 Weights& local) {
  const int64_t n = ParameterCount(global.layout());
  if (n == 0) return;
  const double stddev =
      scale * ScanUpdate(global, local).param_norm() / std::sqrt(double(n));
  DeterministicRng rng(seed, 1);
  for (const TensorSpec& t : global.layout().tensors()) {
    if (t.kind != TensorKind::kParameter) continue;
    const float* g = global.data() + t.offset;
    float* x = local.data() + t.offset;
    for (int64_t i = 0; i < t.numel; ++i) {
      x[i] = g[i] + static_cast<float>(stddev * rng.Gaussian());
    }
  }
}

void InjectNans(uint64_t seed, const Weights& global, Weights& local) {
  DeterministicRng rng(seed, 2);
  bool any = false;
  float* first = nullptr;
  for (const TensorSpec& t : global.layout().tensors()) {
    if (t.kind != TensorKind::kParameter || t.numel == 0) continue;
    float* x = local.data() + t.offset;
    if (first == nullptr) first = x;
    for (int64_t i = 0; i < t.numel; ++i) {
      if (rng.Uniform() < kNanShare) {
        x[i] = std::numeric_limits<float>::quiet_NaN();
        any = true;
      }
    }
  }
  if (!any && first != nullptr)
    *first = std::numeric_limits<float>::quiet_NaN();
}

// Exchanges rows 0 and 1 of tensor `t` (its first dimension is the class).
void SwapFirstRows(const TensorSpec& t, Weights& w) {
  if (t.shape.empty() || t.shape[0] < 2) return;
  const int64_t row = t.numel / t.shape[0];
  float* x = w.data() + t.offset;
  std::swap_ranges(x, x + row, x + row);
}

// The output layer: the last rank-2 parameter tensor, and a rank-1 one
// after it of the same first dimension (its bias), if any.
void SwapOutputClasses(Weights& w) {
  const std::vector<TensorSpec>& ts = w.layout().tensors();
  const TensorSpec* bias = nullptr;
  for (auto it = ts.rbegin(); it != ts.rend(); ++it) {
    if (it->kind != TensorKind::kParameter) continue;
    if (it->shape.size() == 1 && bias == nullptr) {
      bias = &*it;
    } else if (it->shape.size() == 2) {
      SwapFirstRows(*it, w);
      if (bias != nullptr && bias->shape[0] == it->shape[0]) {
        SwapFirstRows(*bias, w);
      }
      return;
    }
  }
}

void ClassSwap(double scale, const Weights& global, Weights& local) {
  SwapOutputClasses(local);
  ScaleDelta(scale, global, local);
}

}  // namespace

void FlipLabels(int classes, std::vector<uint8_t>& labels) {
  for (uint8_t& y : labels) {
    if (y < classes) y = static_cast<uint8_t>(classes - 1 - y);
  }
}

std::vector<std::string> AttackNames() {
  std::vector<std::string> names;
  for (const auto& a : kAttacks) names.emplace_back(a.name);
  return names;
}

absl::StatusOr<Attack> ParseAttack(absl::string_view name) {
  for (const auto& a : kAttacks) {
    if (a.name == name) return a.attack;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown attack \"", name, "\" (expected one of ",
                   absl::StrJoin(AttackNames(), ", "), ")"));
}

absl::string_view AttackName(Attack attack) {
  for (const auto& a : kAttacks) {
    if (a.attack == attack) return a.name;
  }
  return "none";
}

void ApplyAttack(Attack attack, double scale, uint64_t seed,
                 const Weights& global, Weights& local) {
  if (global.layout() != local.layout()) return;
  switch (attack) {
    case Attack::kNone:
      return;
    case Attack::kRandom:
      return RandomNoise(scale, seed, global, local);
    case Attack::kSignFlip:
      return ScaleDelta(-scale, global, local);
    case Attack::kScale:
      return ScaleDelta(scale, global, local);
    case Attack::kNan:
      return InjectNans(seed, global, local);
    case Attack::kClassSwap:
      return ClassSwap(scale, global, local);
    case Attack::kLabelFlip:
      return;  // its data was poisoned (FlipLabels)
  }
}

}  // namespace tandem
