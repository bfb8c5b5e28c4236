// The tasks the coordinator hands out: the round's TRAIN header, and each
// device's copy of it with its placement (split point, mode, link guard),
// the weights it needs and, for local loss, the auxiliary classifier.
#ifndef TANDEM_SERVER_TASK_BUILDER_H_
#define TANDEM_SERVER_TASK_BUILDER_H_

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/weights.h"
#include "proto/tandem.pb.h"
#include "server/aux_store.h"
#include "server/round_state.h"
#include "strategies/strategy.h"

namespace tandem::server {

// What a device gets from WaitForTask.
struct TaskAssignment {
  v1::TaskHeader header;                   // kind WAIT, TRAIN or STOP
  std::shared_ptr<const Weights> weights;  // TRAIN only
  // Local loss: the auxiliary classifier, copied into the header on send.
  std::shared_ptr<const std::vector<float>> aux;
};

// The TRAIN task of `round` that every sampled device starts from.
v1::TaskHeader TrainTask(const Config& config, const Strategy& strategy,
                         int num_stages, const WeightsLayout& layout,
                         int64_t round);

// Device `id`'s task in `round`. `full_weights`: its link guard fired and
// it asks for the tail it lacks, to train the whole model locally.
TaskAssignment TaskFor(const Config& config, const RoundState& round,
                       const std::string& id, bool full_weights,
                       const std::shared_ptr<const Weights>& global,
                       AuxStore& aux);

}  // namespace tandem::server

#endif  // TANDEM_SERVER_TASK_BUILDER_H_
