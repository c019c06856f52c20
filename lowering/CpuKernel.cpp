//===- CpuKernel.cpp - fused attention kernels for CPUs -------------------===//
//
// FlashAttention-2 on vector units, with the query rows of a tile along the
// vector lanes ("transposed" form). Scores are S^T[key, row]: every row-wise
// softmax quantity (running max, sum, rescale factor) is a vector of lanes,
// so there are no horizontal reductions; both matrix products are outer
// products of a broadcast key/value element with a vector of 16 query rows,
// register-blocked 16 wide. A tile holds G heads of one key/value group times
// q_block / G positions (row r = position * G + head), so each K/V tile is
// read once for the whole group; with block lists per query head, whose
// heads see different keys, a tile holds one head (AttentionConfig::
// tileGroup).
//
// Per task (batch b, key head hk, query tile qt), in an scf.parallel:
//   Qt[d, r]  = Q * scale * log2(e)            (packed once, f32)
//   for key tiles [j0, j0 + nk) inside the mask model's bounds:
//     Ks, Vs   = K, V rows staged as f32 (any input type, padded with 0)
//     St[j, r] = sum_d Ks[j, d] * Qt[d, r]
//     partial tiles only: St = visible ? St + mask : -inf
//     m' = max(m, max_j St); St = exp2(St - m'); l = l * 2^(m - m') + sum_j St
//     Ot[c, r] = Ot[c, r] * 2^(m - m') + sum_j Vs[j, c] * St[j, r]
//   out = Ot / l (0 when l = 0), lse = (m + log2 l) * ln 2 (-inf when l = 0)
//
//===----------------------------------------------------------------------===//
#include "lowering/CpuKernel.h"
#include "lowering/KeyTileSchedule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

#include <cmath>
#include <optional>
#include <thread>

using namespace mlir;
using namespace mlir::attn;

Value mlir::attn::emitExp2(ImplicitLocOpBuilder &b, Value x) {
  auto vec = cast<VectorType>(x.getType());
  auto splat = [&](double v) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(vec, static_cast<float>(v)));
  };
  constexpr double ln2 = 0.6931471805599453;
  x = arith::MaximumFOp::create(b, x, splat(-127.0));
  x = arith::MinimumFOp::create(b, x, splat(127.0));
  Value n = math::FloorOp::create(b, arith::AddFOp::create(b, x, splat(0.5)));
  Value f = arith::SubFOp::create(b, x, n);
  Value p = splat(std::pow(ln2, 6) / 720.0);
  double fact = 120.0;
  for (int k = 5; k >= 0; --k) {
    p = math::FmaOp::create(b, p, f, splat(std::pow(ln2, k) / fact));
    fact /= std::max(k, 1);
  }
  VectorType i32vec = VectorType::get(vec.getShape(), b.getI32Type());
  Value e = arith::FPToSIOp::create(b, i32vec, n);
  e = arith::AddIOp::create(
      b, e, arith::ConstantOp::create(b, DenseElementsAttr::get(i32vec, 127)));
  e = arith::ShLIOp::create(
      b, e, arith::ConstantOp::create(b, DenseElementsAttr::get(i32vec, 23)));
  return arith::MulFOp::create(b, p, arith::BitcastOp::create(b, vec, e));
}

MemRefType mlir::attn::kernelOperandType(MLIRContext *ctx, Type element,
                                         int64_t rank, int64_t lastDim) {
  constexpr int64_t dyn = ShapedType::kDynamic;
  SmallVector<int64_t> shape(rank, dyn), strides(rank, dyn);
  shape.back() = lastDim;
  strides.back() = 1;
  return MemRefType::get(shape, element,
                         StridedLayoutAttr::get(ctx, dyn, strides));
}

namespace {
/// Per-task scratch (stack) of a plan, in f32 elements of each buffer.
struct CpuTileLayout {
  int64_t positions, rowsPad, keyBlock, headDimPad, valueDimPad;
  static int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
  explicit CpuTileLayout(const ::attn::rt::AttentionConfig &c) {
    positions = ::attn::rt::positionsPerBlock(c);
    rowsPad = roundUp(positions * c.tileGroup(), kCpuLanes);
    // A block-sparse kernel's key tile is one selected block.
    keyBlock = roundUp(c.blocks ? c.blocks->second : c.plan.kvBlock, kCpuLanes);
    headDimPad = roundUp(c.headDim, kCpuLanes);
    valueDimPad = roundUp(c.valueDim, kCpuLanes);
  }
  /// Qt, St, Ot, three row statistics, Ks and Vs.
  int64_t scratchBytes(const ::attn::rt::AttentionConfig &c) const {
    return 4 * (rowsPad * (c.headDim + keyBlock + valueDimPad + 3) +
                keyBlock * (headDimPad + valueDimPad));
  }
};

constexpr int64_t kLanes = kCpuLanes;
constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

class CpuKernelGen {
public:
  CpuKernelGen(const KernelSpec &spec, ImplicitLocOpBuilder &b)
      : spec(spec), masks(spec), b(b), f32(b.getF32Type()),
        vec(VectorType::get({kLanes}, b.getF32Type())),
        ivec(VectorType::get({kLanes}, b.getI64Type())) {
    group = spec.tileGroup();
    CpuTileLayout lay(spec);
    positions = lay.positions;
    rowsPad = lay.rowsPad;
    keyBlock = lay.keyBlock;
    headDimPad = lay.headDimPad;
    valueDimPad = lay.valueDimPad;
    // A fused window branch needs one position per tile (checkCpuKernel).
    // Lists that change within a vector of rows (and a fused window
    // branch, one position per tile) put keys along the lanes.
    keyLanes = spec.blocks && ((positions == 1 && (group < kLanes || spec.windowBranch)) ||
                               (group < kLanes && spec.blocks->first * group < kLanes));
    if (spec.windowBranch) {
      windowSpec = spec;
      static_cast<::attn::rt::AttentionSemantics &>(windowSpec) =
          spec.windowBranchSemantics();
      windowMasks.emplace(windowSpec);
    }
  }

