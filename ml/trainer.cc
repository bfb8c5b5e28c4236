#include "ml/trainer.h"

#include <torch/torch.h>

#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "ml/internal/batch.h"
#include "ml/internal/model_impl.h"
#include "ml/internal/train_loop.h"

namespace tandem::ml {
namespace {

// Sum over parameters of ||w - w0||^2.
torch::Tensor ProximalTerm(const std::vector<torch::Tensor>& params,
                           const std::vector<torch::Tensor>& start) {
  torch::Tensor sum = torch::zeros({});
  for (size_t i = 0; i < params.size(); ++i) {
    sum = sum + (params[i] - start[i]).pow(2).sum();
  }
  return sum;
}

EvalStats EvaluateImpl(Model& model, const data::Dataset& data,
                       int batch_size) {
  torch::NoGradGuard no_grad;
  StageNet& net = *model.impl().net;
  net.SetTraining(false);
  std::vector<int64_t> idx(static_cast<size_t>(data.size()));
  std::iota(idx.begin(), idx.end(), 0);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const int64_t n = std::min<int64_t>(batch_size, data.size() - begin);
    Batch b = MakeBatch(data, idx.data() + begin, n);
    torch::Tensor logits = net.forward(b.x);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, b.y,
                    torch::nn::functional::CrossEntropyFuncOptions().reduction(
                        torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(b.y).sum().item<int64_t>();
  }
  net.SetTraining(true);
  EvalStats s;
  s.examples = data.size();
  s.loss = loss_sum / static_cast<double>(data.size());
  s.accuracy = static_cast<double>(correct) / static_cast<double>(data.size());
  return s;
}

absl::StatusOr<TrainStats> TrainImpl(Model& model, const data::Dataset& data,
                                     const TrainOptions& opt) {
  double loss_before = 0;
  const double cpu0 = ThreadCpuSeconds();
  if (opt.loss_before) loss_before = EvaluateImpl(model, data, 500).loss;
  const double eval_cpu = ThreadCpuSeconds() - cpu0;
  StageNet& net = *model.impl().net;
  net.SetTraining(true);
  std::vector<torch::Tensor> params = net.parameters();
  std::vector<torch::Tensor> start;
  if (opt.proximal_mu > 0) {
    for (const torch::Tensor& p : params) start.push_back(p.detach().clone());
  }
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(opt.learning_rate)
                                    .momentum(opt.momentum)
                                    .weight_decay(opt.weight_decay));
  auto step = [&](const Batch& b) -> absl::StatusOr<double> {
    sgd.zero_grad();
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(net.forward(b.x), b.y);
    if (opt.proximal_mu > 0) {
      loss = loss + 0.5 * opt.proximal_mu * ProximalTerm(params, start);
    }
    loss.backward();
    sgd.step();
    return loss.item<double>();
  };
  auto stats = RunTrainLoop(data, opt, step);
  if (stats.ok()) {
    stats->loss_before = loss_before;
    stats->cpu_seconds += eval_cpu;
  }
  return stats;
}

}  // namespace

absl::Status CheckTrainArgs(const data::Dataset& data,
                            const TrainOptions& options) {
  if (data.size() == 0) {
    return absl::FailedPreconditionError("local training: no examples");
  }
  if (options.batch_size < 1 || options.epochs < 1) {
    return absl::InvalidArgumentError("local training: bad batch size/epochs");
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainStats> RunTrainLoop(const data::Dataset& data,
                                        const TrainOptions& opt,
                                        const StepFn& step) {
  TrainStats stats;
  stats.samples = data.size();
  const double cpu0 = ThreadCpuSeconds();
  const double wall0 = MonotonicSeconds();
  std::mt19937_64 rng(opt.seed);
  std::vector<int64_t> order(static_cast<size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);
  for (int epoch = 0; epoch < opt.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    int64_t epoch_batches = 0;
    for (int64_t begin = 0; begin < data.size(); begin += opt.batch_size) {
      if (opt.max_batches > 0 && stats.batches >= opt.max_batches) break;
      if (opt.cancel != nullptr && opt.cancel->load()) {
        return absl::CancelledError("local training cancelled");
      }
      const int64_t n = std::min<int64_t>(opt.batch_size, data.size() - begin);
      if (n < 2 && data.size() > 1) break;  // batch norm needs 2 examples
      absl::StatusOr<double> loss =
          step(MakeBatch(data, order.data() + begin, n));
      if (!loss.ok()) return loss.status();
      loss_sum += *loss;
      ++epoch_batches;
      ++stats.batches;
      stats.examples_seen += n;
    }
    if (epoch_batches > 0) stats.mean_loss = loss_sum / epoch_batches;
  }
  if (!std::isfinite(stats.mean_loss)) {
    return absl::FailedPreconditionError(
        "local training diverged (non-finite loss); lower the learning rate");
  }
  stats.cpu_seconds = ThreadCpuSeconds() - cpu0;
  stats.wall_seconds = MonotonicSeconds() - wall0;
  return stats;
}

absl::StatusOr<TrainStats> TrainLocal(Model& model, const data::Dataset& data,
                                      const TrainOptions& options) {
  absl::Status args = CheckTrainArgs(data, options);
  if (!args.ok()) return args;
  try {
    return TrainImpl(model, data, options);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("local training: ", e.what()));
  }
}

absl::StatusOr<std::vector<float>> PredictLogits(Model& model,
                                                 const data::Dataset& data,
                                                 int batch_size) {
  batch_size = std::max(1, batch_size);
  std::vector<float> out;
  try {
    torch::NoGradGuard no_grad;
    StageNet& net = *model.impl().net;
    net.SetTraining(false);
    std::vector<int64_t> idx(static_cast<size_t>(data.size()));
    std::iota(idx.begin(), idx.end(), 0);
    for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
      const int64_t n = std::min<int64_t>(batch_size, data.size() - begin);
      torch::Tensor logits =
          net.forward(MakeBatch(data, idx.data() + begin, n).x).contiguous();
      out.insert(out.end(), logits.data_ptr<float>(),
                 logits.data_ptr<float>() + logits.numel());
    }
    net.SetTraining(true);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("prediction: ", e.what()));
  }
  return out;
}

absl::StatusOr<EvalStats> Evaluate(Model& model, const data::Dataset& data,
                                   int batch_size) {
  if (data.size() == 0) {
    return absl::FailedPreconditionError("evaluation: no examples");
  }
  try {
    return EvaluateImpl(model, data, std::max(1, batch_size));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("evaluation: ", e.what()));
  }
}

}  // namespace tandem::ml
