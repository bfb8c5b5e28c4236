// Whether a round's aggregate may replace the global model: the check whose
// failure rolls a round back (the global model stays as it was).
//
//   TANDEM_ASSIGN_OR_RETURN(std::string why, check.Vet(round, next, &rec));
//   if (why.empty()) { install next; check.Accepted(rec); } else roll back;
//
// Not thread-safe: the coordinator's round loop uses it.
#ifndef TANDEM_SERVER_AGGREGATE_CHECK_H_
#define TANDEM_SERVER_AGGREGATE_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/weights.h"
#include "server/evaluator.h"
#include "server/round_records.h"

namespace tandem::server {

class AggregateCheck {
 public:
  // `config` and `evaluator` outlive the check.
  AggregateCheck(const Config& config, Evaluator* evaluator)
      : config_(config), evaluator_(*evaluator) {}

  // Why `aggregate` must not replace the global model ("" when it may):
  // values that are not finite; and, in rounds that are evaluated
  // (server.eval_every, and the last), a test loss that is not finite or an
  // accuracy more than server.rollback_accuracy_drop below the last accepted
  // model's. Evaluating fills `rec`'s accuracy and loss.
  absl::StatusOr<std::string> Vet(int64_t round, const Weights& aggregate,
                                  RoundRecord* rec);
  // `rec`'s aggregate replaced the global model.
  void Accepted(const RoundRecord& rec);
  // The last accepted model's accuracy (< 0: none), kept in checkpoints.
  double accepted_accuracy() const { return accepted_accuracy_; }
  void RestoreAcceptedAccuracy(double accuracy) {
    accepted_accuracy_ = accuracy;
  }

 private:
  const Config& config_;
  Evaluator& evaluator_;
  double accepted_accuracy_ = -1;  // of the last accepted model; < 0: none
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_AGGREGATE_CHECK_H_
