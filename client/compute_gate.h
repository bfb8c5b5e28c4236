// A counting semaphore bounding how many simulated devices compute at once,
// so N device threads share the machine's cores without thrashing.
// Thread-safe.
#ifndef TANDEM_CLIENT_COMPUTE_GATE_H_
#define TANDEM_CLIENT_COMPUTE_GATE_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tandem::client {

class ComputeGate {
 public:
  explicit ComputeGate(int slots) : free_(slots < 1 ? 1 : slots) {}

  void Acquire() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* free) { return *free > 0; }, &free_));
    --free_;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    ++free_;
  }

 private:
  absl::Mutex mu_;
  int free_ ABSL_GUARDED_BY(mu_);
};

// Holds a slot for its scope; a null gate is no gate.
class ComputeSlot {
 public:
  explicit ComputeSlot(ComputeGate* gate) : gate_(gate) {
    if (gate_ != nullptr) gate_->Acquire();
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
