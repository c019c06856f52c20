//===- Tensor.h - Host tensors for the runtime and the reference --*- C++ -*-===//
//
// A dense, C-ordered host tensor that owns its bytes. The reference evaluator
// reads every element as double whatever the storage type, so one code path
// serves fp16, bf16, fp32 and fp64 inputs.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_TENSOR_H
#define ATTN_RUNTIME_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attn::rt {

enum class DType { F16, BF16, F32, F64, Bool, I32, I64 };

/// "float16", "bfloat16", "float32", "float64", "bool", "int32", "int64"
/// (the NumPy names, as the conformance case.json files spell them).
const char *dtypeName(DType t);
/// Inverse of dtypeName; false for any other name.
bool parseDType(const std::string &name, DType &t);
/// MLIR's spelling: "f16", "bf16", "f32", "f64", "i1", "i32", "i64".
const char *mlirTypeName(DType t);
/// The artefact JSON's spelling: MLIR's, but "bool" for i1.
const char *elementTypeName(DType t);
bool parseElementType(const std::string &name, DType &t);
size_t dtypeSize(DType t);
bool isFloat(DType t);

/// IEEE binary16 and bfloat16 bit patterns. Encoding rounds to nearest even,
/// overflows to infinity, keeps subnormals, and maps NaN to a quiet NaN.
uint16_t encodeHalf(double x);
double decodeHalf(uint16_t bits);
uint16_t encodeBFloat16(double x);
double decodeBFloat16(uint16_t bits);

/// "[2, 3, 4]", for messages.
std::string shapeString(const std::vector<int64_t> &shape);
/// Product of the dimensions; 1 for a scalar.
size_t numelOf(const std::vector<int64_t> &shape);

struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes; // C order, little-endian (the host order)

  size_t numel() const { return numelOf(shape); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// Element `flat` as double (bool -> 0/1). `flat` must be < numel().
  double get(size_t flat) const;
  /// Stores `x` converted to dtype: fp16/bf16 round to nearest even, integers
  /// round to nearest, bool stores x != 0.
  void set(size_t flat, double x);

  static Tensor zeros(DType dtype, std::vector<int64_t> shape);
  /// A tensor of `dtype` holding `values` (converted as by set()); handy in
  /// tests. values.size() must equal the shape's element count.
  static Tensor fromValues(DType dtype, std::vector<int64_t> shape,
                           const std::vector<double> &values);
};

/// Element-wise conversion (through double, which holds every supported
/// type exactly except int64 beyond 2^53).
Tensor cast(const Tensor &t, DType to);

} // namespace attn::rt

#endif // ATTN_RUNTIME_TENSOR_H
