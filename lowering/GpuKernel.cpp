//===- GpuKernel.cpp - fused attention kernels for NVIDIA GPUs ------------===//
//
// FlashAttention-2 forward on tensor cores (mma.sync m16n8k16, sm_80+).
// A thread block handles one query tile of one key/value head group of one
// batch element: grid (query tiles, Hkv, B). The tile's q_block rows are `G`
// heads times q_block / G positions (row r: position r / G, head r % G), so
// K and V tiles are loaded once for the whole group. (Per-query-head block
// lists: G = 1 and grid (query tiles, Hq, B).) Each warp owns 16 rows per
// m-tile. Shapes and shared memory come from GpuTileLayout.
//
//   cp.async    Q tile and K/V tiles into shared memory (rows padded by 16
//               bytes, so ldmatrix reads are free of bank conflicts); K/V in
//               2 or 3 stages: the next tile is in flight while one is
//               computed
//   ldmatrix    Q (A operand), K (B operand), V (B operand, transposed)
//   mma.sync    S = Q K^T and O += P V with f32 accumulation; P goes from the
//               S accumulator registers straight into A operands
//   shfl.xor    row max and row sum across the 4 threads of a quad
//   ex2.approx  the online softmax in base 2 (scale * log2 e folded in)
//
// Key tiles come from the key-tile schedule; only the tiles it marks partial
// take the per-element test. A block-sparse tile's positions share one list
// of key blocks: the block reads it into shared memory, drops padding,
// blocks outside the keys or the dense range and duplicates, sorts it, and
// walks its blocks' key tiles. Rows that see no key end as 0 with lse = -inf
// (the running max is replaced by 0 while it is -inf); a NaN propagates.
//
//===----------------------------------------------------------------------===//
#include "lowering/GpuKernel.h"
#include "lowering/GpuTileLayout.h"
#include "lowering/KeyTileSchedule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/StringMap.h"

#include <array>
#include <cmath>
#include <functional>
#include <optional>

using namespace mlir;
using namespace mlir::attn;
using ::attn::GpuTileLayout;

namespace {
constexpr int64_t kMmaRows = GpuTileLayout::kMmaRows;
constexpr int64_t kChunk = 8; // elements per 16-byte copy / ldmatrix row
constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

using Frag = std::array<Value, 4>; // four f32 accumulators, or four A regs

/// The online softmax carried across key tiles (the key loop's iter_args):
/// O accumulators per (m-tile, n-tile of Dv, element), then the running
/// max and sum per row half (two 8-row halves per m-tile).
struct SoftmaxState {
  int64_t mTiles, dTiles;
  SmallVector<Value> values;

  SoftmaxState(int64_t mTiles, int64_t dTiles, ValueRange init)
      : mTiles(mTiles), dTiles(dTiles), values(init) {}
  static int64_t size(int64_t mTiles, int64_t dTiles) {
    return mTiles * dTiles * 4 + mTiles * 4;
  }
  int64_t oCount() const { return mTiles * dTiles * 4; }
  Value &o(int64_t i, int64_t jn, int64_t c) {
    return values[(i * dTiles + jn) * 4 + c];
  }
  Value &max(int64_t i, int64_t h) { return values[oCount() + 2 * i + h]; }
  Value &sum(int64_t i, int64_t h) {
    return values[oCount() + 2 * mTiles + 2 * i + h];
  }
};

/// Scores of one key tile: an m16n8 accumulator fragment per (m-tile,
/// 8-key n-tile).
using ScoreTile = std::vector<std::vector<Frag>>;

class GpuKernelGen {
public:
  GpuKernelGen(const KernelSpec &spec, ImplicitLocOpBuilder &b)
      : spec(spec), lay(spec), masks(spec), b(b), ctx(b.getContext()),
        i32(b.getI32Type()), i64(b.getI64Type()), f32(b.getF32Type()),
        elt(spec.elementType), ptr1(LLVM::LLVMPointerType::get(ctx, 1)),
        ptr3(LLVM::LLVMPointerType::get(ctx, 3)) {
    isF16 = elt.isF16();
    operandType = isF16 ? Type(VectorType::get({2}, elt)) : Type(i32);
    nTiles = lay.keys / 8;
    dTiles = spec.valueDim / 8;
    kSteps = spec.headDim / 16;
  }

  void emitBody(gpu::GPUFuncOp func, LLVM::GlobalOp smem);

private:
  //===-- Scalars ---------------------------------------------------------===//
  Value c32(int64_t v) { return arith::ConstantIntOp::create(b, i32, v); }
  Value cf(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(static_cast<float>(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value minI(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value maxI(Value x, Value y) { return arith::MaxSIOp::create(b, x, y); }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, x, y);
  }
  Value ge(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::sge, x, y);
  }
  Value both(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value wide(Value x) { return arith::ExtSIOp::create(b, i64, x); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, c, x, y);
  }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value fmax(Value x, Value y) { return arith::MaximumFOp::create(b, x, y); }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  /// Left-to-right reduction. (A pairwise tree shortens dependency chains
  /// but keeps more values live: ptxas then spilled the 128 x 32 kernels.)
  Value reduce(ArrayRef<Value> xs, function_ref<Value(Value, Value)> op) {
    Value acc = xs.front();
    for (size_t i = 1; i < xs.size(); ++i)
      acc = op(acc, xs[i]);
    return acc;
  }
  void ifThen(Value cond, function_ref<void()> body) {
    scf::IfOp::create(b, cond, [&](OpBuilder &, Location) {
      body();
      scf::YieldOp::create(b);
    });
  }

  /// One f32 -> f32 PTX instruction ("ex2.approx.ftz.f32", ...).
  Value ptx(StringRef op, Value x) {
    std::string code = (op + " $0, $1;").str();
    return NVVM::InlinePtxOp::create(b, TypeRange{f32}, ValueRange{x},
                                     ValueRange{}, code, Value())
        ->getResult(0);
  }
  Value exp2(Value x) { return ptx("ex2.approx.ftz.f32", x); }
  /// 2^(s - m) for a score s in scoreUnit units and -m in exponent units.
  Value exponent(Value s, Value minusM) {
    return exp2(foldScale ? Value(LLVM::FMAOp::create(b, s, cf(scoreUnit), minusM))
                          : Value(arith::AddFOp::create(b, s, minusM)));
  }
  Value shflXor(Value x, int64_t lanes) {
    return NVVM::ShflOp::create(b, f32, c32(-1), x, c32(lanes), c32(0x1f),
                                NVVM::ShflKindAttr::get(ctx, NVVM::ShflKind::bfly),
                                UnitAttr());
  }
  /// x + its three quad neighbours, by `op` (the 4 threads of a row).
  Value quadReduce(Value x, function_ref<Value(Value, Value)> op) {
    x = op(x, shflXor(x, 1));
    return op(x, shflXor(x, 2));
  }

  //===-- Memory ----------------------------------------------------------===//
  Value global(Value base, Value offset, Type type) {
    return LLVM::GEPOp::create(b, ptr1, type, base, ValueRange{offset});
  }
  Value shared(Value byteOffset) {
    return LLVM::GEPOp::create(b, ptr3, b.getI8Type(), smemBase,
                               ValueRange{byteOffset});
  }
  /// Byte offset of element (row, col) in a padded shared tile.
  Value sharedOffset(Value tileBase, Value row, Value col, int64_t pitch) {
    return add(tileBase, mul(add(mul(row, c32(pitch)), col), c32(2)));
  }
  /// Copies `rowCount` x `dim` elements into a shared tile, 16 bytes per
  /// thread and step; `source(row)` gives the row's global element offset
  /// and whether it exists (missing rows are zero-filled).
  void copyTile(Value base, Value tileBase, int64_t rowCount, int64_t dim,
                int64_t pitch,
                function_ref<std::pair<Value, Value>(Value)> source);
  /// A stage's tile offset, picked among constants (a multiply here costs
  /// ~10% on the H200).
  Value stageOffset(Value stage, function_ref<int64_t(int64_t)> offsetOf) {
    Value offset = c32(offsetOf(lay.stages - 1));
    for (int64_t s = lay.stages - 2; s >= 0; --s)
      offset = select(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, stage, c32(s)),
                      c32(offsetOf(s)), offset);
    return offset;
  }
  Value kTile(Value stage) {
    return stageOffset(stage, [&](int64_t s) { return lay.kOffset(s); });
  }
  Value vTile(Value stage) {
    return stageOffset(stage, [&](int64_t s) { return lay.vOffset(s); });
  }

