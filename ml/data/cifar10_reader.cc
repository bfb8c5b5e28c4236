#include "ml/data/cifar10_reader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace tandem::data {
namespace {

constexpr int kPixelBytes = kCifar10RecordBytes - 1;
// Records read per block: about 3 MB.
constexpr int64_t kBlockRecords = 1024;
constexpr char kSubfolder[] = "cifar-10-batches-bin";

absl::StatusOr<int64_t> CountRecords(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("CIFAR-10 file ", path, " does not exist"));
  }
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(path, ": cannot get size: ", ec.message()));
  }
  if (size == 0 || size % kCifar10RecordBytes != 0) {
    return absl::DataLossError(absl::StrCat(
        path, ": size ", size, " bytes is not a positive multiple of the ",
        kCifar10RecordBytes, "-byte record"));
  }
  return static_cast<int64_t>(size / kCifar10RecordBytes);
}

// Splits `n` records at `records` into labels and pixels of examples
// [first, first + n) of `d`; `index` is the first record's index in its file.
absl::Status Unpack(const std::string& path, const uint8_t* records, int64_t n,
                    int64_t first, int64_t index, Dataset* d) {
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = records + i * kCifar10RecordBytes;
    if (r[0] >= 10) {
      return absl::DataLossError(absl::StrCat(path, ": label ", r[0],
                                              " of record ", index + i,
                                              " is not below 10"));
    }
    d->labels[first + i] = r[0];
    std::memcpy(d->pixels.data() + (first + i) * kPixelBytes, r + 1,
                kPixelBytes);
  }
  return absl::OkStatus();
}

absl::Status ReadRecords(const std::string& path, Dataset* d) {
  if (d->channels != 3 || d->height != 32 || d->width != 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AppendCifar10Batch: dataset \"", d->name, "\" is ", d->channels, "x",
        d->height, "x", d->width, ", not 3x32x32"));
  }
  TANDEM_ASSIGN_OR_RETURN(int64_t count, CountRecords(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot open"));
  }
  const int64_t start = d->size();
  d->labels.resize(start + count);
  d->pixels.resize((start + count) * kPixelBytes);
  std::vector<uint8_t> block(kBlockRecords * kCifar10RecordBytes);
  for (int64_t done = 0; done < count;) {
    const int64_t n = std::min(kBlockRecords, count - done);
    in.read(reinterpret_cast<char*>(block.data()), n * kCifar10RecordBytes);
    if (in.gcount() != n * kCifar10RecordBytes) {
      return absl::DataLossError(absl::StrCat(
          path, ": file ends after ", done * kCifar10RecordBytes + in.gcount(),
          " bytes, expected ", count * kCifar10RecordBytes));
    }
    TANDEM_RETURN_IF_ERROR(
        Unpack(path, block.data(), n, start + done, done, d));
    done += n;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendCifar10Batch(const std::string& path, Dataset* d) {
  const int64_t size = d->size();
  absl::Status status = ReadRecords(path, d);
  if (!status.ok() && d->size() != size) {
    d->labels.resize(size);
    d->pixels.resize(size * kPixelBytes);
  }
  return status;
}

absl::StatusOr<TrainTest> LoadCifar10Folder(const std::string& folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir(folder);
  if (!fs::exists(dir / "test_batch.bin", ec) &&
      fs::is_directory(dir / kSubfolder, ec)) {
    dir /= kSubfolder;
  }
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("CIFAR-10 folder ", folder, " does not exist"));
  }
  TrainTest tt;
  for (Dataset* d : {&tt.train, &tt.test}) {
    d->name = "cifar10";
    d->channels = 3;
    d->height = d->width = 32;
    d->num_classes = 10;
    d->mean = {0.4914f, 0.4822f, 0.4465f};
    d->std = {0.2470f, 0.2435f, 0.2616f};
  }
  for (int b = 1; b <= kCifar10TrainBatches; ++b) {
    const fs::path path = dir / absl::StrCat("data_batch_", b, ".bin");
    TANDEM_RETURN_IF_ERROR(AppendCifar10Batch(path.string(), &tt.train));
  }
  TANDEM_RETURN_IF_ERROR(
      AppendCifar10Batch((dir / "test_batch.bin").string(), &tt.test));
  TANDEM_RETURN_IF_ERROR(ValidateDataset(tt.train));
  TANDEM_RETURN_IF_ERROR(ValidateDataset(tt.test));
  return tt;
}

}  // namespace tandem::data
