// The coordinator's part of a checkpoint's RunState (core/checkpoint.h):
// the run's tallies (rounds, virtual clock, target), every device's tallies
// with what the offload policies learnt of it, and the rejection counts, as
// JSON. Reading back is strict: errors name the JSON path
// ("$.state.tally.virtual_time_s: expected ...").
#ifndef TANDEM_SERVER_RUN_STATE_H_
#define TANDEM_SERVER_RUN_STATE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/fleet_registry.h"
#include "server/round_records.h"

namespace tandem::server {

nlohmann::json TallyToJson(const RunTally& tally);
absl::StatusOr<RunTally> TallyFromJson(const nlohmann::json& json);

// By device id: the tallies of DeviceRecord, its last split point, measured
// slowdown and stage timing. Not its session: a resumed coordinator has none.
nlohmann::json DevicesToJson(
    const std::map<std::string, DeviceRecord>& devices);
// The records of DevicesToJson, as devices that left: they come back with
// their tallies when they join again.
absl::StatusOr<std::map<std::string, DeviceRecord>> DevicesFromJson(
    const nlohmann::json& json);

// Rejection counts by reason.
absl::StatusOr<std::map<std::string, int>> CountsFromJson(
    const nlohmann::json& json, const std::string& path);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_RUN_STATE_H_
