// The state of one round attempt, owned by the Coordinator under its mutex.
#ifndef TANDEM_SERVER_ROUND_STATE_H_
#define TANDEM_SERVER_ROUND_STATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/weights.h"
#include "nlohmann/json.hpp"
#include "offload/cost_model.h"
#include "proto/tandem.pb.h"
#include "server/tail_session.h"

namespace tandem::server {

struct RoundState {
  int64_t number = 0;
  int attempt = 0;
  bool open = false;
  std::set<std::string> sampled;   // devices asked to train
  std::set<std::string> pending;   // sampled, not yet reported or dropped
  std::set<std::string> reported;  // accepted updates
  v1::TaskHeader header;           // the TRAIN task every device gets
  double opened_s = 0;
  absl::Time deadline;
  bool deadline_hit = false;
  int accepted = 0, dropped = 0, rejected = 0;
  double max_time_s = 0;  // slowest accepted device's round time
  int64_t bytes_up = 0, bytes_down = 0;
  std::vector<nlohmann::json> device_lines;  // one metrics line per device
  // Offload: each sampled device's split point, the head weights sent for
  // each split point in use, and the open tails.
  std::map<std::string, int> splits;
  std::map<std::string, offload::SplitMode> modes;  // of offloading devices
  std::map<int, std::shared_ptr<const Weights>> heads;
  std::map<std::string, std::shared_ptr<TailSession>> tails;
  int offloading = 0;  // sampled devices with split < stages
  // offload.link_guard: device -> break-even link throughput of its cut.
  std::map<std::string, double> min_link_mbps;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_ROUND_STATE_H_
