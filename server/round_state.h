// The state of one round attempt, owned by the Coordinator under its mutex.
#ifndef TANDEM_SERVER_ROUND_STATE_H_
#define TANDEM_SERVER_ROUND_STATE_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/weights.h"
#include "offload/cost_model.h"
#include "proto/tandem.pb.h"
#include "server/fleet_registry.h"
#include "server/flights.h"
#include "server/round_records.h"

namespace tandem::server {

struct RoundState {
  int64_t number = 0;
  int attempt = 0;
  int stages = 1;  // of the model: split point `stages` is no offload
  bool open = false;
  std::set<std::string> sampled;  // devices asked to train
  std::set<std::string> pending;  // sampled, not yet reported or dropped
  v1::TaskHeader header;          // the TRAIN task every device gets
  double opened_s = 0;
  double deadline_s = 0;      // on the coordinator's clock
  bool deadline_hit = false;  // a device was still pending, or late
  int accepted = 0, dropped = 0, rejected = 0;
  // Devices revoked (their token withdrawn) while the round was open, after
  // their update was accepted: the round fails at its close and is re-run
  // without them, since the FedAvg family keeps no update to take back.
  std::set<std::string> revoked;
  // Over-selection: updates aggregated, the first to finish (0: every
  // accepted one); the accepted beyond it are surplus.
  int target = 0;
  int surplus = 0;
  double max_time_s = 0;  // slowest accepted device's round time
  int64_t bytes_up = 0, bytes_down = 0;
  // Accepted and dropped, in arrival order; sorted by device id when the
  // round closes.
  std::vector<DeviceRoundRecord> devices;
  // Offload (OffloadPlanner::Plan): each offloading device's split point and
  // mode, the head weights sent for each split point in use, and each
  // guarded device's break-even link throughput (offload.link_guard).
  std::map<std::string, int> splits;
  std::map<std::string, SplitMode> modes;
  std::map<int, std::shared_ptr<const Weights>> heads;
  int offloading = 0;  // sampled devices with split < stages
  std::map<std::string, double> min_link_mbps;
  // Buffered aggregation (strategy.buffer_size): the devices training, from
  // this version's model or older ones (the Coordinator owns them); null for
  // synchronous rounds. `sampled` then holds the devices started during the
  // version, and `pending` stays empty.
  Flights* flights = nullptr;

