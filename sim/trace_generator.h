// Two-state Markov (Gilbert-Elliott) fading links as Mahimahi traces: the
// link is good (good_mbps) or bad (bad_mbps, 0 = off) and stays in each
// state for an exponentially distributed time of mean mean_good_s or
// mean_bad_s, starting good. The random scenarios draw these in memory
// (as segments of constant throughput); `tandem-sim --make_trace SPEC
// --trace_out FILE` writes one as a Mahimahi file, packets spread over the
// milliseconds so that every millisecond is within one packet of the
// segments. Everything is drawn from the seed's generator bits alone, so a
// spec names one trace on any standard library.
//
//   FadingTraceSpec spec = ParseFadingTraceSpec(
//       "good_mbps=20,bad_mbps=1,mean_good_s=8,mean_bad_s=2,seconds=120,"
//       "seed=1").value();
//   LinkTrace trace = FadingTrace(spec).value();
#ifndef TANDEM_SIM_TRACE_GENERATOR_H_
#define TANDEM_SIM_TRACE_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/link_trace.h"

namespace tandem::sim {

struct FadingTraceSpec {
  double good_mbps = 20;
  double bad_mbps = 1;
  double mean_good_s = 8;
  double mean_bad_s = 2;
  double seconds = 120;  // the trace's period (whole milliseconds)
  uint64_t seed = 1;
};

// "key=value,..." over the fields above; errors name the key.
absl::StatusOr<FadingTraceSpec> ParseFadingTraceSpec(absl::string_view spec);
// "fading-good20-bad1-on8s-off2s-120s-seed1": the spec, as a file name.
std::string FadingTraceName(const FadingTraceSpec& spec);

// The trace's segments (one per stay in a state).
std::vector<LinkTrace::Segment> FadingSegments(const FadingTraceSpec& spec);
absl::StatusOr<LinkTrace> FadingTrace(const FadingTraceSpec& spec);
// Mahimahi text of the segments: one line per packet, by millisecond.
std::string MahimahiText(const std::vector<LinkTrace::Segment>& segments,
                         double period_ms);

}  // namespace tandem::sim

#endif  // TANDEM_SIM_TRACE_GENERATOR_H_
