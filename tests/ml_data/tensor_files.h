// Helpers for tests of tensor data: .npy bytes written by hand, .npz
// archives written with libzip (stored or deflated), and CSV text.
#ifndef TANDEM_TESTS_ML_DATA_TENSOR_FILES_H_
#define TANDEM_TESTS_ML_DATA_TENSOR_FILES_H_

#include <zip.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/ml_data/test_files.h"

namespace tandem::data::testing_files {

// A fresh, empty directory named after the running test (and its
// parameter), so that tests run in parallel never share one.
inline std::string MakeTestDir() {
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = absl::StrCat(info->test_suite_name(), ".", info->name());
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return MakeTempDir(name);
}

// The bytes of `values`, as they lie in memory (little-endian hosts).
template <typename T>
Bytes RawBytes(const std::vector<T>& values) {
  Bytes out(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// A .npy file holding `data` (raw bytes) under the header
// {'descr': descr, 'fortran_order': ..., 'shape': shape}, padded as numpy
// pads it: magic, version, header length, header ending in '\n', the
// values starting at a multiple of 64. Version 2.0 has a 4-byte length.
inline Bytes NpyBytes(const std::string& descr,
                      const std::vector<int64_t>& shape, const Bytes& data,
                      bool fortran_order = false, int major_version = 1) {
  const std::string shape_text = absl::StrCat("(", absl::StrJoin(shape, ", "),
                                              shape.size() == 1 ? ",)" : ")");
  std::string header =
      absl::StrCat("{'descr': '", descr,
                   "', 'fortran_order': ", fortran_order ? "True" : "False",
                   ", 'shape': ", shape_text, ", }");
  const size_t prefix = major_version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  Bytes out = {
      0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major_version), 0};
  const size_t length_bytes = prefix - 8;
  for (size_t i = 0; i < length_bytes; ++i) {
    out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline Bytes NpyFloats(const std::vector<int64_t>& shape,
                       const std::vector<float>& values) {
  return NpyBytes("<f4", shape, RawBytes(values));
}
inline Bytes NpyLabels(const std::vector<int64_t>& labels) {
  return NpyBytes("<i8", {static_cast<int64_t>(labels.size())},
                  RawBytes(labels));
}

struct NpzEntry {
  std::string name;
  Bytes bytes;
};

// Writes a zip of `entries` to `path`, each stored or deflated.
inline void WriteNpz(const std::string& path,
                     const std::vector<NpzEntry>& entries, bool deflate) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  ASSERT_NE(archive, nullptr) << path << ": libzip error " << error;
  for (const NpzEntry& e : entries) {
    // The buffers must outlive zip_close, which reads them: `entries` does.
    zip_source_t* source =
        zip_source_buffer(archive, e.bytes.data(), e.bytes.size(), 0);
    ASSERT_NE(source, nullptr) << zip_strerror(archive);
    const zip_int64_t index =
        zip_file_add(archive, e.name.c_str(), source, ZIP_FL_OVERWRITE);
    ASSERT_GE(index, 0) << zip_strerror(archive);
    ASSERT_EQ(zip_set_file_compression(
                  archive, index, deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0),
              0)
        << zip_strerror(archive);
  }
  ASSERT_EQ(zip_close(archive), 0) << zip_strerror(archive);
}

// Writes a .npz with entries x.npy and y.npy.
inline void WriteXyNpz(const std::string& path, const Bytes& x, const Bytes& y,
                       bool deflate = false) {
  WriteNpz(path, {{"x.npy", x}, {"y.npy", y}}, deflate);
}

inline void WriteText(const std::string& path, const std::string& text) {
  WriteFile(path, Bytes(text.begin(), text.end()));
}

}  // namespace tandem::data::testing_files

#endif  // TANDEM_TESTS_ML_DATA_TENSOR_FILES_H_