  void emitBody(ValueRange args);

private:
  // Constants and small helpers.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32c(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(static_cast<float>(v)));
  }
  Value splat(double v) {
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(vec, static_cast<float>(v)));
  }
  Value splatI(Value scalarI64) {
    return vector::BroadcastOp::create(b, ivec, scalarI64);
  }
  Value i64(Value index) {
    return arith::IndexCastOp::create(b, b.getI64Type(), index);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value minI(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value maxI(Value x, Value y) { return arith::MaxSIOp::create(b, x, y); }
  /// Per-task scratch on the stack: convert-scf-to-openmp makes each
  /// iteration of the parallel loop an alloca scope.
  Value alloc(ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, MemRefType::get(shape, f32),
                                    b.getI64IntegerAttr(64));
  }
  Value toF32(Value x) {
    Type t = getElementTypeOrSelf(x.getType());
    if (t == f32)
      return x;
    Type to = isa<VectorType>(x.getType())
                  ? Type(VectorType::get(cast<VectorType>(x.getType()).getShape(), f32))
                  : f32;
    if (t.getIntOrFloatBitWidth() < 32)
      return arith::ExtFOp::create(b, to, x);
    return arith::TruncFOp::create(b, to, x);
  }
  Value fromF32(Value x, Type to) {
    if (to == f32)
      return x;
    if (to.getIntOrFloatBitWidth() < 32)
      return arith::TruncFOp::create(b, to, x);
    return arith::ExtFOp::create(b, to, x);
  }

  /// for (iv = lo; iv < hi; iv += step) body(iv), no loop-carried values.
  void loop(Value lo, Value hi, int64_t step, function_ref<void(Value)> body) {
    scf::ForOp::create(b, lo, hi, idx(step), ValueRange{},
                       [&](OpBuilder &, Location, Value iv, ValueRange) {
                         body(iv);
                         scf::YieldOp::create(b);
                       });
  }
  /// A loop carrying `init`; body returns the next values.
  SmallVector<Value> loop(Value lo, Value hi, int64_t step, ValueRange init,
                          function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(
        b, lo, hi, idx(step), init,
        [&](OpBuilder &, Location, Value iv, ValueRange carried) {
          scf::YieldOp::create(b, body(iv, carried));
        });
    return SmallVector<Value>(forOp.getResults());
  }
  void ifThenElse(Value cond, function_ref<void()> thenBody,
                  function_ref<void()> elseBody) {
    scf::IfOp::create(
        b, cond,
        [&](OpBuilder &, Location) {
          thenBody();
          scf::YieldOp::create(b);
        },
        [&](OpBuilder &, Location) {
          elseBody();
          scf::YieldOp::create(b);
        });
  }

  Value exp2(Value x) { return emitExp2(b, x); }

  /// The register-blocked micro-kernel of both products: for k in
  /// [0, steps), acc[t] += broadcast(element(k, t)) * lanes(k), t < 16.
  SmallVector<Value> outerProducts(Value steps, ValueRange init,
                                   function_ref<Value(Value)> lanes,
                                   function_ref<Value(Value, int64_t)> element);
  void packQuery(Value q, Value batch, Value kvHead, Value p0, Value rows);
  void stage(Value buffer, Value src, Value batch, Value kvHead, Value j0,
             Value nk, int64_t dim, int64_t dimPad);
  void scores(Value nrv, Value nk);
  void softmaxUpdate(bool masked, Value nrv, Value nk, Value j0, Value batch,
                     Value kvHead, Value p0, Value off, Value rows);
  void accumulate(Value nrv, Value nk);
  void finalize(Value out, Value lse, Value batch, Value kvHead, Value p0,
                Value rows);
  KeyTileSchedule sparseSchedule(Value blockIdx, Value batch, Value kvHead,
                                 Value p0, Value count, Value pLo, Value pHi,
                                 Value kvEnd, Value kvSeq);

  // Key-lane form (see emitBody): one position, keys along the lanes.
  void transposeListedKeys(Value k, Value blockIdx, Value batches, Value querySeq,
                           Value kvSeq);
  void keyLaneTile(const KeyTileSchedule &schedule, Value q, Value v, Value out,
                   Value lse, Value outWindow, Value batch, Value kvHead,
                   Value p0, Value count, Value off);
  /// buf[i] of a [n, ...] scratch buffer, as a [...] view.
  Value slice(Value buf, Value i);
  /// The valid keys (min of kv_lengths and the mask's keys, kvEnd) and the
  /// query offset of batch element `batch`.
  std::pair<Value, Value> placement(Value batch, Value querySeq, Value kvSeq);
  /// Fused window branch: the key blocks [first, end) holding keys the
  /// window branch lets positions [pLo, pHi] see below kvEnd (empty: end <=
  /// first).
  std::pair<Value, Value> windowBlocks(Value pLo, Value pHi, Value kvEnd);
  Value keyLaneMask(Value s, bool masked, Value key0, Value keyEnd, Value batch,
                    Value head, Value query, Value pos);

  const KernelSpec &spec;
  MaskModel masks;
  ImplicitLocOpBuilder &b;
  Type f32;
  VectorType vec, ivec;
  int64_t group, positions, rowsPad, keyBlock, headDimPad, valueDimPad;
  // Per-task: the tile's first query head, and buffers.
  Value headBase;
  // Block-sparse: which key blocks the tile visits (i8 [blocks]) and which
  // of its positions listed each (i8 [blocks x positions]).
  Value visit, member;
  Value qt, st, ot, rowMax, rowSum, rowScale, ks, vs;
  // Key-lane form: K transposed to f32 [listed blocks, Dqk, kv_block], the
  // slot of each (batch, key head, block) (-1: unlisted), and whether this
  // kernel takes that form.
  Value kt, slots;
  bool keyLanes = false;
  // The explicit mask: memref and its head/query strides.
  Value mask, maskHeadStride, maskQueryStride;
  // Per-batch valid lengths and query offsets (operands, or null).
  Value lengths, offsets, maskKeys;
  // Fused window branch: its semantics (the window for the list) and masks.
  ::attn::rt::AttentionConfig windowSpec;
  std::optional<MaskModel> windowMasks;
};
} // namespace

std::string mlir::attn::checkCpuKernel(const ::attn::rt::AttentionConfig &c) {
  if (c.plan.target != ::attn::rt::Target::CPU)
    return std::string("the tile plan is for ") + ::attn::rt::targetName(c.plan.target) +
           ", not the CPU";
  // Checked first: the scratch size below must not overflow.
  constexpr int64_t kMaxSize = 1 << 16;
  for (int64_t x : {c.group, c.headDim, c.valueDim, c.plan.qBlock, c.plan.kvBlock})
    if (x > kMaxSize)
      return "CPU kernels take group, head dims and tile sizes up to " +
             std::to_string(kMaxSize) + ", got group " + std::to_string(c.group) +
             ", Dqk " + std::to_string(c.headDim) + ", Dv " +
             std::to_string(c.valueDim) + ", q_block " + std::to_string(c.plan.qBlock) +
             ", kv_block " + std::to_string(c.plan.kvBlock);
  if (c.blocks && c.blocks->second > kMaxSize)
    return "CPU kernels take selection blocks of up to " + std::to_string(kMaxSize) +
           " keys, got kv_block = " + std::to_string(c.blocks->second);
  if (c.windowBranch && ::attn::rt::positionsPerBlock(c) != 1)
    return "a fused window branch takes one position per tile: q_block must "
           "be the " + std::to_string(c.tileGroup()) + " heads of a tile, got " +
           std::to_string(c.plan.qBlock);
  int64_t bytes = CpuTileLayout(c).scratchBytes(c);
  if (bytes > kCpuScratchBytes)
    return "the plan needs " + std::to_string(bytes) +
           " bytes of scratch per task, more than the " +
           std::to_string(kCpuScratchBytes) +
           " a task may put on its thread's stack; use a smaller q_block or "
           "kv_block (or a smaller head dim)";
  return "";
}

void CpuKernelGen::packQuery(Value q, Value batch, Value kvHead, Value p0,
                             Value rows) {
  // Q * scale (* log2 e unless softcap applies tanh first), transposed.
  double qScale = spec.softcap != 0.0 ? spec.resolvedScale() / spec.softcap
                                      : spec.resolvedScale() * kLog2e;
  Value factor = f32c(qScale);
  loop(idx(0), idx(rowsPad), 1, [&](Value r) {
    Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, r, rows);
    ifThenElse(
        valid,
        [&] {
          Value pos = add(p0, arith::DivUIOp::create(b, r, idx(group)));
          Value head = add(headBase, arith::RemUIOp::create(b, r, idx(group)));
          loop(idx(0), idx(spec.headDim), 1, [&](Value d) {
            Value x = memref::LoadOp::create(b, q, ValueRange{batch, head, pos, d});
            x = arith::MulFOp::create(b, toF32(x), factor);
            memref::StoreOp::create(b, x, qt, ValueRange{d, r});
          });
        },
        [&] {
          Value zero = f32c(0.0);
          loop(idx(0), idx(spec.headDim), 1, [&](Value d) {
            memref::StoreOp::create(b, zero, qt, ValueRange{d, r});
          });
        });
  });
}

void CpuKernelGen::stage(Value buffer, Value src, Value batch, Value kvHead,
                         Value j0, Value nk, int64_t dim, int64_t dimPad) {
  Type elt = cast<MemRefType>(src.getType()).getElementType();
  VectorType srcVec = VectorType::get({kLanes}, elt);
  Value pad = arith::ConstantOp::create(b, b.getZeroAttr(elt));
  loop(idx(0), nk, 1, [&](Value j) {
    Value row = add(j0, j);
    for (int64_t c = 0; c < dimPad; c += kLanes) {
      bool inBounds = c + kLanes <= dim;
      Value x = vector::TransferReadOp::create(
          b, srcVec, src, ValueRange{batch, kvHead, row, idx(c)}, pad,
          ArrayRef<bool>{inBounds});
      vector::StoreOp::create(b, toF32(x), buffer, ValueRange{j, idx(c)});
    }
  });
}

