// Small macros for propagating absl::Status (Abseil 20220623 ships none).
//
//   TANDEM_RETURN_IF_ERROR(WriteFile(path));
//   TANDEM_ASSIGN_OR_RETURN(Weights w, DecodeWeights(msg));
#ifndef TANDEM_CORE_STATUS_MACROS_H_
#define TANDEM_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TANDEM_CONCAT_INNER_(a, b) a##b
#define TANDEM_CONCAT_(a, b) TANDEM_CONCAT_INNER_(a, b)

#define TANDEM_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status tandem_status_ = (expr);          \
    if (!tandem_status_.ok()) return tandem_status_; \
  } while (0)

#define TANDEM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#define TANDEM_ASSIGN_OR_RETURN(lhs, expr)                                  \
  TANDEM_ASSIGN_OR_RETURN_IMPL_(TANDEM_CONCAT_(tandem_statusor_, __LINE__), \
                                lhs, expr)

#endif  // TANDEM_CORE_STATUS_MACROS_H_
