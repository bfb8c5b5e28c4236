#include <cmath>
#include <vector>

#include "core/status_macros.h"
#include "strategies/server_optimizer.h"

namespace tandem {
namespace {

class FedOpt final : public ServerOptimizer {
 public:
  FedOpt(FedOptKind kind, FedOptHyper hyper) : kind_(kind), hyper_(hyper) {}

  void Step(const WeightsLayout& layout, int64_t round,
            absl::Span<const float> mean_delta,
            absl::Span<float> model) override {
    if (m_.size() != mean_delta.size()) {
      m_.assign(mean_delta.size(), 0.0f);
      v_.assign(mean_delta.size(), 0.0f);
      steps_ = 0;
    }
    ++steps_;
    const float eta = static_cast<float>(StepSize(round));
    for (const TensorSpec& t : layout.tensors()) {
      if (t.kind != TensorKind::kParameter) continue;
      StepTensor(t.offset, t.numel, eta, mean_delta.data(), model.data());
    }
  }

  void Save(RunState* out) const override {
    if (m_.empty()) return;
    out->arrays["strategy.m"] = m_;
    out->arrays["strategy.v"] = v_;
    out->values["strategy"]["steps"] = steps_;
  }

  absl::Status Load(const RunState& in, size_t size) override {
    std::vector<float> m, v;
    TANDEM_RETURN_IF_ERROR(LoadStateArray(in, "strategy.m", size, &m));
    TANDEM_RETURN_IF_ERROR(LoadStateArray(in, "strategy.v", size, &v));
    const nlohmann::json& saved = in.values.at("strategy");
    const nlohmann::json steps = saved.value("steps", nlohmann::json(0));
    if (m.size() != v.size() || !steps.is_number_integer() ||
        steps.get<int64_t>() < 0 ||
        (m.empty() != (steps.get<int64_t>() == 0))) {
      return absl::InvalidArgumentError(
          "strategy: moments and step count do not match");
    }
    m_ = std::move(m);
    v_ = std::move(v);
    steps_ = steps.get<int64_t>();
    return absl::OkStatus();
  }

 private:
  double StepSize(int64_t round) const {
    if (kind_ != FedOptKind::kAdam) return hyper_.eta;
    const double t = static_cast<double>(
        hyper_.bias_step == BiasCorrectionStep::kServerSteps ? steps_
                                                             : round + 1);
    return hyper_.eta * std::sqrt(1 - std::pow(hyper_.beta_2, t)) /
           (1 - std::pow(hyper_.beta_1, t));
  }

  void StepTensor(int64_t offset, int64_t n, float eta, const float* delta,
                  float* model) {
    const float b1 = static_cast<float>(hyper_.beta_1);
    const float b2 = static_cast<float>(hyper_.beta_2);
    const float tau = static_cast<float>(hyper_.tau);
    float* m = m_.data() + offset;
    float* v = v_.data() + offset;
    const float* d = delta + offset;
    float* x = model + offset;
    for (int64_t i = 0; i < n; ++i) {
      const float d2 = d[i] * d[i];
      m[i] = b1 * m[i] + (1 - b1) * d[i];
      switch (kind_) {
        case FedOptKind::kAdam:
          v[i] = b2 * v[i] + (1 - b2) * d2;
          break;
        case FedOptKind::kYogi: {
          const float diff = v[i] - d2;
          const float sign = diff > 0 ? 1.0f : (diff < 0 ? -1.0f : 0.0f);
          v[i] -= (1 - b2) * d2 * sign;
          break;
        }
        case FedOptKind::kAdagrad:
          v[i] += d2;
          break;
      }
      x[i] += eta * m[i] / (std::sqrt(v[i]) + tau);
    }
  }

  FedOptKind kind_;
  FedOptHyper hyper_;
  std::vector<float> m_;
  std::vector<float> v_;
  int64_t steps_ = 0;
};

}  // namespace

std::unique_ptr<ServerOptimizer> NewFedOpt(FedOptKind kind, FedOptHyper hyper) {
  return std::make_unique<FedOpt>(kind, hyper);
}

}  // namespace tandem
