#include "sim/trace_generator.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tandem::sim {
namespace {

// An exponential draw of mean `mean` from the generator's bits alone.
double Exponential(std::mt19937_64& rng, double mean) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
  return -mean * std::log1p(-u);
}

absl::Status SpecError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "trace spec: ", what,
      " (keys: good_mbps, bad_mbps, mean_good_s, mean_bad_s, seconds, seed)"));
}

}  // namespace

absl::StatusOr<FadingTraceSpec> ParseFadingTraceSpec(absl::string_view text) {
  FadingTraceSpec s;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    const std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    const std::pair<const char*, double*> doubles[] = {
        {"good_mbps", &s.good_mbps},
        {"bad_mbps", &s.bad_mbps},
        {"mean_good_s", &s.mean_good_s},
        {"mean_bad_s", &s.mean_bad_s},
        {"seconds", &s.seconds}};
    bool known = false;
    for (const auto& [key, field] : doubles) {
      if (kv.first != key) continue;
      known = true;
      if (!absl::SimpleAtod(kv.second, field) || !std::isfinite(*field) ||
          *field < 0) {
        return SpecError(absl::StrCat(key, ": expected a number >= 0"));
      }
    }
    if (kv.first == "seed") {
      known = true;
      if (!absl::SimpleAtoi(kv.second, &s.seed)) {
        return SpecError("seed: expected an unsigned integer");
      }
    }
    if (!known) {
      return SpecError(absl::StrCat("unknown key \"", kv.first, "\""));
    }
  }
  if (!(s.good_mbps > 0) || s.mean_good_s <= 0 || s.mean_bad_s <= 0 ||
      s.seconds < 0.001 || s.seconds > 86400 || s.good_mbps > 1e5) {
    return SpecError(
        "good_mbps in (0, 100000], mean stays > 0 and seconds in [0.001, "
        "86400]");
  }
  return s;
}

std::string FadingTraceName(const FadingTraceSpec& s) {
  return absl::StrCat("fading-good", s.good_mbps, "-bad", s.bad_mbps, "-on",
                      s.mean_good_s, "s-off", s.mean_bad_s, "s-", s.seconds,
                      "s-seed", s.seed);
}

std::vector<LinkTrace::Segment> FadingSegments(const FadingTraceSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  const double period_ms = std::round(spec.seconds * 1e3);
  std::vector<LinkTrace::Segment> out;
  bool good = true;
  double t = 0;
  while (t < period_ms) {
    const double stay =
        Exponential(rng, (good ? spec.mean_good_s : spec.mean_bad_s) * 1e3);
    const double end = std::min(period_ms, t + stay);
    if (end > t) out.push_back({t, end, good ? spec.good_mbps : spec.bad_mbps});
    t = end;
    good = !good;
  }
  return out;
}

absl::StatusOr<LinkTrace> FadingTrace(const FadingTraceSpec& spec) {
  return LinkTrace::FromSegments(FadingSegments(spec),
                                 std::round(spec.seconds * 1e3),
                                 FadingTraceName(spec));
}

std::string MahimahiText(const std::vector<LinkTrace::Segment>& segments,
                         double period_ms) {
  std::string out;
  // Packets owed so far; a millisecond sends those that became whole.
  double owed = 0;
  int64_t last = 0;
  size_t i = 0;
  const int64_t period = static_cast<int64_t>(period_ms);
  for (int64_t ms = 1; ms <= period; ++ms) {
    // Bytes the segments deliver in (ms - 1, ms].
    double bytes = 0;
    while (i < segments.size() && segments[i].end_ms <= ms - 1) ++i;
    for (size_t k = i; k < segments.size() && segments[k].begin_ms < ms; ++k) {
      const double overlap = std::min<double>(segments[k].end_ms, ms) -
                             std::max<double>(segments[k].begin_ms, ms - 1);
      if (overlap > 0) bytes += segments[k].mbps * 1e3 / 8 * overlap;
    }
    owed += bytes / kMahimahiPacketBytes;
    for (; owed >= 1; owed -= 1) {
      absl::StrAppend(&out, ms, "\n");
      last = ms;
    }
  }
  // The last line is the period: a trace that ends quiet gets one packet
  // there.
  if (last != period) absl::StrAppend(&out, period, "\n");
  return out;
}

}  // namespace tandem::sim
