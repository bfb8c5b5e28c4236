// Typed records of a run: one per device per round, one per round attempt,
// and the run's tallies. They are serialised once, here, into the lines of
// metrics.jsonl and summary.json; the coordinator never reads JSON back.
#ifndef TANDEM_SERVER_ROUND_RECORDS_H_
#define TANDEM_SERVER_ROUND_RECORDS_H_

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"
#include "offload/split_policy.h"
#include "proto/tandem.pb.h"

namespace tandem::server {

struct DeviceRoundRecord {
  // Every sampled device ends its round in one of these (RoundState):
  // kAccepted: its update is in the aggregate.
  // kSurplus: accepted, then left out of the aggregate by over-selection
  //   (strategy.over_selection): devices that finished first were enough.
  // kDropped: it left without an update: it abandoned the round, timed
  //   out, left the fleet, was revoked, or was still training when the
  //   round closed at its deadline.
  // kRejected: its update was refused (the rejection's reason).
  // kUnneeded: still training when over-selection's target was reached.
  enum class Status { kAccepted, kDropped, kSurplus, kRejected, kUnneeded };
  Status status = Status::kAccepted;
  int64_t round = 0;
  std::string device;
  std::string device_class;
  std::string reason;  // kDropped, kRejected, kUnneeded: why
  // kAccepted: what the device measured; round_time_s includes its tail's
  // time when the device could not (TailRegistry::Join).
  v1::Measurements measurements;
  int64_t samples = 0;
  int split = 0;  // where it trained: stages means the whole model
  SplitMode mode = SplitMode::kExact;
  bool fallback_local = false;  // offloading, but trained the whole model
  // ||update - global|| over parameter tensors, as the strategy saw it.
  double update_norm = 0;
  // What admission scaled its change by (strategies/admission_bound.h): 1
  // when it was within the round's bound.
  double clip_scale = 1;
  bool has_tail = false;
  double tail_s = 0;  // its tail's compute on the coordinator
  int64_t tail_batches = 0;
  // Buffered aggregation: the round its task started from, and the versions
  // published since (staleness; its update was weighted by
  // StalenessWeight). -1: synchronous rounds.
  int64_t task_round = -1;
  int64_t staleness = 0;
};

nlohmann::json ToJson(const DeviceRoundRecord& record);
// What the offload policy learns from an accepted device's round.
offload::DeviceOutcome OutcomeOf(const DeviceRoundRecord& record);

struct RoundRecord {
  int64_t round = 0;
  bool opened = false;  // sampling succeeded: the counts below are set
  int attempt = 0;      // 1-based
  int64_t sampled = 0;
  int participants = 0, dropped = 0, rejected = 0;
  int surplus = 0;          // over-selection: accepted but not aggregated
  double round_time_s = 0;  // virtual or measured: the slowest participant
  double round_wall_s = 0;
  int64_t bytes_up = 0, bytes_down = 0;
  bool aggregated = false;
  // Aggregated, but the aggregate failed its check (AggregateCheck::Vet): the
  // global model stayed. Counts as a round done.
  bool rolled_back = false;
  std::string reason;  // not aggregated: why
  bool evaluated = false;
  double accuracy = 0, loss = 0;
  double virtual_time_s = 0;  // of the run, after this round
  double wall_time_s = 0;
};

nlohmann::json ToJson(const RoundRecord& record);

// Run()'s tallies, kept by the round recorder.
struct RunTally {
  int rounds_done = 0;
  int failed_attempts = 0;
  int rollbacks = 0;
  double virtual_time_s = 0;
  double final_accuracy = 0, best_accuracy = 0, final_loss = 0;
  bool target_reached = false;  // server.target_accuracy
  int64_t target_round = 0;
  double target_virtual_s = 0, target_wall_s = 0;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_ROUND_RECORDS_H_
