//===- SparseCpu.cpp - compression and block selection on CPUs ------------===//
//
// attn.compress becomes a parallel loop over (batch, head, token) on
// buffers (a pooled sum in f32, then the mean's scale and the element
// type). attn.select_blocks becomes a
// loop nest on buffers: an scf.parallel over (batch, selection head, query)
// whose body scores the eligible blocks into a per-task scratch row and takes
// the top k in one pass (ties to the lower block), without ever
// forming an Sq x blocks score matrix in memory. softmax_prob and
// softmax_prob_max score from the compressed keys (an attn.compress the
// lowering inserts): the query's probabilities over the compressed tokens
// it can see, spread over the blocks each token's span overlaps; with
// values, the same exponentials give the compressed attention's output.
//
//===----------------------------------------------------------------------===//
#include "lowering/SparseCpu.h"
#include "lowering/CpuKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {
Value castFloat(ImplicitLocOpBuilder &b, Value x, Type to) {
  Type from = x.getType();
  if (from == to)
    return x;
  if (getElementTypeOrSelf(from).getIntOrFloatBitWidth() <
      getElementTypeOrSelf(to).getIntOrFloatBitWidth())
    return arith::ExtFOp::create(b, to, x);
  return arith::TruncFOp::create(b, to, x);
}
} // namespace

void mlir::attn::lowerCompress(CompressOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  ::attn::rt::Compression c = op.getCompression();
  RankedTensorType outType = op.getOutput().getType();
  Type f32 = b.getF32Type(), elt = outType.getElementType();
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, v); };
  Value input = toBuffer(b, op.getInput());
  Value weights = op.getWeights() ? toBuffer(b, op.getWeights()) : Value();
  Value lengths = op.getKvLengths() ? toBuffer(b, op.getKvLengths()) : Value();

  // Sc = S >= l ? (S - l) / d + 1 : 0, and the other sizes of the input.
  auto tokensOf = [&](Value keys) -> Value {
    return arith::SelectOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, keys, idx(c.block)),
        arith::AddIOp::create(
            b, arith::DivUIOp::create(b, arith::SubIOp::create(b, keys, idx(c.block)),
                                      idx(c.stride)),
            idx(1)),
        idx(0));
  };
  Value seq = memref::DimOp::create(b, input, 2);
  Value tokens = tokensOf(seq);
  SmallVector<Value> sizes, dims;
  for (int64_t i = 0; i < 4; ++i) {
    dims.push_back(i == 2 ? tokens : Value(memref::DimOp::create(b, input, i)));
    if (outType.isDynamicDim(i))
      sizes.push_back(dims.back());
  }
  Value out = memref::AllocOp::create(b, MemRefType::get(outType.getShape(), elt), sizes,
                                      b.getI64IntegerAttr(64));

  // One task per (b, h, t): out[b, h, t, x] = pool over u of
  // input[b, h, t*d + u, x], in f32, `lanes` head-dim columns at a time
  // (contiguous in input and output).
  int64_t headDim = outType.getDimSize(3), lanes = 1;
  for (int64_t w : {16, 8, 4})
    if (lanes == 1 && headDim != ShapedType::kDynamic && headDim % w == 0)
      lanes = w;
  auto vec = [&](Type t) -> Type { return lanes == 1 ? t : VectorType::get({lanes}, t); };
  auto splat = [&](double v) -> Value {
    if (lanes == 1)
      return arith::ConstantOp::create(b, b.getF32FloatAttr(float(v)));
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(cast<ShapedType>(vec(f32)), float(v)));
  };
  auto load = [&](Value m, ValueRange at) -> Value {
    Type t = cast<MemRefType>(m.getType()).getElementType();
    if (lanes == 1)
      return memref::LoadOp::create(b, m, at);
    return vector::LoadOp::create(b, cast<VectorType>(vec(t)), m, at);
  };
  auto store = [&](Value y, ValueRange at) {
    if (lanes == 1)
      memref::StoreOp::create(b, y, out, at);
    else
      vector::StoreOp::create(b, y, out, at);
  };
  bool max = c.pool == ::attn::rt::Pool::Max;
  Value scale = splat(c.pool == ::attn::rt::Pool::Mean ? 1.0 / double(c.block) : 1.0);
  scf::ParallelOp::create(
      b, ValueRange{idx(0), idx(0), idx(0)}, ValueRange{dims[0], dims[1], tokens},
      ValueRange{idx(1), idx(1), idx(1)}, [&](OpBuilder &, Location, ValueRange ivs) {
        Value batch = ivs[0], h = ivs[1], t = ivs[2];
        Value first = arith::MulIOp::create(b, t, idx(c.stride));
        // The pooled columns [x, x + lanes) of token t.
        auto pool = [&](Value x) {
          auto loop = scf::ForOp::create(
              b, idx(0), idx(c.block), idx(1), ValueRange{splat(max ? -INFINITY : 0.0)},
              [&](OpBuilder &, Location, Value u, ValueRange a) {
                Value key = arith::AddIOp::create(b, first, u);
                Value v = castFloat(b, load(input, {batch, h, key, x}), vec(f32));
                Value r;
                if (max) {
                  r = arith::MaximumFOp::create(b, a[0], v);
                } else if (weights) {
                  Value w = castFloat(b, memref::LoadOp::create(b, weights, ValueRange{u}), f32);
                  if (lanes > 1)
                    w = vector::BroadcastOp::create(b, vec(f32), w);
                  r = math::FmaOp::create(b, w, v, a[0]);
                } else {
                  r = arith::AddFOp::create(b, a[0], v);
                }
                scf::YieldOp::create(b, r);
              });
          return castFloat(b, arith::MulFOp::create(b, loop.getResult(0), scale), vec(elt));
        };
        auto columns = [&](function_ref<Value(Value)> value) {
          scf::ForOp::create(b, idx(0), dims[3], idx(lanes), ValueRange{},
                             [&](OpBuilder &, Location, Value x, ValueRange) {
                               store(value(x), {batch, h, t, x});
                               scf::YieldOp::create(b);
                             });
        };
        if (!lengths) {
          columns(pool);
        } else {
          // Tokens past the element's valid keys are 0 (no query sees them).
          Value L = arith::IndexCastOp::create(
              b, b.getIndexType(), memref::LoadOp::create(b, lengths, ValueRange{batch}));
          L = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, L, idx(0)), seq);
          Value live = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, t, tokensOf(L));
          scf::IfOp::create(
              b, live,
              [&](OpBuilder &, Location) {
                columns(pool);
                scf::YieldOp::create(b);
              },
              [&](OpBuilder &, Location) {
                Value zero = castFloat(b, splat(0.0), vec(elt));
                columns([&](Value) { return zero; });
                scf::YieldOp::create(b);
              });
        }
        scf::ReduceOp::create(b);
      });
  op.getOutput().replaceAllUsesWith(bufferization::ToTensorOp::create(
      b, outType, out, /*restrict=*/true, /*writable=*/true));
  op.erase();
}