  //===-- Tensor cores ----------------------------------------------------===//
  Frag ldmatrix(Value byteOffset, bool transpose) {
    Type four = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i32, i32});
    Value r = NVVM::LdMatrixOp::create(
        b, four, shared(byteOffset), 4,
        transpose ? NVVM::MMALayout::col : NVVM::MMALayout::row,
        NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8), NVVM::LdStMatrixEltType::B16);
    Frag out;
    for (int i = 0; i < 4; ++i)
      out[i] = operand(LLVM::ExtractValueOp::create(b, r, i));
    return out;
  }
  /// A 32-bit register of two 16-bit elements as an mma operand.
  Value operand(Value reg) {
    return isF16 ? Value(LLVM::BitcastOp::create(b, operandType, reg)) : reg;
  }
  /// Two f32 values as two 16-bit elements (vector<2 x elt>).
  Value narrowPair(Value lo, Value hi) {
    VectorType v2 = VectorType::get({2}, f32), e2 = VectorType::get({2}, elt);
    Value v = LLVM::PoisonOp::create(b, v2);
    v = LLVM::InsertElementOp::create(b, v, lo, c32(0));
    v = LLVM::InsertElementOp::create(b, v, hi, c32(1));
    return arith::TruncFOp::create(b, e2, v);
  }
  /// Two f32 values as one mma operand of two 16-bit elements.
  Value pack(Value lo, Value hi) {
    Value narrow = narrowPair(lo, hi);
    return isF16 ? narrow : Value(LLVM::BitcastOp::create(b, i32, narrow));
  }
  Frag mma(const Frag &a, Value b0, Value b1, const Frag &c) {
    Type four = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
    NVVM::MMATypes t = isF16 ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
    Value r = NVVM::MmaOp::create(
        b, four, ValueRange(a), ValueRange{b0, b1}, ValueRange(c), {16, 8, 16},
        std::nullopt, std::nullopt, std::array<NVVM::MMATypes, 2>{t, t},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
    Frag out;
    for (int i = 0; i < 4; ++i)
      out[i] = LLVM::ExtractValueOp::create(b, r, i);
    return out;
  }

  //===-- Rows of the tile ------------------------------------------------===//
  /// Row of the packed group tile held by accumulator element `c` of m-tile
  /// `i` (rows quadRow and quadRow + 8 of the 16).
  Value fragmentRow(int64_t i, int64_t c) {
    return add(add(warpRow, c32(kMmaRows * i + 8 * (c >> 1))), quadRow);
  }
  Value positionOf(Value row) {
    return add(p0, arith::DivUIOp::create(b, row, heads));
  }
  Value headOf(Value row) {
    return add(headBase, arith::RemUIOp::create(b, row, heads));
  }
  /// Byte offset of 4-byte element i (i32 or f32) of a shared region: the
  /// block lists, a selection's probabilities, scores and top k.
  Value listAt(int64_t region, Value i) {
    return add(c32(region), mul(i, c32(4)));
  }
  Value loadShared(Value byteOffset) {
    return LLVM::LoadOp::create(b, i32, shared(byteOffset));
  }
  /// for (i = tid; i < n; i += threads) body(i)
  void forEachThread(Value n, function_ref<void(Value)> body) {
    scf::ForOp::create(b, tid, n, c32(lay.threads), ValueRange{},
                       [&](OpBuilder &, Location, Value i, ValueRange) {
                         body(i);
                         scf::YieldOp::create(b);
                       });
  }
  /// sum over j < n of f(j) (an i32 count).
  Value countOf(Value n, function_ref<Value(Value)> f) {
    auto loop = scf::ForOp::create(
        b, c32(0), n, c32(1), ValueRange{c32(0)},
        [&](OpBuilder &, Location, Value j, ValueRange acc) {
          scf::YieldOp::create(
              b, ValueRange{add(acc[0], arith::ExtUIOp::create(b, i32, f(j)))});
        });
    return loop.getResult(0);
  }
  /// Element offset of [batch, head, pos] in an operand with strides `s`.
  Value rowOffset(const std::array<Value, 3> &s, Value head, Value pos) {
    return add(add(mul(wide(batch), s[0]), mul(wide(head), s[1])),
               mul(wide(pos), s[2]));
  }
  std::array<Value, 3> strides(StringRef operand) {
    return {param((operand + "_stride_b").str()),
            param((operand + "_stride_h").str()),
            param((operand + "_stride_s").str())};
  }
  Value param(StringRef name) { return params.lookup(name); }

  //===-- The kernel, step by step ---------------------------------------===//
  void readParams(gpu::GPUFuncOp func);
  void placeTile();
  void loadQueryTile();
  /// Block-sparse: the tile's list into shared memory, sorted, without
  /// duplicates or blocks outside the dense range; returns their count.
  Value sortBlockList();
  /// Block-sparse: the schedule over the sorted list's key tiles.
  void scheduleBlockList();
  void issueKeys(Value j0, Value stage);
  void loadQueryFragments();
  SmallVector<Value> step(Value t, bool masked, ValueRange carried);
  ScoreTile scores(Value kBase);
  void scaleScores(ScoreTile &s);
  void maskScores(ScoreTile &s, Value j0, Value keyEnd);
  /// Keys of tile t at or beyond this are masked.
  Value tileEnd(Value t);
  Value softmaxUpdate(ScoreTile &s, SoftmaxState &state,
                      SmallVectorImpl<Value> &alphas);
  void rescaleOutput(SoftmaxState &state, ArrayRef<Value> alphas,
                     Value maxMoved);
  void accumulate(const ScoreTile &p, Value vBase, SoftmaxState &state);
  void storeOutput(SoftmaxState &state);
  /// Selection kernels: the top-k block lists from the final softmax state.
  void selectBlocks(SoftmaxState *state);
  /// Inserts (score, block) into the top-k list of tile position q, behind
  /// the entries whose score is not lower (earlier blocks win ties).
  void insertTop(Value q, Value score, Value block);

  const KernelSpec &spec;
  GpuTileLayout lay;
  MaskModel masks;
  ImplicitLocOpBuilder &b;
  MLIRContext *ctx;
  Type i32, i64, f32, elt, ptr1, ptr3, operandType;
  bool isF16;
  int64_t nTiles, dTiles, kSteps;

  llvm::StringMap<Value> params; // the ABI (kernelParams) by name
  Value smemBase, tid, lane, warpRow, quadRow, quadCol;
  // This block's tile.
  Value batch, kvHead, headBase, heads, seqQ, seqKv, maskKeys;
  Value p0, count, rows, qRowsTotal, off, kvEnd, pLo, pHi;
  std::array<Value, 2> kvBase; // element offsets of this (b, hk) in K, V
  std::optional<KeyTileSchedule> schedule;
  std::function<Value(Value)> blockStart; // block-sparse: tile t's block
  std::vector<std::vector<Frag>> qFrag; // [m-tile][k-step], when in registers
  // Scores are kept in units of scoreUnit: raw q.k when the scale folds into
  // the softmax's exponent (foldScale), else already times scale * log2 e.
  bool foldScale = spec.softcap == 0.0 && spec.resolvedScale() > 0.0;
  double scoreUnit = foldScale ? spec.resolvedScale() * kLog2e : 1.0;
};
} // namespace

