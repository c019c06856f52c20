//===- Npy.cpp - NumPy .npy files -----------------------------------------===//

#include "runtime/Npy.h"

#include "runtime/Files.h"
#include "runtime/NoThrow.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>

namespace attn::rt {

namespace {

const char kMagic[] = "\x93NUMPY";
const size_t kMagicSize = 6;

const char *typeCode(DType t) {
  switch (t) {
  case DType::F16: return "<f2";
  case DType::F32: return "<f4";
  case DType::F64: return "<f8";
  case DType::Bool: return "|b1";
  case DType::I32: return "<i4";
  case DType::I64: return "<i8";
  case DType::BF16: return nullptr;
  }
  return nullptr;
}

// The header is a Python dict literal that NumPy writes in one fixed form,
// e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. Rather
// than a Python parser, each key's value is located and read on its own.
std::string valueAfter(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return "";
  size_t colon = header.find(':', at);
  if (colon == std::string::npos)
    return "";
  size_t begin = header.find_first_not_of(" ", colon + 1);
  if (begin == std::string::npos)
    return "";
  char open = header[begin];
  if (open == '\'' || open == '(') {
    size_t end = header.find(open == '(' ? ')' : '\'', begin + 1);
    return end == std::string::npos ? "" : header.substr(begin, end - begin + 1);
  }
  size_t end = header.find_first_of(",}", begin);
  return header.substr(begin, end == std::string::npos ? end : end - begin);
}

// "(2, 3)", "(5,)" or "()" -> dims; false on anything else.
bool parseShape(const std::string &text, std::vector<int64_t> &shape) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    return false;
  shape.clear();
  size_t i = 1;
  while (true) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ','))
      ++i;
    if (text[i] == ')')
      return true;
    if (text[i] < '0' || text[i] > '9')
      return false;
    int64_t d = 0;
    while (text[i] >= '0' && text[i] <= '9') {
      if (d > (std::numeric_limits<int64_t>::max() - 9) / 10)
        return false;
      d = d * 10 + (text[i++] - '0');
    }
    shape.push_back(d);
  }
}

std::string readNpyFile(const std::string &path, Tensor &out) {
  auto fail = [&](const std::string &what) { return path + ": " + what; };
  std::string file;
  if (std::string e = readFileBytes(path, kMaxNpyBytes, file); !e.empty())
    return e;
  if (file.size() < kMagicSize + 2 ||
      std::memcmp(file.data(), kMagic, kMagicSize) != 0)
    return fail("not a .npy file (bad magic; expected \\x93NUMPY)");
  int major = uint8_t(file[6]);
  size_t lengthBytes = major == 1 ? 2 : major == 2 ? 4 : 0;
  if (!lengthBytes)
    return fail("unsupported .npy format version " + std::to_string(major) +
                "." + std::to_string(uint8_t(file[7])) +
                " (1.0 and 2.0 are read)");
  size_t headerStart = 8 + lengthBytes;
  if (file.size() < headerStart)
    return fail("truncated header");
  size_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |= size_t(uint8_t(file[8 + i])) << (8 * i);
  if (file.size() < headerStart + headerLength)
    return fail("truncated header");
  std::string header(file.begin() + headerStart,
                     file.begin() + headerStart + headerLength);

  std::string descr = valueAfter(header, "descr");
  std::string fortran = valueAfter(header, "fortran_order");
  std::string shapeText = valueAfter(header, "shape");
  if (descr.size() < 2 || fortran.empty() || shapeText.empty())
    return fail("malformed header '" + header.substr(0, header.find('\n')) +
                "'");
  descr = descr.substr(1, descr.size() - 2);
  if (fortran != "False")
    return fail("fortran_order is " + fortran +
                "; save a C-ordered array (numpy.ascontiguousarray)");
  DType dtype;
  bool known = false;
  for (DType d : {DType::F16, DType::F32, DType::F64, DType::Bool, DType::I32,
                  DType::I64})
    if (descr == typeCode(d)) {
      dtype = d;
      known = true;
    }
  if (!known)
    return fail("unsupported dtype '" + descr +
                "' (supported: <f2 <f4 <f8 |b1 <i4 <i8, little-endian)");
  std::vector<int64_t> shape;
  if (!parseShape(shapeText, shape))
    return fail("malformed shape " + shapeText);

  // The byte count saturates instead of overflowing, and is checked against
  // the file size before anything is allocated, so a corrupt shape can ask
  // for neither a wrapped-around nor an absurd amount of memory.
  size_t dataSize = file.size() - headerStart - headerLength;
  size_t needed = dtypeSize(dtype);
  for (int64_t d : shape)
    needed = d != 0 && needed > SIZE_MAX / size_t(d) ? SIZE_MAX
                                                      : needed * size_t(d);
  if (dataSize < needed)
    return fail("truncated data: shape " + shapeString(shape) + " needs " +
                (needed == SIZE_MAX ? "more than that"
                                    : std::to_string(needed)) +
                " bytes, the file has " + std::to_string(dataSize));
  if (dataSize > needed)
    return fail("size mismatch: shape " + shapeString(shape) + " needs " +
                std::to_string(needed) + " bytes, the file has " +
                std::to_string(dataSize));
  out.dtype = dtype;
  out.shape = shape;
  out.bytes.assign(file.begin() + headerStart + headerLength, file.end());
  // NumPy reads any nonzero byte of a bool array as true; kernels load the
  // byte (or its low bit) as it is. Normalizing here makes every consumer
  // see what NumPy sees.
  if (dtype == DType::Bool)
    for (uint8_t &b : out.bytes)
      b = b != 0;
  return "";
}

std::string writeNpyFile(const std::string &path, const Tensor &t) {
  const char *code = typeCode(t.dtype);
  if (!code)
    return path + ": cannot write " + dtypeName(t.dtype) +
           " (NumPy has no such type); cast to float32 first";
  if (t.bytes.size() != t.numel() * dtypeSize(t.dtype))
    return path + ": tensor of shape " + shapeString(t.shape) + " holds " +
           std::to_string(t.bytes.size()) + " bytes, expected " +
           std::to_string(t.numel() * dtypeSize(t.dtype));
  std::string shape = "(";
  for (int64_t d : t.shape)
    shape += std::to_string(d) + (t.shape.size() == 1 ? "," : ", ");
  if (t.shape.size() > 1)
    shape.resize(shape.size() - 2);
  shape += ")";
  std::string header = std::string("{'descr': '") + code +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Version 1.0 pads the header with spaces and a newline so that the data
  // starts on a 64-byte boundary.
  size_t total = kMagicSize + 2 + 2 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 0xffff)
    return path + ": header too long for .npy version 1.0";

  std::ofstream out(path, std::ios::binary);
  if (!out)
    return path + ": cannot create the file (check the folder exists and is writable)";
  out.write(kMagic, kMagicSize);
  const char version[2] = {1, 0};
  out.write(version, 2);
  const char length[2] = {char(header.size() & 0xff), char(header.size() >> 8)};
  out.write(length, 2);
  out.write(header.data(), header.size());
  out.write(reinterpret_cast<const char *>(t.bytes.data()), t.bytes.size());
  if (!out.flush())
    return path + ": write failed (disk full?)";
  return "";
}

} // namespace

std::string readNpy(const std::string &path, Tensor &out) {
  return withoutExceptions(path, [&] { return readNpyFile(path, out); });
}

std::string writeNpy(const std::string &path, const Tensor &t) {
  return withoutExceptions(path, [&] { return writeNpyFile(path, t); });
}

} // namespace attn::rt
