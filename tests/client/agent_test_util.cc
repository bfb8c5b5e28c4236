#include "tests/client/agent_test_util.h"

#include <cmath>
#include <memory>
#include <utility>

#include "core/weights_codec.h"
#include "ml/data/synthetic.h"
#include "ml/model.h"

namespace tandem::client {

DeviceAgentOptions TestAgentOptions(const std::string& id) {
  data::SyntheticOptions so;
  so.train_size = 64;
  so.test_size = 0;
  auto tt = data::MakeSyntheticDataset(so);
  auto train = std::make_shared<const data::Dataset>(std::move(tt->train));
  DeviceAgentOptions o;
  o.device_id = id;
  o.compute_threads = 1;
  o.data_provider = [train](const v1::DataSpec&) { return train; };
  o.rpc_timeout = absl::Seconds(2);
  o.poll_timeout = absl::Seconds(2);
  o.transfer_timeout = absl::Seconds(10);
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(100);
  o.give_up_after = absl::Seconds(10);
  return o;
}

Weights TestGlobalWeights() {
  auto model = ml::Model::Create(kTestModel, ml::InputShape(), 11);
  return (*model)->GetWeights();
}

FakeCoordinator::Task TrainTask(int64_t round, Weights weights, int split,
                                double learning_rate) {
  FakeCoordinator::Task task;
  v1::TaskHeader& h = task.header;
  h.set_kind(v1::TaskHeader::TRAIN);
  h.set_round(round);
  h.set_split_point(split);
  h.set_num_stages(kTestStages);
  h.set_activation_codec("fp32");
  v1::TrainingConfig* t = h.mutable_training();
  t->set_local_epochs(1);
  t->set_batch_size(16);
  t->set_learning_rate(learning_rate);
  t->set_max_batches(4);
  t->set_seed(3);
  task.weights = std::move(weights);
  return task;
}

double UpdateNorm(const Weights& global, const Weights& local) {
  double sum = 0;
  const auto& tensors = global.layout().tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].kind != TensorKind::kParameter) continue;
    auto g = global.tensor(static_cast<int>(i));
    auto l = local.tensor(static_cast<int>(i));
    for (size_t k = 0; k < g.size(); ++k) {
      const double d = static_cast<double>(l[k]) - g[k];
      sum += d * d;
    }
  }
  return std::sqrt(sum);
}

}  // namespace tandem::client
