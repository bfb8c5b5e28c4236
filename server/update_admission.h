// Which updates may enter the aggregate. Before the weights are read, an
// update's header is checked: known device, its current session (compared
// in constant time), the open round, sampled, not yet reported, samples
// (at least one, at most its data partition's size: SampleCap), the layout
// its placement calls for, and its auxiliary classifier. Every rejection is
// counted by reason, per device and for the run, and logged.
//
// Not thread-safe: the Coordinator guards it with its mutex.
#ifndef TANDEM_SERVER_UPDATE_ADMISSION_H_
#define TANDEM_SERVER_UPDATE_ADMISSION_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/weights.h"
#include "proto/tandem.pb.h"
#include "server/aux_store.h"
#include "server/fleet_registry.h"
#include "server/metrics.h"
#include "server/round_state.h"
#include "server/sample_cap.h"

namespace tandem::server {

// Every reason UpdateAdmission counts: its own header checks, the
// strategies' (RejectReasonName) and the coordinator's ("malformed",
// "split_incomplete", "split_failed"). The metrics' label values.
const std::vector<std::string>& RejectionReasons();

// What an update header is checked against.
struct AdmissionContext {
  FleetRegistry* registry = nullptr;
  RoundState* round = nullptr;  // null before the first round
  const WeightsLayout* global = nullptr;
  const AuxStore* aux = nullptr;
  // Most samples each device may claim; null: SampleCap::kMaxSamples.
  const SampleCap* sample_cap = nullptr;
  // offload.on_failure "local": an offloading device may send the whole
  // model after its split stream failed.
  bool fallback_local = false;
  double now_s = 0;
};

class UpdateAdmission {
 public:
  // OK, or the rejection (already counted). Sets *device to the sender's
  // record (null when unknown) and, if the session is its own, marks it
  // heard from. A rejection for the update's content also ends the
  // device's round.
  absl::Status CheckHeader(const v1::UpdateHeader& header,
                           const AdmissionContext& context,
                           DeviceRecord** device);
  // Counts a rejection of `device`'s update (null: unknown device) in the
  // open `round` (may be null) and returns `status`.
  absl::Status Reject(DeviceRecord* device, RoundState* round,
                      const std::string& reason, absl::Status status);
  // Counts a failure that is not an update's (a broken split stream).
  void Count(DeviceRecord* device, const std::string& reason);

  const std::map<std::string, int>& counts() const { return counts_; }
  // The counts of a checkpoint's run.
  void RestoreCounts(std::map<std::string, int> counts) {
    counts_ = std::move(counts);
  }
  // Every counted rejection also goes to `metrics` (outlives this).
  void ReportTo(CoordinatorMetrics* metrics) { metrics_ = metrics; }

 private:
  absl::Status CheckRound(const v1::UpdateHeader& header,
                          const AdmissionContext& context, DeviceRecord* d);
  // Buffered aggregation: the device's task is in flight, of that round.
  absl::Status CheckFlight(const v1::UpdateHeader& header,
                           const AdmissionContext& context, DeviceRecord* d);
  absl::Status CheckContent(const v1::UpdateHeader& header,
                            const AdmissionContext& context, DeviceRecord* d);

  std::map<std::string, int> counts_;  // reason -> rejections in the run
  std::string last_rejection_;         // the reason Reject() last counted
  CoordinatorMetrics* metrics_ = nullptr;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_UPDATE_ADMISSION_H_
