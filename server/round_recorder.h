// Writes a run's records: each round attempt's device lines and round line
// to metrics.jsonl (and to the on_round callback), keeping the run's tallies
// for summary.json. Run()'s thread is its only caller.
#ifndef TANDEM_SERVER_ROUND_RECORDER_H_
#define TANDEM_SERVER_ROUND_RECORDER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/config.h"
#include "core/run_writer.h"
#include "nlohmann/json.hpp"
#include "server/fleet_registry.h"
#include "server/round_records.h"

namespace tandem::server {

class RoundRecorder {
 public:
  // `run` outlives the recorder; `on_round` may be empty.
  RoundRecorder(const Config& config, RunWriter* run,
                std::function<void(const nlohmann::json&)> on_round);

  // Adds an aggregated round's time to the run's virtual time, tallies its
  // evaluation, and writes `devices` then `round` (whose virtual_time_s it
  // sets).
  absl::Status Record(const std::vector<DeviceRoundRecord>& devices,
                      RoundRecord round);
  const RunTally& tally() const { return tally_; }
  // A checkpoint's tallies: a resumed run goes on counting from them.
  void Restore(const RunTally& tally) { tally_ = tally; }

 private:
  void Tally(RoundRecord* round);

  const Config& config_;
  RunWriter* const run_;
  const std::function<void(const nlohmann::json&)> on_round_;
  RunTally tally_;
};

// What summary.json holds.
struct SummaryInputs {
  std::string status;  // "ok" or the error that ended the run
  const RunTally* tally = nullptr;
  const std::map<std::string, DeviceRecord>* devices = nullptr;
  const std::map<std::string, int>* rejections = nullptr;  // reason -> count
  int64_t first_round = 1;
  double wall_time_s = 0;
  std::string run_dir;
  std::string weights_sha256;  // of the final global weights
};

nlohmann::json Summary(const Config& config, const SummaryInputs& in);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_ROUND_RECORDER_H_
