#include "core/json_reader.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tandem {

JsonObjectReader::JsonObjectReader(const nlohmann::json& json, std::string path)
    : json_(json), path_(std::move(path)) {
  if (!json_.is_object()) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        "config: ", path_, ": expected an object, got ", json_.type_name()));
  }
}

std::string JsonObjectReader::PathOf(const std::string& key) const {
  return absl::StrCat(path_, ".", key);
}

void JsonObjectReader::Fail(const std::string& key, const std::string& what) {
  if (!status_.ok()) return;
  status_ = absl::InvalidArgumentError(
      absl::StrCat("config: ", PathOf(key), ": ", what));
}

void JsonObjectReader::Expected(const std::string& key,
                                const std::string& what) {
  const nlohmann::json& v = json_.at(key);
  Fail(key, absl::StrCat("expected ", what, ", got ", v.dump()));
}

const nlohmann::json* JsonObjectReader::Get(const std::string& key) {
  if (!status_.ok()) return nullptr;
  seen_.insert(key);
  auto it = json_.find(key);
  if (it == json_.end()) return nullptr;
  return &*it;
}

const nlohmann::json* JsonObjectReader::Child(const std::string& key) {
  return Get(key);
}

void JsonObjectReader::Int(const std::string& key, int* out, int64_t min,
                           int64_t max) {
  int64_t v = *out;
  Int64(key, &v, min, max);
  if (status_.ok()) *out = static_cast<int>(v);
}

void JsonObjectReader::Int64(const std::string& key, int64_t* out, int64_t min,
                             int64_t max) {
  const nlohmann::json* v = Get(key);
  if (v == nullptr) return;
  if (!v->is_number_integer()) {
    return Expected(key, "an integer");
  }
  const int64_t x = v->get<int64_t>();
  if (x < min || x > max) {
    return Expected(key, absl::StrCat("an integer in [", min, ", ", max, "]"));
  }
  *out = x;
}

void JsonObjectReader::Uint64(const std::string& key, uint64_t* out) {
  const nlohmann::json* v = Get(key);
  if (v == nullptr) return;
  // Non-negative integers parse as unsigned; only signed ones can be < 0.
  if (!v->is_number_integer() ||
      (!v->is_number_unsigned() && v->get<int64_t>() < 0)) {
    return Expected(key, "a non-negative integer");
  }
  *out = v->get<uint64_t>();
}

void JsonObjectReader::Double(const std::string& key, double* out, double min,
                              double max) {
  const nlohmann::json* v = Get(key);
  if (v == nullptr) return;
  if (!v->is_number()) return Expected(key, "a number");
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    return Expected(key, absl::StrCat("a number in [", min, ", ", max, "]"));
  }
  *out = x;
}

void JsonObjectReader::Bool(const std::string& key, bool* out) {
  const nlohmann::json* v = Get(key);
  if (v == nullptr) return;
  if (!v->is_boolean()) return Expected(key, "true or false");
  *out = v->get<bool>();
}

void JsonObjectReader::String(const std::string& key, std::string* out) {
  const nlohmann::json* v = Get(key);
  if (v == nullptr) return;
  if (!v->is_string()) return Expected(key, "a string");
  *out = v->get<std::string>();
}

void JsonObjectReader::Enum(const std::string& key, std::string* out,
                            const std::vector<std::string>& allowed) {
  const nlohmann::json* v = Get(key);
  if (v == nullptr) return;
  const std::string what =
      absl::StrCat("one of \"", absl::StrJoin(allowed, "\", \""), "\"");
  if (!v->is_string()) return Expected(key, what);
  const std::string s = v->get<std::string>();
  for (const std::string& a : allowed) {
    if (s == a) {
      *out = s;
      return;
    }
  }
  Expected(key, what);
}

void JsonObjectReader::Object(const std::string& key, nlohmann::json* out) {
  const nlohmann::json* v = Get(key);
  if (v == nullptr) return;
  if (!v->is_object()) return Expected(key, "an object");
  *out = *v;
}

absl::Status JsonObjectReader::Finish() {
  if (!status_.ok()) return status_;
  for (auto it = json_.begin(); it != json_.end(); ++it) {
    if (seen_.count(it.key()) == 0) {
      std::vector<std::string> known(seen_.begin(), seen_.end());
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", PathOf(it.key()),
          ": unknown key (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tandem