SmallVector<Value>
CpuKernelGen::outerProducts(Value steps, ValueRange init,
                            function_ref<Value(Value)> lanes,
                            function_ref<Value(Value, int64_t)> element) {
  return loop(idx(0), steps, 1, init, [&](Value k, ValueRange carried) {
    Value x = lanes(k);
    SmallVector<Value> next;
    for (int64_t t = 0; t < kLanes; ++t) {
      Value e = vector::BroadcastOp::create(b, vec, element(k, t));
      next.push_back(vector::FMAOp::create(b, e, x, carried[t]));
    }
    return next;
  });
}

void CpuKernelGen::scores(Value nrv, Value nk) {
  // St[j, r] for 16 keys x 16 rows per register block.
  loop(idx(0), nrv, 1, [&](Value rv) {
    Value lane0 = mul(rv, idx(kLanes));
    loop(idx(0), nk, kLanes, [&](Value jb) {
      SmallVector<Value> zeros(kLanes, splat(0.0));
      SmallVector<Value> acc = outerProducts(
          idx(spec.headDim), zeros,
          [&](Value d) { return vector::LoadOp::create(b, vec, qt, ValueRange{d, lane0}); },
          [&](Value d, int64_t t) {
            return memref::LoadOp::create(b, ks, ValueRange{add(jb, idx(t)), d});
          });
      for (int64_t t = 0; t < kLanes; ++t)
        vector::StoreOp::create(b, acc[t], st, ValueRange{add(jb, idx(t)), lane0});
    });
  });
}

void CpuKernelGen::softmaxUpdate(bool masked, Value nrv, Value nk, Value j0,
                                 Value batch, Value kvHead, Value p0, Value off,
                                 Value rows) {
  Value negInf = splat(-INFINITY);
  bool rewrites = masked || spec.softcap != 0.0;
  loop(idx(0), nrv, 1, [&](Value rv) {
    Value lane0 = mul(rv, idx(kLanes));
    // Per-lane query index, absolute position and head (masked tiles only).
    Value laneValid, query, pos, head;
    if (masked) {
      Value step = arith::IndexCastOp::create(
          b, ivec, vector::StepOp::create(b, VectorType::get({kLanes}, b.getIndexType())));
      Value lane = arith::AddIOp::create(b, step, splatI(i64(lane0)));
      Value g = splatI(i64(idx(group)));
      laneValid = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, lane,
                                        splatI(i64(rows)));
      query = arith::AddIOp::create(b, splatI(i64(p0)),
                                    arith::DivUIOp::create(b, lane, g));
      pos = masks.position(b, query, splatI(i64(off)));
      head = arith::AddIOp::create(b, splatI(i64(headBase)),
                                   arith::RemUIOp::create(b, lane, g));
    }
    // Softcap, masks, row max.
    Value rowMaxNew = loop(idx(0), nk, 1, ValueRange{negInf},
                           [&](Value j, ValueRange carried) -> SmallVector<Value> {
      Value s = vector::LoadOp::create(b, vec, st, ValueRange{j, lane0});
      if (spec.softcap != 0.0)
        s = arith::MulFOp::create(b, splat(spec.softcap * kLog2e),
                                  math::TanhOp::create(b, s));
      if (masked) {
        Value key = add(j0, j);
        Value vis = masks.visible(b, pos, splatI(i64(key)));
        if (member) {
          // Listed for this lane's position? (The tile is one block.)
          Value base = mul(arith::DivUIOp::create(b, j0, idx(spec.blocks->second)),
                           idx(positions));
          Value at = arith::AddIOp::create(
              b, splatI(i64(base)), arith::SubIOp::create(b, query, splatI(i64(p0))));
          VectorType bytes = VectorType::get({kLanes}, b.getI8Type());
          Value listed = vector::GatherOp::create(
              b, bytes, member, ValueRange{idx(0)}, at, laneValid,
              arith::ConstantOp::create(b, DenseElementsAttr::get(bytes, b.getI8IntegerAttr(0))));
          vis = arith::AndIOp::create(
              b, vis,
              arith::CmpIOp::create(b, arith::CmpIPredicate::ne, listed,
                                    arith::ConstantOp::create(
                                        b, DenseElementsAttr::get(bytes, b.getI8IntegerAttr(0)))));
        }
        if (mask) {
          // Gather mask[b, head, query, key] for the 16 lanes.
          Value offsets = arith::AddIOp::create(
              b,
              arith::AddIOp::create(
                  b, arith::MulIOp::create(b, head, splatI(i64(maskHeadStride))),
                  arith::MulIOp::create(b, query, splatI(i64(maskQueryStride)))),
              splatI(i64(key)));
          Type mt = spec.maskType;
          VectorType mvec = VectorType::get({kLanes}, mt);
          Value zero = arith::ConstantOp::create(
              b, DenseElementsAttr::get(mvec, b.getZeroAttr(mt)));
          Value m = vector::GatherOp::create(
              b, mvec, mask, ValueRange{batch, idx(0), idx(0), idx(0)}, offsets,
              laneValid, zero);
          if (mt.isInteger(1))
            vis = arith::AndIOp::create(b, vis, m);
          else
            s = math::FmaOp::create(b, toF32(m), splat(kLog2e), s);
        }
        s = arith::SelectOp::create(b, vis, s, negInf);
      }
      if (rewrites)
        vector::StoreOp::create(b, s, st, ValueRange{j, lane0});
      return {arith::MaximumFOp::create(b, carried[0], s)};
    })[0];
    // Online softmax: new max, rescale factor, probabilities and their sum.
    Value mOld = vector::LoadOp::create(b, vec, rowMax, ValueRange{lane0});
    Value mNew = arith::MaximumFOp::create(b, mOld, rowMaxNew);
    Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf);
    Value mUse = arith::SelectOp::create(b, empty, splat(0.0), mNew);
    Value alpha = exp2(arith::SubFOp::create(b, mOld, mUse));
    Value sum = loop(idx(0), nk, 1, ValueRange{splat(0.0)},
                     [&](Value j, ValueRange carried) -> SmallVector<Value> {
      Value s = vector::LoadOp::create(b, vec, st, ValueRange{j, lane0});
      Value p = exp2(arith::SubFOp::create(b, s, mUse));
      vector::StoreOp::create(b, p, st, ValueRange{j, lane0});
      return {arith::AddFOp::create(b, carried[0], p)};
    })[0];
    Value lOld = vector::LoadOp::create(b, vec, rowSum, ValueRange{lane0});
    vector::StoreOp::create(b, math::FmaOp::create(b, lOld, alpha, sum), rowSum,
                            ValueRange{lane0});
    vector::StoreOp::create(b, mNew, rowMax, ValueRange{lane0});
    vector::StoreOp::create(b, alpha, rowScale, ValueRange{lane0});
  });
}

void CpuKernelGen::accumulate(Value nrv, Value nk) {
  // Ot[c, r] = Ot[c, r] * alpha[r] + sum_j Vs[j, c] * St[j, r], 16 columns x
  // 16 rows per register block.
  loop(idx(0), nrv, 1, [&](Value rv) {
    Value lane0 = mul(rv, idx(kLanes));
    Value alpha = vector::LoadOp::create(b, vec, rowScale, ValueRange{lane0});
    loop(idx(0), idx(valueDimPad), kLanes, [&](Value cb) {
      SmallVector<Value> init;
      for (int64_t t = 0; t < kLanes; ++t)
        init.push_back(arith::MulFOp::create(
            b, vector::LoadOp::create(b, vec, ot, ValueRange{add(cb, idx(t)), lane0}),
            alpha));
      SmallVector<Value> acc = outerProducts(
          nk, init,
          [&](Value j) { return vector::LoadOp::create(b, vec, st, ValueRange{j, lane0}); },
          [&](Value j, int64_t t) {
            return memref::LoadOp::create(b, vs, ValueRange{j, add(cb, idx(t))});
          });
      for (int64_t t = 0; t < kLanes; ++t)
        vector::StoreOp::create(b, acc[t], ot, ValueRange{add(cb, idx(t)), lane0});
    });
  });
}

