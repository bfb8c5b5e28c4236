#include "strategies/strategy_params.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tandem {

bool Range::Contains(double x) const {
  if (!std::isfinite(x)) return false;
  const bool above = lo_open ? x > lo : x >= lo;
  const bool below = hi_open ? x < hi : x <= hi;
  return above && below;
}

std::string Range::ToString() const {
  auto bound = [](double v) {
    if (std::isinf(v)) return std::string(v > 0 ? "inf" : "-inf");
    return absl::StrCat(v);
  };
  return absl::StrCat(lo_open ? "(" : "[", bound(lo), ", ", bound(hi),
                      hi_open ? ")" : "]");
}

ParamReader::ParamReader(const nlohmann::json& params, std::string path,
                         std::string owner)
    : params_(params), path_(std::move(path)), owner_(std::move(owner)) {
  if (!params_.is_null() && !params_.is_object()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(path_, ": expected an object, got ", params_.dump()));
  }
}

const nlohmann::json* ParamReader::Find(absl::string_view key) {
  known_.emplace_back(key);
  if (!params_.is_object()) return nullptr;
  auto it = params_.find(std::string(key));
  return it == params_.end() ? nullptr : &*it;
}

void ParamReader::Fail(absl::string_view key, std::string message) {
  if (!status_.ok()) return;
  status_ =
      absl::InvalidArgumentError(absl::StrCat(path_, ".", key, ": ", message));
}

void ParamReader::Number(absl::string_view key, double* out, Range range) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_number() || !range.Contains(v->get<double>())) {
    Fail(key, absl::StrCat("expected a number in ", range.ToString(), ", got ",
                           v->dump()));
    return;
  }
  *out = v->get<double>();
}

void ParamReader::Int(absl::string_view key, int* out, int lo, int hi) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_number_integer() || v->get<int64_t>() < lo ||
      v->get<int64_t>() > hi) {
    Fail(key, absl::StrCat("expected an integer in [", lo, ", ", hi, "], got ",
                           v->dump()));
    return;
  }
  *out = v->get<int>();
}

void ParamReader::String(absl::string_view key, std::string* out,
                         const std::vector<std::string>& allowed) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_string() || std::find(allowed.begin(), allowed.end(),
                                   v->get<std::string>()) == allowed.end()) {
    Fail(key,
         absl::StrCat("expected one of \"", absl::StrJoin(allowed, "\", \""),
                      "\", got ", v->dump()));
    return;
  }
  *out = v->get<std::string>();
}

void ParamReader::Object(absl::string_view key, nlohmann::json* out) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_object()) {
    Fail(key, absl::StrCat("expected an object, got ", v->dump()));
    return;
  }
  *out = *v;
}

void ParamReader::Require(absl::string_view key, absl::string_view expected) {
  if (!params_.is_object() || !params_.contains(std::string(key))) {
    Fail(key, absl::StrCat("required for ", owner_, " (", expected, ")"));
  }
}

absl::Status ParamReader::Finish() const {
  if (!status_.ok()) return status_;
  for (const auto& [key, value] : params_.items()) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path_, ".", key, ": unknown parameter for ", owner_, " (known: ",
          known_.empty() ? "none" : absl::StrJoin(known_, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tandem
