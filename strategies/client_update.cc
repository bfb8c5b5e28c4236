#include "strategies/client_update.h"

#include "absl/strings/str_cat.h"

namespace tandem {

absl::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kWrongRound:
      return "wrong_round";
    case RejectReason::kDuplicate:
      return "duplicate";
    case RejectReason::kLayoutMismatch:
      return "layout_mismatch";
    case RejectReason::kNonFinite:
      return "non_finite";
    case RejectReason::kNormTooLarge:
      return "norm_too_large";
    case RejectReason::kNoSamples:
      return "no_samples";
    case RejectReason::kUnknownDevice:
      return "unknown_device";
    case RejectReason::kInvalidLoss:
      return "invalid_loss";
  }
  return "unknown";
}

absl::Status RejectUpdate(RejectReason reason, absl::string_view detail,
                          RejectReason* out) {
  if (out != nullptr) *out = reason;
  std::string message = absl::StrCat(RejectReasonName(reason), ": ", detail);
  switch (reason) {
    case RejectReason::kWrongRound:
      return absl::FailedPreconditionError(message);
    case RejectReason::kDuplicate:
      return absl::AlreadyExistsError(message);
    case RejectReason::kUnknownDevice:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

}  // namespace tandem
