// The coordinator's auxiliary classifiers (offload.mode "local_loss"): one
// global classifier per split point, sent with the head to every device that
// trains on a local loss at that split point, and replaced after each
// aggregated round by the sample-weighted mean of the classifiers those
// devices sent back.
//
// Why one per split point, averaged: a classifier re-initialised every round
// gives the head a random loss for its first batches; one kept per device is
// lost when the device changes split point or leaves; averaging it like the
// head it trains with is FedAvg on the device-side model (Han et al. 2021).
//
// Not thread-safe: the Coordinator guards it with its mutex.
#ifndef TANDEM_SERVER_AUX_STORE_H_
#define TANDEM_SERVER_AUX_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/checkpoint.h"
#include "ml/model.h"

namespace tandem::server {

class AuxStore {
 public:
  // `model` outlives the store; classifiers start from InitAux(seed).
  AuxStore(const ml::Model* model, uint64_t seed);

  // The global classifier at `split` (1 .. stages - 1).
  std::shared_ptr<const std::vector<float>> Get(int split);
  // Checks a device's classifier: the size for `split`, finite values.
  absl::Status Check(int split, const std::vector<float>& weights) const;
  // Counts a checked classifier from `device`'s accepted update into this
  // round (a second one from the same device replaces the first).
  void Add(int split, const std::string& device,
           const std::vector<float>& weights, int64_t samples);
  // The round was aggregated: each split point's mean replaces its
  // classifier. The sums run in device-id order, so the mean does not depend
  // on the order the updates arrived in.
  void Commit();
  // The round failed: forget what it added.
  void Discard() { added_.clear(); }
  // Forgets what `device` added this round (over-selection left it out).
  void Withdraw(const std::string& device) {
    for (auto& [split, by_device] : added_) by_device.erase(device);
  }
  // The classifiers, for a checkpoint: arrays "aux.<split point>".
  void Save(RunState* out) const;
  // Takes back Save's arrays, each checked as Check does.
  absl::Status Load(const RunState& in);

 private:
  struct Contribution {
    std::vector<float> weights;
    int64_t samples = 0;
  };
  // split point -> device id -> its classifier this round.
  using Round = std::map<int, std::map<std::string, Contribution>>;

  static std::vector<float> WeightedMean(
      const std::map<std::string, Contribution>& by_device);

  const ml::Model* const model_;
  const uint64_t seed_;
  std::map<int, std::shared_ptr<const std::vector<float>>> global_;
  Round added_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_AUX_STORE_H_
