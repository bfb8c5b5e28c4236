// The one conversion between absl::Status and grpc::Status. Both use the
// canonical code numbering, so codes map one to one.
#ifndef TANDEM_PROTO_GRPC_STATUS_H_
#define TANDEM_PROTO_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"

namespace tandem {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

// `what` (may be empty) prefixes the message: "push: connection reset".
inline absl::Status FromGrpcStatus(const grpc::Status& s,
                                   absl::string_view what = "") {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      what.empty()
                          ? s.error_message()
                          : absl::StrCat(what, ": ", s.error_message()));
}

}  // namespace tandem

#endif  // TANDEM_PROTO_GRPC_STATUS_H_
