//===- KernelSpec.h - what a fused attention kernel is specialised on -----===//
//
// The kernel's AttentionConfig (runtime/AttentionConfig.h: the one
// description of an attention that the reference, the artefacts and the
// runtime share) with its element types as MLIR types. CPU and GPU
// generators both start from a KernelSpec; its name keys the kernel cache
// and the artefact files.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LOWERING_KERNELSPEC_H
#define ATTN_LOWERING_KERNELSPEC_H

#include "dialects/AttnOps.h"
#include "runtime/AttentionConfig.h"

#include <optional>
#include <string>

namespace mlir::attn {

/// MLIR element type <-> runtime dtype.
std::optional<::attn::rt::DType> dtypeOf(Type type);
Type typeOf(MLIRContext *ctx, ::attn::rt::DType dtype);
::attn::rt::Target targetOf(Target target);
::attn::rt::TilePlan tilePlanOf(TilePlanAttr plan);

struct KernelSpec : ::attn::rt::AttentionConfig {
  Type elementType;              // of query, key, value and output
  Type maskType;                 // null: no explicit mask
  Type lengthType;               // null: no per-batch valid lengths
  Type offsetType;               // null: no per-batch query offsets

  /// The spec of `op`'s kernel, or a diagnostic on `op` when the op has no
  /// tile plan, a dimension the generators specialise on is dynamic, or the
  /// target's generator cannot serve it as planned (it names the limit).
  static FailureOr<KernelSpec> get(AttentionOp op);
  /// The GPU selection kernel (AttentionConfig::selection) of a
  /// softmax_prob(_max) `op`, planned for `target` like the attention over
  /// its compressed keys, or a diagnostic on `op` saying what it lacks.
  static FailureOr<KernelSpec> getSelection(SelectBlocksOp op,
                                            ::attn::rt::Target target);

  bool hasMask() const { return static_cast<bool>(maskType); }
  bool hasLengths() const { return static_cast<bool>(lengthType); }
  bool hasOffsets() const { return static_cast<bool>(offsetType); }
  int64_t qBlock() const { return plan.qBlock; }
  int64_t kvBlock() const { return plan.kvBlock; }
  bool isGpu() const { return plan.target != ::attn::rt::Target::CPU; }
  /// "" when the target's generator can serve this spec as planned, else
  /// the first problem: validate(), validateForF32(), then the generator's
  /// limits (GpuTileLayout::check or checkCpuKernel).
  std::string unservable() const;
};

} // namespace mlir::attn

#endif // ATTN_LOWERING_KERNELSPEC_H
