//===- TilePlanner.cpp - tile sizes per target ----------------------------===//
#include "passes/TilePlanner.h"

#include <numeric>

using namespace mlir;
using namespace mlir::attn;

std::optional<Target> mlir::attn::parseTarget(StringRef name) {
  return symbolizeTarget(name);
}

/// CPU: query rows along 16-lane vectors. A tile holds whole groups (a
/// multiple of G rows) and whole vectors where that costs little, about 64
/// rows, so the K/V tile a step reads is shared by 64 query rows.
static TilePlanAttr planCpu(AttentionOp op, int64_t group) {
  MLIRContext *ctx = op.getContext();
  int64_t lanes = 16;
  int64_t unit = std::lcm(group, lanes);
  int64_t rows = unit <= 128 ? unit * std::max<int64_t>(1, 64 / unit) : group;
  return TilePlanAttr::get(ctx, Target::CPU, rows, /*kv_block=*/64,
                           /*warps=*/1, /*stages=*/1);
}

int64_t mlir::attn::gpuSharedBytes(int64_t queryRows, int64_t keys,
                                   int64_t headDim, int64_t valueDim,
                                   int64_t stages) {
  constexpr int64_t pad = 8, bytes = 2;
  return (queryRows * (headDim + pad) +
          stages * keys * (headDim + pad + valueDim + pad)) * bytes;
}

/// NVIDIA (mma.sync m16n8k16): 4 warps, each with 32 query rows (two 16-row
/// tiles) up to head dim 128, so each K/V element read from shared memory
/// feeds two MMAs, and 16 rows for head dim 256; 32-key tiles, so the score
/// and output fragments fit in 255 registers (measured on H200: 128 x 32
/// beats 128 x 64 and 64 x 64, docs/benchmarks.md). Groups larger than the
/// tile get a tile of whole groups. attn-compile halves q_block if ptxas
/// still spills.
static FailureOr<TilePlanAttr> planGpu(AttentionOp op, Target target) {
  AttentionShape s = op.getShape();
  Type elt = op.getQuery().getType().getElementType();
  if (!elt.isF16() && !elt.isBF16())
    return op.emitOpError() << "GPU kernels take f16 or bf16, got " << elt;
  for (int64_t d : {s.headDim, s.valueDim})
    if (d == ShapedType::kDynamic || d % 16 != 0 || d > 256)
      return op.emitOpError()
             << "GPU kernels need static head dims that are multiples of 16 "
                "up to 256, got Dqk = "
             << s.headDim << ", Dv = " << s.valueDim;
  int64_t d = std::max(s.headDim, s.valueDim);
  int64_t group = s.queryHeads / s.kvHeads;
  int64_t qBlock = std::max<int64_t>(d <= 128 ? 128 : 64, (group + 63) / 64 * 64);
  int64_t kvBlock = 32;
  // Three K/V buffers save a barrier per key tile (0.82x -> 0.92x of SDPA
  // on the H200) when two blocks still fit an SM's shared memory.
  int64_t perSm = target == Target::SM90 ? 227 * 1024 : 164 * 1024;
  int64_t stages =
      2 * gpuSharedBytes(qBlock, kvBlock, s.headDim, s.valueDim, 3) <= perSm ? 3 : 2;
  return TilePlanAttr::get(op.getContext(), target, qBlock, kvBlock,
                           /*warps=*/4, stages);
}

FailureOr<TilePlanAttr> mlir::attn::planTiles(AttentionOp op, Target target) {
  AttentionShape s = op.getShape();
  if (s.queryHeads == ShapedType::kDynamic || s.kvHeads == ShapedType::kDynamic)
    return op.emitOpError() << "tile planning needs static head counts";
  int64_t group = s.queryHeads / s.kvHeads;
  if (target == Target::CPU)
    return planCpu(op, group);
  return planGpu(op, target);
}
