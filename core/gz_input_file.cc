#include "core/gz_input_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace tandem {
namespace {

// gzread takes an unsigned int length; stay well below it.
constexpr int64_t kMaxChunk = int64_t{1} << 30;
// zlib's own buffer; large buffers keep decompression in few big calls.
constexpr unsigned kZlibBuffer = 1u << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<GzInputFile>> GzInputFile::Open(
    const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a file"));
  }
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int err = errno;
    const std::string why = err != 0 ? std::strerror(err) : "out of memory";
    const std::string message = absl::StrCat(path, ": cannot open: ", why);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  gzbuffer(file, kZlibBuffer);
  return std::unique_ptr<GzInputFile>(new GzInputFile(path, file));
}

GzInputFile::~GzInputFile() { gzclose_r(file_); }

absl::StatusOr<int64_t> GzInputFile::Read(void* buffer, int64_t n) {
  char* out = static_cast<char*>(buffer);
  int64_t total = 0;
  while (total < n && !stream_truncated_) {
    const unsigned chunk =
        static_cast<unsigned>(std::min(n - total, kMaxChunk));
    const int got = gzread(file_, out + total, chunk);
    int errnum = Z_OK;
    const char* message = gzerror(file_, &errnum);
    if (errnum == Z_BUF_ERROR) {
      // zlib reports a gzip stream that ends mid-way this way.
      stream_truncated_ = true;
    } else if (got < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
      return absl::DataLossError(
          absl::StrCat(path_, ": corrupt compressed data after ", total,
                       " bytes (zlib: ", message, ")"));
    }
    if (got > 0) total += got;
    if (got < static_cast<int>(chunk)) break;  // end of file
  }
  return total;
}

}  // namespace tandem
