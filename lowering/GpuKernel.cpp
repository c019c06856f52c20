//===- GpuKernel.cpp - fused attention kernels for NVIDIA GPUs ------------===//
//
// FlashAttention-2 forward on tensor cores (mma.sync m16n8k16, sm_80+).
// A thread block handles one query tile of one key/value head group of one
// batch element: grid (query tiles, Hkv, B), 4 warps. The tile's q_block rows
// are `G` heads times q_block / G positions (row r: position r / G, head
// r % G), so K and V tiles are loaded once for the whole group. Each warp owns
// 16 rows per m-tile.
//
//   cp.async    Q tile and K/V tiles into shared memory (rows padded by 16
//               bytes, so ldmatrix reads are free of bank conflicts); K/V
//               double-buffered: tile t+1 is in flight while t is computed
//   ldmatrix    Q (A operand), K (B operand), V (B operand, transposed)
//   mma.sync    S = Q K^T and O += P V with f32 accumulation; P goes from the
//               S accumulator registers straight into A operands
//   shfl.xor    row max and row sum across the 4 threads of a quad
//   ex2.approx  the online softmax in base 2 (scale * log2 e folded in)
//
// Key tiles come from the mask model's bounds; only tiles it cannot prove
// full take the per-element test. Rows that see no key end as 0 with
// lse = -inf (the running max is replaced by 0 while it is -inf).
//
//===----------------------------------------------------------------------===//
#include "lowering/GpuKernel.h"
#include "lowering/MaskModel.h"
#include "passes/TilePlanner.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <array>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {
constexpr int64_t kMmaRows = 16;   // rows of one m16n8k16 tile
constexpr int64_t kChunk = 8;      // elements per 16-byte copy / ldmatrix row
constexpr int64_t kPad = 8;        // elements of padding per shared row
constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

/// Shapes derived from a spec and its plan.
struct TileLayout {
  int64_t warps, threads, rows, mTiles, positions, keys, stages;
  int64_t pitchQ, pitchK, pitchV;            // shared row pitch, elements
  int64_t qBytes, kBytes, vBytes, sharedBytes;
  bool qInRegisters;

  explicit TileLayout(const KernelSpec &s) {
    warps = s.plan.getWarps();
    threads = 32 * warps;
    rows = s.plan.getQBlock();
    mTiles = rows / (kMmaRows * warps);
    positions = std::max<int64_t>(1, rows / s.group);
    keys = s.plan.getKvBlock();
    // Two K/V buffers need a barrier after each tile before one is refilled;
    // with three, the barrier before the next tile already orders that.
    stages = s.plan.getStages() >= 3 ? 3 : 2;
    pitchQ = pitchK = s.headDim + kPad;
    pitchV = s.valueDim + kPad;
    qBytes = rows * pitchQ * 2;
    kBytes = keys * pitchK * 2;
    vBytes = keys * pitchV * 2;
    sharedBytes = gpuSharedBytes(rows, keys, s.headDim, s.valueDim, stages);
    // Q fragments stay in registers unless the head dim is large.
    qInRegisters = s.headDim * mTiles <= 128;
  }
};

using Frag = std::array<Value, 4>; // four f32 accumulators, or four A regs

class GpuKernelGen {
public:
  GpuKernelGen(const KernelSpec &spec, ImplicitLocOpBuilder &b)
      : spec(spec), lay(spec), masks(spec), b(b), ctx(b.getContext()),
        i32(b.getI32Type()), i64(b.getI64Type()), f32(b.getF32Type()),
        elt(spec.elementType), ptr1(LLVM::LLVMPointerType::get(ctx, 1)),
        ptr3(LLVM::LLVMPointerType::get(ctx, 3)) {
    isF16 = elt.isF16();
    operandType = isF16 ? Type(VectorType::get({2}, elt)) : Type(i32);
  }

