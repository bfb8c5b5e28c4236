// The devices a coordinator knows: who joined, their sessions, when each
// was last heard from, which data partition it trains on, and its per-run
// tallies.
//
// Not thread-safe: the Coordinator guards it with its own mutex.
#ifndef TANDEM_SERVER_FLEET_REGISTRY_H_
#define TANDEM_SERVER_FLEET_REGISTRY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/tandem.pb.h"
#include "server/round_records.h"

namespace tandem::server {

// Device ids are 1-128 bytes of anything; logs escape them (EscapeForLog).
inline bool IsValidDeviceId(absl::string_view id) {
  return !id.empty() && id.size() <= 128;
}

struct DeviceRecord {
  std::string id;
  std::string session_id;  // random (NewSessionId); new at every join
  v1::HardwareProfile profile;
  // Its data partition: its index among the fleet's ids, or the one it was
  // given at its first join (DeviceGateway); -1 until then.
  int partition = -1;
  double last_seen_s = 0;
  bool left = false;
  bool polled = false;  // asked for a task at least once (ready to train)
  // Tallies over the run.
  int rounds = 0;  // rounds whose update was aggregated
  double round_time_sum_s = 0;
  int64_t samples = 0;  // samples in its latest accepted update
  double energy_j = 0;
  std::map<std::string, int> rejections;  // reason -> count
  int dropouts = 0;
  int clipped = 0;     // accepted updates that admission clipped (outliers)
  int last_split = 0;  // split point of its last accepted update
  double measured_slowdown = 0;  // from its last accepted update (0: none)
  // Its stage timing (v1::StageTiming), once reported and checked.
  std::vector<double> stage_seconds;
  int64_t timed_examples = 0;

  // Adds an accepted update's round to the tallies.
  void Tally(const DeviceRoundRecord& r) {
    ++rounds;
    round_time_sum_s += r.measurements.round_time_s();
    samples = r.samples;
    energy_j += r.measurements.energy_j();
  }
  // The update was left out (over-selection): its round does not count, the
  // energy it spent does.
  void Untally(const DeviceRoundRecord& r) {
    --rounds;
    round_time_sum_s -= r.measurements.round_time_s();
  }
};

// Keeps a stage timing from a PullTask request in `device` if it is sane
// (one value per stage of `num_stages`, finite, under 1,000 s) and the
// device has none yet. Untrusted: only the offload planner reads it.
void RecordTiming(DeviceRecord* device, const v1::StageTiming& timing,
                  int num_stages);

class FleetRegistry {
 public:
  // Adds a device or refreshes a known one (same id keeps its tallies)
  // with a new session. Returns the record. Call MayJoin first.
  DeviceRecord& Join(const std::string& id, const v1::HardwareProfile& profile,
                     double now_s);
  // OK if `id` may join: it is new, it left, it was silent for longer than
  // `timeout_s`, or `resume_session` is its live session (a device that
  // lost its connection). Otherwise ALREADY_EXISTS: another party would
  // take over a live device.
  absl::Status MayJoin(const std::string& id, absl::string_view resume_session,
                       double now_s, double timeout_s) const;
  // OK if a new device fits: fewer than `max_devices` records, after
  // forgetting devices that are gone (left, or silent for `timeout_s`) and
  // never had an update accepted or refused. RESOURCE_EXHAUSTED otherwise.
  // Known ids always fit.
  absl::Status MakeRoom(const std::string& id, int max_devices, double now_s,
                        double timeout_s);
  // Adds the devices of a checkpoint (left, with their tallies); ids already
  // known keep their records.
  void Restore(std::map<std::string, DeviceRecord> devices) {
    devices_.merge(devices);
  }
  DeviceRecord* Find(const std::string& id);
  // The lowest partition in [begin, end) that no record holds; else one
  // held by a device that went silent (for `timeout_s`) before it ever
  // trained, which loses it (it gets another when it rejoins); -1 if none.
  int TakeFreePartition(int begin, int end, double now_s, double timeout_s);
  // `id`'s record if `session` is its current one and it has not left.
  DeviceRecord* FindSession(const std::string& id, absl::string_view session);
  // Joined, not left, heard from within `timeout_s`; sorted by id.
  std::vector<std::string> Available(double now_s, double timeout_s) const;
  // How many are Available, without listing them.
  int NumAvailable(double now_s, double timeout_s) const;
  int NumJoined() const;
  // Joined, not left, and asked for a task: data loaded, stages timed.
  int NumReady() const;
  const std::map<std::string, DeviceRecord>& devices() const {
    return devices_;
  }

 private:
  static bool IsAvailable(const DeviceRecord& d, double now_s,
                          double timeout_s) {
    return !d.left && now_s - d.last_seen_s <= timeout_s;
  }

  std::map<std::string, DeviceRecord> devices_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_FLEET_REGISTRY_H_
