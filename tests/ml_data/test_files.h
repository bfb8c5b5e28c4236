// Helpers for ml/data tests: building IDX and CIFAR-10 files in a temp dir.
#ifndef TANDEM_TESTS_ML_DATA_TEST_FILES_H_
#define TANDEM_TESTS_ML_DATA_TEST_FILES_H_

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tandem::data::testing_files {

using Bytes = std::vector<uint8_t>;

// A fresh, empty directory under the test temp dir.
inline std::string MakeTempDir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("tandem_ml_data_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline void WriteFile(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ASSERT_TRUE(out.good()) << path;
}

inline void WriteGz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), bytes.size()),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

inline Bytes ReadRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// An IDX file of unsigned bytes: magic 0 0 8 ndims, big-endian dims, values.
inline Bytes IdxBytes(const std::vector<uint32_t>& dims, const Bytes& values) {
  Bytes out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(d >> shift);
  }
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

// n images of h x w; pixel k of image i is (i * 7 + k) % 256.
inline Bytes ImagePixels(uint32_t n, uint32_t h, uint32_t w) {
  Bytes p(static_cast<size_t>(n) * h * w);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < h * w; ++k) p[i * h * w + k] = (i * 7 + k) % 256;
  }
  return p;
}

inline Bytes CycleLabels(uint32_t n) {
  Bytes l(n);
  for (uint32_t i = 0; i < n; ++i) l[i] = i % 10;
  return l;
}

// Writes an MNIST-format folder with small images; `gz` picks .gz files.
inline void WriteIdxFolder(const std::string& dir, uint32_t n_train,
                           uint32_t n_test, bool gz) {
  auto write = [&](const std::string& base, const Bytes& bytes) {
    const std::string path = dir + "/" + base;
    if (gz) {
      WriteGz(path + ".gz", bytes);
    } else {
      WriteFile(path, bytes);
    }
  };
  write("train-images-idx3-ubyte",
        IdxBytes({n_train, 4, 5}, ImagePixels(n_train, 4, 5)));
  write("train-labels-idx1-ubyte", IdxBytes({n_train}, CycleLabels(n_train)));
  write("t10k-images-idx3-ubyte",
        IdxBytes({n_test, 4, 5}, ImagePixels(n_test, 4, 5)));
  write("t10k-labels-idx1-ubyte", IdxBytes({n_test}, CycleLabels(n_test)));
}

}  // namespace tandem::data::testing_files

#endif  // TANDEM_TESTS_ML_DATA_TEST_FILES_H_
