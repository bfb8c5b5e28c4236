#include <vector>

#include "strategies/server_optimizer.h"

namespace tandem {
namespace {

// Flower's FedAvgM (SGD with momentum on the pseudo-gradient, no Nesterov).
class ServerMomentum final : public ServerOptimizer {
 public:
  ServerMomentum(double lr, double momentum)
      : lr_(static_cast<float>(lr)), momentum_(static_cast<float>(momentum)) {}

  void Step(const WeightsLayout& layout, int64_t /*round*/,
            absl::Span<const float> mean_delta,
            absl::Span<float> model) override {
    const bool first = velocity_.size() != mean_delta.size();
    if (first) velocity_.assign(mean_delta.size(), 0.0f);
    const float keep = first ? 0.0f : momentum_;
    for (const TensorSpec& t : layout.tensors()) {
      if (t.kind != TensorKind::kParameter) continue;
      float* v = velocity_.data() + t.offset;
      const float* d = mean_delta.data() + t.offset;
      float* x = model.data() + t.offset;
      for (int64_t i = 0; i < t.numel; ++i) {
        v[i] = keep * v[i] - d[i];  // pseudo-gradient = global - mean
        x[i] -= lr_ * v[i];
      }
    }
  }

 private:
  float lr_;
  float momentum_;
  std::vector<float> velocity_;
};

}  // namespace

std::unique_ptr<ServerOptimizer> NewServerMomentum(double server_learning_rate,
                                                   double server_momentum) {
  return std::make_unique<ServerMomentum>(server_learning_rate,
                                          server_momentum);
}

}  // namespace tandem
