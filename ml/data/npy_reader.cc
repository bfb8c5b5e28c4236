#include "ml/data/npy_reader.h"

#include <cctype>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "ml/data/corrupt.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
// Values are read in place, as the host's own.
#error "npy_reader needs a little-endian host"
#endif

namespace tandem::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr int kMagicSize = 6;
// A dimension larger than this is nonsense whatever the data: it keeps the
// products below computed without overflow.
constexpr int64_t kMaxDim = int64_t{1} << 53;

// The three fields of a .npy header.
struct HeaderFields {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// Recursive-descent reader of the header's dict literal: string keys, and
// string, True/False or tuple-of-integers values. Each method returns false
// after recording in `error_` what it expected.
class HeaderParser {
 public:
  explicit HeaderParser(absl::string_view text) : text_(text) {}

  bool Parse(HeaderFields* out) {
    bool has_descr = false, has_fortran = false, has_shape = false;
    if (!Expect('{')) return false;
    while (!Peek('}')) {
      std::string key;
      if (!String(&key) || !Expect(':')) return false;
      if (key == "descr" && !has_descr) {
        has_descr = true;
        if (Peek('[')) return Fail("structured dtypes are not supported");
        if (!String(&out->descr)) return false;
      } else if (key == "fortran_order" && !has_fortran) {
        has_fortran = true;
        if (!Bool(&out->fortran_order)) return false;
      } else if (key == "shape" && !has_shape) {
        has_shape = true;
        if (!Tuple(&out->shape)) return false;
      } else {
        return Fail(absl::StrCat("unexpected or repeated key '", key, "'"));
      }
      if (!Peek(',')) break;
      Expect(',');
    }
    if (!Expect('}')) return false;
    SkipSpace();
    if (pos_ != text_.size()) return Fail("text after the closing '}'");
    if (!has_descr || !has_fortran || !has_shape) {
      return Fail("needs the keys 'descr', 'fortran_order' and 'shape'");
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  bool Fail(const std::string& what) {
    if (error_.empty()) error_ = what;
    return false;
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool Expect(char c) {
    if (Peek(c)) {
      ++pos_;
      return true;
    }
    return Fail(
        absl::StrCat("expected '", std::string(1, c), "' at offset ", pos_));
  }
  bool String(std::string* out) {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Fail(absl::StrCat("expected a quoted string at offset ", pos_));
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return Fail("unterminated string");
    *out = std::string(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return true;
  }
  bool Word(absl::string_view word) {
    SkipSpace();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool Bool(bool* out) {
    if (Word("True")) {
      *out = true;
      return true;
    }
    if (Word("False")) {
      *out = false;
      return true;
    }
    return Fail("'fortran_order' must be True or False");
  }
  bool Integer(int64_t* out) {
    SkipSpace();
    const size_t start = pos_;
    int64_t v = 0;
    while (pos_ < text_.size() &&
           std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      v = v * 10 + (text_[pos_++] - '0');
      if (v > kMaxDim) return Fail("a dimension is larger than 2^53");
    }
    if (pos_ == start) {
      return Fail(absl::StrCat(
          "'shape' must be a tuple of non-negative integers (offset ", pos_,
          ")"));
    }
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2
    *out = v;
    return true;
  }
  bool Tuple(std::vector<int64_t>* out) {
    if (!Expect('(')) return false;
    while (!Peek(')')) {
      int64_t d;
      if (!Integer(&d)) return false;
      out->push_back(d);
      if (!Peek(',')) break;
      Expect(',');
    }
    return Expect(')');
  }

  absl::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("(", absl::StrJoin(shape, ", "),
                      shape.size() == 1 ? ",)" : ")");
}

// '=' (native) and, for one-byte types, '<' written as '|'.
std::string NormalisedDescr(const std::string& descr) {
  if (descr.size() < 3) return descr;
  std::string d = descr;
  if (d[0] == '=') d[0] = '<';
  if (d[0] == '<' && d.substr(2) == "1") d[0] = '|';
  return d;
}

}  // namespace

int NpyItemSize(const std::string& descr) {
  static const char* const kOne[] = {"|b1", "|u1", "|i1"};
  static const char* const kWide[] = {"<u2", "<i2", "<f2", "<u4", "<i4",
                                      "<f4", "<u8", "<i8", "<f8"};
  for (const char* d : kOne) {
    if (descr == d) return 1;
  }
  for (const char* d : kWide) {
    if (descr == d) return descr[2] - '0';
  }
  return 0;
}

bool NpyIsInteger(const std::string& descr) {
  return NpyItemSize(descr) > 0 && (descr[1] == 'u' || descr[1] == 'i');
}

int64_t NpyIntegerAt(const NpyArray& a, int64_t i) {
  const std::string& d = a.descr;
  if (d == "|u1") return a.at<uint8_t>(i);
  if (d == "|i1") return a.at<int8_t>(i);
  if (d == "<u2") return a.at<uint16_t>(i);
  if (d == "<i2") return a.at<int16_t>(i);
  if (d == "<u4") return a.at<uint32_t>(i);
  if (d == "<i4") return a.at<int32_t>(i);
  if (d == "<i8") return a.at<int64_t>(i);
  const uint64_t v = a.at<uint64_t>(i);  // "<u8"
  return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
             ? std::numeric_limits<int64_t>::max()
             : static_cast<int64_t>(v);
}

absl::StatusOr<NpyArray> ParseNpy(const std::string& name,
                                  std::vector<uint8_t> bytes) {
  const size_t size = bytes.size();
  if (size < kMagicSize + 2 ||
      std::memcmp(bytes.data(), kMagic, kMagicSize) != 0) {
    return Corrupt(name, "not a .npy array (no \\x93NUMPY magic)");
  }
  const int major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0) {
    return Corrupt(name, absl::StrCat(".npy version ", major, ".", minor,
                                      " is not 1.0, 2.0 or 3.0"));
  }
  const size_t length_bytes = major == 1 ? 2 : 4;
  const size_t header_start = kMagicSize + 2 + length_bytes;
  if (size < header_start) {
    return Corrupt(name, "truncated .npy header");
  }
  uint64_t header_len = 0;
  for (size_t i = 0; i < length_bytes; ++i) {
    header_len |= uint64_t{bytes[8 + i]} << (8 * i);
  }
  if (header_len > size - header_start) {
    return Corrupt(name,
                   absl::StrCat("truncated .npy header: it claims ", header_len,
                                " bytes, ", size - header_start, " follow"));
  }
  const absl::string_view text(
      reinterpret_cast<const char*>(bytes.data() + header_start), header_len);
  HeaderFields fields;
  HeaderParser parser(text);
  if (!parser.Parse(&fields)) {
    return Corrupt(
        name, absl::StrCat("bad .npy header (", parser.error(), "): ", text));
  }
  if (fields.fortran_order) {
    return Corrupt(name,
                   "fortran_order True is not supported; save a C-order "
                   "array (numpy.ascontiguousarray)");
  }
  NpyArray array;
  array.descr = NormalisedDescr(fields.descr);
  array.item_size = NpyItemSize(array.descr);
  if (array.item_size == 0) {
    return Corrupt(
        name,
        absl::StrCat("dtype ", fields.descr, " is not supported",
                     fields.descr.size() > 0 && fields.descr[0] == '>'
                         ? " (big-endian; save with a little-endian dtype)"
                         : " (numeric little-endian dtypes only)"));
  }
  array.shape = std::move(fields.shape);
  array.data_offset = static_cast<int64_t>(header_start + header_len);
  // Bound the promised size by the bytes present, without overflow: each
  // dimension is at most 2^53, so count * d is checked before it is formed.
  const int64_t available = static_cast<int64_t>(size) - array.data_offset;
  const int64_t max_count = available / array.item_size;
  int64_t count = 1;
  bool too_many = false;
  for (int64_t d : array.shape) {
    if (d == 0) {
      count = 0;
      too_many = false;
      break;
    }
    if (count > max_count / d) too_many = true;
    if (!too_many) count *= d;
  }
  if (too_many || count * array.item_size != available) {
    double promised = array.item_size;
    for (int64_t d : array.shape) promised *= static_cast<double>(d);
    return Corrupt(name, absl::StrCat("shape ", ShapeString(array.shape),
                                      " of ", array.descr, " needs ", promised,
                                      " bytes of data, but ", available,
                                      " bytes follow the header"));
  }
  array.count = count;
  array.bytes = std::move(bytes);
  return array;
}

}  // namespace tandem::data
