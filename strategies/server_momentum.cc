#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
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

  void Save(RunState* out) const override {
    if (!velocity_.empty()) out->arrays["strategy.velocity"] = velocity_;
  }

  absl::Status Load(const RunState& in, size_t size) override {
    return LoadStateArray(in, "strategy.velocity", size, &velocity_);
  }

 private:
  float lr_;
  float momentum_;
  std::vector<float> velocity_;
};

}  // namespace

absl::Status LoadStateArray(const RunState& in, const std::string& key,
                            size_t size, std::vector<float>* out) {
  auto it = in.arrays.find(key);
  if (it == in.arrays.end()) {
    out->clear();
    return absl::OkStatus();
  }
  if (it->second.size() != size) {
    return absl::InvalidArgumentError(absl::StrCat(
        key, ": ", it->second.size(), " values, the model has ", size));
  }
  for (float v : it->second) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": not finite"));
    }
  }
  *out = it->second;
  return absl::OkStatus();
}

std::unique_ptr<ServerOptimizer> NewServerMomentum(double server_learning_rate,
                                                   double server_momentum) {
  return std::make_unique<ServerMomentum>(server_learning_rate,
                                          server_momentum);
}

}  // namespace tandem
