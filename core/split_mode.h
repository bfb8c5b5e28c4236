// How an offloading device's split training runs, the one type for it
// (config: offload.mode picks among these, "auto" = both; wire:
// tandem.v1.SplitMode, converted only here):
//   kExact:     SplitFed-v1, the device waits for the gradient at the cut
//               every batch (the same weights as unsplit training);
//   kLocalLoss: the device trains its head against a local classifier and
//               streams activations without waiting.
#ifndef TANDEM_CORE_SPLIT_MODE_H_
#define TANDEM_CORE_SPLIT_MODE_H_

#include "proto/tandem.pb.h"

namespace tandem {

enum class SplitMode { kExact, kLocalLoss };

// "exact" / "local_loss".
inline const char* SplitModeName(SplitMode mode) {
  return mode == SplitMode::kLocalLoss ? "local_loss" : "exact";
}

inline v1::SplitMode ToProto(SplitMode mode) {
  return mode == SplitMode::kLocalLoss ? v1::LOCAL_LOSS : v1::EXACT;
}
inline SplitMode FromProto(v1::SplitMode mode) {
  return mode == v1::LOCAL_LOSS ? SplitMode::kLocalLoss : SplitMode::kExact;
}

}  // namespace tandem

#endif  // TANDEM_CORE_SPLIT_MODE_H_