  void emitBody(gpu::GPUFuncOp func, LLVM::GlobalOp smem);

private:
  // Scalars.
  Value c32(int64_t v) { return arith::ConstantIntOp::create(b, i32, v); }
  Value c64(int64_t v) { return arith::ConstantIntOp::create(b, i64, v); }
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
  Value wide(Value x) { return arith::ExtSIOp::create(b, i64, x); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, c, x, y);
  }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value fmax(Value x, Value y) { return arith::MaximumFOp::create(b, x, y); }

  /// One f32 -> f32 PTX instruction ("ex2.approx.ftz.f32", ...).
  Value ptx(StringRef op, Value x) {
    std::string code = (op + " $0, $1;").str();
    return NVVM::InlinePtxOp::create(b, TypeRange{f32}, ValueRange{x},
                                     ValueRange{}, code, Value())
        ->getResult(0);
  }
  Value exp2(Value x) { return ptx("ex2.approx.ftz.f32", x); }
  Value shflXor(Value x, int64_t lanes) {
    return NVVM::ShflOp::create(b, f32, c32(-1), x, c32(lanes), c32(0x1f),
                                NVVM::ShflKindAttr::get(ctx, NVVM::ShflKind::bfly),
                                UnitAttr());
  }

  // Memory.
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
  /// Copies `rows` x `dim` elements into a shared tile, 16 bytes per thread
  /// and step; `source(row)` gives the row's global element offset and
  /// whether it exists (missing rows are zero-filled).
  void copyTile(Value base, Value tileBase, int64_t rowCount, int64_t dim,
                int64_t pitch,
                function_ref<std::pair<Value, Value>(Value)> source);

  // Tensor cores.
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
  /// Two f32 values as one mma operand of two 16-bit elements.
  Value pack(Value lo, Value hi) {
    VectorType v2 = VectorType::get({2}, f32), e2 = VectorType::get({2}, elt);
    Value v = LLVM::PoisonOp::create(b, v2);
    v = LLVM::InsertElementOp::create(b, v, lo, c32(0));
    v = LLVM::InsertElementOp::create(b, v, hi, c32(1));
    Value narrow = arith::TruncFOp::create(b, e2, v);
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

  /// A fragments of Q for m-tile `i` and the 16 columns of k-step `kk`.
  Frag queryFragment(int64_t i, int64_t kk) {
    Value row = add(c32(kMmaRows * i), add(warpRow, arith::AndIOp::create(b, lane, c32(15))));
    Value col = add(c32(16 * kk), mul(arith::ShRUIOp::create(b, lane, c32(4)), c32(8)));
    return ldmatrix(sharedOffset(c32(0), row, col, lay.pitchQ), false);
  }

  const KernelSpec &spec;
  TileLayout lay;
  MaskModel masks;
  ImplicitLocOpBuilder &b;
  MLIRContext *ctx;
  Type i32, i64, f32, elt, ptr1, ptr3, operandType;
  bool isF16;
  /// Left-to-right reduction. (A pairwise tree shortens dependency chains
  /// but keeps more values live: ptxas then spilled the 128 x 32 kernels.)
  Value reduce(ArrayRef<Value> xs, function_ref<Value(Value, Value)> op) {
    Value acc = xs.front();
    for (size_t i = 1; i < xs.size(); ++i)
      acc = op(acc, xs[i]);
    return acc;
  }

  Value smemBase, tid, lane, warpRow, quadRow, quadCol;
  // Scores are kept in units of scoreUnit: raw q.k when the scale folds into
  // the softmax's exponent (foldScale), else already times scale * log2 e.
  bool foldScale = spec.softcap == 0.0 && spec.scale > 0.0;
  double scoreUnit = foldScale ? spec.scale * kLog2e : 1.0;
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
    if ((step + 1) * lay.threads <= total) {
      body();
      continue;
    }
    scf::IfOp::create(b, lt(id, c32(total)), [&](OpBuilder &, Location) {
      body();
      scf::YieldOp::create(b);
    });
  }
}

