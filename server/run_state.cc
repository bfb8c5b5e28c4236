#include "server/run_state.h"

#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/json_reader.h"
#include "core/status_macros.h"

namespace tandem::server {
namespace {

constexpr double kHuge = 1e300;
constexpr int kMaxStages = 64;

absl::Status DeviceFromJson(const nlohmann::json& json, const std::string& path,
                            DeviceRecord* d) {
  JsonObjectReader r(json, path);
  r.Int("rounds", &d->rounds, 0);
  r.Double("round_time_sum_s", &d->round_time_sum_s, 0, kHuge);
  r.Int64("samples", &d->samples);
  r.Double("energy_j", &d->energy_j, 0, kHuge);
  r.Int("dropouts", &d->dropouts, 0);
  r.Int("clipped", &d->clipped, 0);
  r.Int("last_split", &d->last_split, 0, kMaxStages);
  r.Int("partition", &d->partition, -1);
  r.Double("measured_slowdown", &d->measured_slowdown, 0, kHuge);
  r.Int64("timed_examples", &d->timed_examples);
  if (const nlohmann::json* s = r.Child("stage_seconds")) {
    if (!s->is_array() || s->size() > kMaxStages) {
      r.Fail("stage_seconds", "expected an array of at most 64 numbers");
    } else {
      for (const nlohmann::json& x : *s) {
        if (!x.is_number() || !(x.get<double>() >= 0)) {
          r.Fail("stage_seconds", "expected numbers >= 0");
          break;
        }
        d->stage_seconds.push_back(x.get<double>());
      }
    }
  }
  if (const nlohmann::json* rej = r.Child("rejections")) {
    auto counts = CountsFromJson(*rej, r.PathOf("rejections"));
    if (counts.ok()) {
      d->rejections = *std::move(counts);
    } else {
      return counts.status();
    }
  }
  return r.Finish();
}

}  // namespace

nlohmann::json TallyToJson(const RunTally& t) {
  return {{"rounds_done", t.rounds_done},
          {"failed_attempts", t.failed_attempts},
          {"rollbacks", t.rollbacks},
          {"virtual_time_s", t.virtual_time_s},
          {"final_accuracy", t.final_accuracy},
          {"best_accuracy", t.best_accuracy},
          {"final_loss", t.final_loss},
          {"target_reached", t.target_reached},
          {"target_round", t.target_round},
          {"target_virtual_s", t.target_virtual_s},
          {"target_wall_s", t.target_wall_s}};
}

absl::StatusOr<RunTally> TallyFromJson(const nlohmann::json& json) {
  RunTally t;
  JsonObjectReader r(json, "$.state.tally");
  r.Int("rounds_done", &t.rounds_done, 0);
  r.Int("failed_attempts", &t.failed_attempts, 0);
  r.Int("rollbacks", &t.rollbacks, 0);
  r.Double("virtual_time_s", &t.virtual_time_s, 0, kHuge);
  r.Double("final_accuracy", &t.final_accuracy, 0, 1);
  r.Double("best_accuracy", &t.best_accuracy, 0, 1);
  r.Double("final_loss", &t.final_loss, 0, kHuge);
  r.Bool("target_reached", &t.target_reached);
  r.Int64("target_round", &t.target_round);
  r.Double("target_virtual_s", &t.target_virtual_s, 0, kHuge);
  r.Double("target_wall_s", &t.target_wall_s, 0, kHuge);
  TANDEM_RETURN_IF_ERROR(r.Finish());
  return t;
}

nlohmann::json DevicesToJson(
    const std::map<std::string, DeviceRecord>& devices) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [id, d] : devices) {
    out[id] = {{"rounds", d.rounds},
               {"round_time_sum_s", d.round_time_sum_s},
               {"samples", d.samples},
               {"energy_j", d.energy_j},
               {"rejections", d.rejections},
               {"dropouts", d.dropouts},
               {"clipped", d.clipped},
               {"last_split", d.last_split},
               {"partition", d.partition},
               {"measured_slowdown", d.measured_slowdown},
               {"stage_seconds", d.stage_seconds},
               {"timed_examples", d.timed_examples}};
  }
  return out;
}

absl::StatusOr<std::map<std::string, DeviceRecord>> DevicesFromJson(
    const nlohmann::json& json) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError("$.state.devices: expected an object");
  }
  std::map<std::string, DeviceRecord> devices;
  int index = 0;
  for (const auto& [id, value] : json.items()) {
    const std::string path = absl::StrCat("$.state.devices[", index++, "]");
    if (!IsValidDeviceId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a device id (1-128 bytes)"));
    }
    DeviceRecord d;
    d.id = id;
    d.left = true;
    TANDEM_RETURN_IF_ERROR(DeviceFromJson(value, path, &d));
    devices.emplace(id, std::move(d));
  }
  return devices;
}

absl::StatusOr<std::map<std::string, int>> CountsFromJson(
    const nlohmann::json& json, const std::string& path) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected an object of counts"));
  }
  std::map<std::string, int> counts;
  for (const auto& [reason, n] : json.items()) {
    if (!n.is_number_integer() || n.get<int64_t>() < 0 ||
        n.get<int64_t>() > std::numeric_limits<int>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": expected counts >= 0"));
    }
    counts[reason] = n.get<int>();
  }
  return counts;
}

}  // namespace tandem::server
