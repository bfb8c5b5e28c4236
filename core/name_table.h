// Names of enum values as configs and the wire spell them: one table per
// enum, owned by the code that defines the enum, so parsing, printing and
// validation agree.
#ifndef TANDEM_CORE_NAME_TABLE_H_
#define TANDEM_CORE_NAME_TABLE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tandem {

// The names of an enum's values, as a config spells them.
template <typename E>
using NameTable = std::vector<std::pair<std::string, E>>;

// The name of `value` in `names` ("" if it has none).
template <typename E>
const std::string& NameOf(const NameTable<E>& names, E value) {
  static const std::string kNone;
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return kNone;
}

// The value named `name`; InvalidArgument naming `what` and the choices.
template <typename E>
absl::StatusOr<E> ValueOf(const NameTable<E>& names, const std::string& name,
                          const std::string& what) {
  std::vector<std::string> all;
  for (const auto& [n, v] : names) {
    if (n == name) return v;
    all.push_back(n);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": \"", name, "\" is not one of \"",
                   absl::StrJoin(all, "\", \""), "\""));
}

}  // namespace tandem

#endif  // TANDEM_CORE_NAME_TABLE_H_
