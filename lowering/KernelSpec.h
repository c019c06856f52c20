//===- KernelSpec.h - what a fused attention kernel is specialised on -----===//
//
// Everything a generated kernel depends on: element types, the group size,
// head dims, scale and softcap, the structured masks, which optional operands
// exist, and the tile plan. Never batch or sequence sizes: one kernel serves
// them all. CPU and GPU generators both start from a KernelSpec, and its name
// keys the kernel cache and the artefact files.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LOWERING_KERNELSPEC_H
#define ATTN_LOWERING_KERNELSPEC_H

#include "dialects/AttnOps.h"

#include <optional>
#include <string>
#include <utility>

namespace mlir::attn {

struct KernelSpec {
  Type elementType;                // of query, key, value and output
  int64_t group = 1;               // query heads per key head
  int64_t headDim = 0, valueDim = 0;
  double scale = 1.0, softcap = 0.0;
  bool causal = false, bottomRight = false;
  std::optional<std::pair<int64_t, int64_t>> window, branches;
  Type maskType;                   // null: no explicit mask
  Type lengthType;                 // null: no per-batch valid lengths
  bool hasLse = false;
  TilePlanAttr plan;

  /// Fails (with a diagnostic on `op`) when the op has no tile plan or a
  /// dimension the generators need static is dynamic.
  static FailureOr<KernelSpec> get(AttentionOp op);

  /// A readable, deterministic name: equal specs give equal names.
  std::string name(StringRef prefix) const;

  bool hasMask() const { return static_cast<bool>(maskType); }
  bool hasLengths() const { return static_cast<bool>(lengthType); }
  /// True when some key may be hidden from a query by position alone.
  bool hasStructuredMask() const { return causal || window || branches; }
};

} // namespace mlir::attn

#endif // ATTN_LOWERING_KERNELSPEC_H
