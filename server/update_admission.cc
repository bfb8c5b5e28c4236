#include "server/update_admission.h"

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/status_macros.h"
#include "core/weights_codec.h"
#include "server/session_id.h"
#include "strategies/client_update.h"

namespace tandem::server {

const std::vector<std::string>& RejectionReasons() {
  static const auto* reasons = [] {
    auto* r = new std::vector<std::string>{
        "wrong_session", "not_sampled",      "too_many_samples", "aux_mismatch",
        "malformed",     "split_incomplete", "split_failed",     "late"};
    for (int i = 0; i < kNumRejectReasons; ++i) {
      r->emplace_back(RejectReasonName(static_cast<RejectReason>(i)));
    }
    return r;
  }();
  return *reasons;
}

absl::Status UpdateAdmission::Reject(DeviceRecord* device, RoundState* round,
                                     const std::string& reason,
                                     absl::Status status) {
  Count(device, reason);
  last_rejection_ = reason;
  if (round != nullptr && round->open) ++round->rejected;
  LogWarning(
      absl::StrCat("update rejected (", reason, "): ", status.message()));
  return status;
}

void UpdateAdmission::Count(DeviceRecord* device, const std::string& reason) {
  ++counts_[reason];
  if (metrics_ != nullptr) metrics_->UpdateRejected(reason);
  if (device != nullptr) ++device->rejections[reason];
}

absl::Status UpdateAdmission::CheckHeader(const v1::UpdateHeader& h,
                                          const AdmissionContext& c,
                                          DeviceRecord** device) {
  DeviceRecord* d = c.registry->Find(h.device_id());
  *device = d;
  if (d == nullptr) {
    return Reject(
        nullptr, c.round, "unknown_device",
        absl::NotFoundError(absl::StrCat("update from unknown device '",
                                         EscapeForLog(h.device_id()), "'")));
  }
  // Whoever else claims to be the device neither refreshes it nor ends
  // its round.
  if (d->left || !SessionMatches(d->session_id, h.session_id())) {
    return Reject(d, c.round, "wrong_session",
                  absl::FailedPreconditionError(
                      absl::StrCat("update from '", EscapeForLog(h.device_id()),
                                   "' without its current session")));
  }
  d->last_seen_s = c.now_s;
  TANDEM_RETURN_IF_ERROR(CheckRound(h, c, d));
  absl::Status content = CheckContent(h, c, d);
  if (!content.ok()) {
    c.round->Leave(*d, DeviceRoundRecord::Status::kRejected, last_rejection_);
  }
  return content;
}

absl::Status UpdateAdmission::CheckRound(const v1::UpdateHeader& h,
                                         const AdmissionContext& c,
                                         DeviceRecord* d) {
  const RoundState* r = c.round;
  if (r != nullptr && r->open && r->flights != nullptr) {
    return CheckFlight(h, c, d);
  }
  if (r == nullptr || !r->open || h.round() != r->number) {
    return Reject(
        d, c.round, "wrong_round",
        absl::FailedPreconditionError(absl::StrCat(
            "update for round ", h.round(), ", but round ", r ? r->number : 0,
            r && r->open ? " is open" : " is closed")));
  }
  if (r->sampled.count(h.device_id()) == 0) {
    return Reject(d, c.round, "not_sampled",
                  absl::FailedPreconditionError(
                      "update from a device not sampled for this round"));
  }
  if (r->pending.count(h.device_id()) == 0) {
    return Reject(d, c.round, "duplicate",
                  absl::AlreadyExistsError(
                      "this device already reported or abandoned this round"));
  }
  return absl::OkStatus();
}

absl::Status UpdateAdmission::CheckFlight(const v1::UpdateHeader& h,
                                          const AdmissionContext& c,
                                          DeviceRecord* d) {
  const Flight* f = c.round->flights->Find(h.device_id());
  if (f == nullptr) {
    return Reject(d, c.round, "not_sampled",
                  absl::FailedPreconditionError(
                      "update from a device that has no task in flight"));
  }
  if (f->version != h.round()) {
    return Reject(d, c.round, "wrong_round",
                  absl::FailedPreconditionError(
                      absl::StrCat("update for round ", h.round(),
                                   ", but its task is of "
                                   "round ",
                                   f->version)));
  }
  if (!f->busy()) {
    return Reject(d, c.round, "duplicate",
                  absl::AlreadyExistsError(
                      "this device already reported or abandoned its task"));
  }
  return absl::OkStatus();
}

absl::Status UpdateAdmission::CheckContent(const v1::UpdateHeader& h,
                                           const AdmissionContext& c,
                                           DeviceRecord* d) {
  const RoundState& r = *c.round;
  if (h.num_samples() <= 0) {
    return Reject(d, c.round, "no_samples",
                  absl::InvalidArgumentError("update with no samples"));
  }
  const int64_t cap = c.sample_cap != nullptr ? c.sample_cap->For(d->partition)
                                              : SampleCap::kMaxSamples;
  if (h.num_samples() > cap) {
    return Reject(d, c.round, "too_many_samples",
                  absl::InvalidArgumentError(absl::StrCat(
                      "update claims ", h.num_samples(),
                      " samples; its data partition holds ", cap)));
  }
  // An offloading device sends its head, or a whole locally trained model
  // after a failed split stream (offload.on_failure = "local") or when its
  // link was below the split point's break-even (offload.link_guard).
  auto layout = LayoutFromProto(h.layout());
  const std::string& id = h.device_id();
  const bool full = layout.ok() && *layout == *c.global &&
                    (c.fallback_local || r.Guarded(id));
  const WeightsLayout& expected =
      r.Offloads(id) && !full ? r.heads.at(r.SplitOf(id))->layout() : *c.global;
  const std::string diff = layout.ok() ? expected.DescribeDifference(*layout)
                                       : std::string(layout.status().message());
  if (!diff.empty()) {
    return Reject(d, c.round, "layout_mismatch",
                  absl::InvalidArgumentError(
                      absl::StrCat("update layout does not match: ", diff)));
  }
  if (!full && r.LocalLoss(id)) {
    absl::Status aux = c.aux->Check(
        r.SplitOf(id), {h.aux_weights().begin(), h.aux_weights().end()});
    if (!aux.ok()) return Reject(d, c.round, "aux_mismatch", aux);
  }
  return absl::OkStatus();
}

}  // namespace tandem::server
