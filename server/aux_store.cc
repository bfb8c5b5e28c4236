#include "server/aux_store.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "ml/aux_classifier.h"

namespace tandem::server {

AuxStore::AuxStore(const ml::Model* model, uint64_t seed)
    : model_(model), seed_(seed) {}

std::shared_ptr<const std::vector<float>> AuxStore::Get(int split) {
  auto it = global_.find(split);
  if (it != global_.end()) return it->second;
  auto init = std::make_shared<const std::vector<float>>(
      ml::InitAux(*model_, split, seed_));
  global_[split] = init;
  return init;
}

void AuxStore::Save(RunState* out) const {
  for (const auto& [split, weights] : global_) {
    out->arrays[absl::StrCat("aux.", split)] = *weights;
  }
}

absl::Status AuxStore::Load(const RunState& in) {
  std::map<int, std::shared_ptr<const std::vector<float>>> loaded;
  for (const auto& [name, weights] : in.arrays) {
    if (!absl::StartsWith(name, "aux.")) continue;
    int split = 0;
    if (!absl::SimpleAtoi(name.substr(4), &split)) {
      return absl::InvalidArgumentError(absl::StrCat("array '", name, "'"));
    }
    TANDEM_RETURN_IF_ERROR(Check(split, weights));
    loaded[split] = std::make_shared<const std::vector<float>>(weights);
  }
  global_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status AuxStore::Check(int split, const std::vector<float>& w) const {
  if (split < 1 || split >= model_->num_stages()) {
    return absl::InvalidArgumentError(
        absl::StrCat("auxiliary classifier for split point ", split, " of a ",
                     model_->num_stages(), "-stage model"));
  }
  const int64_t want = ml::AuxSize(*model_, split);
  if (static_cast<int64_t>(w.size()) != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("auxiliary classifier: ", w.size(), " weights, expected ",
                     want, " for split point ", split));
  }
  for (float v : w) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(
          "auxiliary classifier: non-finite weight");
    }
  }
  return absl::OkStatus();
}

void AuxStore::Add(int split, const std::string& device,
                   const std::vector<float>& w, int64_t samples) {
  added_[split][device] = {w, samples};
}

std::vector<float> AuxStore::WeightedMean(
    const std::map<std::string, Contribution>& by_device) {
  std::vector<double> weighted;
  double samples = 0;
  for (const auto& [device, c] : by_device) {  // ascending device id
    if (weighted.empty()) weighted.assign(c.weights.size(), 0.0);
    const double n = static_cast<double>(c.samples);
    for (size_t i = 0; i < c.weights.size(); ++i) {
      weighted[i] += n * c.weights[i];
    }
    samples += n;
  }
  if (!(samples > 0)) return {};
  std::vector<float> mean(weighted.size());
  for (size_t i = 0; i < mean.size(); ++i) {
    mean[i] = static_cast<float>(weighted[i] / samples);
  }
  return mean;
}

void AuxStore::Commit() {
  for (const auto& [split, by_device] : added_) {
    std::vector<float> mean = WeightedMean(by_device);
    if (mean.empty()) continue;
    global_[split] =
        std::make_shared<const std::vector<float>>(std::move(mean));
  }
  added_.clear();
}

}  // namespace tandem::server
