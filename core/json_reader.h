// Strict reading of one JSON object: typed fields, JSON-path errors, unknown
// keys rejected.
//
//   JsonObjectReader r(json, "$.training");
//   r.Int("batch_size", &cfg.batch_size, /*min=*/1);
//   r.Double("learning_rate", &cfg.learning_rate, 0, 10);
//   TANDEM_RETURN_IF_ERROR(r.Finish());   // first error, or unknown keys
//
// Absent fields keep the value they had (the default). The first error wins;
// later calls are no-ops once an error is recorded. Not thread-safe.
#ifndef TANDEM_CORE_JSON_READER_H_
#define TANDEM_CORE_JSON_READER_H_

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/name_table.h"
#include "nlohmann/json.hpp"

namespace tandem {

class JsonObjectReader {
 public:
  // `path` names the object in errors, e.g. "$.server".
  JsonObjectReader(const nlohmann::json& json, std::string path);

  void Int(const std::string& key, int* out,
           int64_t min = std::numeric_limits<int>::min(),
           int64_t max = std::numeric_limits<int>::max());
  void Int64(const std::string& key, int64_t* out, int64_t min = 0,
             int64_t max = std::numeric_limits<int64_t>::max());
  void Uint64(const std::string& key, uint64_t* out);
  void Double(const std::string& key, double* out,
              double min = -std::numeric_limits<double>::max(),
              double max = std::numeric_limits<double>::max());
  void Bool(const std::string& key, bool* out);
  void String(const std::string& key, std::string* out);
  // A string that must be one of `allowed`.
  void Enum(const std::string& key, std::string* out,
            const std::vector<std::string>& allowed);
  // A string naming one of `names`' values, read as the value.
  template <typename E>
  void Named(const std::string& key, E* out, const NameTable<E>& names) {
    std::vector<std::string> allowed;
    for (const auto& n : names) allowed.push_back(n.first);
    std::string name = NameOf(names, *out);
    Enum(key, &name, allowed);
    for (const auto& [n, v] : names) {
      if (n == name) *out = v;
    }
  }
  // Any JSON object, kept as is (validated by whoever consumes it).
  void Object(const std::string& key, nlohmann::json* out);
  // Returns the value at `key` if present (marks it as read), else nullptr.
  const nlohmann::json* Child(const std::string& key);

  // Records an error at `key` (for checks across fields).
  void Fail(const std::string& key, const std::string& what);
  std::string PathOf(const std::string& key) const;

  // The first error, or an error naming the first unknown key, or OK.
  absl::Status Finish();

 private:
  const nlohmann::json* Get(const std::string& key);
  void Expected(const std::string& key, const std::string& what);

  const nlohmann::json& json_;
  std::string path_;
  std::set<std::string> seen_;
  absl::Status status_;
};

}  // namespace tandem

#endif  // TANDEM_CORE_JSON_READER_H_
