// The run directory: resolved config.json, metrics.jsonl, summary.json and
// checkpoints, all written so a crash never leaves a half-written file
// (temp file + fsync + rename for whole files, one flushed line per record).
//
//   TANDEM_ASSIGN_OR_RETURN(auto run, RunWriter::Create("runs", "quickstart",
//                                                       ConfigToJson(cfg)));
//   run->AppendMetrics({{"type", "round"}, {"round", 1}});
//
// Thread-safe.
#ifndef TANDEM_CORE_RUN_WRITER_H_
#define TANDEM_CORE_RUN_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/checkpoint.h"
#include "core/weights.h"
#include "nlohmann/json.hpp"

namespace tandem {

// The records of `run_dir`/metrics.jsonl, in order; lines that are not JSON
// (a torn last line after a crash) are skipped.
absl::StatusOr<std::vector<nlohmann::json>> ReadMetrics(
    const std::string& run_dir);

class RunWriter {
 public:
  // Creates `base_dir/<UTC time>-<name>/` (with a numeric suffix if taken)
  // and writes config.json.
  static absl::StatusOr<std::unique_ptr<RunWriter>> Create(
      const std::string& base_dir, const std::string& name,
      const nlohmann::json& config);
  ~RunWriter();

  const std::string& dir() const { return dir_; }
  absl::Status AppendMetrics(const nlohmann::json& record);
  absl::Status WriteSummary(const nlohmann::json& summary);
  // checkpoints/round-NNNNN.ckpt, and checkpoints/latest.ckpt.
  absl::Status WriteCheckpoint(int64_t round, const Weights& weights,
                               const RunState& state = {});

 private:
  explicit RunWriter(std::string dir) : dir_(std::move(dir)) {}

  const std::string dir_;
  absl::Mutex mu_;
  std::FILE* metrics_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace tandem

#endif  // TANDEM_CORE_RUN_WRITER_H_
