#include "ml/data/npz_reader.h"

#include <zip.h>

#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "ml/data/corrupt.h"

namespace tandem::data {
namespace {

// Deflate expands at most about 1032:1; an entry claiming more than that
// over its compressed size is corrupt.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr uint64_t kDeflateSlack = 1 << 16;
// Entries listed in a missing-entry error.
constexpr int64_t kListedEntries = 20;

struct ZipDiscard {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct ZipFileClose {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipDiscard>;
using ZipFile = std::unique_ptr<zip_file_t, ZipFileClose>;

std::string LibzipMessage(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string message = zip_error_strerror(&error);
  zip_error_fini(&error);
  return message;
}

std::string EntryNames(zip_t* archive) {
  const zip_int64_t n = zip_get_num_entries(archive, 0);
  std::vector<std::string> names;
  for (zip_int64_t i = 0; i < n && i < kListedEntries; ++i) {
    const char* name = zip_get_name(archive, i, 0);
    names.push_back(name == nullptr ? "?" : name);
  }
  if (names.empty()) return "none";
  return absl::StrCat(absl::StrJoin(names, ", "),
                      n > kListedEntries ? ", ..." : "");
}

// The uncompressed bytes of entry `index`, after checking its declared sizes
// against the archive's size.
absl::StatusOr<std::vector<uint8_t>> ReadEntry(zip_t* archive,
                                               zip_uint64_t index,
                                               const std::string& name,
                                               uint64_t archive_bytes) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive, index, 0, &st) != 0) {
    return Corrupt(name, zip_strerror(archive));
  }
  const zip_uint64_t need =
      ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
  if ((st.valid & need) != need) {
    return Corrupt(name, "the archive does not give the entry's sizes");
  }
  if (st.comp_size > archive_bytes) {
    return Corrupt(name, absl::StrCat("entry claims ", st.comp_size,
                                      " compressed bytes, the archive holds ",
                                      archive_bytes));
  }
  if (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size) {
    return Corrupt(name, absl::StrCat("stored entry claims ", st.size,
                                      " bytes but occupies ", st.comp_size));
  }
  if (st.size > st.comp_size * kMaxDeflateRatio + kDeflateSlack) {
    return Corrupt(name, absl::StrCat("entry claims ", st.size, " bytes from ",
                                      st.comp_size,
                                      " compressed: more than deflate gives"));
  }
  ZipFile file(zip_fopen_index(archive, index, 0));
  if (file == nullptr) return Corrupt(name, zip_strerror(archive));
  std::vector<uint8_t> bytes(st.size);
  uint64_t got = 0;
  while (got < st.size) {
    const zip_int64_t n =
        zip_fread(file.get(), bytes.data() + got, st.size - got);
    if (n < 0) return Corrupt(name, zip_file_strerror(file.get()));
    if (n == 0) {
      return Corrupt(name, absl::StrCat("entry ends after ", got, " of its ",
                                        st.size, " bytes"));
    }
    got += n;
  }
  // Reading to the end makes libzip check the CRC.
  uint8_t extra;
  const zip_int64_t more = zip_fread(file.get(), &extra, 1);
  if (more < 0) return Corrupt(name, zip_file_strerror(file.get()));
  if (more > 0) {
    return Corrupt(name, absl::StrCat("entry holds more than the ", st.size,
                                      " bytes it declares"));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::vector<NpyArray>> ReadNpzEntries(
    const std::string& path, const std::vector<std::string>& entries) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat(path, ": no such .npz file (need entries ",
                     absl::StrJoin(entries, ", "), ")"));
  }
  const uintmax_t archive_bytes = std::filesystem::file_size(path, ec);
  if (ec) return Corrupt(path, ec.message());
  int code = 0;
  ZipArchive archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  if (archive == nullptr) {
    return Corrupt(path, absl::StrCat("not a readable .npz (zip) archive: ",
                                      LibzipMessage(code)));
  }
  std::vector<NpyArray> arrays;
  for (const std::string& entry : entries) {
    const std::string name = absl::StrCat(path, ": ", entry);
    const zip_int64_t index = zip_name_locate(archive.get(), entry.c_str(), 0);
    if (index < 0) {
      return Corrupt(path, absl::StrCat("has no entry ", entry, " (entries: ",
                                        EntryNames(archive.get()), ")"));
    }
    TANDEM_ASSIGN_OR_RETURN(
        std::vector<uint8_t> bytes,
        ReadEntry(archive.get(), index, name, archive_bytes));
    TANDEM_ASSIGN_OR_RETURN(NpyArray array, ParseNpy(name, std::move(bytes)));
    arrays.push_back(std::move(array));
  }
  return arrays;
}

}  // namespace tandem::data
