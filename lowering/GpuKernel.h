//===- GpuKernel.h - fused attention kernels for NVIDIA GPUs ----*- C++ -*-===//
#ifndef ATTN_LOWERING_GPUKERNEL_H
#define ATTN_LOWERING_GPUKERNEL_H

#include "lowering/KernelSpec.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <string>

namespace mlir::attn {

/// What a launcher needs to know about a generated kernel besides its
/// parameters (kernelParams of the spec, docs/artefacts.md).
struct GpuKernelInfo {
  std::string name;
  int64_t warps, stages, sharedBytes;
  int64_t positionsPerBlock; // query positions per thread block (grid x)
};

/// The GPU kernel layout for `spec` without building it: parameters, shared
/// memory, grid granularity.
GpuKernelInfo describeGpuKernel(const KernelSpec &spec);

/// Builds (or finds, by name) the kernel for `spec` as a gpu.func in
/// `module`, using mma.sync m16n8k16 (f16/bf16 in, f32 accumulation),
/// ldmatrix, cp.async double buffering and warp shuffles (NVVM ops).
gpu::GPUFuncOp getOrCreateGpuKernel(gpu::GPUModuleOp module,
                                    const KernelSpec &spec);

} // namespace mlir::attn

#endif // ATTN_LOWERING_GPUKERNEL_H
