#include "ml/data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "ml/data/portable_random.h"

namespace tandem::data {
namespace {

constexpr int64_t kMaxExamples = int64_t{1} << 24;

absl::Status OutOfRange(const char* field, double value, const char* range) {
  return absl::InvalidArgumentError(absl::StrCat(
      "synthetic dataset: ", field, " = ", value, " is not in ", range));
}

absl::Status Validate(const SyntheticOptions& o) {
  if (o.train_size < 1 || o.train_size > kMaxExamples) {
    return OutOfRange("train_size", o.train_size, "[1, 2^24]");
  }
  if (o.test_size < 0 || o.test_size > kMaxExamples) {
    return OutOfRange("test_size", o.test_size, "[0, 2^24]");
  }
  if (o.channels < 1 || o.channels > 4) {
    return OutOfRange("channels", o.channels, "[1, 4]");
  }
  if (o.height < 1 || o.height > 1024) {
    return OutOfRange("height", o.height, "[1, 1024]");
  }
  if (o.width < 1 || o.width > 1024) {
    return OutOfRange("width", o.width, "[1, 1024]");
  }
  if (o.num_classes < 1 || o.num_classes > 256) {
    return OutOfRange("num_classes", o.num_classes, "[1, 256]");
  }
  if (!(o.noise_stddev >= 0) || !std::isfinite(o.noise_stddev)) {
    return OutOfRange("noise_stddev", o.noise_stddev, "[0, inf)");
  }
  if (o.cell < 1) return OutOfRange("cell", o.cell, "[1, inf)");
  return absl::OkStatus();
}

// One C x H x W prototype per class, constant on cell x cell blocks.
std::vector<uint8_t> MakePrototypes(const SyntheticOptions& o,
                                    std::mt19937_64& rng) {
  const int grid_h = (o.height + o.cell - 1) / o.cell;
  const int grid_w = (o.width + o.cell - 1) / o.cell;
  const int64_t bytes = static_cast<int64_t>(o.channels) * o.height * o.width;
  std::vector<uint8_t> prototypes(o.num_classes * bytes);
  std::vector<uint8_t> grid(grid_h * grid_w);
  for (int64_t plane = 0; plane < o.num_classes * o.channels; ++plane) {
    for (uint8_t& g : grid) g = static_cast<uint8_t>(UniformIndex(rng, 256));
    uint8_t* out = prototypes.data() + plane * o.height * o.width;
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        out[y * o.width + x] = grid[(y / o.cell) * grid_w + x / o.cell];
      }
    }
  }
  return prototypes;
}

Dataset MakeSplit(const SyntheticOptions& o, int64_t n,
                  const std::vector<uint8_t>& prototypes,
                  std::mt19937_64& rng) {
  Dataset d;
  d.name = "synthetic";
  d.channels = o.channels;
  d.height = o.height;
  d.width = o.width;
  d.num_classes = o.num_classes;
  d.labels.resize(n);
  for (int64_t i = 0; i < n; ++i) d.labels[i] = i % o.num_classes;
  Shuffle(rng, &d.labels);
  const int64_t bytes = d.example_bytes();
  d.pixels.resize(n * bytes);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* proto = prototypes.data() + d.labels[i] * bytes;
    uint8_t* out = d.pixels.data() + i * bytes;
    for (int64_t k = 0; k < bytes; ++k) {
      const double v = proto[k] + o.noise_stddev * StandardNormal(rng);
      out[k] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
  }
  return d;
}

}  // namespace

absl::StatusOr<TrainTest> MakeSyntheticDataset(const SyntheticOptions& o) {
  TANDEM_RETURN_IF_ERROR(Validate(o));
  std::mt19937_64 rng(o.seed);
  const std::vector<uint8_t> prototypes = MakePrototypes(o, rng);
  TrainTest tt;
  tt.train = MakeSplit(o, o.train_size, prototypes, rng);
  tt.test = MakeSplit(o, o.test_size, prototypes, rng);
  SetChannelStatsFromPixels(&tt.train);
  tt.test.mean = tt.train.mean;
  tt.test.std = tt.train.std;
  return tt;
}

}  // namespace tandem::data