void CpuKernelGen::finalize(Value out, Value lse, Value batch, Value kvHead,
                            Value p0, Value rows) {
  Type outType = cast<MemRefType>(out.getType()).getElementType();
  loop(idx(0), rows, 1, [&](Value r) {
    Value pos = add(p0, arith::DivUIOp::create(b, r, idx(group)));
    Value head = add(headBase, arith::RemUIOp::create(b, r, idx(group)));
    Value l = memref::LoadOp::create(b, rowSum, ValueRange{r});
    // l is 0 for a row that saw no key; NaN (a NaN or +inf score) propagates.
    Value seen = arith::CmpFOp::create(b, arith::CmpFPredicate::UNE, l, f32c(0.0));
    Value inv = arith::SelectOp::create(
        b, seen, arith::DivFOp::create(b, f32c(1.0), l), f32c(0.0));
    loop(idx(0), idx(spec.valueDim), 1, [&](Value c) {
      Value o = memref::LoadOp::create(b, ot, ValueRange{c, r});
      o = fromF32(arith::MulFOp::create(b, o, inv), outType);
      memref::StoreOp::create(b, o, out, ValueRange{batch, head, pos, c});
    });
    if (lse) {
      Value m = memref::LoadOp::create(b, rowMax, ValueRange{r});
      Value value = arith::MulFOp::create(
          b, arith::AddFOp::create(b, m, math::Log2Op::create(b, l)), f32c(kLn2));
      value = arith::SelectOp::create(b, seen, value, f32c(-INFINITY));
      memref::StoreOp::create(b, value, lse, ValueRange{batch, head, pos});
    }
  });
}

KeyTileSchedule CpuKernelGen::sparseSchedule(Value blockIdx, Value batch,
                                             Value kvHead, Value p0, Value count,
                                             Value pLo, Value pHi, Value kvEnd,
                                             Value kvSeq) {
  // The tile's rows may span several query blocks of the selection, each
  // with its own list: the tile visits the union of their blocks (a bitmap,
  // so entries are deduplicated and out-of-range ones dropped) and each
  // position sees only the blocks its own list names (membership bitmap,
  // tested with the other masks in the partial-tile path).
  auto [qBlock, kvBlock] = *spec.blocks;
  Value head = spec.blockHeads == ::attn::rt::BlockHeads::Shared      ? idx(0)
               : spec.blockHeads == ::attn::rt::BlockHeads::QueryHead ? headBase
                                                                     : kvHead;
  Value blocks = arith::CeilDivUIOp::create(b, kvSeq, idx(kvBlock));
  Type i8 = b.getI8Type();
  auto bytes = [&](Value n) {
    return memref::AllocaOp::create(b, MemRefType::get({ShapedType::kDynamic}, i8),
                                    ValueRange{n}, b.getI64IntegerAttr(16));
  };
  Value zero = arith::ConstantIntOp::create(b, i8, 0), one = arith::ConstantIntOp::create(b, i8, 1);
  visit = bytes(blocks);
  loop(idx(0), blocks, 1, [&](Value j) { memref::StoreOp::create(b, zero, visit, j); });
  // A one-position tile sees exactly the blocks it visits.
  // (On the heap, freed by the buffer deallocation pipeline: blocks x 128
  // positions is 2 MB at 1M keys.)
  if (positions > 1) {
    member = memref::AllocOp::create(b, MemRefType::get({ShapedType::kDynamic}, i8),
                                     ValueRange{mul(blocks, idx(positions))},
                                     b.getI64IntegerAttr(16));
    loop(idx(0), mul(blocks, idx(positions)), 1,
         [&](Value j) { memref::StoreOp::create(b, zero, member, j); });
  }
  Value listLength = memref::DimOp::create(b, blockIdx, 3);
  Value first = arith::DivUIOp::create(b, p0, idx(qBlock));
  Value last = arith::DivUIOp::create(b, sub(add(p0, count), idx(1)), idx(qBlock));
  loop(first, add(last, idx(1)), 1, [&](Value qb) {
    Value posLo = maxI(sub(mul(qb, idx(qBlock)), p0), idx(0));
    Value posHi = minI(sub(mul(add(qb, idx(1)), idx(qBlock)), p0), count);
    loop(idx(0), listLength, 1, [&](Value t) {
      Value e = arith::IndexCastOp::create(
          b, b.getIndexType(),
          memref::LoadOp::create(b, blockIdx, ValueRange{batch, head, qb, t}));
      // Compared as signed: -1 and other negatives fail the first test.
      Value valid = arith::AndIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, e, idx(0)),
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, e, blocks));
      scf::IfOp::create(b, valid, [&](OpBuilder &, Location) {
        memref::StoreOp::create(b, one, visit, e);
        if (member)
          loop(posLo, posHi, 1, [&](Value pos) {
            memref::StoreOp::create(b, one, member, add(mul(e, idx(positions)), pos));
          });
        scf::YieldOp::create(b);
      });
    });
  });
  // A fused window branch also visits the blocks of its window (flag 2).
  if (spec.windowBranch) {
    auto [wFirst, wEnd] = windowBlocks(pLo, pHi, kvEnd);
    Value two = arith::ConstantIntOp::create(b, i8, 2);
    loop(wFirst, maxI(wEnd, wFirst), 1, [&](Value j) {
      Value f = memref::LoadOp::create(b, visit, j);
      memref::StoreOp::create(b, arith::OrIOp::create(b, f, two), visit, j);
    });
  }
  // Visit the marked blocks of the dense range, in order.
  auto [lo, hi] = masks.keyRange(b, pLo, pHi, kvEnd);
  Value jLo = arith::DivUIOp::create(b, maxI(lo, idx(0)), idx(kvBlock));
  Value jHi = arith::CeilDivUIOp::create(b, maxI(hi, idx(0)), idx(kvBlock));
  Value n = maxI(sub(jHi, jLo), idx(0));
  auto entry = [=, this](Value t) -> Value { return add(jLo, t); };
  auto keep = [=, this](Value t) -> Value {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                 memref::LoadOp::create(b, visit, add(jLo, t)), zero);
  };
  return KeyTileSchedule::indexList(b, masks, pLo, pHi, kvEnd, kvBlock, n, entry, keep);
}

Value mlir::attn::toBuffer(ImplicitLocOpBuilder &b, Value t, bool readOnly) {
  auto type = cast<RankedTensorType>(t.getType());
  return bufferization::ToBufferOp::create(
      b, MemRefType::get(type.getShape(), type.getElementType()), t, readOnly);
}

int64_t mlir::attn::divisorAtMost(int64_t n, int64_t cap) {
  for (int64_t x = std::min(n, cap); x > 1; --x)
    if (n % x == 0)
      return x;
  return 1;
}