void GpuKernelGen::copyTile(Value base, Value tileBase, int64_t rowCount,
                            int64_t dim, int64_t pitch,
                            function_ref<std::pair<Value, Value>(Value)> source) {
  int64_t chunks = dim / kChunk, total = rowCount * chunks;
  for (int64_t step = 0; step * lay.threads < total; ++step) {
    Value id = add(tid, c32(step * lay.threads));
    auto body = [&] {
      Value row = arith::DivUIOp::create(b, id, c32(chunks));
      Value col = mul(arith::RemUIOp::create(b, id, c32(chunks)), c32(kChunk));
      auto [rowOffset, exists] = source(row);
      Value src = global(base, add(rowOffset, wide(col)), elt);
      Value dst = shared(sharedOffset(tileBase, row, col, pitch));
      NVVM::CpAsyncOp::create(b, dst, src, 16, NVVM::LoadCacheModifierKind::CG,
                              select(exists, c32(16), c32(0)));
    };
    if ((step + 1) * lay.threads <= total)
      body();
    else
      ifThen(lt(id, c32(total)), body);
  }
}

void GpuKernelGen::readParams(gpu::GPUFuncOp func) {
  for (auto [p, arg] :
       llvm::zip(::attn::rt::kernelParams(spec), func.getArguments()))
    params[p.name] = arg;
  seqQ = param("seq_q");
  seqKv = param("seq_kv");
  maskKeys = spec.hasMask() ? param("mask_keys") : seqKv;
}

void GpuKernelGen::placeTile() {
  tid = NVVM::ThreadIdXOp::create(b, i32);
  lane = arith::AndIOp::create(b, tid, c32(31));
  Value warp = arith::ShRUIOp::create(b, tid, c32(5));
  warpRow = mul(warp, c32(kMmaRows * lay.mTiles));
  quadRow = arith::ShRUIOp::create(b, lane, c32(2)); // g: row in an 8-row half
  quadCol = arith::AndIOp::create(b, lane, c32(3));  // t: column pair
  Value tile = NVVM::BlockIdXOp::create(b, i32);
  // Causal query tiles get heavier towards the end: run those first.
  if (spec.causal || spec.branches)
    tile = sub(sub(NVVM::GridDimXOp::create(b, i32), c32(1)), tile);
  // Grid y: key/value heads, or query heads when a tile holds one of them.
  Value y = NVVM::BlockIdYOp::create(b, i32);
  int64_t tileGroup = spec.tileGroup();
  kvHead = tileGroup == spec.group ? y : arith::DivUIOp::create(b, y, c32(spec.group));
  headBase = tileGroup == 1 ? y : mul(y, c32(tileGroup));
  heads = c32(tileGroup);
  batch = NVVM::BlockIdZOp::create(b, i32);

  // A per-batch i32 or i64 value (clamped to [lo, hi]) as i32.
  auto loadBatchValue = [&](Value buffer, Type type, int64_t lo, int64_t hi) {
    Value x = LLVM::LoadOp::create(b, type, global(buffer, wide(batch), type));
    if (type.isInteger(64))
      return arith::TruncIOp::create(
          b, i32, arith::MaxSIOp::create(
                      b, arith::MinSIOp::create(
                             b, x, arith::ConstantIntOp::create(b, i64, hi)),
                      arith::ConstantIntOp::create(b, i64, lo))).getResult();
    return maxI(minI(x, c32(hi)), c32(lo));
  };
  Value validKeys = seqKv;
  if (spec.hasLengths())
    validKeys = loadBatchValue(param("kv_lengths"), spec.lengthType, 0,
                               spec.selection ? GpuTileLayout::kMaxPosition
                                              : std::numeric_limits<int32_t>::max());
  if (spec.selection && spec.selection->meanKey()) {
    // Block means: ceil(L / block) of them hold valid keys.
    kvEnd = minI(arith::CeilDivUIOp::create(b, validKeys, c32(spec.selection->block)),
                 seqKv);
  } else if (spec.selection) {
    // kv_lengths holds the original length L: queries sit at i + L - Sq,
    // and Sc(L) = (L - l) / d + 1 compressed tokens (0 below l) are valid.
    auto [l, d] = *spec.compressedKeys;
    Value tokens = select(lt(validKeys, c32(l)), c32(0),
                          add(arith::DivUIOp::create(b, sub(validKeys, c32(l)), c32(d)),
                              c32(1)));
    kvEnd = minI(tokens, seqKv);
  } else {
    validKeys = minI(validKeys, seqKv);
    kvEnd = minI(validKeys, maskKeys);
  }
  // Positions are i32: offsets beyond +-2^29 (GpuTileLayout) are clamped.
  Value batchOffset;
  if (spec.hasOffsets())
    batchOffset = loadBatchValue(param("q_offsets"), spec.offsetType,
                                 -GpuTileLayout::kMaxPosition,
                                 GpuTileLayout::kMaxPosition);
  off = masks.queryOffset(b, seqQ, validKeys, batchOffset);
  p0 = mul(tile, c32(lay.positions));
  count = minI(c32(lay.positions), sub(seqQ, p0));
  rows = mul(count, heads);
  qRowsTotal = mul(c32(lay.positions), heads);
  // (In compressed-key coordinates for compressed keys: monotone, so the
  // tile's first and last positions bound it.)
  pLo = masks.position(b, p0, off);
  pHi = masks.position(b, sub(add(p0, count), c32(1)), off);
  // Kernels compute whole key tiles, so one that reaches past the visible
  // keys is partial. (Block-sparse tiles: sortBlockList.)
  if (!spec.blocks)
    schedule = KeyTileSchedule::dense(b, masks, pLo, pHi, kvEnd, lay.keys,
                                      /*wholeTiles=*/true);
  std::array<Value, 3> ks = strides("k");
  kvBase[0] = add(mul(wide(batch), ks[0]), mul(wide(kvHead), ks[1]));
  if (spec.hasValues()) {
    std::array<Value, 3> vs = strides("v");
    kvBase[1] = add(mul(wide(batch), vs[0]), mul(wide(kvHead), vs[1]));
  }
}

