//===- Tensor.cpp - Host tensors ------------------------------------------===//

#include "runtime/Tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace attn::rt {

namespace {

// An IEEE-style binary format narrower than float: sign, `expBits` exponent
// bits (bias 2^(expBits-1) - 1, all-ones = inf/NaN) and `mantBits` fraction
// bits. binary16 and bfloat16 differ only in these two numbers, so one
// encoder and one decoder serve both.
struct SmallFloat {
  int expBits, mantBits;
};
constexpr SmallFloat kHalf{5, 10};
constexpr SmallFloat kBFloat16{8, 7};

uint16_t encodeSmall(double x, SmallFloat f) {
  const int m = f.mantBits;
  const int bias = (1 << (f.expBits - 1)) - 1;
  const int minExp = 1 - bias; // exponent of the smallest normal number
  const uint32_t infBits = ((1u << f.expBits) - 1) << m;
  const uint32_t sign = std::signbit(x) ? 1u << (f.expBits + m) : 0;
  if (std::isnan(x))
    return uint16_t(sign | infBits | (1u << (m - 1)));
  double a = std::fabs(x);
  if (a == 0)
    return uint16_t(sign);
  if (std::isinf(a))
    return uint16_t(sign | infBits);
  int e;
  std::frexp(a, &e);
  e = std::max(e - 1, minExp); // a < 2^(e+1); subnormals share minExp's spacing
  // Count of quanta (2^(e-m)) in a: exact in double, and rint rounds ties to
  // even. It lies in [0, 2^(m+1)]; 2^(m+1) is the carry into the next binade.
  double units = std::rint(std::ldexp(a, m - e));
  // Laying the biased exponent above the quanta makes that carry (and the
  // subnormal-to-normal step) fall out of the addition.
  uint32_t bits = (uint32_t(e - minExp) << m) + uint32_t(units);
  if (bits >= infBits)
    bits = infBits; // overflow rounds to infinity
  return uint16_t(sign | bits);
}

double decodeSmall(uint16_t bits, SmallFloat f) {
  const int m = f.mantBits;
  const int bias = (1 << (f.expBits - 1)) - 1;
  const uint32_t maxField = (1u << f.expBits) - 1;
  const bool negative = (bits >> (f.expBits + m)) & 1;
  const uint32_t field = (bits >> m) & maxField;
  const uint32_t mant = bits & ((1u << m) - 1);
  double a;
  if (field == maxField)
    a = mant ? std::numeric_limits<double>::quiet_NaN()
             : std::numeric_limits<double>::infinity();
  else if (field == 0)
    a = std::ldexp(double(mant), 1 - bias - m);
  else
    a = std::ldexp(double(mant | (1u << m)), int(field) - bias - m);
  return negative ? -a : a;
}

template <typename T> T load(const std::vector<uint8_t> &bytes, size_t flat) {
  T v;
  std::memcpy(&v, bytes.data() + flat * sizeof(T), sizeof(T));
  return v;
}

template <typename T>
void store(std::vector<uint8_t> &bytes, size_t flat, T v) {
  std::memcpy(bytes.data() + flat * sizeof(T), &v, sizeof(T));
}

// Round to nearest and clamp, so a NaN or an out-of-range value never reaches
// an undefined float-to-integer conversion.
template <typename T> T toInteger(double x) {
  if (std::isnan(x))
    return 0;
  double r = std::rint(x);
  if (r <= double(std::numeric_limits<T>::min()))
    return std::numeric_limits<T>::min();
  if (r >= double(std::numeric_limits<T>::max()))
    return std::numeric_limits<T>::max();
  return T(r);
}

} // namespace

uint16_t encodeHalf(double x) { return encodeSmall(x, kHalf); }
double decodeHalf(uint16_t bits) { return decodeSmall(bits, kHalf); }
uint16_t encodeBFloat16(double x) { return encodeSmall(x, kBFloat16); }
double decodeBFloat16(uint16_t bits) { return decodeSmall(bits, kBFloat16); }

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F16: return "float16";
  case DType::BF16: return "bfloat16";
  case DType::F32: return "float32";
  case DType::F64: return "float64";
  case DType::Bool: return "bool";
  case DType::I32: return "int32";
  case DType::I64: return "int64";
  }
  return "?";
}

const char *mlirTypeName(DType t) {
  switch (t) {
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::F32: return "f32";
  case DType::F64: return "f64";
  case DType::Bool: return "i1";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  }
  return "?";
}

const char *elementTypeName(DType t) {
  return t == DType::Bool ? "bool" : mlirTypeName(t);
}

bool parseElementType(const std::string &name, DType &t) {
  for (DType d : {DType::F16, DType::BF16, DType::F32, DType::F64, DType::Bool,
                  DType::I32, DType::I64})
    if (name == elementTypeName(d)) {
      t = d;
      return true;
    }
  return false;
}

bool parseDType(const std::string &name, DType &t) {
  for (DType d : {DType::F16, DType::BF16, DType::F32, DType::F64, DType::Bool,
                  DType::I32, DType::I64})
    if (name == dtypeName(d)) {
      t = d;
      return true;
    }
  return false;
}

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F16:
  case DType::BF16: return 2;
  case DType::F32:
  case DType::I32: return 4;
  case DType::F64:
  case DType::I64: return 8;
  case DType::Bool: return 1;
  }
  return 1;
}

bool isFloat(DType t) {
  return t == DType::F16 || t == DType::BF16 || t == DType::F32 ||
         t == DType::F64;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

size_t numelOf(const std::vector<int64_t> &shape) {
  size_t n = 1;
  for (int64_t d : shape)
    n *= size_t(d);
  return n;
}

double Tensor::get(size_t flat) const {
  switch (dtype) {
  case DType::F16: return decodeHalf(load<uint16_t>(bytes, flat));
  case DType::BF16: return decodeBFloat16(load<uint16_t>(bytes, flat));
  case DType::F32: return load<float>(bytes, flat);
  case DType::F64: return load<double>(bytes, flat);
  case DType::Bool: return bytes[flat] ? 1.0 : 0.0;
  case DType::I32: return load<int32_t>(bytes, flat);
  case DType::I64: return double(load<int64_t>(bytes, flat));
  }
  return 0;
}

void Tensor::set(size_t flat, double x) {
  switch (dtype) {
  case DType::F16: return store(bytes, flat, encodeHalf(x));
  case DType::BF16: return store(bytes, flat, encodeBFloat16(x));
  // double -> float rounds to nearest even under the default FP environment.
  case DType::F32: return store(bytes, flat, float(x));
  case DType::F64: return store(bytes, flat, x);
  case DType::Bool: bytes[flat] = x != 0; return;
  case DType::I32: return store(bytes, flat, toInteger<int32_t>(x));
  case DType::I64: return store(bytes, flat, toInteger<int64_t>(x));
  }
}

Tensor Tensor::zeros(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.assign(t.numel() * dtypeSize(dtype), 0);
  return t;
}

Tensor Tensor::fromValues(DType dtype, std::vector<int64_t> shape,
                          const std::vector<double> &values) {
  Tensor t = zeros(dtype, std::move(shape));
  for (size_t i = 0; i < t.numel() && i < values.size(); ++i)
    t.set(i, values[i]);
  return t;
}

Tensor cast(const Tensor &t, DType to) {
  if (t.dtype == to)
    return t;
  Tensor r = Tensor::zeros(to, t.shape);
  for (size_t i = 0; i < t.numel(); ++i)
    r.set(i, t.get(i));
  return r;
}

} // namespace attn::rt
