//===- Passes.h - attn lowering passes and pipelines ------------*- C++ -*-===//
#ifndef ATTN_LOWERING_PASSES_H
#define ATTN_LOWERING_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::attn {
#define GEN_PASS_DECL
#include "lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowering/Passes.h.inc"

/// attn-to-cpu: canonicalize, plan CPU tiles, lower to fused kernels,
/// bufferize and convert everything to the LLVM dialect, ready for the JIT
/// (ExecutionEngine) or an object file. Loops over batch, heads and query
/// tiles run on OpenMP threads.
void buildAttnToCpuPipeline(OpPassManager &pm);

/// attn-to-nvvm: canonicalize, plan tiles for `chip`, generate the kernels
/// and lower the gpu.module to the LLVM/NVVM dialects with an NVVM target
/// attached, ready for gpu-module-to-binary (PTX) or attn-compile.
void buildAttnToNvvmPipeline(OpPassManager &pm, StringRef chip);

/// The gpu.modules of a module (generated kernels) to the LLVM/NVVM
/// dialects with an NVVM target for `chip` attached.
void buildGpuModulesToNvvmPipeline(OpPassManager &pm, StringRef chip);

/// Registers the named pipelines (attn-to-cpu, attn-to-nvvm).
void registerAttnPipelines();
} // namespace mlir::attn

#endif // ATTN_LOWERING_PASSES_H
