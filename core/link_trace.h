// A link whose throughput follows a Mahimahi trace: one line per 1,500-byte
// delivery opportunity, the millisecond it comes at, non-decreasing (two
// lines with the same millisecond: two packets in it). The trace repeats
// with a period of its last millisecond, as mahimahi's link shell plays it.
//
// Bytes are a fluid: an opportunity at millisecond m delivers its 1,500
// bytes evenly over (m - 1, m]. A transfer's end is then exact and needs no
// state (two transfers back to back end where one of their summed bytes
// would), and a millisecond 0 is the same instant as the period's end.
// Inside, a trace is a list of segments of constant throughput (runs of
// milliseconds with equal packets merged), which is also how generated
// traces (sim/trace_generator.h) are made without a line per packet.
//
//   absl::StatusOr<std::shared_ptr<const LinkTrace>> t =
//       LinkTrace::Read("configs/traces/markov-fading-seed1.trace");
//   double end_s = (*t)->EndSeconds(/*start_s=*/2.5, /*bytes=*/1e6);
#ifndef TANDEM_CORE_LINK_TRACE_H_
#define TANDEM_CORE_LINK_TRACE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tandem {

inline constexpr double kMahimahiPacketBytes = 1500;

class LinkTrace {
 public:
  // A trace file, plain or gzip-compressed (at most 256 MiB of text);
  // errors name the path and line.
  static absl::StatusOr<std::shared_ptr<const LinkTrace>> Read(
      const std::string& path);
  // A trace's text; `name` is what errors and name() say.
  static absl::StatusOr<LinkTrace> Parse(absl::string_view text,
                                         absl::string_view name);
  // Opportunity milliseconds (sorted, not all 0) as a trace named `name`.
  static absl::StatusOr<LinkTrace> FromMilliseconds(
      const std::vector<int64_t>& ms, absl::string_view name);
  // Segments [begin_ms, end_ms) at `mbps`, sorted and disjoint, in a period
  // of `period_ms` (at least the last end); some must carry bytes.
  struct Segment {
    double begin_ms = 0, end_ms = 0, mbps = 0;
  };
  static absl::StatusOr<LinkTrace> FromSegments(
      const std::vector<Segment>& segments, double period_ms,
      absl::string_view name);

  // Bytes delivered in [0, t_s] (t_s >= 0; the trace looped).
  double DeliveredBytes(double t_s) const;
  // When the last of `bytes` arrives, for a transfer that may start at
  // `start_s` (>= 0) and has the link to itself; `start_s` for 0 bytes.
  double EndSeconds(double start_s, double bytes) const;
  double MeanMbps() const { return total_bytes_ * 8 / (period_ms_ * 1e3); }
  double period_s() const { return period_ms_ / 1e3; }
  const std::string& name() const { return name_; }

 private:
  LinkTrace() = default;
  // Within one period: bytes delivered by `t_ms` in [0, period], and its
  // inverse for `bytes` in (0, total].
  double InPeriod(double t_ms) const;
  double InverseInPeriod(double bytes) const;

  std::string name_;
  double period_ms_ = 0;
  // Segment i delivers bytes_[i] evenly over (begin_ms_[i], end_ms_[i]];
  // through_[i] is what was delivered by its end. No empty segments.
  std::vector<double> begin_ms_, end_ms_, bytes_, through_;
  double total_bytes_ = 0;  // per period
};

// One device's link direction: a trace (shared by the devices that play
// it) started `offset_s` into its period, so that devices of one class do
// not fade in step.
struct TracedLink {
  std::shared_ptr<const LinkTrace> trace;
  double offset_s = 0;

  explicit operator bool() const { return trace != nullptr; }
  // Seconds a transfer of `bytes` from `start_s` (virtual) takes, without
  // latency.
  double Seconds(double start_s, double bytes) const {
    const double t = start_s + offset_s;
    return trace->EndSeconds(t, bytes) - t;
  }
};

}  // namespace tandem

#endif  // TANDEM_CORE_LINK_TRACE_H_