void CpuKernelGen::transposeListedKeys(Value k, Value blockIdx, Value batches,
                                       Value querySeq, Value kvSeq) {
  // Blocks any list of (batch, key head) names, marked in parallel over
  // (batch, key head), numbered in order (slots[b, hk, block], -1 for a
  // block nobody lists), then transposed in parallel over (batch, key head,
  // block) into Kt[slot, d, key], one block contiguous (keys past the
  // block's end are 0). Decode lists a few dozen blocks, so Kt stays small
  // (a buffer for every block was 16 MB at 32k keys, faulted in per call).
  constexpr int64_t dyn = ShapedType::kDynamic;
  int64_t kvBlock = spec.blocks->second;
  Value kvHeads = memref::DimOp::create(b, k, 1);
  Value blocks = arith::CeilDivUIOp::create(b, kvSeq, idx(kvBlock));
  Type i8 = b.getI8Type();
  Value flags = memref::AllocOp::create(b, MemRefType::get({dyn, dyn, dyn}, i8),
                                        ValueRange{batches, kvHeads, blocks});
  Value zero = arith::ConstantIntOp::create(b, i8, 0);
  Value one = arith::ConstantIntOp::create(b, i8, 1);
  scf::ParallelOp::create(
      b, ValueRange{idx(0), idx(0)}, ValueRange{batches, kvHeads}, ValueRange{idx(1), idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value batch = ivs[0], hk = ivs[1];
        loop(idx(0), blocks, 1, [&](Value e) {
          memref::StoreOp::create(b, zero, flags, ValueRange{batch, hk, e});
        });
        // The lists this key head reads: the shared one, its own, or its
        // query heads'.
        Value h0 = spec.blockHeads == ::attn::rt::BlockHeads::Shared ? idx(0)
                   : spec.blockHeads == ::attn::rt::BlockHeads::QueryHead
                       ? mul(hk, idx(spec.group))
                       : hk;
        int64_t listHeads =
            spec.blockHeads == ::attn::rt::BlockHeads::QueryHead ? spec.group : 1;
        Value qBlocks = memref::DimOp::create(b, blockIdx, 2);
        Value length = memref::DimOp::create(b, blockIdx, 3);
        loop(h0, add(h0, idx(listHeads)), 1, [&](Value h) {
          loop(idx(0), qBlocks, 1, [&](Value qb) {
            loop(idx(0), length, 1, [&](Value t) {
              Value e = arith::IndexCastOp::create(
                  b, b.getIndexType(),
                  memref::LoadOp::create(b, blockIdx, ValueRange{batch, h, qb, t}));
              Value valid = arith::AndIOp::create(
                  b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, e, idx(0)),
                  arith::CmpIOp::create(b, arith::CmpIPredicate::slt, e, blocks));
              scf::IfOp::create(b, valid, [&](OpBuilder &, Location) {
                memref::StoreOp::create(b, one, flags, ValueRange{batch, hk, e});
                scf::YieldOp::create(b);
              });
            });
          });
        });
        // A fused window branch reads the blocks of every query's window.
        if (spec.windowBranch) {
          auto [kvEnd, off] = placement(batch, querySeq, kvSeq);
          auto [first, end] =
              windowBlocks(masks.position(b, idx(0), off),
                           masks.position(b, sub(querySeq, idx(1)), off), kvEnd);
          loop(first, maxI(end, first), 1, [&](Value e) {
            memref::StoreOp::create(b, one, flags, ValueRange{batch, hk, e});
          });
        }
        scf::ReduceOp::create(b);
      });
  // Slots, in one pass over the flags (B x Hkv x blocks bytes).
  slots = memref::AllocOp::create(b, MemRefType::get({dyn, dyn, dyn}, b.getIndexType()),
                                  ValueRange{batches, kvHeads, blocks});
  Value count = loop(idx(0), batches, 1, ValueRange{idx(0)},
                     [&](Value batch, ValueRange c0) -> SmallVector<Value> {
    return loop(idx(0), kvHeads, 1, c0, [&](Value hk, ValueRange c1) -> SmallVector<Value> {
      return loop(idx(0), blocks, 1, c1, [&](Value e, ValueRange c2) -> SmallVector<Value> {
        Value listed = arith::CmpIOp::create(
            b, arith::CmpIPredicate::ne,
            memref::LoadOp::create(b, flags, ValueRange{batch, hk, e}), zero);
        memref::StoreOp::create(b, arith::SelectOp::create(b, listed, c2[0], idx(-1)), slots,
                                ValueRange{batch, hk, e});
        return {arith::SelectOp::create(b, listed, add(c2[0], idx(1)), c2[0]).getResult()};
      });
    });
  })[0];
  kt = memref::AllocOp::create(b, MemRefType::get({dyn, spec.headDim, keyBlock}, f32),
                               ValueRange{count}, b.getI64IntegerAttr(64));
  scf::ParallelOp::create(
      b, ValueRange{idx(0), idx(0), idx(0)}, ValueRange{batches, kvHeads, blocks},
      ValueRange{idx(1), idx(1), idx(1)}, [&](OpBuilder &, Location, ValueRange ivs) {
        Value batch = ivs[0], hk = ivs[1], e = ivs[2];
        Value slot = memref::LoadOp::create(b, slots, ValueRange{batch, hk, e});
        Value listed = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, slot, idx(0));
        scf::IfOp::create(b, listed, [&](OpBuilder &, Location) {
          Value j0 = mul(e, idx(kvBlock));
          Value n = minI(idx(kvBlock), sub(kvSeq, j0));
          loop(idx(0), n, 1, [&](Value j) {
            loop(idx(0), idx(spec.headDim), 1, [&](Value d) {
              Value x = memref::LoadOp::create(b, k, ValueRange{batch, hk, add(j0, j), d});
              memref::StoreOp::create(b, toF32(x), kt, ValueRange{slot, d, j});
            });
          });
          loop(n, idx(keyBlock), 1, [&](Value j) {
            loop(idx(0), idx(spec.headDim), 1, [&](Value d) {
              memref::StoreOp::create(b, f32c(0.0), kt, ValueRange{slot, d, j});
            });
          });
          scf::YieldOp::create(b);
        });
        scf::ReduceOp::create(b);
      });
}

/// The 16-lane f32 accumulators a register block may hold without
/// spilling on this host (the JIT compiles for it): 4 with AVX2's 16 ymm
/// registers (a vector takes two; 8 accumulators spilled and ran 1.6x
/// slower), 16 with AVX-512's 32 zmm (NSA's selected branch at 8k keys:
/// 155 ms with 4, 134 with 8, 122 with 16).
int64_t mlir::attn::cpuAccumulatorBudget() {
  static const int64_t budget = llvm::sys::getHostCPUFeatures().lookup("avx512f") ? 16 : 4;
  return budget;
}

Value CpuKernelGen::keyLaneMask(Value s, bool masked, Value key0, Value keyEnd,
                                Value batch, Value head, Value query, Value pos) {
  // Lanes are keys key0 + [0, 16) of one (position, head).
  if (spec.softcap != 0.0)
    s = arith::MulFOp::create(b, splat(spec.softcap * kLog2e), math::TanhOp::create(b, s));
  Value step = arith::IndexCastOp::create(
      b, ivec, vector::StepOp::create(b, VectorType::get({kLanes}, b.getIndexType())));
  Value key = arith::AddIOp::create(b, step, splatI(i64(key0)));
  Value vis = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, key, splatI(i64(keyEnd)));
  if (masked)
    vis = arith::AndIOp::create(b, vis, masks.visible(b, splatI(i64(pos)), key));
  if (mask) {
    Value offsets = arith::AddIOp::create(
        b, splatI(i64(add(mul(head, maskHeadStride), mul(query, maskQueryStride)))), key);
    Type mt = spec.maskType;
    VectorType mvec = VectorType::get({kLanes}, mt);
    Value zero =
        arith::ConstantOp::create(b, DenseElementsAttr::get(mvec, b.getZeroAttr(mt)));
    // Only visible lanes are read: they lie inside the mask's key range.
    Value m = vector::GatherOp::create(b, mvec, mask,
                                       ValueRange{batch, idx(0), idx(0), idx(0)},
                                       offsets, vis, zero);
    if (mt.isInteger(1))
      vis = arith::AndIOp::create(b, vis, m);
    else
      s = math::FmaOp::create(b, toF32(m), splat(kLog2e), s);
  }
  return arith::SelectOp::create(b, vis, s, splat(-INFINITY));
}

