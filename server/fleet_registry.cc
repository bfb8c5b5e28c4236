#include "server/fleet_registry.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "server/session_id.h"

namespace tandem::server {

void RecordTiming(DeviceRecord* d, const v1::StageTiming& t, int num_stages) {
  if (!d->stage_seconds.empty() || t.seconds_per_example_size() != num_stages ||
      t.examples() < 1 || t.examples() > (int64_t{1} << 31)) {
    return;
  }
  for (double s : t.seconds_per_example()) {
    if (!(s >= 0 && s < 1e3)) return;  // also rejects NaN
  }
  d->stage_seconds.assign(t.seconds_per_example().begin(),
                          t.seconds_per_example().end());
  d->timed_examples = t.examples();
}

DeviceRecord& FleetRegistry::Join(const std::string& id,
                                  const v1::HardwareProfile& profile,
                                  double now_s) {
  auto [it, inserted] = devices_.try_emplace(id);
  DeviceRecord& d = it->second;
  if (inserted) d.id = id;
  d.profile = profile;
  d.session_id = NewSessionId();
  d.last_seen_s = now_s;
  d.left = false;
  return d;
}

absl::Status FleetRegistry::MayJoin(const std::string& id,
                                    absl::string_view resume_session,
                                    double now_s, double timeout_s) const {
  auto it = devices_.find(id);
  if (it == devices_.end()) return absl::OkStatus();
  const DeviceRecord& d = it->second;
  const bool live = IsAvailable(d, now_s, timeout_s);
  if (!live || SessionMatches(d.session_id, resume_session)) {
    return absl::OkStatus();
  }
  return absl::AlreadyExistsError(absl::StrCat(
      "join: device '", EscapeForLog(id),
      "' has a live session; rejoin with it in resume_session, or wait until "
      "it has been silent for server.device_timeout_s (",
      timeout_s, " s)"));
}

absl::Status FleetRegistry::MakeRoom(const std::string& id, int max_devices,
                                     double now_s, double timeout_s) {
  if (devices_.count(id) > 0) return absl::OkStatus();
  if (static_cast<int>(devices_.size()) >= max_devices) {
    for (auto it = devices_.begin(); it != devices_.end();) {
      const DeviceRecord& d = it->second;
      const bool gone = !IsAvailable(d, now_s, timeout_s);
      it = gone && d.rounds == 0 && d.rejections.empty() ? devices_.erase(it)
                                                         : std::next(it);
    }
  }
  if (static_cast<int>(devices_.size()) >= max_devices) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "join: ", devices_.size(), " devices registered (server.max_devices)"));
  }
  return absl::OkStatus();
}

int FleetRegistry::TakeFreePartition(int begin, int end, double now_s,
                                     double timeout_s) {
  std::vector<DeviceRecord*> holder(
      static_cast<size_t>(std::max(0, end - begin)));
  for (auto& [id, d] : devices_) {
    if (d.partition >= begin && d.partition < end) {
      holder[d.partition - begin] = &d;
    }
  }
  for (size_t i = 0; i < holder.size(); ++i) {
    if (holder[i] == nullptr) return begin + static_cast<int>(i);
  }
  for (size_t i = 0; i < holder.size(); ++i) {
    DeviceRecord& d = *holder[i];
    if (!IsAvailable(d, now_s, timeout_s) && d.rounds == 0) {
      d.partition = -1;
      return begin + static_cast<int>(i);
    }
  }
  return -1;
}

DeviceRecord* FleetRegistry::Find(const std::string& id) {
  auto it = devices_.find(id);
  return it == devices_.end() ? nullptr : &it->second;
}

DeviceRecord* FleetRegistry::FindSession(const std::string& id,
                                         absl::string_view session) {
  DeviceRecord* d = Find(id);
  if (d == nullptr || d->left || !SessionMatches(d->session_id, session)) {
    return nullptr;
  }
  return d;
}

std::vector<std::string> FleetRegistry::Available(double now_s,
                                                  double timeout_s) const {
  std::vector<std::string> ids;
  for (const auto& [id, d] : devices_) {
    if (IsAvailable(d, now_s, timeout_s)) ids.push_back(id);
  }
  return ids;
}

int FleetRegistry::NumAvailable(double now_s, double timeout_s) const {
  int n = 0;
  for (const auto& [id, d] : devices_) n += IsAvailable(d, now_s, timeout_s);
  return n;
}

int FleetRegistry::NumJoined() const {
  int n = 0;
  for (const auto& [id, d] : devices_) n += d.left ? 0 : 1;
  return n;
}

int FleetRegistry::NumReady() const {
  int n = 0;
  for (const auto& [id, d] : devices_) n += !d.left && d.polled ? 1 : 0;
  return n;
}

}  // namespace tandem::server
