//===- Registration.h - what the project's tools register -------*- C++ -*-===//
#ifndef ATTN_TOOLS_REGISTRATION_H
#define ATTN_TOOLS_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir::attn {
/// The hand-picked dialects (and their interface models) the tools load:
/// builtin, func, arith, math, tensor, linalg, tosa, scf, memref, vector,
/// gpu, nvgpu, nvvm, llvm, bufferization and attn.
void registerDialects(DialectRegistry &registry);
/// The project's passes and pipelines plus the upstream ones they use.
void registerPasses();
/// What computes a tool's results: the fused kernels (JIT-compiled for this
/// CPU) or the float64 interpreter.
enum class Pipeline { Fused, Reference };
} // namespace mlir::attn

#endif // ATTN_TOOLS_REGISTRATION_H
