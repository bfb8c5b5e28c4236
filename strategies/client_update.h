// A device's update as the strategies see it, and the reasons one is refused.
//
// Rejections are errors whose message starts with the reason's stable name
// ("duplicate: device d3 already sent an update in round 4"), so a caller can
// both log them and count them under RejectReasonName(reason).
#ifndef TANDEM_STRATEGIES_CLIENT_UPDATE_H_
#define TANDEM_STRATEGIES_CLIENT_UPDATE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/weights.h"

namespace tandem {

// What a device sends back after local training.
struct ClientUpdate {
  std::string device_id;
  int64_t round = 0;
  int64_t num_samples = 0;  // local training samples; the FedAvg weight
  Weights weights;          // the device's full model after local training
  double loss_before = 0;   // loss of the global model on the device's data
                            // (only qfedavg reads it; see needs_loss_before)
};

enum class RejectReason {
  kWrongRound = 0,      // stale or early round, or no round open
  kDuplicate = 1,       // the device already contributed to this round
  kLayoutMismatch = 2,  // tensors differ from the global model's
  kNonFinite = 3,       // a NaN or infinity among the values
  kNormTooLarge = 4,    // ||update - global|| above the bound
  kNoSamples = 5,       // num_samples <= 0
  kUnknownDevice = 6,   // not among the devices sampled for the round
  kInvalidLoss = 7,     // loss_before negative or not finite (qfedavg)
};
inline constexpr int kNumRejectReasons = 8;

// "wrong_round", "duplicate", "layout_mismatch", "non_finite",
// "norm_too_large", "no_samples", "unknown_device", "invalid_loss". Stable:
// used as metric keys.
absl::string_view RejectReasonName(RejectReason reason);

// The error for a rejected update: "<reason name>: <detail>", with a status
// code matching the reason (FailedPrecondition for kWrongRound, AlreadyExists
// for kDuplicate, PermissionDenied for kUnknownDevice, InvalidArgument
// otherwise). Sets *out to `reason` when out is non-null.
absl::Status RejectUpdate(RejectReason reason, absl::string_view detail,
                          RejectReason* out);

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_CLIENT_UPDATE_H_
