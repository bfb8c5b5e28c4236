#include "client/model_pool.h"

#include "absl/strings/str_cat.h"

namespace tandem::client {

std::string ModelPool::Key(const std::string& name,
                           const ml::InputShape& input) {
  return absl::StrCat(name, "/", input.channels, "x", input.height, "x",
                      input.width, "/", input.num_classes);
}

absl::StatusOr<std::unique_ptr<ml::Model>> ModelPool::Take(
    const std::string& name, const ml::InputShape& input, uint64_t seed) {
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::unique_ptr<ml::Model>>& kept = free_[Key(name, input)];
    if (!kept.empty()) {
      std::unique_ptr<ml::Model> model = std::move(kept.back());
      kept.pop_back();
      return model;
    }
  }
  return ml::Model::Create(name, input, seed);
}

void ModelPool::Give(std::unique_ptr<ml::Model> model) {
  if (model == nullptr) return;
  const std::string key = Key(model->name(), model->input());
  absl::MutexLock lock(&mu_);
  free_[key].push_back(std::move(model));
}

}  // namespace tandem::client
