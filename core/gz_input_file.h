// Sequential reads from a file that may or may not be gzip-compressed.
//
// zlib's gz* functions read plain files transparently, so one reader serves
// `foo.gz` and `foo` alike; reads go straight into the caller's buffer in
// large blocks.
//
//   TANDEM_ASSIGN_OR_RETURN(auto file, GzInputFile::Open(path));
//   TANDEM_ASSIGN_OR_RETURN(int64_t got, file->Read(buf.data(), buf.size()));
//   if (got < buf.size()) { /* file ended early */ }
//
// A GzInputFile is not thread-safe; use one per thread.
#ifndef TANDEM_CORE_GZ_INPUT_FILE_H_
#define TANDEM_CORE_GZ_INPUT_FILE_H_

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace tandem {

class GzInputFile {
 public:
  // NotFound if `path` does not exist, PermissionDenied / Unavailable if it
  // cannot be opened.
  static absl::StatusOr<std::unique_ptr<GzInputFile>> Open(
      const std::string& path);
  ~GzInputFile();
  GzInputFile(const GzInputFile&) = delete;
  GzInputFile& operator=(const GzInputFile&) = delete;

  // Reads up to `n` bytes into `buffer` and returns how many were read. Fewer
  // than `n` means the file (or a cut-short gzip stream, see
  // stream_truncated()) ended. DataLoss names the file if the compressed
  // data is corrupt.
  absl::StatusOr<int64_t> Read(void* buffer, int64_t n);

  // True once a read hit the end of a gzip stream that was cut short.
  bool stream_truncated() const { return stream_truncated_; }
  const std::string& path() const { return path_; }

 private:
  GzInputFile(std::string path, gzFile file)
      : path_(std::move(path)), file_(file) {}

  const std::string path_;
  gzFile file_;
  bool stream_truncated_ = false;
};

}  // namespace tandem

#endif  // TANDEM_CORE_GZ_INPUT_FILE_H_
