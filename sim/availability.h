// When a simulated device is online, on the run's virtual clock: always; in
// periods of `online_s` on and `offline_s` off, shifted by a phase drawn
// from the device's seed; or in the intervals of a trace, as FedScale's
// client availability traces give them. An offline device does not train:
// sampled while offline it abandons the round, and it drops a round it would
// still be training when it goes offline.
//
//   TANDEM_ASSIGN_OR_RETURN(AvailabilityTrace trace, LoadAvailabilityTrace(p));
//   Availability a = Availability::Periodic(60, 30, seed);
//   if (!a.OnlineThrough(start_s, round_s)) abandon;
#ifndef TANDEM_SIM_AVAILABILITY_H_
#define TANDEM_SIM_AVAILABILITY_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tandem::sim {

// Online intervals [start, end) per device id, in virtual seconds.
using AvailabilityTrace =
    std::map<std::string, std::vector<std::pair<double, double>>>;

// A JSON object {"<device id>": [[start, end], ...]}: each device's online
// intervals, finite, start < end, ascending and disjoint. Devices it does
// not name are always online. Errors name the file and the device.
absl::StatusOr<AvailabilityTrace> LoadAvailabilityTrace(
    const std::string& path);

class Availability {
 public:
  Availability() = default;  // always online
  // On for `online_s`, off for `offline_s`, repeating, from a phase in
  // [0, online_s + offline_s) drawn from `seed`. offline_s 0: always online.
  static Availability Periodic(double online_s, double offline_s,
                               uint64_t seed);
  // Online in `intervals` only (see LoadAvailabilityTrace).
  static Availability Intervals(std::vector<std::pair<double, double>> iv);

  bool OnlineAt(double t) const;
  // Online at every moment of [start_s, start_s + seconds].
  bool OnlineThrough(double start_s, double seconds) const;

 private:
  enum class Kind { kAlways, kPeriodic, kIntervals } kind_ = Kind::kAlways;
  double online_s_ = 0, offline_s_ = 0, phase_s_ = 0;
  std::vector<std::pair<double, double>> intervals_;
};

}  // namespace tandem::sim

#endif  // TANDEM_SIM_AVAILABILITY_H_