void GpuKernelGen::loadQueryTile() {
  std::array<Value, 3> qs = strides("q");
  copyTile(param("q"), c32(0), lay.rows, spec.headDim, lay.pitchQ, [&](Value row) {
    Value exists = arith::AndIOp::create(b, lt(row, rows), lt(row, qRowsTotal));
    Value clamped = maxI(minI(positionOf(row), sub(seqQ, c32(1))), c32(0));
    return std::make_pair(rowOffset(qs, headOf(row), clamped), exists);
  });
}

Value GpuKernelGen::sortBlockList() {
  auto [qBlock, kvBlock] = *spec.blocks;
  Value entries = param("block_k");
  Value selHead = spec.blockHeads == ::attn::rt::BlockHeads::Shared     ? c32(0)
                  : spec.blockHeads == ::attn::rt::BlockHeads::KeyHead ? kvHead
                                                                       : headBase;
  std::array<Value, 3> is = strides("block_idx");
  Value list = rowOffset(is, selHead, arith::DivUIOp::create(b, p0, c32(qBlock)));
  // Blocks [first, end) meet the tile's dense key range.
  auto [lo, hi] = masks.keyRange(b, pLo, pHi, kvEnd);
  Value first = arith::DivUIOp::create(b, lo, c32(kvBlock));
  Value end = arith::CeilDivUIOp::create(b, maxI(hi, c32(0)), c32(kvBlock));
  int64_t raw = lay.listOffset(), sorted = lay.sortedOffset();
  // 1. The list as read; padding, out-of-range entries (never read) and
  //    blocks outside the dense range become -1.
  forEachThread(entries, [&](Value i) {
    Value e = LLVM::LoadOp::create(b, i32, global(param("block_idx"),
                                                  add(list, wide(i)), i32));
    Value keep = both(ge(e, first), lt(e, end));
    LLVM::StoreOp::create(b, select(keep, e, c32(-1)), shared(listAt(raw, i)));
  });
  NVVM::Barrier0Op::create(b);
  // 2. Duplicates after their first occurrence become -1 (into `sorted`).
  forEachThread(entries, [&](Value i) {
    Value e = loadShared(listAt(raw, i));
    Value before = countOf(i, [&](Value j) {
      return arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                   loadShared(listAt(raw, j)), e);
    });
    Value unique = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, before, c32(0));
    LLVM::StoreOp::create(b, select(unique, e, c32(-1)), shared(listAt(sorted, i)));
  });
  NVVM::Barrier0Op::create(b);
  // 3. Each distinct block goes to its rank (into `raw`): the list sorted.
  forEachThread(entries, [&](Value i) {
    Value e = loadShared(listAt(sorted, i));
    ifThen(ge(e, c32(0)), [&] {
      Value rank = countOf(entries, [&](Value j) {
        Value x = loadShared(listAt(sorted, j));
        return both(ge(x, c32(0)), lt(x, e));
      });
      LLVM::StoreOp::create(b, e, shared(listAt(raw, rank)));
    });
  });
  Value blocks = countOf(entries, [&](Value j) {
    return ge(loadShared(listAt(sorted, j)), c32(0));
  });
  NVVM::Barrier0Op::create(b);
  return blocks;
}

void GpuKernelGen::scheduleBlockList() {
  // Each listed block is tilesPerBlock key tiles; the last may reach past
  // the block (tileEnd).
  int64_t kvBlock = spec.blocks->second;
  int64_t tilesPerBlock = (kvBlock + lay.keys - 1) / lay.keys;
  Value count = mul(sortBlockList(), c32(tilesPerBlock));
  blockStart = [this, tilesPerBlock, kvBlock](Value t) {
    Value at = arith::DivUIOp::create(b, t, c32(tilesPerBlock));
    return mul(loadShared(listAt(lay.listOffset(), at)), c32(kvBlock));
  };
  auto start = [this, tilesPerBlock](Value t) {
    Value within = arith::RemUIOp::create(b, t, c32(tilesPerBlock));
    return add(blockStart(t), mul(within, c32(lay.keys)));
  };
  // A tile inside its block, the valid keys and every position's dense
  // masks needs no per-element test (never with an explicit mask).
  std::function<Value(Value)> full;
  if (!spec.maskDtype)
    full = [this, start](Value t) {
      auto [first, last] = masks.fullTiles(b, pLo, pHi, start(t), tileEnd(t),
                                           c32(1), lay.keys, /*wholeTiles=*/true);
      return lt(first, last);
    };
  schedule = KeyTileSchedule::chosen(b, count, start, kvEnd, full);
}

void GpuKernelGen::issueKeys(Value j0, Value stage) {
  std::array<Value, 3> ks = strides("k");
  auto rowOf = [&](Value base, Value stride) {
    return [&, base, stride](Value row) {
      Value key = add(j0, row);
      Value clamped = maxI(minI(key, sub(seqKv, c32(1))), c32(0));
      return std::make_pair(add(base, mul(wide(clamped), stride)),
                            lt(key, schedule->end()));
    };
  };
  copyTile(param("k"), kTile(stage), lay.keys, spec.headDim, lay.pitchK,
           rowOf(kvBase[0], ks[2]));
  if (spec.hasValues())
    copyTile(param("v"), vTile(stage), lay.keys, spec.valueDim, lay.pitchV,
             rowOf(kvBase[1], strides("v")[2]));
}

void GpuKernelGen::loadQueryFragments() {
  if (!lay.qInRegisters)
    return;
  qFrag.assign(lay.mTiles, {});
  for (int64_t i = 0; i < lay.mTiles; ++i)
    for (int64_t kk = 0; kk < kSteps; ++kk) {
      Value row = add(c32(kMmaRows * i),
                      add(warpRow, arith::AndIOp::create(b, lane, c32(15))));
      Value col = add(c32(16 * kk),
                      mul(arith::ShRUIOp::create(b, lane, c32(4)), c32(8)));
      qFrag[i].push_back(ldmatrix(sharedOffset(c32(0), row, col, lay.pitchQ), false));
    }
}