Value CpuKernelGen::slice(Value buf, Value i) {
  auto type = cast<MemRefType>(buf.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
      strides(rank, b.getIndexAttr(1));
  offsets[0] = i;
  sizes.push_back(b.getIndexAttr(1));
  for (int64_t d = 1; d < rank; ++d)
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  auto sliced = memref::SubViewOp::inferRankReducedResultType(
      type.getShape().drop_front(), type, offsets, sizes, strides);
  return memref::SubViewOp::create(b, cast<MemRefType>(sliced), buf, offsets, sizes,
                                   strides);
}

void CpuKernelGen::keyLaneTile(const KeyTileSchedule &schedule, Value q, Value v,
                               Value out, Value lse, Value outWindow, Value batch,
                               Value kvHead, Value p0, Value count, Value off) {
  // One position at a time, its `group` heads; St[h, j] with the keys of a
  // block along the lanes: S = sum_d Q[h, d] * Kt[d, keys] reads the
  // transposed keys as vectors, O[h, c] += P[h, j] * V[j, c] reads value
  // rows as vectors. A tile of several positions walks the union of their
  // lists block by block and runs each block for the positions that list
  // it, while the block is in cache (random lists share few blocks between
  // neighbours, but each block serves several positions of a tile).
  // A fused window branch (one position per tile) keeps a second softmax
  // state: a block scored once feeds the list's state if listed and the
  // window's (masked to the window) if it holds window keys.
  int64_t chunks = keyBlock / kLanes, vchunks = valueDimPad / kLanes;
  int64_t kvBlock = spec.blocks->second;
  double qScale = spec.softcap != 0.0 ? spec.resolvedScale() / spec.softcap
                                      : spec.resolvedScale() * kLog2e;
  Value qsAll = alloc({positions, group, spec.headDim}), ps = alloc({group, keyBlock});
  // Online-softmax state per position and head: max, sum, rescale and
  // output row; `list` and `window` are one position's views.
  struct State {
    Value ms, ls, as, os;
  };
  auto newState = [&] {
    return State{alloc({positions, group}), alloc({positions, group}),
                 alloc({positions, group}), alloc({positions, group, valueDimPad})};
  };
  auto view = [&](const State &all, Value i) {
    return State{slice(all.ms, i), slice(all.ls, i), slice(all.as, i), slice(all.os, i)};
  };
  State listAll = newState(), windowAll, list, window;
  Value qs, query, pos;
  // Positions tile-relative `i`: its query row, position, views.
  auto at = [&](Value i) {
    query = add(p0, i);
    pos = masks.position(b, query, off);
    qs = slice(qsAll, i);
    list = view(listAll, i);
    if (outWindow)
      window = view(windowAll, i);
  };
  Value psWindow;
  if (outWindow) {
    windowAll = newState();
    psWindow = alloc({group, keyBlock});
  }
  loop(idx(0), count, 1, [&](Value i) {
    at(i);
    loop(idx(0), idx(group), 1, [&](Value g) {
      Value head = add(headBase, g);
      loop(idx(0), idx(spec.headDim), 1, [&](Value d) {
        Value x = memref::LoadOp::create(b, q, ValueRange{batch, head, query, d});
        memref::StoreOp::create(b, arith::MulFOp::create(b, toF32(x), f32c(qScale)), qs,
                                ValueRange{g, d});
      });
      for (State *st : {&list, &window}) {
        if (!st->ms)
          continue;
        memref::StoreOp::create(b, f32c(-INFINITY), st->ms, g);
        memref::StoreOp::create(b, f32c(0.0), st->ls, g);
        for (int64_t c = 0; c < valueDimPad; c += kLanes)
          vector::StoreOp::create(b, splat(0.0), st->os, ValueRange{g, idx(c)});
      }
    });
  });

  // Register blocks of accumulators, heads first, then chunks of 16 keys
  // (or 16 value columns), as many as the registers hold without spilling.
  int64_t budget = cpuAccumulatorBudget();
  int64_t gBlock = divisorAtMost(group, 4), cBlock = divisorAtMost(chunks, budget / gBlock);
  int64_t gvBlock = gBlock, vBlock = divisorAtMost(vchunks, budget / gBlock);
  bool valueInBounds = spec.valueDim % kLanes == 0;
  Type vElt = cast<MemRefType>(v.getType()).getElementType();
  VectorType vVec = VectorType::get({kLanes}, vElt);
  Value vPad = arith::ConstantOp::create(b, b.getZeroAttr(vElt));
  Value negInf = f32c(-INFINITY);

  // The window branch's masks on scores s of keys key0 + [0, 16).
  Value step;
  if (outWindow)
    step = arith::IndexCastOp::create(
        b, ivec, vector::StepOp::create(b, VectorType::get({kLanes}, b.getIndexType())));
  auto inWindow = [&](Value s, Value key0) -> Value {
    Value key = arith::AddIOp::create(b, step, splatI(i64(key0)));
    return arith::SelectOp::create(b, windowMasks->visible(b, splatI(i64(pos)), key), s,
                                   splat(-INFINITY));
  };

  // Scores (masked, log2 domain) of `nk` keys from j0 in `src` into state
  // st; the probabilities go to `p` (src itself, or the window's buffer,
  // which then takes the window's mask on the way).
  auto update = [&](State &st, Value src, Value p, Value j0, Value nk) {
    bool window = src != p;
    auto load = [&](Value g, Value j) -> Value {
      Value s = vector::LoadOp::create(b, vec, src, ValueRange{g, j});
      return window ? inWindow(s, add(j0, j)) : s;
    };
    // Online softmax per head: p becomes probabilities, as the rescale.
    loop(idx(0), idx(group), 1, [&](Value g) {
      Value blockMax = loop(idx(0), idx(keyBlock), kLanes, ValueRange{splat(-INFINITY)},
                            [&](Value j, ValueRange carried) -> SmallVector<Value> {
        return {arith::MaximumFOp::create(b, carried[0], load(g, j))};
      })[0];
      Value mOld = memref::LoadOp::create(b, st.ms, g);
      Value mNew = arith::MaximumFOp::create(
          b, mOld, vector::ReductionOp::create(b, vector::CombiningKind::MAXIMUMF, blockMax));
      Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf);
      Value mUse = arith::SelectOp::create(b, empty, f32c(0.0), mNew);
      Value mUseV = vector::BroadcastOp::create(b, vec, mUse);
      Value alpha = vector::ExtractOp::create(
          b, exp2(vector::BroadcastOp::create(b, vec, arith::SubFOp::create(b, mOld, mUse))),
          ArrayRef<int64_t>{0});
      Value sum = loop(idx(0), idx(keyBlock), kLanes, ValueRange{splat(0.0)},
                       [&](Value j, ValueRange carried) -> SmallVector<Value> {
        Value e = exp2(arith::SubFOp::create(b, load(g, j), mUseV));
        vector::StoreOp::create(b, e, p, ValueRange{g, j});
        return {arith::AddFOp::create(b, carried[0], e)};
      })[0];
      Value lOld = memref::LoadOp::create(b, st.ls, g);
      memref::StoreOp::create(
          b,
          math::FmaOp::create(b, lOld, alpha,
                              vector::ReductionOp::create(b, vector::CombiningKind::ADD, sum)),
          st.ls, g);
      memref::StoreOp::create(b, mNew, st.ms, g);
      memref::StoreOp::create(b, alpha, st.as, g);
    });
    // O = O * alpha + P V.
    loop(idx(0), idx(group), gvBlock, [&](Value g0) {
      loop(idx(0), idx(vchunks), vBlock, [&](Value c0) {
        Value col0 = mul(c0, idx(kLanes));
        SmallVector<Value> init;
        for (int64_t g = 0; g < gvBlock; ++g) {
          Value alpha = vector::BroadcastOp::create(
              b, vec, memref::LoadOp::create(b, st.as, add(g0, idx(g))));
          for (int64_t c = 0; c < vBlock; ++c)
            init.push_back(arith::MulFOp::create(
                b,
                vector::LoadOp::create(b, vec, st.os,
                                       ValueRange{add(g0, idx(g)), add(col0, idx(c * kLanes))}),
                alpha));
        }
        SmallVector<Value> acc =
            loop(idx(0), nk, 1, init, [&](Value j, ValueRange carried) -> SmallVector<Value> {
              SmallVector<Value> row, next;
              for (int64_t c = 0; c < vBlock; ++c)
                row.push_back(toF32(vector::TransferReadOp::create(
                    b, vVec, v, ValueRange{batch, kvHead, add(j0, j), add(col0, idx(c * kLanes))},
                    vPad, ArrayRef<bool>{valueInBounds})));
              for (int64_t g = 0; g < gvBlock; ++g) {
                Value pj = vector::BroadcastOp::create(
                    b, vec, memref::LoadOp::create(b, p, ValueRange{add(g0, idx(g)), j}));
                for (int64_t c = 0; c < vBlock; ++c)
                  next.push_back(vector::FMAOp::create(b, pj, row[c], carried[g * vBlock + c]));
              }
              return next;
            });
        for (int64_t g = 0; g < gvBlock; ++g)
          for (int64_t c = 0; c < vBlock; ++c)
            vector::StoreOp::create(b, acc[g * vBlock + c], st.os,
                                    ValueRange{add(g0, idx(g)), add(col0, idx(c * kLanes))});
      });
    });
  };

  // Block `block` (keys j0 + [0, nk), K^T in `slot`) for the tile's
  // position i.
  auto runBlock = [&](Value i, Value j0, Value nk, Value block, Value slot,
                      bool masked) {
    at(i);
    Value keyEnd = add(j0, nk);
    // Scores, masked, into ps.
    loop(idx(0), idx(group), gBlock, [&](Value g0) {
      loop(idx(0), idx(chunks), cBlock, [&](Value c0) {
        Value lane0 = mul(c0, idx(kLanes));
        Value key0 = add(j0, lane0);
        SmallVector<Value> zeros(gBlock * cBlock, splat(0.0));
        SmallVector<Value> acc = loop(
            idx(0), idx(spec.headDim), 1, zeros,
            [&](Value d, ValueRange carried) -> SmallVector<Value> {
              SmallVector<Value> keys, next;
              for (int64_t c = 0; c < cBlock; ++c)
                keys.push_back(vector::LoadOp::create(
                    b, vec, kt, ValueRange{slot, d, add(lane0, idx(c * kLanes))}));
              for (int64_t g = 0; g < gBlock; ++g) {
                Value qb = vector::BroadcastOp::create(
                    b, vec, memref::LoadOp::create(b, qs, ValueRange{add(g0, idx(g)), d}));
                for (int64_t c = 0; c < cBlock; ++c)
                  next.push_back(
                      vector::FMAOp::create(b, qb, keys[c], carried[g * cBlock + c]));
              }
              return next;
            });
        for (int64_t g = 0; g < gBlock; ++g)
          for (int64_t c = 0; c < cBlock; ++c) {
            Value s = keyLaneMask(acc[g * cBlock + c], masked, add(key0, idx(c * kLanes)),
                                  keyEnd, batch, add(headBase, add(g0, idx(g))), query,
                                  pos);
            vector::StoreOp::create(
                b, s, ps,
                ValueRange{add(g0, idx(g)), add(lane0, idx(c * kLanes))});
          }
      });
    });
    if (!outWindow) {
      update(list, ps, ps, j0, nk);
      return;
    }
    // The block's flags (sparseSchedule): 1 listed, 2 holds window keys.
    Value flags = memref::LoadOp::create(b, visit, block);
    auto has = [&](int64_t bit) {
      Type i8 = b.getI8Type();
      Value set = arith::AndIOp::create(b, flags, arith::ConstantIntOp::create(b, i8, bit));
      return arith::CmpIOp::create(b, arith::CmpIPredicate::ne, set,
                                   arith::ConstantIntOp::create(b, i8, 0));
    };
    // The window's first (it reads ps), then the list's (in place).
    scf::IfOp::create(b, has(2), [&](OpBuilder &, Location) {
      update(window, ps, psWindow, j0, nk);
      scf::YieldOp::create(b);
    });
    scf::IfOp::create(b, has(1), [&](OpBuilder &, Location) {
      update(list, ps, ps, j0, nk);
      scf::YieldOp::create(b);
    });
  };

  schedule.visit(b, {}, [&](Value t, bool masked, ValueRange) {
    Value j0 = schedule.start(b, t);
    Value nk = minI(idx(kvBlock), sub(schedule.end(), j0));
    Value block = arith::DivUIOp::create(b, j0, idx(kvBlock));
    Value slot = memref::LoadOp::create(b, slots, ValueRange{batch, kvHead, block});
    // For each position of the tile that lists the block (sparseSchedule's
    // membership bitmap; a one-position tile lists what it visits).
    loop(idx(0), count, 1, [&](Value i) {
      if (positions == 1)
        return runBlock(i, j0, nk, block, slot, masked);
      Value listed = arith::CmpIOp::create(
          b, arith::CmpIPredicate::ne,
          memref::LoadOp::create(b, member, add(mul(block, idx(positions)), i)),
          arith::ConstantIntOp::create(b, b.getI8Type(), 0));
      scf::IfOp::create(b, listed, [&](OpBuilder &, Location) {
        runBlock(i, j0, nk, block, slot, masked);
        scf::YieldOp::create(b);
      });
    });
    return SmallVector<Value>();
  });

  // out = O / l (0 for a row that saw no key), lse.
  Type outType = cast<MemRefType>(out.getType()).getElementType();
  auto finish = [&](State &st, Value to, Value lseTo) {
    loop(idx(0), idx(group), 1, [&](Value g) {
      Value head = add(headBase, g);
      Value l = memref::LoadOp::create(b, st.ls, g);
      Value seen = arith::CmpFOp::create(b, arith::CmpFPredicate::UNE, l, f32c(0.0));
      Value inv = arith::SelectOp::create(b, seen, arith::DivFOp::create(b, f32c(1.0), l),
                                          f32c(0.0));
      loop(idx(0), idx(spec.valueDim), 1, [&](Value c) {
        Value o = memref::LoadOp::create(b, st.os, ValueRange{g, c});
        memref::StoreOp::create(b, fromF32(arith::MulFOp::create(b, o, inv), outType), to,
                                ValueRange{batch, head, query, c});
      });
      if (lseTo) {
        Value m = memref::LoadOp::create(b, st.ms, g);
        Value value = arith::MulFOp::create(
            b, arith::AddFOp::create(b, m, math::Log2Op::create(b, l)), f32c(kLn2));
        memref::StoreOp::create(b, arith::SelectOp::create(b, seen, value, negInf), lseTo,
                                ValueRange{batch, head, query});
      }
    });
  };
  loop(idx(0), count, 1, [&](Value i) {
    at(i);
    finish(list, out, lse);
    if (outWindow)
      finish(window, outWindow, Value());
  });
}