namespace {
/// A selection's compressed-attention output (values(%vc)): compressed
/// values [B, Hkv, Sc, Dv], the output [B, Hq, Sq, Dv] and a task's
/// transposition scratch [Dv, 16]; all null without values.
struct CompressedOutput {
  Value values, output, transposed;
};

/// The selection kernel's loop nest (see the file comment).
class SelectGen {
public:
  SelectGen(SelectBlocksOp op, ImplicitLocOpBuilder &b)
      : s(op.getSelection()), b(b), f32(b.getF32Type()) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32c(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(float(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value minI(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value maxI(Value x, Value y) { return arith::MaxSIOp::create(b, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }
  Value floorDiv(Value x, int64_t d) { return arith::FloorDivSIOp::create(b, x, idx(d)); }
  Value load(Value m, ValueRange i) { return memref::LoadOp::create(b, m, i); }
  void store(Value v, Value m, ValueRange i) { memref::StoreOp::create(b, v, m, i); }

  void loop(Value lo, Value hi, function_ref<void(Value)> body) {
    scf::ForOp::create(b, lo, hi, idx(1), ValueRange{},
                       [&](OpBuilder &, Location, Value iv, ValueRange) {
                         body(iv);
                         scf::YieldOp::create(b);
                       });
  }
  Value reduce(Value lo, Value hi, Value init, function_ref<Value(Value, Value)> body) {
    return scf::ForOp::create(b, lo, hi, idx(1), ValueRange{init},
                              [&](OpBuilder &, Location, Value iv, ValueRange acc) {
                                scf::YieldOp::create(b, body(iv, acc[0]));
                              })
        .getResult(0);
  }
  void when(Value c, function_ref<void()> then) {
    scf::IfOp::create(b, c, [&](OpBuilder &, Location) {
      then();
      scf::YieldOp::create(b);
    });
  }

  /// dot(x[b, hx, ix, :], y[b, hy, iy, :]) in f32, 16 lanes at a time when
  /// the head dim allows.
  Value dot(Value x, ValueRange xi, Value y, ValueRange yi, int64_t dims) {
    auto at = [](ValueRange i, Value d) {
      SmallVector<Value> v(i);
      v.push_back(d);
      return v;
    };
    if (dims % 16 == 0) {
      auto vec = VectorType::get({16}, f32);
      auto loadVec = [&](Value m, ValueRange i, Value d) {
        Type elt = cast<MemRefType>(m.getType()).getElementType();
        Value v = vector::LoadOp::create(b, VectorType::get({16}, elt), m, at(i, d));
        return elt == f32 ? v : Value(arith::ExtFOp::create(b, vec, v));
      };
      Value acc = scf::ForOp::create(
                      b, idx(0), idx(dims), idx(16),
                      ValueRange{arith::ConstantOp::create(b, DenseElementsAttr::get(vec, 0.0f))},
                      [&](OpBuilder &, Location, Value d, ValueRange a) {
                        scf::YieldOp::create(
                            b, ValueRange{vector::FMAOp::create(
                                   b, loadVec(x, xi, d), loadVec(y, yi, d), a[0])});
                      })
                      .getResult(0);
      return vector::ReductionOp::create(b, vector::CombiningKind::ADD, acc);
    }
    return reduce(idx(0), idx(dims), f32c(0), [&](Value d, Value a) {
      return math::FmaOp::create(b, castFloat(b, load(x, at(xi, d)), f32),
                                 castFloat(b, load(y, at(yi, d)), f32), a);
    });
  }

  /// Per-block key summaries, once for all queries: mean (mean_key) or
  /// minimum and maximum (key_bound) over the keys of each block,
  /// [B, Hkv, blocks, D] in f32.
  SmallVector<Value> summarize(Value k, Value blocks, function_ref<Value(Value)> validKeys) {
    auto k4 = cast<MemRefType>(k.getType());
    int64_t dims = k4.getShape()[3];
    Value batches = memref::DimOp::create(b, k, 0);
    auto type = MemRefType::get({ShapedType::kDynamic, k4.getShape()[1],
                                 ShapedType::kDynamic, dims},
                                f32);
    bool bound = s.method == ::attn::rt::ScoreMethod::KeyBound;
    SmallVector<Value> out;
    for (int n = 0; n < (bound ? 2 : 1); ++n)
      out.push_back(memref::AllocOp::create(b, type, ValueRange{batches, blocks},
                                            b.getI64IntegerAttr(64)));
    scf::ParallelOp::create(
        b, ValueRange{idx(0), idx(0), idx(0)},
        ValueRange{batches, idx(k4.getShape()[1]), blocks},
        ValueRange{idx(1), idx(1), idx(1)}, [&](OpBuilder &, Location, ValueRange ivs) {
          Value batch = ivs[0], h = ivs[1], j = ivs[2];
          // Over the block's valid keys (none: an ineligible block, never read).
          Value first = mul(j, idx(s.block));
          Value end = maxI(minI(add(first, idx(s.block)), validKeys(batch)), first);
          Value n = arith::SIToFPOp::create(
              b, f32,
              arith::IndexCastOp::create(b, b.getI64Type(), maxI(sub(end, first), idx(1))));
          loop(idx(0), idx(dims), [&](Value d) {
            auto kd = [&](Value key) {
              return castFloat(b, load(k, {batch, h, key, d}), f32);
            };
            if (!bound) {
              Value sum = reduce(first, end, f32c(0), [&](Value key, Value a) {
                return arith::AddFOp::create(b, a, kd(key));
              });
              store(arith::DivFOp::create(b, sum, n), out[0], {batch, h, j, d});
              return;
            }
            store(reduce(first, end, f32c(INFINITY),
                         [&](Value key, Value a) {
                           return arith::MinimumFOp::create(b, a, kd(key));
                         }),
                  out[0], {batch, h, j, d});
            store(reduce(first, end, f32c(-INFINITY),
                         [&](Value key, Value a) {
                           return arith::MaximumFOp::create(b, a, kd(key));
                         }),
                  out[1], {batch, h, j, d});
          });
          scf::ReduceOp::create(b);
        });
    return out;
  }

  /// score[j] += q . mean_j (mean_key) or sum_c max(q kmin_j, q kmax_j)
  /// (key_bound) for the eligible blocks, from the summaries.
  void scoreKeys(Value q, ArrayRef<Value> summary, Value batch, Value h, Value kvHead,
                 Value i, Value eligible, Value score) {
    int64_t dims = cast<MemRefType>(q.getType()).getShape()[3];
    bool bound = s.method == ::attn::rt::ScoreMethod::KeyBound;
    loop(idx(0), eligible, [&](Value j) {
      Value x;
      if (!bound) {
        x = dot(q, {batch, h, i}, summary[0], {batch, kvHead, j}, dims);
      } else {
        x = reduce(idx(0), idx(dims), f32c(0), [&](Value d, Value acc) {
          Value qd = castFloat(b, load(q, {batch, h, i, d}), f32);
          Value lo = arith::MulFOp::create(b, qd, load(summary[0], {batch, kvHead, j, d}));
          Value hi = arith::MulFOp::create(b, qd, load(summary[1], {batch, kvHead, j, d}));
          return arith::AddFOp::create(b, acc, arith::MaximumFOp::create(b, lo, hi));
        });
      }
      store(arith::AddFOp::create(b, load(score, {j}), x), score, {j});
    });
  }

  /// The compressed attention's output rows i0 + [0, count) of head h,
  /// out[r] = inv[r] * sum_t e[t, r] * vc[t]: the exponentials `e` of the
  /// scoring pass (queries along the lanes) times broadcast value columns,
  /// a register block of value columns at a time, transposed out through
  /// the scratch `ot` [Dv, 16].
  void attendCompressed(const CompressedOutput &cmp, Value batch, Value h, Value kvHead,
                        Value i0, Value count, Value logits, Value tMax, Value inv) {
    auto vec = VectorType::get({16}, f32);
    auto vcType = cast<MemRefType>(cmp.values.getType());
    int64_t dv = vcType.getShape()[3];
    Value dims = memref::DimOp::create(b, cmp.values, 3);
    int64_t vb = dv == ShapedType::kDynamic ? 1 : divisorAtMost(dv, cpuAccumulatorBudget());
    Value splat0 = arith::ConstantOp::create(b, DenseElementsAttr::get(vec, 0.0f));
    scf::ForOp::create(
        b, idx(0), dims, idx(vb), ValueRange{},
        [&](OpBuilder &, Location, Value d0, ValueRange) {
          auto sums = scf::ForOp::create(
              b, idx(0), tMax, idx(1), SmallVector<Value>(vb, splat0),
              [&](OpBuilder &, Location, Value t, ValueRange acc) {
                Value e = vector::LoadOp::create(b, vec, logits, ValueRange{t, idx(0)});
                SmallVector<Value> next;
                for (int64_t u = 0; u < vb; ++u) {
                  Value x = castFloat(b, load(cmp.values, {batch, kvHead, t, add(d0, idx(u))}), f32);
                  next.push_back(vector::FMAOp::create(
                      b, vector::BroadcastOp::create(b, vec, x), e, acc[u]));
                }
                scf::YieldOp::create(b, next);
              });
          for (int64_t u = 0; u < vb; ++u)
            vector::StoreOp::create(b, arith::MulFOp::create(b, sums.getResult(u), inv),
                                    cmp.transposed, ValueRange{add(d0, idx(u)), idx(0)});
          scf::YieldOp::create(b);
        });
    Type elt = cast<MemRefType>(cmp.output.getType()).getElementType();
    loop(idx(0), count, [&](Value r) {
      loop(idx(0), dims, [&](Value d) {
        store(castFloat(b, load(cmp.transposed, {d, r}), elt), cmp.output,
              {batch, h, add(i0, r), d});
      });
    });
  }

  /// softmax_prob(_max) scores of 16 consecutive query rows (the lanes)
  /// from one query head, added into score[blocks][16]: the logits of each
  /// compressed token as broadcast-FMAs over the head dim, a masked online
  /// max, exponentials and the spread over the blocks each span meets.
  void scoreCompressedLanes(Value q, Value kc, Value batch, Value h, Value kvHead,
                            Value i0, Value count, Value off, Value score, Value head,
                            Value logits, Value qt, Value tokensSeen, Value blocks,
                            const CompressedOutput &compressed) {
    const ::attn::rt::Compression &c = s.compression;
    auto vec = VectorType::get({16}, f32);
    auto ivec = VectorType::get({16}, b.getI64Type());
    int64_t dims = cast<MemRefType>(q.getType()).getShape()[3];
    // Logits in log2 units (scale * log2 e), so the exponentials are 2^x.
    double scale = (s.scale ? *s.scale : 1.0 / std::sqrt(double(dims))) * 1.4426950408889634;
    Value splat0 = arith::ConstantOp::create(b, DenseElementsAttr::get(vec, 0.0f));
    Value splatNegInf = arith::ConstantOp::create(b, DenseElementsAttr::get(vec, -INFINITY));
    // Q^T * scale, zero for rows past the end.
    loop(idx(0), idx(16), [&](Value r) {
      Value valid = cmp(arith::CmpIPredicate::slt, r, count);
      loop(idx(0), idx(dims), [&](Value d) {
        Value x = scf::IfOp::create(
                      b, valid,
                      [&](OpBuilder &, Location) {
                        Value v = castFloat(b, load(q, {batch, h, add(i0, r), d}), f32);
                        scf::YieldOp::create(b, ValueRange{arith::MulFOp::create(b, v, f32c(scale))});
                      },
                      [&](OpBuilder &, Location) { scf::YieldOp::create(b, ValueRange{f32c(0)}); })
                      .getResult(0);
        store(x, qt, {d, r});
      });
    });
    // Tokens each lane has seen whole: floor((p - l + 1) / d) + 1, clamped.
    Value lanes = arith::IndexCastOp::create(
        b, ivec, vector::StepOp::create(b, VectorType::get({16}, b.getIndexType())));
    auto splatI = [&](Value x) {
      return vector::BroadcastOp::create(b, ivec, arith::IndexCastOp::create(b, b.getI64Type(), x));
    };
    Value pos = arith::AddIOp::create(b, lanes, splatI(add(i0, off)));
    Value seen = arith::AddIOp::create(
        b,
        arith::FloorDivSIOp::create(
            b, arith::SubIOp::create(b, pos, splatI(idx(c.block - 1))), splatI(idx(c.stride))),
        splatI(idx(1)));
    Value tMax = tokensSeen;
    // Pass 1: logits (masked) and the row max, `n` tokens at a time (n
    // independent FMA chains over the head dim).
    auto logitsOf = [&](Value t0, int64_t n, Value mIn) -> Value {
      SmallVector<Value> zeros(n, splat0);
      auto dot = scf::ForOp::create(
          b, idx(0), idx(dims), idx(1), zeros,
          [&](OpBuilder &, Location, Value d, ValueRange a) {
            Value qv = vector::LoadOp::create(b, vec, qt, ValueRange{d, idx(0)});
            SmallVector<Value> next;
            for (int64_t u = 0; u < n; ++u) {
              Value kd = castFloat(b, load(kc, {batch, kvHead, add(t0, idx(u)), d}), f32);
              next.push_back(vector::FMAOp::create(
                  b, vector::BroadcastOp::create(b, vec, kd), qv, a[u]));
            }
            scf::YieldOp::create(b, next);
          });
      for (int64_t u = 0; u < n; ++u) {
        Value t = add(t0, idx(u));
        Value visible = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, splatI(t), seen);
        Value x = arith::SelectOp::create(b, visible, dot.getResult(u), splatNegInf);
        vector::StoreOp::create(b, x, logits, ValueRange{t, idx(0)});
        mIn = arith::MaximumFOp::create(b, mIn, x);
      }
      return mIn;
    };
    const int64_t unroll = std::max<int64_t>(4, cpuAccumulatorBudget() / 2);
    Value tWhole = mul(floorDiv(tMax, unroll), idx(unroll));
    Value m = scf::ForOp::create(
                  b, idx(0), tWhole, idx(unroll), ValueRange{splatNegInf},
                  [&](OpBuilder &, Location, Value t, ValueRange acc) {
                    scf::YieldOp::create(b, ValueRange{logitsOf(t, unroll, acc[0])});
                  })
                  .getResult(0);
    m = scf::ForOp::create(b, tWhole, tMax, idx(1), ValueRange{m},
                           [&](OpBuilder &, Location, Value t, ValueRange acc) {
                             scf::YieldOp::create(b, ValueRange{logitsOf(t, 1, acc[0])});
                           })
            .getResult(0);
    Value none = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, splatNegInf);
    m = arith::SelectOp::create(b, none, splat0, m);
    // Pass 2: exponentials and their sum.
    Value sum = scf::ForOp::create(
                    b, idx(0), tMax, idx(1), ValueRange{splat0},
                    [&](OpBuilder &, Location, Value t, ValueRange acc) {
                      Value x = vector::LoadOp::create(b, vec, logits, ValueRange{t, idx(0)});
                      Value e = emitExp2(b, arith::SubFOp::create(b, x, m));
                      vector::StoreOp::create(b, e, logits, ValueRange{t, idx(0)});
                      scf::YieldOp::create(b, ValueRange{arith::AddFOp::create(b, acc[0], e)});
                    })
                    .getResult(0);
    Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, splat0);
    Value inv = arith::SelectOp::create(
        b, positive,
        arith::DivFOp::create(b, arith::ConstantOp::create(b, DenseElementsAttr::get(vec, 1.0f)), sum),
        splat0);
    if (compressed.values)
      attendCompressed(compressed, batch, h, kvHead, i0, count, logits, tMax, inv);
    // Pass 3: spread the probabilities over the blocks.
    bool maxPool = s.method == ::attn::rt::ScoreMethod::SoftmaxProbMax;
    Value target = maxPool ? head : score;
    if (maxPool)
      loop(idx(0), blocks, [&](Value j) { vector::StoreOp::create(b, splat0, head, ValueRange{j, idx(0)}); });
    // Block j overlaps tokens t = j * per + o, o in [1 - span, per), by
    // min(o + span, per) - max(o, 0) strides (static weights). Each block
    // takes its tokens in ascending order, as a loop over tokens would.
    const int64_t per = s.block / c.stride, span = c.block / c.stride;
    Value lastToken = maxI(sub(tMax, idx(1)), idx(0));
    Value touched = minI(blocks, add(floorDiv(add(tMax, idx(span - 2)), per), idx(1)));
    loop(idx(0), touched, [&](Value j) {
      Value acc = vector::LoadOp::create(b, vec, target, ValueRange{j, idx(0)});
      for (int64_t o = 1 - span; o < per; ++o) {
        Value t = add(mul(j, idx(per)), idx(o));
        Value valid = arith::AndIOp::create(b, cmp(arith::CmpIPredicate::sge, t, idx(0)),
                                            cmp(arith::CmpIPredicate::slt, t, tMax));
        Value at = minI(maxI(t, idx(0)), lastToken);
        Value prob = arith::MulFOp::create(
            b, vector::LoadOp::create(b, vec, logits, ValueRange{at, idx(0)}), inv);
        Value next;
        if (maxPool) {
          next = arith::MaximumFOp::create(b, acc, prob);
        } else {
          int64_t w = std::min(o + span, per) - std::max<int64_t>(o, 0);
          next = vector::FMAOp::create(
              b, arith::ConstantOp::create(b, DenseElementsAttr::get(vec, float(w))), prob, acc);
        }
        acc = arith::SelectOp::create(b, valid, next, acc);
      }
      vector::StoreOp::create(b, acc, target, ValueRange{j, idx(0)});
    });
    if (maxPool)
      loop(idx(0), blocks, [&](Value j) {
        Value x = arith::AddFOp::create(
            b, vector::LoadOp::create(b, vec, score, ValueRange{j, idx(0)}),
            vector::LoadOp::create(b, vec, head, ValueRange{j, idx(0)}));
        vector::StoreOp::create(b, x, score, ValueRange{j, idx(0)});
      });
  }

  /// The list of one query: forced blocks, then the top k in one pass over
  /// the blocks, kept in (score descending, block ascending) order in
  /// best/chosen (a later block enters only with a strictly larger score, so
  /// ties go to the lower block); -inf and NaN scores never enter. The list
  /// is sorted by block, -1 padded.
  void pick(Value score, Value chosen, Value best, Value eligible, Value p, Value keys,
            Value out, ValueRange at) {
    Value c = floorDiv(minI(p, sub(keys, idx(1))), s.block);
    loop(idx(0), eligible, [&](Value j) {
      Value forced = arith::OrIOp::create(
          b, cmp(arith::CmpIPredicate::slt, j, idx(s.init)),
          arith::AndIOp::create(b, cmp(arith::CmpIPredicate::sge, j, sub(c, idx(s.local - 1))),
                                cmp(arith::CmpIPredicate::sle, j, c)));
      when(forced, [&] { store(f32c(INFINITY), score, {j}); });
    });
    Value cap = minI(eligible, idx(s.topK));
    Value last = maxI(sub(cap, idx(1)), idx(0));
    auto kept = scf::ForOp::create(
        b, idx(0), eligible, idx(1), ValueRange{idx(0)},
        [&](OpBuilder &, Location, Value j, ValueRange acc) {
          Value n = acc[0], x = load(score, {j});
          Value full = cmp(arith::CmpIPredicate::eq, n, cap);
          Value enter = arith::AndIOp::create(
              b, arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, f32c(-INFINITY)),
              arith::OrIOp::create(
                  b, arith::XOrIOp::create(b, full, arith::ConstantIntOp::create(b, 1, 1)),
                  arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x,
                                        load(best, {last}))));
          auto next = scf::IfOp::create(
              b, enter,
              [&](OpBuilder &, Location) {
                // Slot: after every kept score >= x; the tail moves down one
                // (the last falls off when full).
                Value pos = reduce(idx(0), n, idx(0), [&](Value m, Value a) {
                  return arith::SelectOp::create(
                      b, arith::CmpFOp::create(b, arith::CmpFPredicate::OGE, load(best, {m}), x),
                      add(m, idx(1)), a);
                });
                Value end = arith::SelectOp::create(b, full, last, n);
                loop(idx(0), sub(end, pos), [&](Value r) {
                  Value from = sub(sub(end, idx(1)), r);
                  store(load(best, {from}), best, {add(from, idx(1))});
                  store(load(chosen, {from}), chosen, {add(from, idx(1))});
                });
                store(x, best, {pos});
                store(j, chosen, {pos});
                scf::YieldOp::create(
                    b, ValueRange{arith::SelectOp::create(b, full, n, add(n, idx(1)))});
              },
              [&](OpBuilder &, Location) { scf::YieldOp::create(b, ValueRange{n}); });
          scf::YieldOp::create(b, next.getResults());
        });
    Value count = kept.getResult(0);
    // Insertion sort of the kept blocks by index.
    loop(idx(1), count, [&](Value a) {
      Value j = load(chosen, {a});
      Value pos = reduce(idx(0), a, idx(0), [&](Value m, Value acc) {
        return arith::SelectOp::create(b, cmp(arith::CmpIPredicate::slt, load(chosen, {m}), j),
                                       add(m, idx(1)), acc);
      });
      loop(idx(0), sub(a, pos), [&](Value r) {
        Value from = sub(sub(a, idx(1)), r);
        store(load(chosen, {from}), chosen, {add(from, idx(1))});
      });
      store(j, chosen, {pos});
    });
    loop(idx(0), idx(s.topK), [&](Value n) {
      Value v = arith::SelectOp::create(
          b, cmp(arith::CmpIPredicate::slt, n, count),
          arith::IndexCastOp::create(b, b.getI32Type(), load(chosen, {minI(n, sub(idx(s.topK), idx(1)))})),
          arith::ConstantIntOp::create(b, b.getI32Type(), -1));
      SmallVector<Value> i(at);
      i.push_back(n);
      store(v, out, i);
    });
  }

