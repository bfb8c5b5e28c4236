// What the device-agent tests share: a tiny synthetic data set, the smallest
// model's global weights, agent options with short timeouts, TRAIN tasks.
#ifndef TANDEM_TESTS_CLIENT_AGENT_TEST_UTIL_H_
#define TANDEM_TESTS_CLIENT_AGENT_TEST_UTIL_H_

#include <cstdint>
#include <string>

#include "client/device_agent.h"
#include "core/weights.h"
#include "tests/client/fake_coordinator.h"

namespace tandem::client {

inline constexpr char kTestModel[] = "mlp";  // 3 stages, 784-200-200-10
inline constexpr int kTestStages = 3;

// Options for device `id` training on 64 synthetic 28x28 examples, one
// LibTorch thread, with timeouts of a second or two.
DeviceAgentOptions TestAgentOptions(const std::string& id);

// The model's initial weights (seeded), as a coordinator would send them.
Weights TestGlobalWeights();

// A TRAIN task for `round` carrying `weights`, split at `split`: 4 batches of
// 16 examples, plain SGD at `learning_rate`.
FakeCoordinator::Task TrainTask(int64_t round, Weights weights, int split,
                                double learning_rate = 0.05);

// L2 norm of (local - global) over parameter tensors.
double UpdateNorm(const Weights& global, const Weights& local);

}  // namespace tandem::client

#endif  // TANDEM_TESTS_CLIENT_AGENT_TEST_UTIL_H_
