//===- CpuKernel.h - fused attention kernels for CPUs -----------*- C++ -*-===//
#ifndef ATTN_LOWERING_CPUKERNEL_H
#define ATTN_LOWERING_CPUKERNEL_H

#include "lowering/KernelSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {

/// f32 lanes of one vector register (AVX-512): query rows of a tile run
/// along them.
constexpr int64_t kCpuLanes = 16;
/// Stack scratch one task (one query tile) may use: OpenMP worker threads
/// have 4 MiB stacks by default (KMP_STACKSIZE).
constexpr int64_t kCpuScratchBytes = 1 << 20;

/// Vector accumulators (of kCpuLanes f32) a register block may hold on the
/// host the JIT compiles for: 16 with AVX-512's 32 registers, 4 otherwise
/// (AVX2 splits each into two of its 16 registers; 8 spilled).
int64_t cpuAccumulatorBudget();

/// The largest divisor of n that is at most cap (1 when none above 1).
int64_t divisorAtMost(int64_t n, int64_t cap);

/// "" when the CPU kernels can serve `c` as planned, else one line naming
/// the limit (per-task scratch, sizes).
std::string checkCpuKernel(const ::attn::rt::AttentionConfig &c);

/// Memref types of the kernel ABI, in the canonical [B, H, S, D] view with
/// dynamic batch, heads, lengths and strides, a unit innermost stride and a
/// static head dim: one kernel serves every length, batch and layout.
MemRefType kernelOperandType(MLIRContext *ctx, Type element, int64_t rank,
                             int64_t lastDim);

/// The identity-layout buffer of the tensor `t` (bufferization.to_buffer).
Value toBuffer(ImplicitLocOpBuilder &b, Value t, bool readOnly = true);

/// 2^x on a vector of f32 for x <= 0 (every exponent of an online softmax):
/// exact 0 for -inf, NaN stays NaN, relative error about 1e-7 (degree-6
/// polynomial on [-1/2, 1/2]). Cheaper than math.exp's approximation, which
/// handles every input range.
Value emitExp2(ImplicitLocOpBuilder &b, Value x);

/// Builds (or finds, by name) the CPU kernel for `spec` in `module`, one
/// memref argument per kernel operand (kernelOperands(), in that order):
///   func @name(%q, %k, %v, [%mask], [%kv_lengths], [%q_offsets], %out, [%lse])
/// with %q [B, Hq, Sq, Dqk], %k [B, Hkv, Skv, Dqk], %v [B, Hkv, Skv, Dv],
/// %mask [B, Hq, Sq, M] (broadcast dims have stride 0), %kv_lengths and
/// %q_offsets [B], %out [B, Hq, Sq, Dv], %lse [B, Hq, Sq].
func::FuncOp getOrCreateCpuKernel(ModuleOp module, const KernelSpec &spec);

} // namespace mlir::attn

#endif // ATTN_LOWERING_CPUKERNEL_H
