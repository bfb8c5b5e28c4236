#include "client/device_data.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "ml/data/partition.h"
#include "ml/data/run_data.h"
#include "ml/data/tensor_dataset.h"

namespace tandem::client {

namespace {

// The device's own data: an MNIST-format folder, or a file that
// data::LoadTensorFile reads by its extension (.npz, .csv), normalised as the
// spec says when the run's data is tensor data too.
absl::StatusOr<data::Dataset> LoadOwnData(const v1::DataSpec& spec,
                                          const std::string& own) {
  std::error_code ec;
  if (!std::filesystem::is_directory(own, ec)) {
    data::TensorDatasetOptions options;
    if (spec.dataset() == "tensor") {
      options.num_classes = spec.num_classes();
      options.mean.assign(spec.mean().begin(), spec.mean().end());
      options.std.assign(spec.std().begin(), spec.std().end());
    }
    return data::LoadTensorFile(own, options);
  }
  data::DataSource source;
  source.kind = "idx";
  source.path = own;
  TANDEM_ASSIGN_OR_RETURN(data::TrainTest tt, data::LoadDataset(source));
  return std::move(tt.train);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const data::Dataset>> LoadDeviceData(
    const v1::DataSpec& spec, const std::string& own_folder) {
  if (!own_folder.empty()) {
    TANDEM_ASSIGN_OR_RETURN(data::Dataset own, LoadOwnData(spec, own_folder));
    return std::make_shared<const data::Dataset>(std::move(own));
  }
  if (spec.partition_index() < 0 ||
      spec.partition_index() >= spec.num_partitions()) {
    return absl::InvalidArgumentError(
        absl::StrCat("partition ", spec.partition_index(), " of ",
                     spec.num_partitions(), " does not exist"));
  }
  const int index = spec.partition_index();
  auto mine = [&spec, index](
                  const std::vector<uint8_t>& labels,
                  int num_classes) -> absl::StatusOr<std::vector<int64_t>> {
    TANDEM_ASSIGN_OR_RETURN(
        auto parts,
        data::Partition(labels, num_classes, data::PartitionOptionsFor(spec)));
    if (index >= static_cast<int>(parts.size())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "partition ", index, " of ", parts.size(), " does not exist"));
    }
    return std::move(parts[index]);
  };
  TANDEM_ASSIGN_OR_RETURN(
      data::Dataset rows,
      data::LoadTrainRows(data::SourceForSpec(spec), spec.train_limit(), mine));
  return std::make_shared<const data::Dataset>(std::move(rows));
}

}  // namespace tandem::client