  int SplitOf(const std::string& device) const {
    auto it = splits.find(device);
    return it == splits.end() ? stages : it->second;
  }
  bool Offloads(const std::string& device) const {
    return SplitOf(device) < stages;
  }
  // An offloading device's split mode (kExact for one that does not).
  SplitMode ModeOf(const std::string& device) const {
    auto it = modes.find(device);
    return Offloads(device) && it != modes.end() ? it->second
                                                 : SplitMode::kExact;
  }
  bool LocalLoss(const std::string& device) const {
    return ModeOf(device) == SplitMode::kLocalLoss;
  }
  bool Guarded(const std::string& device) const {
    return min_link_mbps.count(device) > 0;
  }
  // An accepted update: no longer pending, counted, recorded.
  void Accept(DeviceRoundRecord record) {
    const v1::Measurements& m = record.measurements;
    pending.erase(record.device);
    ++accepted;
    max_time_s = std::max(max_time_s, m.round_time_s());
    bytes_up += m.bytes_up();
    bytes_down += m.bytes_down();
    devices.push_back(std::move(record));
  }
  // The one way a sampled device leaves the round without an accepted
  // update: `status` kDropped (abandoned, timed out, left, revoked; counted
  // in `dropped`) or kRejected (its update refused: UpdateAdmission counts
  // it), with why. A device still pending is no longer, and gets its line
  // in metrics.jsonl; any other is left alone. Buffered: its flight is
  // refused. `device_class`: "" for a device no longer registered.
  void Leave(const std::string& device, const std::string& device_class,
             DeviceRoundRecord::Status status, const std::string& reason) {
    if (flights != nullptr && status == DeviceRoundRecord::Status::kRejected) {
      flights->Refuse(device);
    }
    if (!open || pending.erase(device) == 0) return;
    if (status == DeviceRoundRecord::Status::kDropped) ++dropped;
    AddDeviceLine(device, device_class, status, reason);
  }
  void Leave(const DeviceRecord& device, DeviceRoundRecord::Status status,
             const std::string& reason) {
    Leave(device.id, device.profile.device_class(), status, reason);
  }
  // Buffered: `device`'s flight ended without an update; `refused`: its
  // update was (UpdateAdmission counted it).
  void FlightEnded(const std::string& device, const std::string& device_class,
                   bool refused, const std::string& reason) {
    if (!refused) ++dropped;
    AddDeviceLine(device, device_class,
                  refused ? DeviceRoundRecord::Status::kRejected
                          : DeviceRoundRecord::Status::kDropped,
                  reason);
  }
  // A device line of `status` without measurements.
  void AddDeviceLine(const std::string& device, const std::string& device_class,
                     DeviceRoundRecord::Status status,
                     const std::string& reason) {
    DeviceRoundRecord r;
    r.status = status;
    r.round = number;
    r.device = device;
    r.device_class = device_class;
    r.reason = reason;
    devices.push_back(std::move(r));
  }
  // Over-selection: enough updates arrived to close the round.
  bool TargetReached() const { return target > 0 && accepted >= target; }
  // No more updates: devices still pending count as dropped at the
  // deadline (unless the over-selection target was reached: they were not
  // needed), each with its line; heads are freed. Devices reported in
  // arrival order, which varies from run to run: the policy and the
  // metrics see them in device-id order. `device_class`: the pending
  // devices' classes (a device it does not name: "").
  // Buffered: the round stays open, for the devices still training report
  // into their flights while the version is aggregated and evaluated.
  void Close(const std::map<std::string, std::string>& device_class) {
    open = flights != nullptr;
    const bool unneeded = TargetReached();
    deadline_hit = deadline_hit || (!unneeded && !pending.empty());
    if (!unneeded) dropped += static_cast<int>(pending.size());
    for (const std::string& id : pending) {
      auto known = device_class.find(id);
      AddDeviceLine(id, known == device_class.end() ? "" : known->second,
                    unneeded ? DeviceRoundRecord::Status::kUnneeded
                             : DeviceRoundRecord::Status::kDropped,
                    unneeded ? "over-selection's target was reached first"
                             : "still training when the round closed");
    }
    pending.clear();
    heads.clear();
    std::stable_sort(
        devices.begin(), devices.end(),
        [](const DeviceRoundRecord& a, const DeviceRoundRecord& b) {
          return a.device < b.device;
        });
  }
  // The round's record before evaluation; `deadline_s`: the configured
  // round deadline, its time when the deadline was hit.
  RoundRecord Record(double deadline_s, double now_s) const {
    RoundRecord rec;
    rec.round = number;
    rec.attempt = attempt + 1;
    rec.opened = true;
    rec.sampled = static_cast<int64_t>(sampled.size());
    rec.participants = accepted;
    rec.dropped = dropped;
    rec.rejected = rejected;
    rec.surplus = surplus;
    rec.round_time_s = deadline_hit ? deadline_s : max_time_s;
    rec.round_wall_s = now_s - opened_s;
    rec.bytes_up = bytes_up;
    rec.bytes_down = bytes_down;
    return rec;
  }
  // Over-selection, after Close: the accepted devices beyond `target`, the
  // slowest (longest round time; ties: the larger id) first.
  std::vector<std::string> Surplus() const {
    std::vector<const DeviceRoundRecord*> in;
    for (const DeviceRoundRecord& d : devices) {
      if (d.status == DeviceRoundRecord::Status::kAccepted) in.push_back(&d);
    }
    std::sort(in.begin(), in.end(), [](const auto* a, const auto* b) {
      const double ta = a->measurements.round_time_s();
      const double tb = b->measurements.round_time_s();
      return ta != tb ? ta > tb : a->device > b->device;
    });
    std::vector<std::string> out;
    for (size_t i = 0; target > 0 && i + target < in.size(); ++i) {
      out.push_back(in[i]->device);
    }
    return out;
  }
  // Leaves `device`'s accepted update out: it no longer counts as a
  // participant nor in the round's time.
  DeviceRoundRecord* MarkSurplus(const std::string& device) {
    DeviceRoundRecord* marked = nullptr;
    max_time_s = 0;
    for (DeviceRoundRecord& d : devices) {
      if (d.device == device &&
          d.status == DeviceRoundRecord::Status::kAccepted) {
        d.status = DeviceRoundRecord::Status::kSurplus;
        marked = &d;
      } else if (d.status == DeviceRoundRecord::Status::kAccepted) {
        max_time_s = std::max(max_time_s, d.measurements.round_time_s());
      }
    }
    if (marked != nullptr) {
      --accepted;
      ++surplus;
    }
    return marked;
  }
  // Whether the round holds an accepted update from `device`.
  bool Accepted(const std::string& device) const {
    for (const DeviceRoundRecord& d : devices) {
      if (d.device == device &&
          d.status == DeviceRoundRecord::Status::kAccepted) {
        return true;
      }
    }
    return false;
  }
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_ROUND_STATE_H_
