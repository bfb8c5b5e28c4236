// DeviceGateway under buffered aggregation (strategy.buffer_size > 0): tasks
// come from the device's flight, updates wait in it for the Coordinator's
// loop (server/flights.h), which weighs them by staleness and aggregates.
#include "absl/strings/str_cat.h"
#include "core/seeds.h"
#include "server/device_gateway.h"

namespace tandem::server {

TaskAssignment DeviceGateway::FlightTaskLocked(const std::string& id) {
  state_.flights->Pull(id);
  const Flight& f = *state_.flights->Find(id);
  TaskAssignment task;
  task.header = state_.round->header;
  task.header.set_round(f.version);
  // Each task its own seed: a device may train twice on one version.
  task.header.mutable_training()->set_seed(
      StreamSeed(state_.config.seed, static_cast<uint64_t>(f.serial)));
  if (state_.virtual_time) {
    task.header.set_virtual_start_s(f.start_s);
    task.header.set_announce_min_time(true);
  }
  task.weights = f.base;
  return task;
}

absl::Status DeviceGateway::ArriveLocked(const v1::UpdateHeader& h,
                                         DeviceRecord* d, Weights weights) {
  const Flight& f = *state_.flights->Find(h.device_id());
  DeviceRoundRecord rec = NewRecord(h, *d, f.version, state_.stages);
  absl::Status on_time = RefuseLateLocked(rec, d);
  if (!on_time.ok()) return on_time;
  const double finish_s =
      state_.virtual_time ? f.start_s + rec.measurements.round_time_s() : Now();
  if (finish_s < f.not_before_s) {  // reports may have been taken past it
    const std::string why = absl::StrCat(
        "its round took ", rec.measurements.round_time_s(),
        " s, less than the ", f.not_before_s - f.start_s, " s it announced");
    state_.round->Leave(*d, DeviceRoundRecord::Status::kRejected, "malformed");
    return state_.admission.Reject(d, state_.round.get(), "malformed",
                                   absl::InvalidArgumentError(why));
  }
  state_.flights->Arrive(h.device_id(), NewUpdate(h, std::move(weights)),
                         std::move(rec), finish_s);
  return absl::OkStatus();
}

void DeviceGateway::AnnounceFlightLocked(const v1::HeartbeatRequest& req) {
  const double seconds = req.min_round_time_s();
  if (!state_.virtual_time || !(seconds > 0) ||
      !(seconds <= state_.config.server.round_deadline_s)) {
    return;  // also NaN: ignored, the flight keeps its start as its bound
  }
  const Flight* f = state_.flights->Find(req.device_id());
  if (f != nullptr && f->version == req.round()) {
    state_.flights->Announce(req.device_id(), seconds);
  }
}

void DeviceGateway::AbandonFlightLocked(DeviceRecord* d, int64_t round,
                                        const std::string& reason) {
  const Flight* f = state_.flights->Find(d->id);
  if (f != nullptr && f->version == round &&
      state_.flights->End(d->id, reason)) {
    ++d->dropouts;
  }
}

}  // namespace tandem::server