ScoreTile GpuKernelGen::scores(Value kBase) {
  Value zero = cf(0.0);
  ScoreTile s(lay.mTiles, std::vector<Frag>(nTiles, Frag{zero, zero, zero, zero}));
  Value kRow = add(arith::AndIOp::create(b, lane, c32(7)),
                   mul(arith::ShRUIOp::create(b, lane, c32(4)), c32(8)));
  Value kCol = mul(arith::AndIOp::create(b, arith::ShRUIOp::create(b, lane, c32(3)), c32(1)), c32(8));
  for (int64_t kk = 0; kk < kSteps; ++kk) {
    std::vector<Frag> a(lay.mTiles);
    for (int64_t i = 0; i < lay.mTiles; ++i) {
      if (lay.qInRegisters) {
        a[i] = qFrag[i][kk];
        continue;
      }
      Value row = add(c32(kMmaRows * i),
                      add(warpRow, arith::AndIOp::create(b, lane, c32(15))));
      Value col = add(c32(16 * kk),
                      mul(arith::ShRUIOp::create(b, lane, c32(4)), c32(8)));
      a[i] = ldmatrix(sharedOffset(c32(0), row, col, lay.pitchQ), false);
    }
    for (int64_t jp = 0; jp < nTiles / 2; ++jp) {
      Frag r = ldmatrix(sharedOffset(kBase, add(c32(16 * jp), kRow),
                                     add(c32(16 * kk), kCol), lay.pitchK),
                        false);
      for (int64_t i = 0; i < lay.mTiles; ++i) {
        s[i][2 * jp] = mma(a[i], r[0], r[1], s[i][2 * jp]);
        s[i][2 * jp + 1] = mma(a[i], r[2], r[3], s[i][2 * jp + 1]);
      }
    }
  }
  return s;
}

void GpuKernelGen::scaleScores(ScoreTile &s) {
  // Without softcap (and with a positive scale) the scores stay raw and the
  // scale folds into the exponent's FMA, as FlashAttention does.
  if (foldScale)
    return;
  double scale = spec.resolvedScale();
  for (auto &row : s)
    for (Frag &f : row)
      for (Value &x : f)
        x = spec.softcap != 0.0
                ? fmul(cf(spec.softcap * kLog2e),
                       ptx("tanh.approx.f32", fmul(x, cf(scale / spec.softcap))))
                : fmul(x, cf(scale * kLog2e));
}

void GpuKernelGen::maskScores(ScoreTile &s, Value j0, Value keyEnd) {
  Value negInf = cf(-INFINITY);
  Value mask = param("mask");
  std::array<Value, 3> ms;
  if (mask)
    ms = strides("mask");
  for (int64_t i = 0; i < lay.mTiles; ++i)
    for (int64_t j = 0; j < nTiles; ++j)
      for (int64_t c = 0; c < 4; ++c) {
        Value x = s[i][j][c];
        Value row = fragmentRow(i, c);
        Value key = add(j0, add(c32(8 * j + (c & 1)), mul(quadCol, c32(2))));
        Value pos = positionOf(row);
        Value vis = both(lt(key, keyEnd), masks.visible(b, masks.position(b, pos, off), key));
        if (mask) {
          Value safePos = maxI(minI(pos, sub(seqQ, c32(1))), c32(0));
          Value safeKey = maxI(minI(key, sub(maskKeys, c32(1))), c32(0));
          Value offset = add(rowOffset(ms, headOf(row), safePos), wide(safeKey));
          bool isBool = spec.maskType.isInteger(1);
          Type mt = isBool ? Type(b.getI8Type()) : spec.maskType;
          Value m = LLVM::LoadOp::create(b, mt, global(mask, offset, mt));
          if (isBool) // any non-zero byte keeps the key, as in NumPy
            vis = arith::AndIOp::create(
                b, vis, arith::CmpIOp::create(b, arith::CmpIPredicate::ne, m,
                                              arith::ConstantIntOp::create(b, mt, 0)));
          else // in the scores' units: log2 e, or log2 e / scale when folded
            x = fadd(x, fmul(arith::ExtFOp::create(b, f32, m), cf(kLog2e / scoreUnit)));
        }
        s[i][j][c] = select(vis, x, negInf);
      }
}

Value GpuKernelGen::softmaxUpdate(ScoreTile &s, SoftmaxState &state,
                                  SmallVectorImpl<Value> &alphas) {
  Value negInf = cf(-INFINITY), zero = cf(0.0);
  Value maxMoved = arith::ConstantOp::create(b, b.getBoolAttr(false));
  for (int64_t i = 0; i < lay.mTiles; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      auto rowHalf = [&] {
        SmallVector<Value> row;
        for (int64_t j = 0; j < nTiles; ++j)
          row.append({s[i][j][2 * h], s[i][j][2 * h + 1]});
        return row;
      };
      Value mx = quadReduce(reduce(rowHalf(), [&](Value x, Value y) { return fmax(x, y); }),
                            [&](Value x, Value y) { return fmax(x, y); });
      if (foldScale)
        mx = fmul(mx, cf(scoreUnit));
      Value mOld = state.max(i, h);
      Value mNew = fmax(mOld, mx);
      Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf);
      Value mUse = select(empty, zero, mNew);
      Value alpha = exp2(arith::SubFOp::create(b, mOld, mUse));
      Value minusM = arith::NegFOp::create(b, mUse);
      for (int64_t j = 0; j < nTiles; ++j)
        for (int64_t c = 2 * h; c < 2 * h + 2; ++c)
          s[i][j][c] = exponent(s[i][j][c], minusM);
      Value sum = reduce(rowHalf(), [&](Value x, Value y) { return fadd(x, y); });
      state.max(i, h) = mNew;
      state.sum(i, h) = LLVM::FMAOp::create(b, state.sum(i, h), alpha, sum);
      alphas.push_back(alpha);
      maxMoved = arith::OrIOp::create(
          b, maxMoved, arith::CmpFOp::create(b, arith::CmpFPredicate::ONE, mNew, mOld));
    }
  return maxMoved;
}

void GpuKernelGen::rescaleOutput(SoftmaxState &state, ArrayRef<Value> alphas,
                                 Value maxMoved) {
  // O *= 2^(m - m'), skipped when no row max of the warp moved (most tiles
  // once the maxima settle): alpha would be 1 everywhere.
  Value rescale = NVVM::VoteSyncOp::create(b, b.getI1Type(), c32(-1), maxMoved,
                                           NVVM::VoteSyncKind::any);
  SmallVector<Value> oldO(state.values.begin(), state.values.begin() + state.oCount());
  auto scaled = scf::IfOp::create(b, TypeRange(ValueRange(oldO)), rescale, true, true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(scaled.thenBlock());
    SmallVector<Value> newO;
    for (int64_t i = 0; i < lay.mTiles; ++i)
      for (int64_t jn = 0; jn < dTiles; ++jn)
        for (int64_t c = 0; c < 4; ++c)
          newO.push_back(fmul(state.o(i, jn, c), alphas[2 * i + c / 2]));
    scf::YieldOp::create(b, newO);
    b.setInsertionPointToStart(scaled.elseBlock());
    scf::YieldOp::create(b, oldO);
  }
  for (int64_t n = 0; n < state.oCount(); ++n)
    state.values[n] = scaled.getResult(n);
}

