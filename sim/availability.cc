#include "sim/availability.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/file_io.h"
#include "core/status_macros.h"
#include "nlohmann/json.hpp"

namespace tandem::sim {
namespace {

absl::Status BadTrace(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("availability trace '", path, "': ", what));
}

absl::StatusOr<std::vector<std::pair<double, double>>> ReadIntervals(
    const std::string& path, const std::string& device,
    const nlohmann::json& list) {
  std::vector<std::pair<double, double>> out;
  const std::string where = absl::StrCat("device '", device, "'");
  if (!list.is_array()) return BadTrace(path, where + ": expected a list");
  for (const nlohmann::json& iv : list) {
    if (!iv.is_array() || iv.size() != 2 || !iv[0].is_number() ||
        !iv[1].is_number()) {
      return BadTrace(path, where + ": expected [start, end] pairs");
    }
    const double start = iv[0].get<double>(), end = iv[1].get<double>();
    if (!std::isfinite(start) || !std::isfinite(end) || !(start < end) ||
        (!out.empty() && start < out.back().second)) {
      return BadTrace(path, where +
                                ": intervals must be finite, ascending, "
                                "disjoint, with start < end");
    }
    out.emplace_back(start, end);
  }
  return out;
}

}  // namespace

absl::StatusOr<AvailabilityTrace> LoadAvailabilityTrace(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return BadTrace(path, "cannot be read");
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return BadTrace(path, "expected a JSON object");
  AvailabilityTrace trace;
  for (auto it = j.begin(); it != j.end(); ++it) {
    TANDEM_ASSIGN_OR_RETURN(trace[it.key()],
                            ReadIntervals(path, it.key(), it.value()));
  }
  return trace;
}

Availability Availability::Periodic(double online_s, double offline_s,
                                    uint64_t seed) {
  Availability a;
  if (!(offline_s > 0)) return a;
  a.kind_ = Kind::kPeriodic;
  a.online_s_ = online_s;
  a.offline_s_ = offline_s;
  std::mt19937_64 rng(seed * 104729 + 17);
  a.phase_s_ =
      std::uniform_real_distribution<double>(0, online_s + offline_s)(rng);
  return a;
}

Availability Availability::Intervals(
    std::vector<std::pair<double, double>> iv) {
  Availability a;
  a.kind_ = Kind::kIntervals;
  a.intervals_ = std::move(iv);
  return a;
}

bool Availability::OnlineAt(double t) const {
  switch (kind_) {
    case Kind::kAlways:
      return true;
    case Kind::kPeriodic:
      return std::fmod(t + phase_s_, online_s_ + offline_s_) < online_s_;
    case Kind::kIntervals:
      for (const auto& [start, end] : intervals_) {
        if (start <= t && t < end) return true;
      }
      return false;
  }
  return true;
}

bool Availability::OnlineThrough(double start_s, double seconds) const {
  const double end_s = start_s + std::max(0.0, seconds);
  switch (kind_) {
    case Kind::kAlways:
      return true;
    case Kind::kPeriodic: {
      // Online at the start, and the period's online part lasts past the end.
      const double period = online_s_ + offline_s_;
      const double into = std::fmod(start_s + phase_s_, period);
      return into < online_s_ && end_s - start_s < online_s_ - into;
    }
    case Kind::kIntervals:
      for (const auto& [start, end] : intervals_) {
        if (start <= start_s && end_s < end) return true;
      }
      return false;
  }
  return true;
}

}  // namespace tandem::sim
