#include "server/config_check.h"

#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "ml/data/dataset.h"
#include "ml/data/partition.h"
#include "ml/model.h"
#include "offload/split_policy.h"
#include "strategies/attacks.h"
#include "strategies/strategy.h"

namespace tandem::server {
namespace {

absl::Status CheckName(const std::string& path, const std::string& name,
                       const std::vector<std::string>& known) {
  if (absl::c_linear_search(known, name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("config: ", path, ": expected one of \"",
                   absl::StrJoin(known, "\", \""), "\", got \"", name, "\""));
}

}  // namespace

absl::Status CheckRegisteredNames(const Config& c) {
  if (c.model.torchscript.empty()) {
    TANDEM_RETURN_IF_ERROR(
        CheckName("$.model.name", c.model.name, ml::ModelNames()));
  }
  TANDEM_RETURN_IF_ERROR(
      CheckName("$.data.dataset", c.data.dataset, data::DatasetKinds()));
  TANDEM_RETURN_IF_ERROR(
      CheckName("$.data.partition", c.data.partition, data::PartitionKinds()));
  TANDEM_RETURN_IF_ERROR(
      CheckName("$.strategy.name", c.strategy.name, StrategyNames()));
  TANDEM_RETURN_IF_ERROR(
      CheckName("$.offload.policy", c.offload.policy, offload::PolicyNames()));
  for (size_t i = 0; i < c.fleet.classes.size(); ++i) {
    TANDEM_RETURN_IF_ERROR(
        CheckName(absl::StrCat("$.fleet.classes[", i, "].attack"),
                  c.fleet.classes[i].attack, AttackNames()));
  }
  return absl::OkStatus();
}

}  // namespace tandem::server