void GpuKernelGen::accumulate(const ScoreTile &p, Value vBase,
                              SoftmaxState &state) {
  // O += P V: P from the S accumulators, V through ldmatrix.trans.
  Value vRow = arith::AndIOp::create(b, lane, c32(15));
  Value vCol = mul(arith::ShRUIOp::create(b, lane, c32(4)), c32(8));
  for (int64_t kk = 0; kk < nTiles / 2; ++kk) {
    std::vector<Frag> a(lay.mTiles);
    for (int64_t i = 0; i < lay.mTiles; ++i) {
      const Frag &lo0 = p[i][2 * kk], &hi0 = p[i][2 * kk + 1];
      a[i] = {pack(lo0[0], lo0[1]), pack(lo0[2], lo0[3]),
              pack(hi0[0], hi0[1]), pack(hi0[2], hi0[3])};
    }
    for (int64_t jp = 0; jp < dTiles / 2; ++jp) {
      Frag r = ldmatrix(sharedOffset(vBase, add(c32(16 * kk), vRow),
                                     add(c32(16 * jp), vCol), lay.pitchV),
                        true);
      for (int64_t i = 0; i < lay.mTiles; ++i)
        for (int64_t half = 0; half < 2; ++half) {
          int64_t jn = 2 * jp + half;
          Frag acc = {state.o(i, jn, 0), state.o(i, jn, 1), state.o(i, jn, 2),
                      state.o(i, jn, 3)};
          acc = mma(a[i], r[2 * half], r[2 * half + 1], acc);
          for (int64_t c = 0; c < 4; ++c)
            state.o(i, jn, c) = acc[c];
        }
    }
  }
}

Value GpuKernelGen::tileEnd(Value t) {
  if (!spec.blocks || spec.blocks->second % lay.keys == 0)
    return kvEnd;
  return minI(kvEnd, add(blockStart(t), c32(spec.blocks->second)));
}

SmallVector<Value> GpuKernelGen::step(Value t, bool masked, ValueRange carried) {
  Value stage = arith::RemUIOp::create(b, t, c32(lay.stages));
  Value j0 = schedule->start(b, t);
  // The next tile in flight while this one is computed.
  Value next = add(t, c32(1));
  scf::IfOp::create(
      b, lt(next, schedule->count()),
      [&](OpBuilder &, Location) {
        issueKeys(schedule->start(b, next),
                  arith::RemUIOp::create(b, next, c32(lay.stages)));
        NVVM::CpAsyncCommitGroupOp::create(b);
        NVVM::CpAsyncWaitGroupOp::create(b, 1);
        scf::YieldOp::create(b);
      },
      [&](OpBuilder &, Location) {
        NVVM::CpAsyncWaitGroupOp::create(b, 0);
        scf::YieldOp::create(b);
      });
  NVVM::Barrier0Op::create(b);

  SoftmaxState state(lay.mTiles, dTiles, carried);
  ScoreTile s = scores(kTile(stage));
  scaleScores(s);
  if (masked)
    maskScores(s, j0, tileEnd(t));
  SmallVector<Value> alphas;
  Value maxMoved = softmaxUpdate(s, state, alphas); // P overwrites S
  if (spec.hasValues()) {
    rescaleOutput(state, alphas, maxMoved);
    accumulate(s, vTile(stage), state);
  }
  // Everyone is done with this stage before it is refilled.
  if (lay.stages == 2)
    NVVM::Barrier0Op::create(b);
  return state.values;
}

void GpuKernelGen::storeOutput(SoftmaxState &state) {
  // out = O / l (0 for rows that saw nothing), lse = (m + log2 l) * ln 2.
  Value zero = cf(0.0), negInf = cf(-INFINITY);
  Value out = param("out"), lse = param("lse");
  if (!out && !lse)
    return;
  std::array<Value, 3> os, ls;
  if (out)
    os = strides("out");
  if (lse)
    ls = strides("lse");
  for (int64_t i = 0; i < lay.mTiles; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value l = quadReduce(state.sum(i, h), [&](Value x, Value y) { return fadd(x, y); });
      // l is 0 for a row that saw no key; NaN (a NaN or +inf score) stays.
      Value seen = arith::CmpFOp::create(b, arith::CmpFPredicate::UNE, l, zero);
      Value inv = select(seen, arith::DivFOp::create(b, cf(1.0), l), zero);
      Value row = fragmentRow(i, 2 * h);
      Value valid = arith::AndIOp::create(b, lt(row, rows), lt(row, qRowsTotal));
      Value pos = positionOf(row), head = headOf(row);
      ifThen(valid, [&] {
        Value base = out ? rowOffset(os, head, pos) : Value();
        for (int64_t jn = 0; out && jn < dTiles; ++jn) {
          Value pair = narrowPair(fmul(state.o(i, jn, 2 * h), inv),
                                  fmul(state.o(i, jn, 2 * h + 1), inv));
          Value col = add(c32(8 * jn), mul(quadCol, c32(2)));
          LLVM::StoreOp::create(b, pair, global(out, add(base, wide(col)), elt), 4);
        }
        if (!lse)
          return;
        Value m = state.max(i, h);
        Value value = fmul(fadd(m, ptx("lg2.approx.ftz.f32", l)), cf(kLn2));
        value = select(seen, value, negInf);
        Value at = rowOffset(ls, head, pos);
        ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, quadCol, c32(0)),
               [&] { LLVM::StoreOp::create(b, value, global(lse, at, f32)); });
      });
    }
}

void GpuKernelGen::emitBody(gpu::GPUFuncOp func, LLVM::GlobalOp smem) {
  readParams(func);
  smemBase = LLVM::AddressOfOp::create(b, smem);
  placeTile();

  // Q tile (one group), then K/V tile 0 (another group).
  loadQueryTile();
  NVVM::CpAsyncCommitGroupOp::create(b);
  if (spec.selection && spec.selection->meanKey()) {
    // No attention: the block means are scored as they are.
    NVVM::CpAsyncWaitGroupOp::create(b, 0);
    NVVM::Barrier0Op::create(b);
    loadQueryFragments();
    selectBlocks(nullptr);
    return;
  }
  if (spec.blocks) {
    // The list is sorted while Q is in flight; its first entry exists only
    // when it is not empty (a dense schedule's first tile always starts at
    // a key).
    scheduleBlockList();
    ifThen(lt(c32(0), schedule->count()),
           [&] { issueKeys(schedule->start(b, c32(0)), c32(0)); });
  } else {
    issueKeys(schedule->start(b, c32(0)), c32(0));
  }
  NVVM::CpAsyncCommitGroupOp::create(b);
  NVVM::CpAsyncWaitGroupOp::create(b, 1);
  NVVM::Barrier0Op::create(b);
  loadQueryFragments();

  Value zero = cf(0.0), negInf = cf(-INFINITY);
  SmallVector<Value> init;
  init.append(lay.mTiles * dTiles * 4, zero);
  init.append(lay.mTiles * 2, negInf);
  init.append(lay.mTiles * 2, zero);
  SmallVector<Value> final = schedule->visit(
      b, init, [&](Value t, bool masked, ValueRange carried) {
        return step(t, masked, carried);
      });
  SoftmaxState state(lay.mTiles, dTiles, final);
  storeOutput(state);
  if (spec.selection)
    selectBlocks(&state);
}

