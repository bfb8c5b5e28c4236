// Whether a round's aggregate may replace the global model: the check whose
// failure rolls a round back (the global model stays as it was).
//
//   TANDEM_ASSIGN_OR_RETURN(Verdict v, check.Vet(round, next, devices, &rec));
//   if (!v.roll_back) { install next; check.Accepted(rec); } else roll back;
//
// Not thread-safe: the coordinator's round loop uses it.
#ifndef TANDEM_SERVER_AGGREGATE_CHECK_H_
#define TANDEM_SERVER_AGGREGATE_CHECK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/weights.h"
#include "ml/trainer.h"
#include "server/round_records.h"

namespace tandem::server {

// Whether an aggregate may replace the global model, and if not, why.
struct Verdict {
  bool roll_back = false;
  std::string why;  // when roll_back
};

class AggregateCheck {
 public:
  // Accepted models whose accuracy is the reference: the best of the last
  // kWindow evaluated ones, so that a series of small drops adds up to a
  // rollback as one large drop does.
  static constexpr int kWindow = 10;

  // Accuracy and loss of a model on the test set (Evaluator::Evaluate).
  using EvaluateFn =
      std::function<absl::StatusOr<ml::EvalStats>(const Weights&)>;

  // `config` outlives the check.
  AggregateCheck(const Config& config, EvaluateFn evaluate)
      : config_(config), evaluate_(std::move(evaluate)) {}

  // Whether `aggregate` may replace the global model. It is rolled back for
  // values that are not finite; and, in rounds that are evaluated
  // (server.eval_every, and the last), a test loss that is not finite or an
  // accuracy more than server.rollback_accuracy_drop below the best of the
  // last kWindow accepted models'. A rollback for accuracy names the
  // round's three largest updates (`devices`: the round's records).
  // Evaluating fills `rec`'s accuracy and loss.
  absl::StatusOr<Verdict> Vet(int64_t round, const Weights& aggregate,
                              const std::vector<DeviceRoundRecord>& devices,
                              RoundRecord* rec);
  // `rec`'s aggregate replaced the global model.
  void Accepted(const RoundRecord& rec);
  // The last accepted evaluated models' accuracies, oldest first (at most
  // kWindow), kept in checkpoints.
  const std::vector<double>& recent_accuracies() const { return recent_; }
  // Restores recent_accuracies(); the last kWindow are kept.
  void RestoreRecentAccuracies(std::vector<double> accuracies);

 private:
  const Config& config_;
  EvaluateFn evaluate_;
  std::vector<double> recent_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_AGGREGATE_CHECK_H_
