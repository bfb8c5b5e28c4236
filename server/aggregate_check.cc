#include "server/aggregate_check.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/log.h"
#include "core/status_macros.h"

namespace tandem::server {
namespace {

// "a (norm 1.2), b (norm 0.9), c (norm 0.7)": the round's accepted updates
// with the largest norms, largest first (ties: by device id).
std::string LargestUpdates(const std::vector<DeviceRoundRecord>& devices) {
  std::vector<const DeviceRoundRecord*> accepted;
  for (const DeviceRoundRecord& d : devices) {
    if (d.status == DeviceRoundRecord::Status::kAccepted) {
      accepted.push_back(&d);
    }
  }
  std::sort(accepted.begin(), accepted.end(),
            [](const DeviceRoundRecord* a, const DeviceRoundRecord* b) {
              if (a->update_norm != b->update_norm) {
                return a->update_norm > b->update_norm;
              }
              return a->device < b->device;
            });
  if (accepted.size() > 3) accepted.resize(3);
  std::string out;
  for (const DeviceRoundRecord* d : accepted) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", EscapeForLog(d->device),
                    absl::StrFormat(" (norm %.4g)", d->update_norm));
  }
  return out;
}

}  // namespace

absl::StatusOr<Verdict> AggregateCheck::Vet(
    int64_t round, const Weights& aggregate,
    const std::vector<DeviceRoundRecord>& devices, RoundRecord* rec) {
  absl::Status finite = aggregate.CheckFinite();
  if (!finite.ok()) {
    return Verdict{true, absl::StrCat("the aggregate ", finite.message())};
  }
  const bool last = round == config_.server.rounds;
  if (round % config_.server.eval_every != 0 && !last) return Verdict();
  TANDEM_ASSIGN_OR_RETURN(ml::EvalStats e, evaluate_(aggregate));
  rec->evaluated = true;
  rec->accuracy = e.accuracy;
  rec->loss = e.loss;
  if (!std::isfinite(e.loss)) {
    return Verdict{true, "its test loss is not finite"};
  }
  if (recent_.empty()) return Verdict();
  const double best = *std::max_element(recent_.begin(), recent_.end());
  const double drop = config_.server.rollback_accuracy_drop;
  if (e.accuracy >= best - drop) return Verdict();
  return Verdict{
      true,
      absl::StrFormat(
          "its test accuracy %.4f is more than server.rollback_accuracy_drop "
          "(%g) below %.4f, the best of the last %d accepted models; largest "
          "updates: %s",
          e.accuracy, drop, best, static_cast<int>(recent_.size()),
          LargestUpdates(devices))};
}

void AggregateCheck::Accepted(const RoundRecord& rec) {
  if (!rec.evaluated) return;
  recent_.push_back(rec.accuracy);
  if (recent_.size() > kWindow) recent_.erase(recent_.begin());
}

void AggregateCheck::RestoreRecentAccuracies(std::vector<double> accuracies) {
  recent_ = std::move(accuracies);
  if (recent_.size() > kWindow) {
    recent_.erase(recent_.begin(), recent_.end() - kWindow);
  }
}

}  // namespace tandem::server
