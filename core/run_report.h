// report.html of a run directory: a self-contained page (inline SVG, no
// scripts, no network) with the run's summary and four charts: test accuracy
// against virtual time, per-device round time split into compute, link and
// coordinator tail, split point per device per round, energy per device.
#ifndef TANDEM_CORE_RUN_REPORT_H_
#define TANDEM_CORE_RUN_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace tandem {

// `metrics`: the lines of metrics.jsonl; `summary`: summary.json.
std::string RenderRunReport(const std::vector<nlohmann::json>& metrics,
                            const nlohmann::json& summary);

// Reads metrics.jsonl and summary.json of `run_dir` and writes report.html
// there (atomically).
absl::Status WriteRunReport(const std::string& run_dir);

}  // namespace tandem

#endif  // TANDEM_CORE_RUN_REPORT_H_
