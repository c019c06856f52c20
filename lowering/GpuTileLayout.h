//===- GpuTileLayout.h - what a GPU kernel's plan implies -------*- C++ -*-===//
//
// The shapes, shared-memory layout and limits of the tensor-core kernels
// (GpuKernel.cpp), derived from an AttentionConfig and written once: the
// generator builds from it, the tile planner sizes plans with it, and the
// runtime checks an artefact's "shared" against it. Plain C++ (no MLIR), so
// the runtime can include it.
//
// Shared memory: Q tile | K stages | V stages [| block list | sorted list]
// [| probabilities | block scores | top-k scores | top-k blocks]; every
// row is padded by 8 elements (16 bytes) so ldmatrix reads are free of bank
// conflicts. Block-sparse kernels keep their tile's list of key blocks, as
// read and then sorted without duplicates (i32, up to kMaxListEntries
// each). Selection kernels keep one key tile's probabilities (f32, rows x
// (keys + l/d - 1): the last l/d - 1 tokens of the tile before carry over),
// the scores of the blocks that tile completes (positions x keys / (l'/d))
// and each position's best k so far (score and block).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LOWERING_GPUTILELAYOUT_H
#define ATTN_LOWERING_GPUTILELAYOUT_H

#include "runtime/AttentionConfig.h"

#include <algorithm>
#include <string>

namespace attn {

struct GpuTileLayout {
  static constexpr int64_t kMmaRows = 16; // rows of one m16n8k16 tile
  static constexpr int64_t kPad = 8;      // elements of padding per row
  static constexpr int64_t kElementBytes = 2;
  /// Positions are i32 in the kernels: query offsets are kept within
  /// +-2^29 and sequence lengths below 2^29 (the runtime checks), so a
  /// position plus a window side of up to 2^30 never overflows.
  static constexpr int64_t kMaxPosition = int64_t(1) << 29;
  static constexpr int64_t kMaxWindowSide = int64_t(1) << 30;
  /// Entries per block-sparse list (K) a GPU kernel takes.
  static constexpr int64_t kMaxListEntries = 512;

  int64_t warps, threads, rows, mTiles, positions, keys, stages;
  int64_t pitchQ, pitchK, pitchV;  // shared row pitch, elements
  int64_t qBytes, kBytes, vBytes;  // one tile of each
  int64_t listBytes;               // one list (0 without block lists)
  // Selection kernels (0 otherwise): a tile's probabilities (pitch
  // selCols f32), the block scores it completes, one top-k array.
  int64_t selCols = 0, carry = 0, blocksPerTile = 0;
  int64_t probBytes = 0, candBytes = 0, topBytes = 0;
  int64_t sharedBytes;
  bool qInRegisters; // Q fragments kept in registers (small head dims)

  explicit GpuTileLayout(const rt::AttentionConfig &c) {
    warps = c.plan.warps;
    threads = 32 * warps;
    rows = c.plan.qBlock;
    mTiles = rows / (kMmaRows * warps);
    positions = rt::positionsPerBlock(c);
    keys = c.plan.kvBlock;
    // Two K/V buffers need a barrier after each tile before one is
    // refilled; with three, the barrier before the next tile orders that.
    stages = c.plan.stages >= 3 ? 3 : 2;
    pitchQ = pitchK = c.headDim + kPad;
    pitchV = c.valueDim + kPad;
    qBytes = rows * pitchQ * kElementBytes;
    kBytes = keys * pitchK * kElementBytes;
    vBytes = c.hasValues() ? keys * pitchV * kElementBytes : 0;
    listBytes = c.blocks ? kMaxListEntries * 4 : 0;
    if (c.selection) {
      // Tokens per block and the tokens carried over: block means are
      // one token per block.
      auto [l, d] = c.compressedKeys.value_or(std::make_pair(int64_t(1), int64_t(1)));
      carry = l / d - 1;
      selCols = keys + carry;
      blocksPerTile = keys / (c.selection->meanKey() ? 1 : std::max<int64_t>(1, c.selection->block / d));
      probBytes = rows * selCols * 4;
      candBytes = positions * blocksPerTile * 4;
      topBytes = positions * c.selection->k * 4;
    }
    sharedBytes = qBytes + stages * (kBytes + vBytes) + 2 * listBytes +
                  probBytes + candBytes + 2 * topBytes;
    qInRegisters = c.headDim * mTiles <= 128;
  }

  /// Byte offsets of a stage's K and V tiles.
  int64_t kOffset(int64_t stage) const { return qBytes + stage * kBytes; }
  int64_t vOffset(int64_t stage) const {
    return qBytes + stages * kBytes + stage * vBytes;
  }
  /// Byte offsets of the list as read and of the sorted list.
  int64_t listOffset() const { return qBytes + stages * (kBytes + vBytes); }
  int64_t sortedOffset() const { return listOffset() + listBytes; }
  /// Selection kernels: byte offsets of the probabilities, the completed
  /// blocks' scores, and the top-k scores and blocks.
  int64_t probOffset() const { return sortedOffset() + listBytes; }
  int64_t candOffset() const { return probOffset() + probBytes; }
  int64_t topScoreOffset() const { return candOffset() + candBytes; }
  int64_t topBlockOffset() const { return topScoreOffset() + topBytes; }

