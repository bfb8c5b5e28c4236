// Server-side optimisers of the FedAvg family: FedAvgM's momentum and FedOpt's
// Adam, Yogi and Adagrad (Reddi et al., "Adaptive Federated Optimization",
// 2020). They treat the sample-weighted mean client delta as a pseudo-gradient
// step and keep their state across rounds.
#ifndef TANDEM_STRATEGIES_SERVER_OPTIMIZER_H_
#define TANDEM_STRATEGIES_SERVER_OPTIMIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "core/checkpoint.h"
#include "core/weights.h"

namespace tandem {

// Not thread-safe.
class ServerOptimizer {
 public:
  virtual ~ServerOptimizer() = default;
  // Steps the parameter tensors of `model` (which holds the global model)
  // given `mean_delta`, the mean of (update - global) in the same layout.
  // Buffer tensors of `model` are not touched. Called once per successful
  // round (`round`, the number given to Strategy::BeginRound), with finite
  // inputs.
  virtual void Step(const WeightsLayout& layout, int64_t round,
                    absl::Span<const float> mean_delta,
                    absl::Span<float> model) = 0;
  // Its state for a checkpoint: arrays "strategy.<name>", the step count in
  // values["strategy"]. Load takes it back for models of `size` values;
  // nothing changes on error.
  virtual void Save(RunState* out) const = 0;
  virtual absl::Status Load(const RunState& in, size_t size) = 0;
};

// Reads the array `key` of `in` into `out` (left empty when absent: the
// optimiser had not stepped yet). InvalidArgument unless it has `size`
// finite values.
absl::Status LoadStateArray(const RunState& in, const std::string& key,
                            size_t size, std::vector<float>* out);

// FedAvgM: m = momentum * m + (global - mean) (m = global - mean on the first
// step); new = global - server_learning_rate * m.
std::unique_ptr<ServerOptimizer> NewServerMomentum(double server_learning_rate,
                                                   double server_momentum);

enum class FedOptKind { kAdam, kYogi, kAdagrad };

// The step number t in Adam's bias correction.
enum class BiasCorrectionStep {
  // t = 1, 2, ...: the server steps taken, so a resumed or retried run
  // steps as an uninterrupted one.
  kServerSteps,
  // t = round + 1, as Flower's FedAdam (server_round + 1): t = 2 on round 1.
  kRoundPlusOne,
};

struct FedOptHyper {
  double eta = 0.1;      // server learning rate
  double beta_1 = 0.9;   // first-moment decay
  double beta_2 = 0.99;  // second-moment decay (Adam, Yogi)
  double tau = 1e-9;     // adaptivity: added to sqrt(v)
  BiasCorrectionStep bias_step = BiasCorrectionStep::kServerSteps;  // Adam
};

// With delta d (the mean client delta), per coordinate:
//   m = beta_1 * m + (1 - beta_1) * d
//   Adam:    v = beta_2 * v + (1 - beta_2) * d^2
//   Yogi:    v = v - (1 - beta_2) * d^2 * sign(v - d^2)
//   Adagrad: v = v + d^2
//   new = global + eta_t * m / (sqrt(v) + tau)
// m and v start at 0. eta_t = eta, except Adam's bias-corrected
// eta * sqrt(1 - beta_2^t) / (1 - beta_1^t), t as hyper.bias_step says.
std::unique_ptr<ServerOptimizer> NewFedOpt(FedOptKind kind, FedOptHyper hyper);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_SERVER_OPTIMIZER_H_
