// The checkpoint file: a run's global weights after a round and, from
// version 2 on, the cross-round state the coordinator needs to go on as if
// it had never stopped (strategy optimiser, offload policy, device tallies,
// virtual clock; see server/run_state.h).
//
// Format: "TNDMCKPT" magic, u32 version, u32 header length, JSON header
// (round, layout, state, arrays), the weights as raw little-endian float32,
// then each array of `arrays` in header order, then u32 CRC-32 of everything
// before it. Version 1 files (weights only) still load, with an empty state.
#ifndef TANDEM_CORE_CHECKPOINT_H_
#define TANDEM_CORE_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/weights.h"
#include "nlohmann/json.hpp"

namespace tandem {

// State kept beside the weights: small values as JSON, large float state
// (optimiser moments, classifiers) as named arrays. Parts namespace their
// keys ("strategy", "strategy.m", ...).
struct RunState {
  nlohmann::json values = nlohmann::json::object();
  std::map<std::string, std::vector<float>> arrays;
};

std::string EncodeCheckpoint(int64_t round, const Weights& weights,
                             const RunState& state = {});
// `round` and `state` may be null. Errors say what is wrong with the bytes.
absl::StatusOr<Weights> DecodeCheckpoint(const std::string& bytes,
                                         int64_t* round,
                                         RunState* state = nullptr);

}  // namespace tandem

#endif  // TANDEM_CORE_CHECKPOINT_H_