std::pair<Value, Value> CpuKernelGen::placement(Value batch, Value querySeq,
                                                Value kvSeq) {
  auto loadIndex = [&](Value buffer) {
    Value x = memref::LoadOp::create(b, buffer, ValueRange{batch});
    return arith::IndexCastOp::create(b, b.getIndexType(), x).getResult();
  };
  Value validKeys = kvSeq;
  if (lengths)
    validKeys = minI(maxI(loadIndex(lengths), idx(0)), kvSeq);
  Value off =
      masks.queryOffset(b, querySeq, validKeys, offsets ? loadIndex(offsets) : Value());
  return {minI(validKeys, maskKeys), off};
}

std::pair<Value, Value> CpuKernelGen::windowBlocks(Value pLo, Value pHi, Value kvEnd) {
  auto [lo, hi] = windowMasks->keyRange(b, pLo, pHi, kvEnd);
  int64_t kvBlock = spec.blocks->second;
  Value first = arith::DivUIOp::create(b, maxI(lo, idx(0)), idx(kvBlock));
  Value end = arith::CeilDivUIOp::create(b, maxI(hi, idx(0)), idx(kvBlock));
  return {first, end};
}

void CpuKernelGen::emitBody(ValueRange args) {
  // Operands by name, in the ABI's order (kernelOperands).
  llvm::StringMap<Value> operands;
  for (auto [op, arg] : llvm::zip(::attn::rt::kernelOperands(spec), args))
    operands[op.name] = arg;
  Value q = operands["q"], k = operands["k"], v = operands["v"];
  Value out = operands["out"], lse = operands.lookup("lse");
  Value outWindow = operands.lookup("out_window");
  lengths = operands.lookup("kv_lengths");
  offsets = operands.lookup("q_offsets");
  Value blockIdx = operands.lookup("block_idx");
  mask = operands.lookup("mask");

  Value batches = memref::DimOp::create(b, q, 0);
  // Tasks per (batch, head group, query tile); a tile packs the `group`
  // query heads of one key head, or one query head (tileGroup() = 1).
  bool unpacked = group != spec.group;
  Value taskHeads = memref::DimOp::create(b, unpacked ? q : k, 1);
  Value querySeq = memref::DimOp::create(b, q, 2);
  Value kvSeq = memref::DimOp::create(b, k, 2);
  maskKeys = kvSeq;
  if (mask) {
    maskKeys = memref::DimOp::create(b, mask, 3);
    auto meta = memref::ExtractStridedMetadataOp::create(b, mask);
    maskHeadStride = meta.getStrides()[1];
    maskQueryStride = meta.getStrides()[2];
  }
  // Key-lane tasks hold up to `positions` positions, fewer when that would
  // leave under 4 tasks per core of this host (the JIT compiles for it), so
  // that a few queries (chunked prefill, speculative decoding) still keep
  // every core busy.
  Value perTask = idx(positions);
  if (keyLanes && positions > 1) {
    int64_t cores = std::max(1u, std::thread::hardware_concurrency());
    Value work = mul(mul(batches, taskHeads), querySeq);
    perTask = minI(perTask, maxI(arith::CeilDivUIOp::create(b, work, idx(4 * cores)), idx(1)));
  }
  Value tiles = arith::CeilDivUIOp::create(b, querySeq, perTask);
  if (keyLanes)
    transposeListedKeys(k, blockIdx, batches, querySeq, kvSeq);

  scf::ParallelOp::create(
      b, ValueRange{idx(0), idx(0), idx(0)}, ValueRange{batches, taskHeads, tiles},
      ValueRange{idx(1), idx(1), idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value batch = ivs[0], tile = ivs[2];
        Value kvHead = unpacked ? Value(arith::DivUIOp::create(b, ivs[1], idx(spec.group)))
                                : ivs[1];
        headBase = unpacked ? ivs[1] : mul(ivs[1], idx(group));
        // Causal tiles get heavier towards the end: hand them out first.
        if (spec.causal || spec.branches)
          tile = sub(sub(tiles, idx(1)), tile);
        Value p0 = mul(tile, perTask);
        Value count = minI(perTask, sub(querySeq, p0));
        Value rows = mul(count, idx(group));
        Value nrv = arith::CeilDivUIOp::create(b, rows, idx(kLanes));

        // Valid keys, query offset and the key tiles of this query tile.
        auto [kvEnd, off] = placement(batch, querySeq, kvSeq);
        Value pLo = masks.position(b, p0, off);
        Value pHi = masks.position(b, sub(add(p0, count), idx(1)), off);
        // A short last tile is handled by its loop bounds, so it may still
        // be full. Block-sparse: the blocks listed for this tile's query
        // block (the tile lies inside one, positionsPerBlock).
        KeyTileSchedule schedule =
            blockIdx ? sparseSchedule(blockIdx, batch, kvHead, p0, count, pLo, pHi,
                                      kvEnd, kvSeq)
                     : KeyTileSchedule::dense(b, masks, pLo, pHi, kvEnd, keyBlock,
                                              /*wholeTiles=*/false);
        if (keyLanes) {
          keyLaneTile(schedule, q, v, out, lse, outWindow, batch, kvHead, p0, count, off);
          scf::ReduceOp::create(b);
          return;
        }

        qt = alloc({spec.headDim, rowsPad});
        st = alloc({keyBlock, rowsPad});
        ot = alloc({valueDimPad, rowsPad});
        rowMax = alloc({rowsPad});
        rowSum = alloc({rowsPad});
        rowScale = alloc({rowsPad});
        ks = alloc({keyBlock, headDimPad});
        vs = alloc({keyBlock, valueDimPad});

        packQuery(q, batch, kvHead, p0, rows);
        for (int64_t r = 0; r < rowsPad; r += kLanes) {
          vector::StoreOp::create(b, splat(-INFINITY), rowMax, ValueRange{idx(r)});
          vector::StoreOp::create(b, splat(0.0), rowSum, ValueRange{idx(r)});
        }
        loop(idx(0), idx(valueDimPad), 1, [&](Value c) {
          for (int64_t r = 0; r < rowsPad; r += kLanes)
            vector::StoreOp::create(b, splat(0.0), ot, ValueRange{c, idx(r)});
        });

        // Only the tiles the schedule marks partial carry per-element tests.
        // A selected block has exactly kv_block keys (keyBlock rounds up).
        int64_t tileKeys = spec.blocks ? spec.blocks->second : keyBlock;
        schedule.visit(b, {}, [&](Value t, bool masked, ValueRange) {
          Value j0 = schedule.start(b, t);
          Value nk = minI(idx(tileKeys), sub(schedule.end(), j0));
          stage(ks, k, batch, kvHead, j0, nk, spec.headDim, headDimPad);
          stage(vs, v, batch, kvHead, j0, nk, spec.valueDim, valueDimPad);
          scores(nrv, nk);
          softmaxUpdate(masked, nrv, nk, j0, batch, kvHead, p0, off, rows);
          accumulate(nrv, nk);
          return SmallVector<Value>();
        });

        finalize(out, lse, batch, kvHead, p0, rows);
        scf::ReduceOp::create(b);
      });
}

