// Parser for NumPy's .npy format (one array), from bytes already in memory.
//
// A .npy file is the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), a
// little-endian header length (2 bytes in version 1, 4 after), a header that
// is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (100, 3, 32), }
// and then the values, C order. Accepted here: little-endian or byte-sized
// numeric dtypes (see NpyItemSize); fortran_order True, big-endian and
// structured dtypes are errors. The values must be exactly the bytes the
// shape promises: a header claiming more than the buffer holds is an error
// before anything is allocated.
//
//   TANDEM_ASSIGN_OR_RETURN(NpyArray x, ParseNpy("train.npz: x.npy", bytes));
//   if (x.descr == "<f4") { const float* v = x.values<float>(); ... }
//
// Functions here hold no state and are thread-safe.
#ifndef TANDEM_ML_DATA_NPY_READER_H_
#define TANDEM_ML_DATA_NPY_READER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tandem::data {

// One parsed array. Owns the bytes it was parsed from; the values start at
// `data_offset`.
struct NpyArray {
  std::string descr;           // dtype as in the header, e.g. "<f4", "|u1"
  int item_size = 0;           // bytes per value
  std::vector<int64_t> shape;  // empty for a scalar
  int64_t count = 0;           // number of values: the product of shape
  std::vector<uint8_t> bytes;  // the whole .npy
  int64_t data_offset = 0;

  const uint8_t* data() const { return bytes.data() + data_offset; }
  // Value i as a T, which must be item_size bytes (no alignment needed).
  template <typename T>
  T at(int64_t i) const {
    T v;
    std::memcpy(&v, data() + i * sizeof(T), sizeof(T));
    return v;
  }
};

// Bytes per value of a .npy dtype string, or 0 if the dtype is not one of
// the accepted ones: |b1, |u1, |i1, <u2, <i2, <f2, <u4, <i4, <f4, <u8, <i8,
// <f8 ('=' for native order is read as '<').
int NpyItemSize(const std::string& descr);

// True for the integer dtypes (|u1, |i1, <u2 .. <i8).
bool NpyIsInteger(const std::string& descr);

// Value i of an integer array as int64_t; a uint64 above INT64_MAX reads as
// INT64_MAX. `array` must have an integer dtype.
int64_t NpyIntegerAt(const NpyArray& array, int64_t i);

// Parses `bytes` as a .npy file. `name` (a path, or "archive: entry") starts
// every error message. DataLoss for a bad magic, version, header, dtype or
// a size that does not match the header.
absl::StatusOr<NpyArray> ParseNpy(const std::string& name,
                                  std::vector<uint8_t> bytes);

}  // namespace tandem::data

#endif  // TANDEM_ML_DATA_NPY_READER_H_