void GpuKernelGen::emitBody(gpu::GPUFuncOp func, LLVM::GlobalOp smem) {
  // Parameters, in the order of docs/artefacts.md.
  ValueRange args = func.getArguments();
  unsigned next = 0;
  Value q = args[next++], k = args[next++], v = args[next++];
  Value mask = spec.hasMask() ? args[next++] : Value();
  Value lengths = spec.hasLengths() ? args[next++] : Value();
  Value out = args[next++];
  Value lse = spec.hasLse ? args[next++] : Value();
  next++; // batch: the grid's z extent
  Value seqQ = args[next++], seqKv = args[next++];
  Value maskKeys = spec.hasMask() ? args[next++] : seqKv;
  auto strides = [&] {
    std::array<Value, 3> s = {args[next], args[next + 1], args[next + 2]};
    next += 3;
    return s;
  };
  auto qs = strides(), ks = strides(), vs = strides(), os = strides();
  std::array<Value, 3> ms, ls;
  if (spec.hasMask())
    ms = strides();
  if (spec.hasLse)
    ls = strides();

  smemBase = LLVM::AddressOfOp::create(b, smem);
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
  Value kvHead = NVVM::BlockIdYOp::create(b, i32);
  Value batch = NVVM::BlockIdZOp::create(b, i32);
  Value group = c32(spec.group);

  // Valid keys, alignment offset and the key range of this query tile.
  Value validKeys = seqKv;
  if (lengths) {
    Value len = LLVM::LoadOp::create(
        b, spec.lengthType, global(lengths, wide(batch), spec.lengthType));
    if (spec.lengthType.isInteger(64))
      len = arith::TruncIOp::create(b, i32, minI(len, wide(seqKv)));
    validKeys = minI(maxI(len, c32(0)), seqKv);
  }
  Value kvEnd = minI(validKeys, maskKeys);
  Value off = spec.bottomRight ? sub(validKeys, seqQ) : c32(0);
  Value p0 = mul(tile, c32(lay.positions));
  Value count = minI(c32(lay.positions), sub(seqQ, p0));
  Value rows = mul(count, group);
  Value pLo = add(p0, off);
  Value pHi = sub(add(pLo, count), c32(1));
  auto [lo, hi] = masks.keyRange(b, pLo, pHi, kvEnd);
  Value keyTiles = arith::CeilDivSIOp::create(b, maxI(sub(hi, lo), c32(0)),
                                              c32(lay.keys));

  // Shared memory: Q | K stages | V stages; a stage's offset is picked
  // among constants (a multiply here costs ~10% on the H200).
  auto pick = [&](Value stage, int64_t first, int64_t size) {
    Value offset = c32(first + (lay.stages - 1) * size);
    for (int64_t s = lay.stages - 2; s >= 0; --s)
      offset = select(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, stage, c32(s)),
                      c32(first + s * size), offset);
    return offset;
  };
  auto kTile = [&](Value stage) { return pick(stage, lay.qBytes, lay.kBytes); };
  auto vTile = [&](Value stage) {
    return pick(stage, lay.qBytes + lay.stages * lay.kBytes, lay.vBytes);
  };
  Value kvBase[2] = {add(mul(wide(batch), ks[0]), mul(wide(kvHead), ks[1])),
                     add(mul(wide(batch), vs[0]), mul(wide(kvHead), vs[1]))};
  auto issueKeys = [&](Value j0, Value stage) {
    auto rowOf = [&](Value base, Value stride) {
      return [&, base, stride](Value row) {
        Value key = add(j0, row);
        Value clamped = maxI(minI(key, sub(seqKv, c32(1))), c32(0));
        return std::make_pair(add(base, mul(wide(clamped), stride)),
                              lt(key, hi));
      };
    };
    copyTile(k, kTile(stage), lay.keys, spec.headDim, lay.pitchK,
             rowOf(kvBase[0], ks[2]));
    copyTile(v, vTile(stage), lay.keys, spec.valueDim, lay.pitchV,
             rowOf(kvBase[1], vs[2]));
  };

  // Q tile (one group), then K/V tile 0 (another group).
  Value qRowsTotal = mul(c32(lay.positions), group);
  copyTile(q, c32(0), lay.rows, spec.headDim, lay.pitchQ, [&](Value row) {
    Value pos = add(p0, arith::DivUIOp::create(b, row, group));
    Value head = add(mul(kvHead, group), arith::RemUIOp::create(b, row, group));
    Value exists = arith::AndIOp::create(b, lt(row, rows), lt(row, qRowsTotal));
    Value clamped = maxI(minI(pos, sub(seqQ, c32(1))), c32(0));
    Value offset = add(add(mul(wide(batch), qs[0]), mul(wide(head), qs[1])),
                       mul(wide(clamped), qs[2]));
    return std::make_pair(offset, exists);
  });
  NVVM::CpAsyncCommitGroupOp::create(b);
  issueKeys(lo, c32(0));
  NVVM::CpAsyncCommitGroupOp::create(b);
  NVVM::CpAsyncWaitGroupOp::create(b, 1);
  NVVM::Barrier0Op::create(b);

  int64_t nTiles = lay.keys / 8, dTiles = spec.valueDim / 8;
  int64_t kSteps = spec.headDim / 16;
  std::vector<std::vector<Frag>> qFrag(lay.mTiles);
  if (lay.qInRegisters)
    for (int64_t i = 0; i < lay.mTiles; ++i)
      for (int64_t kk = 0; kk < kSteps; ++kk)
        qFrag[i].push_back(queryFragment(i, kk));

  // Loop state: O accumulators, then running max and sum per row half.
  Value negInf = cf(-INFINITY), zero = cf(0.0);
  SmallVector<Value> init;
  for (int64_t i = 0; i < lay.mTiles * dTiles * 4; ++i)
    init.push_back(zero);
  for (int64_t i = 0; i < lay.mTiles * 2; ++i)
    init.push_back(negInf);
  for (int64_t i = 0; i < lay.mTiles * 2; ++i)
    init.push_back(zero);
  auto oIndex = [&](int64_t i, int64_t jn, int64_t c) { return (i * dTiles + jn) * 4 + c; };
  int64_t mBase = lay.mTiles * dTiles * 4, lBase = mBase + lay.mTiles * 2;

  // One step of the online softmax over key tile t; `masked` steps test
  // every element, the others are proven full by the mask model.
  auto step = [&](Value t, ValueRange state, bool masked) -> SmallVector<Value> {
        Value stage = arith::RemUIOp::create(b, t, c32(lay.stages));
        Value j0 = add(lo, mul(t, c32(lay.keys)));
        // Next tile in flight while this one is computed.
        Value hasNext = lt(add(t, c32(1)), keyTiles);
        scf::IfOp::create(
            b, hasNext,
            [&](OpBuilder &, Location) {
              issueKeys(add(j0, c32(lay.keys)),
                        arith::RemUIOp::create(b, add(t, c32(1)), c32(lay.stages)));
              NVVM::CpAsyncCommitGroupOp::create(b);
              NVVM::CpAsyncWaitGroupOp::create(b, 1);
              scf::YieldOp::create(b);
            },
            [&](OpBuilder &, Location) {
              NVVM::CpAsyncWaitGroupOp::create(b, 0);
              scf::YieldOp::create(b);
            });
        NVVM::Barrier0Op::create(b);
        Value kBase = kTile(stage), vBase = vTile(stage);

        // S = Q K^T.
        std::vector<std::vector<Frag>> s(lay.mTiles, std::vector<Frag>(nTiles));
        for (auto &row : s)
          for (Frag &f : row)
            f = {zero, zero, zero, zero};
        Value kRow = add(arith::AndIOp::create(b, lane, c32(7)),
                         mul(arith::ShRUIOp::create(b, lane, c32(4)), c32(8)));
        Value kCol = mul(arith::AndIOp::create(b, arith::ShRUIOp::create(b, lane, c32(3)), c32(1)), c32(8));
        for (int64_t kk = 0; kk < kSteps; ++kk) {
          std::vector<Frag> a(lay.mTiles);
          for (int64_t i = 0; i < lay.mTiles; ++i)
            a[i] = lay.qInRegisters ? qFrag[i][kk] : queryFragment(i, kk);
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

        // Scale (base 2), softcap, then masks in the tiles that need them.
        // Without softcap (and with a positive scale) the scores stay raw and
        // the scale folds into the exponent's FMA, as FlashAttention does.
        if (!foldScale)
          for (auto &row : s)
            for (Frag &f : row)
              for (Value &x : f)
                x = spec.softcap != 0.0
                        ? fmul(cf(spec.softcap * kLog2e),
                               ptx("tanh.approx.f32", fmul(x, cf(spec.scale / spec.softcap))))
                        : fmul(x, cf(spec.scale * kLog2e));
        auto maskedScores = [&]() -> SmallVector<Value> {
          SmallVector<Value> result;
          for (int64_t i = 0; i < lay.mTiles; ++i)
            for (int64_t j = 0; j < nTiles; ++j)
              for (int64_t c = 0; c < 4; ++c) {
                Value x = s[i][j][c];
                Value row = add(add(warpRow, c32(kMmaRows * i + 8 * (c >> 1))), quadRow);
                Value key = add(j0, add(c32(8 * j + (c & 1)), mul(quadCol, c32(2))));
                Value pos = add(p0, arith::DivUIOp::create(b, row, group));
                Value vis = arith::AndIOp::create(
                    b, lt(key, kvEnd), masks.visible(b, add(pos, off), key));
                if (mask) {
                  Value head = add(mul(kvHead, group), arith::RemUIOp::create(b, row, group));
                  Value safePos = maxI(minI(pos, sub(seqQ, c32(1))), c32(0));
                  Value safeKey = maxI(minI(key, sub(maskKeys, c32(1))), c32(0));
                  Value offset = add(add(mul(wide(batch), ms[0]), mul(wide(head), ms[1])),
                                     add(mul(wide(safePos), ms[2]), wide(safeKey)));
                  Type mt = spec.maskType.isInteger(1) ? Type(b.getI8Type()) : spec.maskType;
                  Value m = LLVM::LoadOp::create(b, mt, global(mask, offset, mt));
                  if (spec.maskType.isInteger(1))
                    vis = arith::AndIOp::create(
                        b, vis, arith::CmpIOp::create(b, arith::CmpIPredicate::ne, m,
                                                      arith::ConstantIntOp::create(b, mt, 0)));
                  else // in the scores' units: log2 e, or log2 e / scale when folded
                    x = arith::AddFOp::create(
                        b, x, fmul(arith::ExtFOp::create(b, f32, m), cf(kLog2e / scoreUnit)));
                }
                result.push_back(select(vis, x, negInf));
              }
          return result;
        };
        if (masked) {
          SmallVector<Value> values = maskedScores();
          for (auto [n, x] : llvm::enumerate(values))
            s[n / (nTiles * 4)][(n / 4) % nTiles][n % 4] = x;
        }

        // Online softmax per row half; P overwrites S in registers.
        SmallVector<Value> nextState(state.begin(), state.end());
        SmallVector<Value> alphas;
        Value maxMoved = arith::ConstantOp::create(b, b.getBoolAttr(false));
        for (int64_t i = 0; i < lay.mTiles; ++i)
          for (int64_t h = 0; h < 2; ++h) {
            SmallVector<Value> row;
            for (int64_t j = 0; j < nTiles; ++j)
              row.append({s[i][j][2 * h], s[i][j][2 * h + 1]});
            Value mx = reduce(row, [&](Value x, Value y) { return fmax(x, y); });
            mx = fmax(mx, shflXor(mx, 1));
            mx = fmax(mx, shflXor(mx, 2));
            if (foldScale)
              mx = fmul(mx, cf(scoreUnit));
            Value mOld = state[mBase + 2 * i + h];
            Value mNew = fmax(mOld, mx);
            Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf);
            Value mUse = select(empty, zero, mNew);
            Value alpha = exp2(arith::SubFOp::create(b, mOld, mUse));
            Value minusM = arith::NegFOp::create(b, mUse);
            for (int64_t j = 0; j < nTiles; ++j)
              for (int64_t c = 2 * h; c < 2 * h + 2; ++c)
                s[i][j][c] = exp2(foldScale ? Value(LLVM::FMAOp::create(b, s[i][j][c], cf(scoreUnit), minusM))
                                            : Value(arith::AddFOp::create(b, s[i][j][c], minusM)));
            row.clear();
            for (int64_t j = 0; j < nTiles; ++j)
              row.append({s[i][j][2 * h], s[i][j][2 * h + 1]});
            Value sum = reduce(row, [&](Value x, Value y) { return arith::AddFOp::create(b, x, y); });
            nextState[mBase + 2 * i + h] = mNew;
            nextState[lBase + 2 * i + h] = LLVM::FMAOp::create(
                b, state[lBase + 2 * i + h], alpha, sum);
            alphas.push_back(alpha);
            maxMoved = arith::OrIOp::create(
                b, maxMoved, arith::CmpFOp::create(b, arith::CmpFPredicate::ONE, mNew, mOld));
          }
        // O *= 2^(m - m'), skipped when no row max of the warp moved (most
        // tiles once the maxima settle): alpha would be 1 everywhere.
        Value rescale = NVVM::VoteSyncOp::create(b, b.getI1Type(), c32(-1), maxMoved,
                                                 NVVM::VoteSyncKind::any);
        SmallVector<Value> oldO(state.begin(), state.begin() + mBase);
        auto scaled = scf::IfOp::create(b, TypeRange(ValueRange(oldO)), rescale, true, true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(scaled.thenBlock());
          SmallVector<Value> newO;
          for (int64_t i = 0; i < lay.mTiles; ++i)
            for (int64_t jn = 0; jn < dTiles; ++jn)
              for (int64_t c = 0; c < 4; ++c)
                newO.push_back(fmul(state[oIndex(i, jn, c)], alphas[2 * i + c / 2]));
          scf::YieldOp::create(b, newO);
          b.setInsertionPointToStart(scaled.elseBlock());
          scf::YieldOp::create(b, oldO);
        }
        for (int64_t n = 0; n < mBase; ++n)
          nextState[n] = scaled.getResult(n);

        // O += P V: P from the S accumulators, V through ldmatrix.trans.
        Value vRow = arith::AndIOp::create(b, lane, c32(15));
        Value vCol = mul(arith::ShRUIOp::create(b, lane, c32(4)), c32(8));
        for (int64_t kk = 0; kk < nTiles / 2; ++kk) {
          std::vector<Frag> a(lay.mTiles);
          for (int64_t i = 0; i < lay.mTiles; ++i) {
            const Frag &lo0 = s[i][2 * kk], &hi0 = s[i][2 * kk + 1];
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
                Frag acc = {nextState[oIndex(i, jn, 0)], nextState[oIndex(i, jn, 1)],
                            nextState[oIndex(i, jn, 2)], nextState[oIndex(i, jn, 3)]};
                acc = mma(a[i], r[2 * half], r[2 * half + 1], acc);
                for (int64_t c = 0; c < 4; ++c)
                  nextState[oIndex(i, jn, c)] = acc[c];
              }
          }
        }
        // Everyone is done with this stage before it is refilled.
        if (lay.stages == 2)
          NVVM::Barrier0Op::create(b);
        return nextState;
      };
  // Partial tiles, full tiles, partial tiles: the mask model splits the key
  // range, so full tiles carry no masking code at all.
  auto [fullFirst, fullLast] =
      masks.fullTiles(b, pLo, pHi, lo, hi, keyTiles, lay.keys, /*wholeTiles=*/true);
  SmallVector<Value> carried = init;
  for (auto [from, to, masked] : {std::tuple{c32(0), fullFirst, true},
                                  std::tuple{fullFirst, fullLast, false},
                                  std::tuple{fullLast, keyTiles, true}}) {
    auto loop = scf::ForOp::create(
        b, from, to, c32(1), carried,
        [&, masked = masked](OpBuilder &, Location, Value t, ValueRange state) {
          scf::YieldOp::create(b, step(t, state, masked));
        });
    carried = SmallVector<Value>(loop.getResults());
  }

  // out = O / l (0 for rows that saw nothing), lse = (m + log2 l) * ln 2.
  ValueRange state = carried;
  for (int64_t i = 0; i < lay.mTiles; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value l = state[lBase + 2 * i + h];
      l = arith::AddFOp::create(b, l, shflXor(l, 1));
      l = arith::AddFOp::create(b, l, shflXor(l, 2));
      Value seen = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, l, zero);
      Value inv = select(seen, arith::DivFOp::create(b, cf(1.0), l), zero);
      Value row = add(add(warpRow, c32(kMmaRows * i + 8 * h)), quadRow);
      Value valid = arith::AndIOp::create(b, lt(row, rows), lt(row, qRowsTotal));
      Value pos = add(p0, arith::DivUIOp::create(b, row, group));
      Value head = add(mul(kvHead, group), arith::RemUIOp::create(b, row, group));
      scf::IfOp::create(b, valid, [&](OpBuilder &, Location) {
        Value base = add(add(mul(wide(batch), os[0]), mul(wide(head), os[1])),
                         mul(wide(pos), os[2]));
        for (int64_t jn = 0; jn < dTiles; ++jn) {
          Value o0 = fmul(state[oIndex(i, jn, 2 * h)], inv);
          Value o1 = fmul(state[oIndex(i, jn, 2 * h + 1)], inv);
          VectorType v2 = VectorType::get({2}, f32), e2 = VectorType::get({2}, elt);
          Value pair = LLVM::PoisonOp::create(b, v2);
          pair = LLVM::InsertElementOp::create(b, pair, o0, c32(0));
          pair = LLVM::InsertElementOp::create(b, pair, o1, c32(1));
          Value col = add(c32(8 * jn), mul(quadCol, c32(2)));
          LLVM::StoreOp::create(b, arith::TruncFOp::create(b, e2, pair),
                                global(out, add(base, wide(col)), elt), 4);
        }
        if (lse) {
          Value m = state[mBase + 2 * i + h];
          Value value = fmul(arith::AddFOp::create(b, m, ptx("lg2.approx.ftz.f32", l)), cf(kLn2));
          value = select(seen, value, negInf);
          Value at = add(add(mul(wide(batch), ls[0]), mul(wide(head), ls[1])),
                         mul(wide(pos), ls[2]));
          Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, quadCol, c32(0));
          scf::IfOp::create(b, first, [&](OpBuilder &, Location) {
            LLVM::StoreOp::create(b, value, global(lse, at, f32));
            scf::YieldOp::create(b);
          });
        }
        scf::YieldOp::create(b);
      });
    }
}

