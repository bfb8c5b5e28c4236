// Small helpers the device agent's RPC code shares.
#ifndef TANDEM_CLIENT_RPC_UTIL_H_
#define TANDEM_CLIENT_RPC_UTIL_H_

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/grpc_status.h"

namespace tandem::client {

// Every client call has a deadline.
inline void SetDeadline(grpc::ClientContext* ctx, absl::Duration d) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    absl::ToChronoNanoseconds(d));
}

// Worth retrying after a backoff: the coordinator may be back soon.
inline bool IsTransient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         absl::IsCancelled(s) || absl::IsResourceExhausted(s) ||
         absl::IsAborted(s);
}

}  // namespace tandem::client

#endif  // TANDEM_CLIENT_RPC_UTIL_H_
