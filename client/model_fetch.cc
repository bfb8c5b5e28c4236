#include "client/model_fetch.h"

#include "absl/strings/str_cat.h"
#include "client/backoff.h"
#include "client/rpc_util.h"
#include "core/file_io.h"
#include "core/file_sha256.h"
#include "proto/tandem.grpc.pb.h"

namespace tandem::client {
namespace {

// Reads the stream into *bytes, bounded by the size the first chunk
// announces; returns that chunk's SHA-256.
absl::StatusOr<std::string> ReadChunks(
    grpc::ClientReader<v1::ModelFileChunk>& reader, std::string* bytes) {
  v1::ModelFileChunk chunk;
  if (!reader.Read(&chunk)) return std::string();  // the status says why
  const int64_t size = chunk.size();
  const std::string sha256 = chunk.sha256();
  if (size < 1 || size > kMaxModelFileBytes || !IsSha256Hex(sha256)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model file: the coordinator announced ", size, " bytes (at most ",
        kMaxModelFileBytes, ") and a SHA-256 of ", sha256.size(), " chars"));
  }
  bytes->reserve(static_cast<size_t>(size));
  do {
    if (static_cast<int64_t>(bytes->size() + chunk.data().size()) > size) {
      return absl::InvalidArgumentError(
          absl::StrCat("model file: more bytes than the ", size, " announced"));
    }
    bytes->append(chunk.data());
  } while (reader.Read(&chunk));
  return sha256;
}

absl::StatusOr<std::string> FetchOnce(v1::Coordinator::Stub& stub,
                                      const v1::ModelFileRequest& request,
                                      std::string* bytes) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Minutes(10));
  auto reader = stub.GetModelFile(&ctx, request);
  absl::StatusOr<std::string> sha256 = ReadChunks(*reader, bytes);
  if (!sha256.ok()) {
    ctx.TryCancel();
    reader->Finish();
    return sha256.status();
  }
  absl::Status status = FromGrpcStatus(reader->Finish());
  if (!status.ok()) return status;
  return sha256;
}

}  // namespace

absl::StatusOr<std::string> FetchModelFile(grpc::Channel& channel,
                                           const v1::ModelFileRequest& request,
                                           const std::string& path,
                                           absl::Duration give_up_after) {
  auto stub = v1::Coordinator::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  const absl::Time give_up = absl::Now() + give_up_after;
  Backoff backoff(absl::Milliseconds(200), absl::Seconds(5), /*seed=*/1);
  std::string bytes;
  absl::StatusOr<std::string> sha256 = FetchOnce(*stub, request, &bytes);
  while (!sha256.ok() && IsTransient(sha256.status()) &&
         absl::Now() < give_up) {
    absl::SleepFor(backoff.Next());
    bytes.clear();
    sha256 = FetchOnce(*stub, request, &bytes);
  }
  if (!sha256.ok()) return sha256.status();
  const std::string got = Sha256Hex(bytes);
  if (static_cast<int64_t>(bytes.size()) == 0 || got != *sha256) {
    return absl::DataLossError(
        absl::StrCat("model file: received ", bytes.size(),
                     " bytes with SHA-256 ", got, ", announced ", *sha256));
  }
  absl::Status written = WriteFileAtomically(path, bytes);
  if (!written.ok()) return written;
  return got;
}

}  // namespace tandem::client
