#include "ml/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace tandem::data {
namespace {

// Copies everything but the examples.
Dataset EmptyLike(const Dataset& d) {
  Dataset out;
  out.name = d.name;
  out.rank = d.rank;
  out.channels = d.channels;
  out.height = d.height;
  out.width = d.width;
  out.num_classes = d.num_classes;
  out.float_features = d.float_features;
  out.mean = d.mean;
  out.std = d.std;
  return out;
}

// Copies examples `indices` of `from` (`size` examples of `example_size`
// values) to `to`; aborts on an index outside [0, size).
template <typename T>
void CopyExamples(const std::vector<T>& from, int64_t size,
                  const std::vector<int64_t>& indices, int64_t example_size,
                  std::vector<T>* to) {
  to->resize(indices.size() * example_size);
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t j = indices[i];
    if (j < 0 || j >= size) {
      std::fprintf(stderr, "Dataset::Subset: index %lld outside [0, %lld)\n",
                   static_cast<long long>(j), static_cast<long long>(size));
      std::abort();
    }
    std::memcpy(to->data() + i * example_size, from.data() + j * example_size,
                example_size * sizeof(T));
  }
}

// The examples: the vector in use holds size * example_size values, the
// other is empty, and float features are finite.
absl::Status ValidateExamples(const Dataset& d, const std::string& what) {
  const size_t want = d.labels.size() * d.example_size();
  if (!d.float_features) {
    if (d.pixels.size() != want) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, d.pixels.size(), " pixel bytes for ",
                       d.labels.size(), " examples of ", d.example_size()));
    }
    if (!d.features.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "has ", d.features.size(),
                       " float features but float_features is false"));
    }
    return absl::OkStatus();
  }
  if (d.features.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, d.features.size(), " float features for ",
                     d.labels.size(), " examples of ", d.example_size()));
  }
  if (!d.pixels.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, "has ", d.pixels.size(), " pixel bytes but float features"));
  }
  for (size_t i = 0; i < d.features.size(); ++i) {
    if (!std::isfinite(d.features[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, "feature value ", i, " (example ", i / d.example_size(),
          ") is ", d.features[i], ", not finite"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

Dataset Dataset::Subset(const std::vector<int64_t>& indices) const {
  Dataset out = EmptyLike(*this);
  if (float_features) {
    CopyExamples(features, size(), indices, example_size(), &out.features);
  } else {
    CopyExamples(pixels, size(), indices, example_size(), &out.pixels);
  }
  out.labels.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    out.labels[i] = labels[indices[i]];
  }
  return out;
}

Dataset Dataset::Head(int64_t n) const {
  Dataset out = EmptyLike(*this);
  n = std::max<int64_t>(0, std::min(n, size()));
  if (float_features) {
    out.features.assign(features.begin(),
                        features.begin() + n * example_size());
  } else {
    out.pixels.assign(pixels.begin(), pixels.begin() + n * example_size());
  }
  out.labels.assign(labels.begin(), labels.begin() + n);
  return out;
}

absl::Status ValidateDataset(const Dataset& d) {
  const std::string what = absl::StrCat("dataset \"", d.name, "\": ");
  if (d.channels < 1 || d.height < 1 || d.width < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "bad shape ", d.channels, "x", d.height, "x",
                     d.width, " (channels x height x width)"));
  }
  if (d.rank < 1 || d.rank > 3 || (d.rank < 3 && d.height != 1) ||
      (d.rank == 1 && d.width != 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "rank ", d.rank, " does not fit shape ", d.channels,
                     "x", d.height, "x", d.width,
                     " (rank 3: C x H x W; 2: C x 1 x T; 1: F x 1 x 1)"));
  }
  if (d.num_classes < 1 || d.num_classes > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, "num_classes ", d.num_classes, " is not in [1, 256]"));
  }
  TANDEM_RETURN_IF_ERROR(ValidateExamples(d, what));
  for (size_t i = 0; i < d.labels.size(); ++i) {
    if (d.labels[i] >= d.num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "label ", d.labels[i], " of example ", i,
                       " is not below num_classes ", d.num_classes));
    }
  }
  if (d.mean.size() != static_cast<size_t>(d.channels) ||
      d.std.size() != static_cast<size_t>(d.channels)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "mean/std have ", d.mean.size(), "/", d.std.size(),
                     " values for ", d.channels, " channels"));
  }
  for (float s : d.std) {
    if (!(s > 0.0f) || !std::isfinite(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "std ", s, " is not positive and finite"));
    }
  }
  return absl::OkStatus();
}

void SetChannelStatsFromPixels(Dataset* d) {
  const int64_t plane = static_cast<int64_t>(d->height) * d->width;
  d->mean.assign(d->channels, 0.0f);
  d->std.assign(d->channels, 1.0f);
  for (int c = 0; c < d->channels; ++c) {
    // Exact integer sums: 60000 * 784 * 255^2 fits easily in 64 bits.
    uint64_t sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < d->size(); ++i) {
      const uint8_t* p = d->pixels.data() + (i * d->channels + c) * plane;
      for (int64_t k = 0; k < plane; ++k) {
        sum += p[k];
        sum_sq += static_cast<uint64_t>(p[k]) * p[k];
      }
    }
    const PixelStats s = PixelStatsOf(sum, sum_sq, d->size() * plane);
    d->mean[c] = s.mean;
    d->std[c] = s.std;
  }
}

void SetChannelStatsFromFeatures(Dataset* d) {
  const int64_t plane = static_cast<int64_t>(d->height) * d->width;
  const int64_t count = d->size() * plane;
  d->mean.assign(d->channels, 0.0f);
  d->std.assign(d->channels, 1.0f);
  if (count == 0) return;
  for (int c = 0; c < d->channels; ++c) {
    // Two passes in double: the mean, then the squared deviations from it,
    // so that a constant channel has variance exactly 0.
    double sum = 0;
    for (int64_t i = 0; i < d->size(); ++i) {
      const float* x = d->features.data() + (i * d->channels + c) * plane;
      for (int64_t k = 0; k < plane; ++k) sum += x[k];
    }
    const double mean = sum / count;
    double sum_sq = 0;
    for (int64_t i = 0; i < d->size(); ++i) {
      const float* x = d->features.data() + (i * d->channels + c) * plane;
      for (int64_t k = 0; k < plane; ++k) {
        sum_sq += (x[k] - mean) * (x[k] - mean);
      }
    }
    const double var = sum_sq / count;
    d->mean[c] = static_cast<float>(mean);
    if (var > 0) d->std[c] = static_cast<float>(std::sqrt(var));
  }
}

PixelStats PixelStatsOf(uint64_t sum, uint64_t sum_sq, int64_t count) {
  PixelStats s;
  if (count == 0) return s;
  const double n = static_cast<double>(count);
  const double mean = sum / n / 255.0;
  const double var = std::max(0.0, sum_sq / n / (255.0 * 255.0) - mean * mean);
  s.mean = static_cast<float>(mean);
  if (var > 0) s.std = static_cast<float>(std::sqrt(var));
  return s;
}

}  // namespace tandem::data
