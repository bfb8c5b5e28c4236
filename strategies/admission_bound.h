// Adaptive admission: the bound every strategy clips updates to, from the
// norms of the updates it accepted before (Andrew et al., "Differentially
// Private Learning with Adaptive Clipping", 2021, track a quantile of the
// norms the same way).
//
// A round's bound is `multiplier` x the median of ||update - global|| over
// the updates accepted in the last round that accepted any, so one device
// of many cannot move it, and it follows honest norms as they shrink over
// training. A round with no round before it (the first of a run, level 0)
// is bounded by its own median instead: its strategy keeps its updates and
// clips them when the round closes (Strategy::FinishRound). The median is
// over the set of accepted norms, so the bound does not depend on the order
// updates arrived in.
#ifndef TANDEM_STRATEGIES_ADMISSION_BOUND_H_
#define TANDEM_STRATEGIES_ADMISSION_BOUND_H_

#include <map>
#include <string>

namespace tandem {

// Not thread-safe (owned by a Strategy).
class AdmissionBound {
 public:
  // multiplier 0: no bound ever (admission off).
  explicit AdmissionBound(double multiplier = 0) : multiplier_(multiplier) {}
  double multiplier() const { return multiplier_; }

  // The open round's bound on ||update - global||; 0 = none.
  double bound() const { return multiplier_ * level_; }
  // The median norm the bound follows (0 before the first round ended).
  double level() const { return level_; }

  // `device_id`'s update was accepted with this norm (before any clipping).
  void Observe(const std::string& device_id, double norm) {
    norms_[device_id] = norm;
  }
  // Its accepted update was withdrawn.
  void Forget(const std::string& device_id) { norms_.erase(device_id); }
  // A round opens: the norms of a round abandoned open are dropped.
  void BeginRound() { norms_.clear(); }
  // The open round's norms, by device id.
  const std::map<std::string, double>& round_norms() const { return norms_; }
  // The median of the open round's norms (the mean of the middle two for
  // an even count); 0 when it accepted none.
  double RoundMedian() const;
  // The round closed: the level becomes RoundMedian(), if it accepted any.
  void EndRound();
  // Restores a checkpoint's level (>= 0 and finite; else false).
  bool set_level(double level);

 private:
  double multiplier_;
  double level_ = 0;
  std::map<std::string, double> norms_;  // the open round's, by device id
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_ADMISSION_BOUND_H_
