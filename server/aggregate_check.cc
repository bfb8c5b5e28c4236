#include "server/aggregate_check.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"

namespace tandem::server {

absl::StatusOr<std::string> AggregateCheck::Vet(int64_t round,
                                                const Weights& aggregate,
                                                RoundRecord* rec) {
  absl::Status finite = aggregate.CheckFinite();
  if (!finite.ok()) return absl::StrCat("the aggregate ", finite.message());
  const bool last = round == config_.server.rounds;
  if (round % config_.server.eval_every != 0 && !last) return std::string();
  TANDEM_ASSIGN_OR_RETURN(ml::EvalStats e, evaluator_.Evaluate(aggregate));
  rec->evaluated = true;
  rec->accuracy = e.accuracy;
  rec->loss = e.loss;
  if (!std::isfinite(e.loss)) return std::string("its test loss is not finite");
  const double drop = config_.server.rollback_accuracy_drop;
  if (accepted_accuracy_ >= 0 && e.accuracy < accepted_accuracy_ - drop) {
    return absl::StrFormat(
        "its test accuracy %.4f is more than server.rollback_accuracy_drop "
        "(%g) below the last accepted model's %.4f",
        e.accuracy, drop, accepted_accuracy_);
  }
  return std::string();
}

void AggregateCheck::Accepted(const RoundRecord& rec) {
  if (rec.evaluated) accepted_accuracy_ = rec.accuracy;
}

}  // namespace tandem::server
