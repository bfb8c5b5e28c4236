#include "ml/data/partition.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "ml/data/portable_random.h"

namespace tandem::data {
namespace {

using Parts = std::vector<std::vector<int64_t>>;

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("partition: ", message));
}

}  // namespace

std::vector<std::string> PartitionKinds() {
  return {"iid", "dirichlet", "shards"};
}

namespace {

absl::Status Validate(const std::vector<uint8_t>& labels, int num_classes,
                      const PartitionOptions& o) {
  if (o.kind != "iid" && o.kind != "dirichlet" && o.kind != "shards") {
    return Invalid(absl::StrCat("unknown kind \"", o.kind,
                                "\"; accepted: iid, dirichlet, shards"));
  }
  const int64_t n = static_cast<int64_t>(labels.size());
  if (o.num_partitions < 1) {
    return Invalid(absl::StrCat("num_partitions = ", o.num_partitions,
                                " must be at least 1"));
  }
  if (o.num_partitions > n) {
    return Invalid(absl::StrCat("num_partitions = ", o.num_partitions,
                                " is more than the ", n, " examples"));
  }
  if (num_classes < 1 || num_classes > 256) {
    return Invalid(
        absl::StrCat("num_classes = ", num_classes, " is not in [1, 256]"));
  }
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] >= num_classes) {
      return Invalid(absl::StrCat("label ", labels[i], " of example ", i,
                                  " is not below num_classes ", num_classes));
    }
  }
  if (o.kind == "dirichlet" && !(o.alpha > 0 && std::isfinite(o.alpha))) {
    return Invalid(
        absl::StrCat("alpha = ", o.alpha, " must be positive and finite"));
  }
  if (o.kind == "shards" &&
      (o.shards_per_partition < 1 ||
       int64_t{o.num_partitions} * o.shards_per_partition > n)) {
    return Invalid(absl::StrCat(
        "shards_per_partition = ", o.shards_per_partition,
        " must be at least 1 and num_partitions * shards_per_partition (",
        int64_t{o.num_partitions} * o.shards_per_partition, ") at most the ", n,
        " examples"));
  }
  return absl::OkStatus();
}

std::vector<int64_t> ShuffledIndices(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Shuffle(rng, &order);
  return order;
}

// Cuts `order` into `parts` contiguous runs whose sizes differ by at most one.
Parts CutEvenly(const std::vector<int64_t>& order, int64_t parts) {
  const int64_t n = static_cast<int64_t>(order.size());
  Parts out(parts);
  for (int64_t k = 0; k < parts; ++k) {
    out[k].assign(order.begin() + k * n / parts,
                  order.begin() + (k + 1) * n / parts);
  }
  return out;
}

Parts Iid(int64_t n, const PartitionOptions& o, std::mt19937_64& rng) {
  return CutEvenly(ShuffledIndices(n, rng), o.num_partitions);
}

// Proportions ~ Dir(alpha, ..., alpha) over `k` parts. If every gamma draw
// underflows (tiny alpha) all mass goes to one random part, the alpha -> 0
// limit.
std::vector<double> DrawDirichlet(double alpha, int k, std::mt19937_64& rng) {
  std::vector<double> p(k);
  double sum = 0;
  for (double& x : p) sum += (x = Gamma(rng, alpha));
  if (!(sum > 0) || !std::isfinite(sum)) {
    std::fill(p.begin(), p.end(), 0.0);
    p[UniformIndex(rng, k)] = 1.0;
    return p;
  }
  for (double& x : p) x /= sum;
  return p;
}

// One Dirichlet draw: deals each class's examples out by fresh proportions.
Parts DealByClass(const Parts& by_class, const PartitionOptions& o,
                  std::mt19937_64& rng) {
  Parts parts(o.num_partitions);
  for (const std::vector<int64_t>& members : by_class) {
    const std::vector<double> p = DrawDirichlet(o.alpha, o.num_partitions, rng);
    const int64_t n = static_cast<int64_t>(members.size());
    double cumulative = 0;
    int64_t begin = 0;
    for (int k = 0; k < o.num_partitions; ++k) {
      cumulative += p[k];
      const int64_t end =
          k + 1 == o.num_partitions
              ? n
              : std::min<int64_t>(n, std::llround(cumulative * n));
      for (int64_t i = begin; i < end; ++i) parts[k].push_back(members[i]);
      begin = std::max(begin, end);
    }
  }
  return parts;
}

bool AnyEmpty(const Parts& parts) {
  return std::any_of(parts.begin(), parts.end(),
                     [](const std::vector<int64_t>& p) { return p.empty(); });
}

// Gives each empty part the last example of the currently largest part.
// Needs at least as many examples as parts.
void FillEmpty(Parts* parts) {
  for (std::vector<int64_t>& empty : *parts) {
    if (!empty.empty()) continue;
    auto largest = std::max_element(
        parts->begin(), parts->end(),
        [](const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
          return a.size() < b.size();
        });
    empty.push_back(largest->back());
    largest->pop_back();
  }
}

Parts Dirichlet(const std::vector<uint8_t>& labels, int num_classes,
                const PartitionOptions& o, std::mt19937_64& rng) {
  Parts by_class(num_classes);
  for (int64_t i : ShuffledIndices(labels.size(), rng)) {
    by_class[labels[i]].push_back(i);
  }
  Parts parts;
  for (int attempt = 0; attempt <= kDirichletRedraws; ++attempt) {
    parts = DealByClass(by_class, o, rng);
    if (!AnyEmpty(parts)) return parts;
  }
  FillEmpty(&parts);
  return parts;
}

Parts Shards(const std::vector<uint8_t>& labels, const PartitionOptions& o,
             std::mt19937_64& rng) {
  std::vector<int64_t> order = ShuffledIndices(labels.size(), rng);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return labels[a] < labels[b]; });
  const int64_t num_shards = int64_t{o.num_partitions} * o.shards_per_partition;
  const Parts shards = CutEvenly(order, num_shards);
  std::vector<int64_t> shard_ids(num_shards);
  std::iota(shard_ids.begin(), shard_ids.end(), 0);
  Shuffle(rng, &shard_ids);
  Parts parts(o.num_partitions);
  for (int64_t s = 0; s < num_shards; ++s) {
    const std::vector<int64_t>& shard = shards[shard_ids[s]];
    std::vector<int64_t>& part = parts[s / o.shards_per_partition];
    part.insert(part.end(), shard.begin(), shard.end());
  }
  return parts;
}

}  // namespace

absl::StatusOr<Parts> Partition(const std::vector<uint8_t>& labels,
                                int num_classes,
                                const PartitionOptions& options) {
  TANDEM_RETURN_IF_ERROR(Validate(labels, num_classes, options));
  std::mt19937_64 rng(options.seed);
  const int64_t n = static_cast<int64_t>(labels.size());
  Parts parts;
  if (options.kind == "iid") {
    parts = Iid(n, options, rng);
  } else if (options.kind == "dirichlet") {
    parts = Dirichlet(labels, num_classes, options, rng);
  } else {
    parts = Shards(labels, options, rng);
  }
  for (std::vector<int64_t>& part : parts) std::sort(part.begin(), part.end());
  return parts;
}

}  // namespace tandem::data