void GpuKernelGen::insertTop(Value q, Value score, Value block) {
  int64_t k = spec.selection->k;
  int64_t scores = lay.topScoreOffset(), blocks = lay.topBlockOffset();
  Value base = mul(q, c32(k));
  auto put = [&](Value e, Value sc, Value bl) {
    LLVM::StoreOp::create(b, sc, shared(listAt(scores, add(base, e))));
    LLVM::StoreOp::create(b, bl, shared(listAt(blocks, add(base, e))));
  };
  // From the last entry up: an entry with a lower score moves down one;
  // the first that is not lower keeps its place and the new one goes
  // behind it.
  Value no = arith::ConstantOp::create(b, b.getBoolAttr(false));
  auto loop = scf::ForOp::create(
      b, c32(0), c32(k - 1), c32(1), ValueRange{no},
      [&](OpBuilder &, Location, Value u, ValueRange placed) {
        Value e = sub(c32(k - 1), u);
        auto step = scf::IfOp::create(b, TypeRange{b.getI1Type()}, placed[0],
                                      true, true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(step.thenBlock());
          scf::YieldOp::create(b, placed[0]);
          b.setInsertionPointToStart(step.elseBlock());
          Value prev = sub(e, c32(1));
          Value prevScore = LLVM::LoadOp::create(b, f32, shared(listAt(scores, add(base, prev))));
          Value lower = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, prevScore, score);
          auto move = scf::IfOp::create(b, TypeRange{b.getI1Type()}, lower, true, true);
          b.setInsertionPointToStart(move.thenBlock());
          put(e, prevScore, loadShared(listAt(blocks, add(base, prev))));
          scf::YieldOp::create(b, ValueRange{no});
          b.setInsertionPointToStart(move.elseBlock());
          put(e, score, block);
          scf::YieldOp::create(b, ValueRange{arith::ConstantOp::create(b, b.getBoolAttr(true)).getResult()});
          b.setInsertionPointAfter(move);
          scf::YieldOp::create(b, move.getResults());
        }
        scf::YieldOp::create(b, step.getResults());
      });
  ifThen(arith::XOrIOp::create(b, loop.getResult(0),
                               arith::ConstantOp::create(b, b.getBoolAttr(true))),
         [&] { put(c32(0), score, block); });
}