  /// The (query head, key head) pairs whose scores the list of selection
  /// head hs sums: one query head for per-query-head lists, else the group
  /// of key head hs.
  SmallVector<std::pair<Value, Value>> headsOf(Value hs, int64_t group) {
    if (s.perQueryHead)
      return {{hs, arith::DivUIOp::create(b, hs, idx(group))}};
    SmallVector<std::pair<Value, Value>> out;
    for (int64_t n = 0; n < group; ++n)
      out.push_back({add(mul(hs, idx(group)), idx(n)), hs});
    return out;
  }

  /// Blocks a query at position p may select: j*l' <= p and j*l' < L,
  /// i.e. j < min(p / l' + 1, ceil(L / l')).
  Value eligibleBlocks(Value p, Value keys) {
    Value blocks = arith::CeilDivSIOp::create(b, keys, idx(s.block));
    return maxI(minI(add(floorDiv(p, s.block), idx(1)), blocks), idx(0));
  }

  const ::attn::rt::Selection s;
  ImplicitLocOpBuilder &b;
  Type f32;
};
} // namespace

void mlir::attn::lowerSelectBlocks(SelectBlocksOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  SelectGen g(op, b);
  const ::attn::rt::Selection &s = g.s;
  bool prob = s.method == ::attn::rt::ScoreMethod::SoftmaxProb ||
              s.method == ::attn::rt::ScoreMethod::SoftmaxProbMax;
  // The compressed keys: given (a KV cache keeps them), else pooled here.
  Value kcTensor = op.getCompressedKeys();
  if (prob && !kcTensor) {
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    SmallVector<int64_t> shape(kType.getShape());
    shape[2] = ShapedType::kDynamic;
    kcTensor = CompressOp::create(b, RankedTensorType::get(shape, kType.getElementType()),
                                  op.getKey(), Value(), op.getKvLengths(),
                                  s.compression.block,
                                  s.compression.stride, op.getPool())
                   .getOutput();
  }
  Value q = toBuffer(b, op.getQuery()), k = toBuffer(b, op.getKey());
  Value kc = prob ? toBuffer(b, kcTensor) : Value();
  Value vc = op.getValues() ? toBuffer(b, op.getValues()) : Value();
  RankedTensorType idxType = op.getIndices().getType();
  Value batches = memref::DimOp::create(b, q, 0);
  Value queries = memref::DimOp::create(b, q, 2);
  Value keys = memref::DimOp::create(b, k, 2);
  int64_t hq = cast<MemRefType>(q.getType()).getShape()[1];
  int64_t hkv = cast<MemRefType>(k.getType()).getShape()[1];
  int64_t group = hq / hkv, hsel = s.perQueryHead ? hq : hkv;
  SmallVector<Value> sizes;
  if (idxType.isDynamicDim(0))
    sizes.push_back(batches);
  if (idxType.isDynamicDim(2))
    sizes.push_back(queries);
  Value out = memref::AllocOp::create(
      b, MemRefType::get(idxType.getShape(), idxType.getElementType()), sizes,
      b.getI64IntegerAttr(64));
  Value blocks = arith::CeilDivSIOp::create(b, keys, g.idx(s.block));
  Value cmpOut;
  if (vc) {
    RankedTensorType t = op.getOutput().getType();
    SmallVector<Value> dynamic;
    for (int64_t i = 0; i < 4; ++i)
      if (t.isDynamicDim(i))
        dynamic.push_back(memref::DimOp::create(b, i == 3 ? vc : q, i == 3 ? 3 : i));
    cmpOut = memref::AllocOp::create(b, MemRefType::get(t.getShape(), t.getElementType()),
                                     dynamic, b.getI64IntegerAttr(64));
  }
  // Element b's valid keys: kv_lengths[b] clamped to [0, Skv] (the runtime
  // rejects values outside), or Skv. Queries sit bottom-right: i + L - Sq.
  Value lengths = op.getKvLengths() ? toBuffer(b, op.getKvLengths()) : Value();
  auto validKeys = [&](Value batch) -> Value {
    if (!lengths)
      return keys;
    Value L = arith::IndexCastOp::create(b, b.getIndexType(), g.load(lengths, {batch}));
    return g.minI(g.maxI(L, g.idx(0)), keys);
  };
  SmallVector<Value> summary;
  if (!prob)
    summary = g.summarize(k, blocks, validKeys);

  if (prob) {
    // 16 query rows per task, along the vector lanes.
    Value tiles = arith::CeilDivUIOp::create(b, queries, g.idx(16));
    Value tokens = memref::DimOp::create(b, kc, 2);
    scf::ParallelOp::create(
        b, ValueRange{g.idx(0), g.idx(0), g.idx(0)}, ValueRange{batches, g.idx(hsel), tiles},
        ValueRange{g.idx(1), g.idx(1), g.idx(1)},
        [&](OpBuilder &, Location, ValueRange ivs) {
          Value batch = ivs[0], hs = ivs[1];
          Value L = validKeys(batch), off = g.sub(L, queries);
          Value i0 = g.mul(ivs[2], g.idx(16));
          Value count = g.minI(g.idx(16), g.sub(queries, i0));
          auto rows = [&](Value n) {
            return memref::AllocaOp::create(
                b, MemRefType::get({ShapedType::kDynamic, 16}, g.f32), ValueRange{n},
                b.getI64IntegerAttr(64));
          };
          int64_t dims = cast<MemRefType>(q.getType()).getShape()[3];
          Value score = rows(blocks), head = rows(blocks);
          Value logits = rows(g.maxI(tokens, g.idx(1)));
          Value qt = memref::AllocaOp::create(b, MemRefType::get({dims, 16}, g.f32),
                                              ValueRange{}, b.getI64IntegerAttr(64));
          Value col = memref::AllocaOp::create(
              b, MemRefType::get({ShapedType::kDynamic}, g.f32), ValueRange{blocks});
          Value chosen = memref::AllocaOp::create(
              b, MemRefType::get({ShapedType::kDynamic}, b.getIndexType()),
              ValueRange{g.idx(s.topK)});
          Value best = memref::AllocaOp::create(
              b, MemRefType::get({ShapedType::kDynamic}, g.f32), ValueRange{g.idx(s.topK)});
          CompressedOutput cmp;
          if (vc)
            cmp = {vc, cmpOut,
                   memref::AllocaOp::create(
                       b, MemRefType::get({ShapedType::kDynamic, 16}, g.f32),
                       ValueRange{memref::DimOp::create(b, vc, 3)}, b.getI64IntegerAttr(64))};
          auto vec = VectorType::get({16}, g.f32);
          Value zeros = arith::ConstantOp::create(b, DenseElementsAttr::get(vec, 0.0f));
          g.loop(g.idx(0), blocks, [&](Value j) {
            vector::StoreOp::create(b, zeros, score, ValueRange{j, g.idx(0)});
          });
          // Tokens the last row has seen whole (the most of the tile).
          Value pLast = g.add(g.add(i0, g.sub(count, g.idx(1))), off);
          Value seen = g.minI(
              g.maxI(g.add(g.floorDiv(g.sub(pLast, g.idx(s.compression.block - 1)),
                                      s.compression.stride),
                           g.idx(1)),
                     g.idx(0)),
              tokens);
          for (auto [h, kvHead] : g.headsOf(hs, group))
            g.scoreCompressedLanes(q, kc, batch, h, kvHead, i0, count, off, score, head,
                                   logits, qt, seen, blocks, cmp);
          // Each row's list from its column of scores.
          g.loop(g.idx(0), count, [&](Value r) {
            Value i = g.add(i0, r);
            Value p = g.add(i, off);
            g.loop(g.idx(0), blocks, [&](Value j) {
              g.store(g.load(score, {j, r}), col, {j});
            });
            g.pick(col, chosen, best, g.eligibleBlocks(p, L), p, L, out, {batch, hs, i});
          });
          scf::ReduceOp::create(b);
        });
  } else {
  // mean_key and key_bound: one query per task, from the block summaries.
  scf::ParallelOp::create(
      b, ValueRange{g.idx(0), g.idx(0), g.idx(0)},
      ValueRange{batches, g.idx(hsel), queries}, ValueRange{g.idx(1), g.idx(1), g.idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value batch = ivs[0], hs = ivs[1], i = ivs[2];
        Value L = validKeys(batch);
        Value p = g.add(i, g.sub(L, queries));
        auto scratch = [&](Type t, Value n) {
          return memref::AllocaOp::create(b, MemRefType::get({ShapedType::kDynamic}, t),
                                          ValueRange{n});
        };
        Value score = scratch(g.f32, blocks);
        Value chosen = scratch(b.getIndexType(), g.idx(s.topK));
        Value best = scratch(g.f32, g.idx(s.topK));
        Value eligible = g.eligibleBlocks(p, L);
        g.loop(g.idx(0), blocks, [&](Value j) { g.store(g.f32c(0), score, {j}); });
        for (auto [h, kvHead] : g.headsOf(hs, group))
          g.scoreKeys(q, summary, batch, h, kvHead, i, eligible, score);
        g.pick(score, chosen, best, eligible, p, L, out, {batch, hs, i});
        scf::ReduceOp::create(b);
      });
  }
  // (The buffer-deallocation pipeline frees the summaries.)
  Value result = bufferization::ToTensorOp::create(b, idxType, out, /*restrict=*/true,
                                                   /*writable=*/true);
  op.getIndices().replaceAllUsesWith(result);
  if (vc)
    op.getOutput().replaceAllUsesWith(bufferization::ToTensorOp::create(
        b, op.getOutput().getType(), cmpOut, /*restrict=*/true, /*writable=*/true));
  op.erase();
}
