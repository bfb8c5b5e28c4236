// Reads and validates a strategy's "params" object: typed values with ranges
// and defaults, and an error for every key the strategy does not know.
//
//   ParamReader r(options.params, "strategy.params", "fedadam");
//   double eta = 0.1;
//   r.Number("eta", &eta, Range::Positive());
//   TANDEM_RETURN_IF_ERROR(r.Finish());
//
// Errors are InvalidArgument and name the JSON path and what was expected:
//   "strategy.params.beta: expected a number in [0, 0.5), got 0.7"
//   "strategy.params.bogus: unknown parameter for fedavg (known: none)"
#ifndef TANDEM_STRATEGIES_STRATEGY_PARAMS_H_
#define TANDEM_STRATEGIES_STRATEGY_PARAMS_H_

#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace tandem {

// An interval of accepted numbers, printed in errors as "[lo, hi)" etc.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  static Range Closed(double lo, double hi) { return {lo, hi, false, false}; }
  static Range HalfOpen(double lo, double hi) { return {lo, hi, false, true}; }
  static Range Positive() {
    return {0, std::numeric_limits<double>::infinity(), true, true};
  }
  static Range NonNegative() {
    return {0, std::numeric_limits<double>::infinity(), false, true};
  }
  bool Contains(double x) const;
  std::string ToString() const;
};

// Collects the first error; not thread-safe. `params` must outlive it.
class ParamReader {
 public:
  // `path` is the JSON path of the params object; `owner` names the strategy
  // in unknown-key errors.
  ParamReader(const nlohmann::json& params, std::string path,
              std::string owner);

  // Each reader leaves *out (the default) unchanged when the key is absent
  // and records an error when it is present with a wrong type or value.
  void Number(absl::string_view key, double* out, Range range);
  void Int(absl::string_view key, int* out, int lo, int hi);
  void String(absl::string_view key, std::string* out,
              const std::vector<std::string>& allowed);
  void Object(absl::string_view key, nlohmann::json* out);
  // Records an error when `key` is absent; call with the reader of that key.
  void Require(absl::string_view key, absl::string_view expected);

  // The first error, or an error for the first key no reader asked for.
  absl::Status Finish() const;

 private:
  const nlohmann::json* Find(absl::string_view key);
  void Fail(absl::string_view key, std::string message);

  const nlohmann::json& params_;
  std::string path_;
  std::string owner_;
  std::vector<std::string> known_;
  absl::Status status_;
};

}  // namespace tandem

#endif  // TANDEM_STRATEGIES_STRATEGY_PARAMS_H_