void GpuKernelGen::selectBlocks(SoftmaxState *state) {
  const ::attn::rt::BlockSelection &sel = *spec.selection;
  // By mean_key the tokens are the blocks' mean keys, scored raw.
  const bool raw = sel.meanKey();
  const int64_t d = raw ? 1 : spec.compressedKeys->second;
  const int64_t perBlock = raw ? 1 : sel.block / d, carry = lay.carry, k = sel.k;
  const int64_t perTile = lay.blocksPerTile, cols = lay.selCols;
  const int64_t probs = lay.probOffset(), cand = lay.candOffset();
  Value zero = cf(0.0), negInf = cf(-INFINITY);
  auto loadF32 = [&](int64_t region, Value index) {
    return LLVM::LoadOp::create(b, f32, shared(listAt(region, index))).getResult();
  };
  auto storeF32 = [&](Value v, int64_t region, Value index) {
    LLVM::StoreOp::create(b, v, shared(listAt(region, index)));
  };
  auto divmod = [&](Value i, int64_t n) {
    return std::make_pair(arith::DivUIOp::create(b, i, c32(n)).getResult(),
                          arith::RemUIOp::create(b, i, c32(n)).getResult());
  };

  // Per row half: minus the final max (exponent units; 0 for a row that
  // saw nothing) and 1 / sum (0 for such a row, so its probabilities are 0).
  SmallVector<Value> minusMax, invSum;
  for (int64_t i = 0; state && i < lay.mTiles; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value sum = quadReduce(state->sum(i, h), [&](Value x, Value y) { return fadd(x, y); });
      Value seen = arith::CmpFOp::create(b, arith::CmpFPredicate::UNE, sum, zero);
      invSum.push_back(select(seen, arith::DivFOp::create(b, cf(1.0), sum), zero));
      Value m = state->max(i, h);
      minusMax.push_back(arith::NegFOp::create(
          b, select(arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf), zero, m)));
    }

  // Tokens before the first tile do not exist: carried columns start at 0.
  // Every list starts empty (score -inf, block -1).
  if (carry > 0)
    forEachThread(c32(lay.rows * carry), [&](Value i) {
      auto [row, col] = divmod(i, carry);
      storeF32(zero, probs, add(mul(row, c32(cols)), col));
    });
  forEachThread(c32(lay.positions * k), [&](Value i) {
    storeF32(negInf, lay.topScoreOffset(), i);
    LLVM::StoreOp::create(b, c32(-1), shared(listAt(lay.topBlockOffset(), i)));
  });
  // (Also: every warp is done with the first pass's K stages.)
  NVVM::Barrier0Op::create(b);

  // Blocks up to the one holding the tile's last position are eligible;
  // key tile t completes blocks [t * perTile, (t + 1) * perTile).
  Value last = add(add(p0, sub(count, c32(1))), off);
  Value blockEnd = select(lt(last, c32(0)), c32(0),
                          add(arith::DivSIOp::create(b, last, c32(sel.block)), c32(1)));
  Value tiles = arith::CeilDivUIOp::create(b, mul(blockEnd, c32(perBlock)), c32(lay.keys));
  std::array<Value, 3> ks = strides("k");
  scf::ForOp::create(b, c32(0), tiles, c32(1), ValueRange{},
                     [&](OpBuilder &, Location, Value t, ValueRange) {
    Value j0 = mul(t, c32(lay.keys));
    copyTile(param("k"), kTile(c32(0)), lay.keys, spec.headDim, lay.pitchK,
             [&](Value row) {
               Value key = add(j0, row);
               Value clamped = maxI(minI(key, sub(seqKv, c32(1))), c32(0));
               return std::make_pair(add(kvBase[0], mul(wide(clamped), ks[2])),
                                     lt(key, kvEnd));
             });
    NVVM::CpAsyncCommitGroupOp::create(b);
    NVVM::CpAsyncWaitGroupOp::create(b, 0);
    NVVM::Barrier0Op::create(b);

    // 1. The tile's probabilities (mean_key: raw scores; blocks past the
    //    valid keys are ineligible), behind the carried columns.
    ScoreTile s = scores(kTile(c32(0)));
    if (!raw) {
      scaleScores(s);
      maskScores(s, j0, kvEnd);
    }
    for (int64_t i = 0; i < lay.mTiles; ++i)
      for (int64_t j = 0; j < nTiles; ++j)
        for (int64_t c = 0; c < 4; ++c) {
          Value x = s[i][j][c];
          if (!raw)
            x = fmul(exponent(x, minusMax[2 * i + c / 2]), invSum[2 * i + c / 2]);
          Value col = add(c32(carry + 8 * j + (c & 1)), mul(quadCol, c32(2)));
          storeF32(x, probs, add(mul(fragmentRow(i, c), c32(cols)), col));
        }
    NVVM::Barrier0Op::create(b);

    // 2. Scores of the blocks the tile completes: block j covers strides
    //    [j * perBlock, (j + 1) * perBlock), token u of span l/d strides
    //    shares w(u, j) of them; summed (or the max taken) over the tokens,
    //    then summed over the heads that share the list.
    forEachThread(c32(lay.positions * perTile), [&](Value i) {
      auto [q, jj] = divmod(i, perTile);
      auto heads = scf::ForOp::create(
          b, c32(0), c32(spec.tileGroup()), c32(1), ValueRange{zero},
          [&](OpBuilder &, Location, Value h, ValueRange acc) {
            Value rowBase = add(mul(add(mul(q, c32(spec.tileGroup())), h), c32(cols)),
                                mul(jj, c32(perBlock)));
            Value agg = zero;
            for (int64_t u = 0; u < perBlock + carry; ++u) {
              int64_t a = u - carry; // token start, in strides from the block's
              int64_t w = std::min(a + carry, perBlock - 1) - std::max<int64_t>(a, 0) + 1;
              Value p = loadF32(probs, add(rowBase, c32(u)));
              agg = sel.method == ::attn::rt::ScoreMethod::SoftmaxProbMax
                        ? fmax(agg, p)
                                : fadd(agg, w == 1 ? p : fmul(cf(double(w)), p));
            }
            scf::YieldOp::create(b, ValueRange{fadd(acc[0], agg)});
          });
      storeF32(heads.getResult(0), cand, i);
    });
    NVVM::Barrier0Op::create(b);

    // 3. The last l/d - 1 tokens' columns carry over to the next tile, and
    //    each position merges the completed blocks into its best k:
    //    eligible iff j * block <= p; forced (+inf) iff j < init or among
    //    the `local` blocks ending at p's own.
    if (carry > 0)
      forEachThread(c32(lay.rows * carry), [&](Value i) {
        auto [row, col] = divmod(i, carry);
        Value rowBase = mul(row, c32(cols));
        storeF32(loadF32(probs, add(rowBase, add(c32(lay.keys), col))), probs,
                 add(rowBase, col));
      });
    forEachThread(c32(lay.positions), [&](Value q) {
      ifThen(lt(q, count), [&] {
        Value p = add(add(p0, q), off);
        Value own = arith::DivSIOp::create(b, p, c32(sel.block));
        scf::ForOp::create(b, c32(0), c32(perTile), c32(1), ValueRange{},
                           [&](OpBuilder &, Location, Value jj, ValueRange) {
          Value j = add(mul(t, c32(perTile)), jj);
          Value eligible = arith::CmpIOp::create(b, arith::CmpIPredicate::sle,
                                                 mul(j, c32(sel.block)), p);
          Value forced = arith::OrIOp::create(
              b, lt(j, c32(sel.init)),
              both(arith::CmpIOp::create(b, arith::CmpIPredicate::sle, j, own),
                   lt(own, add(j, c32(sel.local)))));
          Value score = select(forced, cf(INFINITY),
                               loadF32(cand, add(mul(q, c32(perTile)), jj)));
          Value worst = loadF32(lay.topScoreOffset(), add(mul(q, c32(k)), c32(k - 1)));
          ifThen(both(eligible, arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, score, worst)),
                 [&] { insertTop(q, score, j); });
          scf::YieldOp::create(b);
        });
      });
    });
    NVVM::Barrier0Op::create(b);
    scf::YieldOp::create(b);
  });

  // The lists, ascending: entry e of a position goes to its rank among the
  // chosen blocks; the empty entries (score -inf) are the last ones and
  // stay in place as -1.
  std::array<Value, 3> ss = strides("select_idx");
  Value selHead = spec.blockHeads == ::attn::rt::BlockHeads::KeyHead ? kvHead : headBase;
  forEachThread(c32(lay.positions * k), [&](Value i) {
    auto [q, e] = divmod(i, k);
    ifThen(lt(q, count), [&] {
      int64_t blocks = lay.topBlockOffset();
      Value block = loadShared(listAt(blocks, i));
      Value rank = countOf(c32(k), [&](Value x) {
        Value other = loadShared(listAt(blocks, add(mul(q, c32(k)), x)));
        return both(ge(other, c32(0)), lt(other, block));
      });
      Value slot = select(ge(block, c32(0)), rank, e);
      Value at = add(rowOffset(ss, selHead, add(p0, q)), wide(slot));
      LLVM::StoreOp::create(b, block, global(param("select_idx"), at, i32));
    });
  });
}

GpuKernelInfo mlir::attn::describeGpuKernel(const KernelSpec &spec) {
  GpuTileLayout lay(spec);
  return {spec.name(), lay.warps, lay.stages, lay.sharedBytes, lay.positions};
}

gpu::GPUFuncOp mlir::attn::getOrCreateGpuKernel(gpu::GPUModuleOp module,
                                                const KernelSpec &spec) {
  GpuKernelInfo info = describeGpuKernel(spec);
  if (auto existing = module.lookupSymbol<gpu::GPUFuncOp>(info.name))
    return existing;
  MLIRContext *ctx = module.getContext();
  ImplicitLocOpBuilder b(module.getLoc(), ctx);
  b.setInsertionPointToEnd(module.getBody());

  // One dynamic shared memory symbol per module (sized at launch).
  constexpr StringLiteral smemName = "__attn_shared";
  auto smem = module.lookupSymbol<LLVM::GlobalOp>(smemName);
  if (!smem) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    smem = LLVM::GlobalOp::create(
        b, LLVM::LLVMArrayType::get(b.getI8Type(), 0), /*isConstant=*/false,
        LLVM::Linkage::External, smemName, Attribute(), /*alignment=*/16,
        /*addrSpace=*/3);
  }

  // Parameters: the ABI of runtime/AttentionConfig.h (kernelParams).
  SmallVector<Type> types;
  for (const ::attn::rt::KernelParam &p : ::attn::rt::kernelParams(spec))
    types.push_back(p.isTensor ? Type(LLVM::LLVMPointerType::get(ctx, 1))
                               : typeOf(ctx, p.dtype));
  auto func = gpu::GPUFuncOp::create(b, info.name, b.getFunctionType(types, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({static_cast<int32_t>(32 * info.warps), 1, 1}));
  // Launch bounds: without a minimum of resident blocks ptxas caps registers
  // well below 255 (168 here) and spills; 8 warps per SM allow 255 each.
  func->setAttr("nvvm.minctasm", b.getI32IntegerAttr(info.warps <= 4 ? 2 : 1));
  b.setInsertionPointToStart(&func.getBody().front());
  GpuKernelGen(spec, b).emitBody(func, smem);
  gpu::ReturnOp::create(b);
  return func;
}