GpuKernelInfo mlir::attn::describeGpuKernel(const KernelSpec &spec) {
  TileLayout lay(spec);
  GpuKernelInfo info;
  info.name = spec.name("attn_" + stringifyTarget(spec.plan.getTarget()).str());
  info.warps = lay.warps;
  info.stages = lay.stages;
  info.sharedBytes = lay.sharedBytes;
  info.positionsPerBlock = lay.positions;
  auto dtype = [](Type t) {
    std::string s;
    llvm::raw_string_ostream(s) << t;
    return s == "i1" ? std::string("bool") : s;
  };
  std::string e = dtype(spec.elementType);
  auto tensor = [&](StringRef n, std::string t) {
    info.params.push_back({n.str(), "tensor", t});
  };
  auto scalar = [&](StringRef n, StringRef t) {
    info.params.push_back({n.str(), "scalar", t.str()});
  };
  tensor("q", e), tensor("k", e), tensor("v", e);
  if (spec.hasMask())
    tensor("mask", dtype(spec.maskType));
  if (spec.hasLengths())
    tensor("kv_lengths", dtype(spec.lengthType));
  tensor("out", e);
  if (spec.hasLse)
    tensor("lse", "f32");
  scalar("batch", "i32"), scalar("seq_q", "i32"), scalar("seq_kv", "i32");
  if (spec.hasMask())
    scalar("mask_keys", "i32");
  SmallVector<StringRef> strided = {"q", "k", "v", "out"};
  if (spec.hasMask())
    strided.push_back("mask");
  if (spec.hasLse)
    strided.push_back("lse");
  for (StringRef n : strided)
    for (StringRef axis : {"b", "h", "s"})
      scalar((n + "_stride_" + axis).str(), "i64");
  return info;
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

  SmallVector<Type> types;
  for (const auto &p : info.params)
    types.push_back(p.kind == "tensor" ? Type(LLVM::LLVMPointerType::get(ctx, 1))
                    : p.dtype == "i32" ? Type(b.getI32Type())
                                       : Type(b.getI64Type()));
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
