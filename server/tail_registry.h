// The tails of the open round's offloading devices. A device's split stream
// makes its tail (its own copy of stages [split, L) of the global model);
// the stream's handler trains it; the device's head update is then joined
// with it into one full update, and the tail is freed.
//
// MakeTail() is thread-safe; a TailRegistry is guarded by the Coordinator's
// mutex.
#ifndef TANDEM_SERVER_TAIL_REGISTRY_H_
#define TANDEM_SERVER_TAIL_REGISTRY_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/weights.h"
#include "ml/model.h"
#include "ml/profile.h"
#include "proto/tandem.pb.h"
#include "server/round_state.h"
#include "server/tail_session.h"

namespace tandem::server {

// A head update joined with its tail.
struct JoinedUpdate {
  Weights full;
  double tail_s = 0;  // the tail's compute, x its share of the coordinator
  int64_t tail_batches = 0;
  SplitMode mode = SplitMode::kExact;
};

// What every tail of a run is built from.
struct TailSettings {
  const Config* config = nullptr;
  ml::InputShape input;
  int num_stages = 1;
  // Simulated stage costs (null: the tails' CPU time counts).
  std::shared_ptr<const ml::ModelProfile> profile;
  // LibTorch threads a tail trains with (<= 0: all cores). Results depend
  // on it, so it is set, never inherited from whichever thread set last.
  int compute_threads = 0;
};

// A new tail for `device` at `split` over `global`, not yet registered.
// Call on the thread that trains it (the stream's handler): sets that
// thread's LibTorch threads to settings.compute_threads.
absl::StatusOr<std::shared_ptr<TailSession>> MakeTail(
    const TailSettings& settings, const std::string& device, int64_t round,
    int split, SplitMode mode, double tail_share, const Weights& global);

class TailRegistry {
 public:
  // Whether `open` may start a tail in `round` (null: none yet): the round
  // is open and waits for the device, the split point and mode are its
  // task's, and it has no tail yet.
  absl::Status CheckOpen(const RoundState* round,
                         const v1::SplitOpen& open) const;
  // Registers `tail`; AlreadyExists when its device has one.
  absl::Status Add(std::shared_ptr<TailSession> tail);
  bool Has(const std::string& device) const { return tails_.count(device); }
  // Frees `tail` if it is still its device's (a broken stream).
  void Remove(const std::shared_ptr<TailSession>& tail);
  // Frees the device's tail (it trained the whole model instead).
  void Drop(const std::string& device) { tails_.erase(device); }
  // Joins `head` and the device's completed tail over `global`, freeing
  // the tail; FailedPrecondition when it has none, or it is not complete.
  absl::StatusOr<JoinedUpdate> Join(const std::string& device,
                                    const Weights& head, const Weights& global,
                                    double tail_share);
  // The round closed: frees the tails of devices that never reported.
  void Clear() { tails_.clear(); }

 private:
  std::map<std::string, std::shared_ptr<TailSession>> tails_;
};

// Largest message a peer may send on this run: weight chunks (1 MiB) or one
// batch of fp32 activations at the model's widest split point, whichever is
// larger.
int64_t MaxMessageBytes(const ml::Model& model, int batch_size);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_TAIL_REGISTRY_H_
