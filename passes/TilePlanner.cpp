//===- TilePlanner.cpp - tile sizes per target ----------------------------===//
#include "passes/TilePlanner.h"
#include "lowering/GpuTileLayout.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::attn;

std::optional<Target> mlir::attn::parseTarget(StringRef name) {
  return symbolizeTarget(name);
}

static std::optional<::attn::rt::DType> dtypeOfElement(Type t) {
  if (t.isF16())
    return ::attn::rt::DType::F16;
  if (t.isBF16())
    return ::attn::rt::DType::BF16;
  if (t.isF32())
    return ::attn::rt::DType::F32;
  return std::nullopt;
}

/// CPU: query rows along 16-lane vectors. A tile holds whole groups (a
/// multiple of G rows) and whole vectors where that costs little, about 64
/// rows, so the K/V tile a step reads is shared by 64 query rows.
///
/// Block-sparse attention whose lists change within a vector of rows
/// (q_block x heads per tile below 16): a tile of several positions would
/// visit the union of their unrelated lists as query-lane tiles, so the
/// kernel puts keys along the lanes instead (CpuKernel.cpp): a tile of up
/// to 128 positions runs each position on exactly its own
/// blocks, walking the union block by block so that a block is read once
/// for every position of the tile that lists it. Lists that change every
/// few vectors: one vector of rows, the fewest positions that still fill
/// the lanes. A fused window branch (every position its own window) takes
/// the key-lane form with one position per tile.
static TilePlanAttr planCpu(AttentionOp op, int64_t group) {
  MLIRContext *ctx = op.getContext();
  int64_t lanes = 16;
  int64_t unit = std::lcm(group, lanes);
  int64_t rows = unit <= 128 ? unit * std::max<int64_t>(1, 64 / unit) : group;
  if (auto blocks = op.getBlockSizes();
      blocks && ((*blocks)[0] < lanes || op.getWindowBranch())) {
    // Per-query-head lists: a tile holds one head, so rows are positions.
    bool perHead = op.getBlockHeads() == ::attn::rt::BlockHeads::QueryHead;
    int64_t tileGroup = perHead ? 1 : group;
    // Lists finer than a vector of rows: one position per tile, its keys
    // along the lanes (the CPU generator's key-lane form), so each tile
    // visits exactly its own list.
    if (op.getWindowBranch()) {
      rows = tileGroup;
    } else if ((*blocks)[0] * tileGroup < lanes) {
      // Up to 128 positions (NSA's selected branch at 32k keys: 625 ms with
      // one, 486 with 32, 411 with 64, 365 with 128), while the per-position
      // Q and O rows stay near half the scratch limit.
      AttentionShape s = op.getShape();
      int64_t dims = std::max<int64_t>(1, s.headDim) + std::max<int64_t>(1, s.valueDim);
      if (s.headDim == ShapedType::kDynamic || s.valueDim == ShapedType::kDynamic)
        dims = 512;
      rows = tileGroup * std::clamp<int64_t>(131072 / (tileGroup * dims), 1, 128);
    }
    else
      rows = perHead ? lanes : std::max(group, unit);
  }
  return TilePlanAttr::get(ctx, Target::CPU, rows, /*kv_block=*/64,
                           /*warps=*/1, /*stages=*/1);
}

/// NVIDIA (mma.sync m16n8k16): 4 warps, each with 32 query rows (two 16-row
/// tiles) up to head dim 128, so each K/V element read from shared memory
/// feeds two MMAs, and 16 rows for head dim 256; 32-key tiles, so the score
/// and output fragments fit in 255 registers (measured on H200: 128 x 32
/// beats 128 x 64 and 64 x 64, docs/benchmarks.md). Groups larger than the
/// tile get a tile of whole groups. attn-compile halves q_block if ptxas
/// still spills. The generator's limits (GpuTileLayout::check) decide what
/// is an error.
///
/// Block-sparse attention: a tile walks one list, so it holds positions of
/// one query block of the selection: q_block = its rows (positions times
/// the heads sharing a list) rounded up to a power of two, at least one
/// 16-row MMA tile, at most the dense tile; one warp per 16 rows up to 4.
/// 16-key tiles for selection blocks of 16 (* odd) keys, so no tile reaches
/// past its block, and for head dim 256.
static FailureOr<TilePlanAttr> planGpu(AttentionOp op, Target target) {
  AttentionShape s = op.getShape();
  if (s.headDim == ShapedType::kDynamic || s.valueDim == ShapedType::kDynamic)
    return op.emitOpError() << "GPU kernels are specialised on the head dims, "
                               "which must be static";
  ::attn::rt::AttentionConfig c;
  static_cast<::attn::rt::AttentionSemantics &>(c) = op.getSemantics();
  if (Value mask = op.getMask())
    c.maskDtype = dtypeOfElement(cast<ShapedType>(mask.getType()).getElementType());
  std::optional<::attn::rt::DType> dtype =
      dtypeOfElement(op.getQuery().getType().getElementType());
  c.dtype = dtype.value_or(::attn::rt::DType::F64);
  c.group = s.queryHeads / s.kvHeads;
  c.headDim = s.headDim == ShapedType::kDynamic ? 0 : s.headDim;
  c.valueDim = s.valueDim == ShapedType::kDynamic ? 0 : s.valueDim;
  int64_t d = std::max(c.headDim, c.valueDim);
  c.plan = ::attn::GpuTileLayout::densePlan(
      c, target == Target::SM90 ? ::attn::rt::Target::SM90 : ::attn::rt::Target::SM80);
  if (c.blocks) {
    c.blockHeads = op.getBlockHeads();
    auto [qBlock, kvBlock] = *c.blocks;
    int64_t rows = int64_t(llvm::PowerOf2Ceil(
        uint64_t(std::min(qBlock, c.plan.qBlock) * c.tileGroup())));
    c.plan.qBlock = std::clamp<int64_t>(rows, 16, c.plan.qBlock);
    c.plan.warps = std::min<int64_t>(4, c.plan.qBlock / 16);
    // At head dim 256, 32-key tiles spilled with the per-element masking
    // of partial list tiles.
    if ((kvBlock % 32 != 0 && kvBlock % 16 == 0) || d > 128)
      c.plan.kvBlock = 16;
  }
  // Three K/V buffers save a barrier per key tile (0.82x -> 0.92x of SDPA
  // on the H200) when two blocks still fit an SM's shared memory.
  ::attn::GpuTileLayout::fitStages(c);
  if (std::string e = ::attn::GpuTileLayout::check(c); !e.empty())
    return op.emitOpError() << "cannot be planned for " << stringifyTarget(target)
                            << ": " << e;
  return TilePlanAttr::get(op.getContext(), target, c.plan.qBlock,
                           c.plan.kvBlock, c.plan.warps, c.plan.stages);
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