  /// Dynamic shared memory one block may use (cudaFuncAttribute limit).
  static int64_t maxSharedBytes(rt::Target t) {
    return t == rt::Target::SM90 ? 227 * 1024 : 163 * 1024;
  }
  /// Shared memory of one SM, for plans that want two blocks per SM.
  static int64_t smSharedBytes(rt::Target t) {
    return t == rt::Target::SM90 ? 228 * 1024 : 164 * 1024;
  }

  /// The dense kernels' plan for `c` on `t` (passes/TilePlanner.cpp says
  /// why): 4 warps of 32 query rows up to head dim 128 (16 beyond), whole
  /// groups when a group is larger, 32-key tiles, three K/V stages.
  static rt::TilePlan densePlan(const rt::AttentionConfig &c, rt::Target t) {
    int64_t d = std::max(c.headDim, c.valueDim);
    return {t, std::max<int64_t>(d <= 128 ? 128 : 64, (c.group + 63) / 64 * 64),
            /*kvBlock=*/32, /*warps=*/4, /*stages=*/3};
  }
  /// Two K/V stages when three would keep two blocks of `c` off one SM.
  static void fitStages(rt::AttentionConfig &c) {
    if (2 * GpuTileLayout(c).sharedBytes > smSharedBytes(c.plan.target))
      c.plan.stages = 2;
  }

  /// Window sides too large to exclude any key at i32 positions become -1
  /// (unbounded), as the i32 arithmetic requires.
  static void normalize(rt::AttentionConfig &c) {
    if (c.window)
      for (int64_t *side : {&c.window->first, &c.window->second})
        if (*side > kMaxWindowSide)
          *side = -1;
  }

  /// "" when the kernels can serve `c` as planned, else one line naming
  /// the limit (the generator owns what it supports: a pinned plan it
  /// cannot serve is an error, never a kernel that skips part of the work).
  static std::string check(const rt::AttentionConfig &c) {
    auto str = [](int64_t x) { return std::to_string(x); };
    const rt::TilePlan &p = c.plan;
    if (p.target == rt::Target::CPU)
      return "the tile plan is for the CPU, not a GPU";
    if (c.dtype != rt::DType::F16 && c.dtype != rt::DType::BF16)
      return std::string("GPU kernels take f16 or bf16, got ") +
             rt::mlirTypeName(c.dtype);
    if (c.headDim % 16 || c.valueDim % 16 || c.headDim > 256 || c.valueDim > 256)
      return "GPU kernels need head dims that are multiples of 16 up to 256, "
             "got Dqk = " + str(c.headDim) + ", Dv = " + str(c.valueDim);
    if (c.queryOffset && (*c.queryOffset > kMaxPosition || *c.queryOffset < -kMaxPosition))
      return "GPU kernels place queries at i32 positions: query_offset must "
             "lie within +-2^29, got " + str(*c.queryOffset);
    if (c.maskDtype && *c.maskDtype == rt::DType::F64)
      return "GPU kernels take bool, f16, bf16 or f32 masks, got f64";
    if (c.windowBranch)
      return "GPU kernels have no fused window branch (a block-sparse "
             "attention with window_branch); compile the two attentions "
             "unfused (attn-compile does not run attn-fuse-branches)";
    if (p.warps != 1 && p.warps != 2 && p.warps != 4 && p.warps != 8)
      return "tile_plan warps must be 1, 2, 4 or 8, got " + str(p.warps);
    if (p.qBlock % (kMmaRows * p.warps) != 0 || p.qBlock > 256)
      return "tile_plan q_block must be a multiple of 16 * warps = " +
             str(kMmaRows * p.warps) + " up to 256, got " + str(p.qBlock);
    if (p.qBlock < c.tileGroup())
      return "tile_plan q_block " + str(p.qBlock) +
             " is smaller than the group of " + str(c.tileGroup()) +
             " query heads a tile packs";
    if (p.kvBlock % 16 != 0 || p.kvBlock > 128)
      return "tile_plan kv_block must be a multiple of 16 up to 128, got " +
             str(p.kvBlock);
    if (c.selection && c.compressedKeys) {
      auto [l, d] = *c.compressedKeys;
      int64_t perBlock = c.selection->block / d;
      if (p.kvBlock % perBlock != 0 || l / d - 1 > p.kvBlock)
        return "a selection kernel's key tile of " + str(p.kvBlock) +
               " compressed tokens must hold whole blocks of " +
               str(perBlock) + " strides and at least l/d - 1 = " +
               str(l / d - 1) + " tokens";
    }
    if (p.stages < 2 || p.stages > 3)
      return "tile_plan stages must be 2 or 3 (K/V buffers), got " +
             str(p.stages);
    GpuTileLayout lay(c);
    if (lay.sharedBytes > maxSharedBytes(p.target))
      return "the plan needs " + str(lay.sharedBytes) +
             " bytes of shared memory, more than the " +
             str(maxSharedBytes(p.target)) + " a block may use on " +
             rt::targetName(p.target) + "; use a smaller q_block, kv_block "
             "or fewer stages";
    return "";
  }
};

} // namespace attn

#endif // ATTN_LOWERING_GPUTILELAYOUT_H
