#include "core/link_trace.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/gz_input_file.h"

namespace tandem {
namespace {

constexpr size_t kMaxTraceFileBytes = size_t{256} << 20;
constexpr int64_t kMaxMillisecond = int64_t{1} << 40;  // about 35 years

absl::Status TraceError(absl::string_view name, size_t line,
                        absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("link trace ", name, ":", line, ": ", what));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const LinkTrace>> LinkTrace::Read(
    const std::string& path) {
  // Plain or gzip-compressed alike (zlib reads plain files through).
  absl::StatusOr<std::unique_ptr<GzInputFile>> file = GzInputFile::Open(path);
  if (!file.ok()) {
    return absl::Status(file.status().code(),
                        absl::StrCat("link trace: ", file.status().message()));
  }
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    absl::StatusOr<int64_t> got = (*file)->Read(buffer, sizeof(buffer));
    if (!got.ok()) {
      return absl::Status(got.status().code(),
                          absl::StrCat("link trace: ", got.status().message()));
    }
    if (*got == 0) break;
    text.append(buffer, static_cast<size_t>(*got));
    if (text.size() > kMaxTraceFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("link trace ", path, ": larger than ",
                       kMaxTraceFileBytes, " bytes (uncompressed)"));
    }
  }
  if ((*file)->stream_truncated()) {
    return absl::InvalidArgumentError(
        absl::StrCat("link trace ", path, ": the gzip stream is cut short"));
  }
  absl::StatusOr<LinkTrace> trace = Parse(text, path);
  if (!trace.ok()) return trace.status();
  return std::make_shared<const LinkTrace>(*std::move(trace));
}

absl::StatusOr<LinkTrace> LinkTrace::Parse(absl::string_view text,
                                           absl::string_view name) {
  std::vector<int64_t> ms;
  size_t line = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line;
    const absl::string_view s = absl::StripAsciiWhitespace(raw);
    if (s.empty()) continue;
    int64_t v = 0;
    if (!absl::SimpleAtoi(s, &v) || v < 0 || v > kMaxMillisecond) {
      return TraceError(
          name, line,
          absl::StrCat("expected a millisecond from 0 to ", kMaxMillisecond,
                       ", got \"", absl::CHexEscape(s.substr(0, 40)), "\""));
    }
    if (!ms.empty() && v < ms.back()) {
      return TraceError(name, line,
                        absl::StrCat("millisecond ", v, " comes before the ",
                                     ms.back(), " of the line above"));
    }
    ms.push_back(v);
  }
  return FromMilliseconds(ms, name);
}

absl::StatusOr<LinkTrace> LinkTrace::FromMilliseconds(
    const std::vector<int64_t>& ms, absl::string_view name) {
  if (ms.empty() || ms.back() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "link trace ", name,
        ": needs at least one delivery opportunity after millisecond 0 "
        "(the last line is the period)"));
  }
  if (!std::is_sorted(ms.begin(), ms.end()) || ms.front() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "link trace ", name, ": milliseconds must be >= 0 and sorted"));
  }
  const int64_t period = ms.back();
  // Packets per millisecond; millisecond 0 is the instant the period ends.
  std::vector<std::pair<int64_t, int64_t>> packets;  // (ms, count)
  int64_t zeros = 0;
  for (int64_t m : ms) {
    if (m == 0) {
      ++zeros;
    } else if (!packets.empty() && packets.back().first == m) {
      ++packets.back().second;
    } else {
      packets.push_back({m, 1});
    }
  }
  packets.back().second += zeros;
  // Runs of adjacent milliseconds with equal packets are one segment.
  constexpr double kMbpsPerPacketPerMs = kMahimahiPacketBytes * 8 / 1e3;
  std::vector<Segment> segments;
  int64_t run_begin = packets[0].first - 1, run_count = packets[0].second;
  for (size_t i = 1; i <= packets.size(); ++i) {
    const bool extends = i < packets.size() &&
                         packets[i].first == packets[i - 1].first + 1 &&
                         packets[i].second == run_count;
    if (extends) continue;
    segments.push_back({static_cast<double>(run_begin),
                        static_cast<double>(packets[i - 1].first),
                        static_cast<double>(run_count) * kMbpsPerPacketPerMs});
    if (i < packets.size()) {
      run_begin = packets[i].first - 1;
      run_count = packets[i].second;
    }
  }
  return FromSegments(segments, static_cast<double>(period), name);
}

absl::StatusOr<LinkTrace> LinkTrace::FromSegments(
    const std::vector<Segment>& segments, double period_ms,
    absl::string_view name) {
  LinkTrace t;
  t.name_ = std::string(name);
  t.period_ms_ = period_ms;
  double last_end = 0, through = 0;
  for (const Segment& g : segments) {
    if (!(g.begin_ms >= last_end && g.end_ms > g.begin_ms && g.mbps >= 0 &&
          std::isfinite(g.mbps) && g.end_ms <= period_ms)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "link trace ", name, ": segments must be sorted, disjoint, within ",
          "the period and of a finite throughput >= 0"));
    }
    last_end = g.end_ms;
    const double bytes = g.mbps * 1e3 / 8 * (g.end_ms - g.begin_ms);
    if (!(bytes > 0)) continue;
    t.begin_ms_.push_back(g.begin_ms);
    t.end_ms_.push_back(g.end_ms);
    t.bytes_.push_back(bytes);
    t.through_.push_back(through += bytes);
  }
  if (!(through > 0) || !std::isfinite(through)) {
    return absl::InvalidArgumentError(
        absl::StrCat("link trace ", name, ": delivers no bytes"));
  }
  t.total_bytes_ = through;
  return t;
}

double LinkTrace::InPeriod(double t_ms) const {
  // The first segment not wholly before t_ms.
  const size_t i = static_cast<size_t>(
      std::lower_bound(end_ms_.begin(), end_ms_.end(), t_ms) - end_ms_.begin());
  if (i == end_ms_.size()) return total_bytes_;
  const double part = (t_ms - begin_ms_[i]) / (end_ms_[i] - begin_ms_[i]);
  return through_[i] - bytes_[i] + bytes_[i] * std::clamp(part, 0.0, 1.0);
}

double LinkTrace::InverseInPeriod(double bytes) const {
  const size_t i =
      std::min(static_cast<size_t>(
                   std::lower_bound(through_.begin(), through_.end(), bytes) -
                   through_.begin()),
               through_.size() - 1);
  const double before = through_[i] - bytes_[i];
  const double part = std::clamp((bytes - before) / bytes_[i], 0.0, 1.0);
  return begin_ms_[i] + part * (end_ms_[i] - begin_ms_[i]);
}

double LinkTrace::DeliveredBytes(double t_s) const {
  const double t_ms = std::max(0.0, t_s) * 1e3;
  const double loops = std::floor(t_ms / period_ms_);
  return loops * total_bytes_ + InPeriod(t_ms - loops * period_ms_);
}

double LinkTrace::EndSeconds(double start_s, double bytes) const {
  if (!(bytes > 0)) return start_s;
  const double target = DeliveredBytes(start_s) + bytes;
  // Whole periods before the one the last byte falls in (its remainder in
  // (0, total]).
  const double loops = std::ceil(target / total_bytes_) - 1;
  const double rest = target - loops * total_bytes_;
  const double end_ms = loops * period_ms_ + InverseInPeriod(rest);
  // Never before the start, whatever the rounding.
  return std::max(start_s, end_ms / 1e3);
}

}  // namespace tandem