func::FuncOp mlir::attn::getOrCreateCpuKernel(ModuleOp module,
                                             const KernelSpec &spec) {
  std::string name = spec.name();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  MLIRContext *ctx = module.getContext();
  // One memref per ABI operand: 4-D operands keep a static, contiguous head
  // dim; everything else is dynamic.
  SmallVector<Type> types;
  for (const ::attn::rt::KernelOperand &op : ::attn::rt::kernelOperands(spec)) {
    Type elt = typeOf(ctx, op.dtype);
    bool values = op.name == "v" || op.name == "out" || op.name == "out_window";
    int64_t last = op.name == "q" || op.name == "k" ? spec.headDim
                   : values                         ? spec.valueDim
                                                    : ShapedType::kDynamic;
    types.push_back(op.rank == 1 ? MemRefType::get({ShapedType::kDynamic}, elt)
                                 : kernelOperandType(ctx, elt, op.rank, last));
  }

  ImplicitLocOpBuilder b(module.getLoc(), ctx);
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, name, b.getFunctionType(types, {}));
  func.setPrivate();
  ctx->getLoadedDialect<AttnDialect>()->getKernelAttrHelper().setAttr(
      func, b.getUnitAttr());
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  CpuKernelGen(spec, b).emitBody(body->getArguments());
  func::ReturnOp::create(b);

  // Vector tanh (softcap) as a polynomial, not a scalarised libm call.
  RewritePatternSet patterns(ctx);
  populatePolynomialApproximateTanhPattern(patterns);
  (void)applyPatternsGreedily(func, std::move(patterns));
  return func;
}
