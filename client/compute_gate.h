// A counting semaphore bounding how many simulated devices compute at once,
// so N device threads share the machine's cores without thrashing. The
// waiter with the most work goes first (ties: the first to ask): a round's
// longest trainings start early instead of leaving one core idle at the
// end while the last one finishes.
// Thread-safe.
#ifndef TANDEM_CLIENT_COMPUTE_GATE_H_
#define TANDEM_CLIENT_COMPUTE_GATE_H_

#include <cstdint>
#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tandem::client {

class ComputeGate {
 public:
  explicit ComputeGate(int slots) : free_(slots < 1 ? 1 : slots) {}

  // Waits for a slot; `work` (e.g. examples to train) orders the waiters.
  void Acquire(int64_t work = 0) {
    absl::MutexLock lock(&mu_);
    const Turn turn{this, {-work, next_++}};
    waiting_.insert(turn.key);
    mu_.Await(absl::Condition(&turn, &Turn::Ready));
    waiting_.erase(turn.key);
    --free_;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    ++free_;
  }

 private:
  using Key = std::pair<int64_t, uint64_t>;  // (-work, arrival)
  struct Turn {
    ComputeGate* gate;
    Key key;
    bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(gate->mu_) {
      return gate->free_ > 0 && *gate->waiting_.begin() == key;
    }
  };

  absl::Mutex mu_;
  int free_ ABSL_GUARDED_BY(mu_);
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<Key> waiting_ ABSL_GUARDED_BY(mu_);
};

// Holds a slot for its scope; a null gate is no gate.
class ComputeSlot {
 public:
  explicit ComputeSlot(ComputeGate* gate, int64_t work = 0) : gate_(gate) {
    if (gate_ != nullptr) gate_->Acquire(work);
  }
  ~ComputeSlot() {
    if (gate_ != nullptr) gate_->Release();
  }
  ComputeSlot(const ComputeSlot&) = delete;
  ComputeSlot& operator=(const ComputeSlot&) = delete;

 private:
  ComputeGate* gate_;
};

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_COMPUTE_GATE_H_
