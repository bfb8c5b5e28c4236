// Base of the robust strategies (fedmedian, fedtrimmedavg, krum, multikrum,
// bulyan), which need every update at once: it validates each update in one
// read, keeps a copy, and hands the set to the subclass sorted by device id so
// results do not depend on arrival order. Memory O(updates x model).
#ifndef TANDEM_STRATEGIES_STORING_STRATEGY_H_
#define TANDEM_STRATEGIES_STORING_STRATEGY_H_

#include <string>
#include <vector>

#include "strategies/strategy.h"

namespace tandem {

struct StoredUpdate {
  std::string device_id;
  int64_t num_samples = 0;
  Weights weights;
};

// Not thread-safe (see Strategy).
class StoringStrategy : public Strategy {
 protected:
  using Strategy::Strategy;

  // Aggregates `updates` (non-empty, sorted by device id).
  virtual absl::StatusOr<Weights> Aggregate(
      const std::vector<StoredUpdate>& updates) = 0;

  // Sample-weighted mean of the tensors of `kind` over updates[i] for i in
  // `chosen`, written into those tensors of `out`.
  static void WeightedMean(const std::vector<StoredUpdate>& updates,
                           const std::vector<int>& chosen, TensorKind kind,
                           Weights& out);

 private:
  absl::Status DoBeginRound() final;
  absl::Status DoAddUpdate(const ClientUpdate& update, Weights* owned,
                           RejectReason* reason) final;
  absl::StatusOr<Weights> DoFinishRound() final;
  void DoWithdraw(const std::string& device_id, int64_t num_samples) final;
  void DoClip(const std::string& device_id, double scale) final;

  std::vector<StoredUpdate> updates_;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_STORING_STRATEGY_H_
