//===- Npy.h - NumPy .npy files -----------------------------------*- C++ -*-===//
//
// Reads format versions 1.0 and 2.0 and writes 1.0, little-endian, C order,
// for '<f2' '<f4' '<f8' '|b1' '<i4' '<i8'. NumPy has no bfloat16, so a bf16
// tensor is refused rather than written under a made-up type code.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_NPY_H
#define ATTN_RUNTIME_NPY_H

#include "runtime/Tensor.h"

#include <string>

namespace attn::rt {

/// Returns "" on success, else one line naming the file and the problem.
std::string readNpy(const std::string &path, Tensor &out);
std::string writeNpy(const std::string &path, const Tensor &t);

} // namespace attn::rt

#endif // ATTN_RUNTIME_NPY_H
