//===- Decompose.cpp - attn-decompose -------------------------------------===//
//
// Composite sparse attention into primitive ops (see Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDECOMPOSE
#include "passes/Passes.h.inc"

namespace {
/// [B, H, S, D] with `s` and `d` replaced (kDynamic keeps them dynamic).
RankedTensorType withSeqDim(Value like, int64_t s, int64_t d) {
  auto t = cast<RankedTensorType>(like.getType());
  SmallVector<int64_t> shape(t.getShape());
  shape[2] = s;
  shape[3] = d;
  return RankedTensorType::get(shape, t.getElementType());
}

void decompose(NsaOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  ::attn::rt::NsaParams p = op.getParams();
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  auto kShape = cast<RankedTensorType>(k.getType()).getShape();
  auto vShape = cast<RankedTensorType>(v.getType()).getShape();
  RankedTensorType outType = op.getOutput().getType();
  FloatAttr scale = op.getScaleAttr();
  Value lengths = op.getKvLengths();
  // One causal bottom-right attention of q over k, v with the composite's
  // scale and valid lengths.
  auto attention = [&](Value blocks) {
    return AttentionOp::create(
        b, outType, Type(), Type(), q, k, v, Value(), lengths, Value(), blocks, scale,
        FloatAttr(), b.getUnitAttr(), DenseI64ArrayAttr(), DenseI64ArrayAttr(),
        AlignmentAttr::get(b.getContext(), Alignment::BottomRight), IntegerAttr(),
        DenseI64ArrayAttr(), DenseI64ArrayAttr(), LayoutAttr(), DenseI64ArrayAttr(),
        TilePlanAttr(), DenseI64ArrayAttr());
  };

  // Compressed and selected branches: the selection scores with the
  // compressed attention's probabilities, so one op (one pass over the
  // compressed keys) returns both the lists and that attention's output.
  auto vcType = withSeqDim(v, kShape[2] == ShapedType::kDynamic
                                  ? ShapedType::kDynamic
                                  : p.compression.tokens(kShape[2]),
                           vShape[3]);
  // Compressed values (and keys) from a cache when given, else pooled.
  Value vc = op.getCompressedValues();
  if (!vc)
    vc = CompressOp::create(b, vcType, v, Value(), lengths, p.compression.block,
                            p.compression.stride, op.getPool())
             .getOutput();
  auto select = SelectBlocksOp::create(
      b, op.getIndices().getType(), outType, q, k, op.getCompressedKeys(), vc, lengths,
      ScoreMethod::SoftmaxProb,
      p.selection.block, p.selection.topK, p.selection.init, p.selection.local,
      /*per_query_head=*/false,
      b.getDenseI64ArrayAttr({p.compression.block, p.compression.stride}), op.getPool(),
      scale);
  AttentionOp slc = attention(select.getIndices());
  slc.setBlockSizesAttr(b.getDenseI64ArrayAttr({1, p.selection.block}));

  // Window branch: w keys including the query's own.
  AttentionOp win = attention(Value());
  win.setWindowAttr(b.getDenseI64ArrayAttr({p.window - 1, 0}));

  // out = g0 * cmp + g1 * slc + g2 * win.
  MLIRContext *ctx = b.getContext();
  auto identity = AffineMap::getMultiDimIdentityMap(4, ctx);
  auto gate = [&](int64_t g) {
    return AffineMap::get(4, 0,
                          {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx),
                           getAffineDimExpr(2, ctx), getAffineConstantExpr(g, ctx)},
                          ctx);
  };
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0; i < 4; ++i)
    if (outType.isDynamicDim(i))
      dynamicSizes.push_back(
          tensor::DimOp::create(b, i == 3 ? v : q, i == 3 ? 3 : i));
  Value init = tensor::EmptyOp::create(b, outType.getShape(), outType.getElementType(),
                                       dynamicSizes);
  Value gates = op.getGates();
  SmallVector<utils::IteratorType> parallel(4, utils::IteratorType::parallel);
  auto sum = linalg::GenericOp::create(
      b, TypeRange{outType},
      SmallVector<Value>{gates, gates, gates, select.getOutput(), slc.getOutput(),
                         win.getOutput()},
      ValueRange{init},
      ArrayRef<AffineMap>{gate(0), gate(1), gate(2), identity, identity, identity, identity},
      parallel, [&](OpBuilder &nb, Location loc, ValueRange x) {
        ImplicitLocOpBuilder n(loc, nb);
        Value acc = arith::MulFOp::create(n, x[0], x[3]);
        acc = arith::AddFOp::create(n, acc, arith::MulFOp::create(n, x[1], x[4]));
        acc = arith::AddFOp::create(n, acc, arith::MulFOp::create(n, x[2], x[5]));
        linalg::YieldOp::create(n, acc);
      });
  op.getOutput().replaceAllUsesWith(sum.getResult(0));
  op.getIndices().replaceAllUsesWith(select.getIndices());
  op.erase();
}

/// MoBA: mean_key selection per query head, then block-sparse attention.
void decompose(MobaOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  ::attn::rt::Selection s = op.getSelection();
  FloatAttr scale = op.getScaleAttr();
  auto select = SelectBlocksOp::create(
      b, op.getIndices().getType(), Type(), op.getQuery(), op.getKey(), Value(), Value(),
      op.getKvLengths(), ScoreMethod::MeanKey, s.block, s.topK, s.init, s.local,
      /*per_query_head=*/true, DenseI64ArrayAttr(), Pool::Mean, scale);
  auto attention = AttentionOp::create(
      b, op.getOutput().getType(), Type(), Type(), op.getQuery(), op.getKey(), op.getValue(),
      Value(), op.getKvLengths(), Value(), select.getIndices(), scale, FloatAttr(),
      b.getUnitAttr(),
      DenseI64ArrayAttr(), DenseI64ArrayAttr(),
      AlignmentAttr::get(b.getContext(), Alignment::BottomRight), IntegerAttr(),
      b.getDenseI64ArrayAttr({1, s.block}), DenseI64ArrayAttr(), LayoutAttr(),
      DenseI64ArrayAttr(), TilePlanAttr(), DenseI64ArrayAttr());
  op.getOutput().replaceAllUsesWith(attention.getOutput());
  op.getIndices().replaceAllUsesWith(select.getIndices());
  op.erase();
}

/// The switch without kv_lengths: an scf.if on the key length, each side's
/// block moved in.
void decomposeOnKeys(SwitchOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Value keys = tensor::DimOp::create(b, op.getKey(), 2);
  Value dense = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, keys,
                                      arith::ConstantIndexOp::create(b, op.getDenseLen()));
  auto branch = scf::IfOp::create(b, op.getResultTypes(), dense, /*withElseRegion=*/true);
  for (auto [from, to] : {std::pair<Region *, Region *>{&op.getDense(), &branch.getThenRegion()},
                          {&op.getSparse(), &branch.getElseRegion()}}) {
    to->takeBody(*from);
    auto yield = cast<YieldOp>(to->front().getTerminator());
    OpBuilder y(yield);
    scf::YieldOp::create(y, yield.getLoc(), yield.getValues());
    yield.erase();
  }
  op.replaceAllUsesWith(branch.getResults());
  op.erase();
}

/// The switch with kv_lengths, per batch element (element b is dense iff
/// L[b] < dense_len):
///   if any element is sparse:
///     s = sparse side with Ls (the dense elements' lengths set to 0)
///     if any element is dense: per element, dense side with Ld or s
///     else s
///   else dense side with Ld (= L)
/// so a uniform batch runs one side, and in a mixed batch each side's
/// kernels skip the other side's elements wherever the region reads L.
void decomposePerElement(SwitchOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Value lengths = op.getKvLengths();
  auto lengthType = cast<RankedTensorType>(lengths.getType());
  Type elt = lengthType.getElementType(), i1 = b.getI1Type();
  Value batch = tensor::DimOp::create(b, lengths, 0);
  auto vector = [&](Type t) {
    return tensor::EmptyOp::create(b, lengthType.getShape(), t,
                                   lengthType.isDynamicDim(0) ? ValueRange{batch} : ValueRange{});
  };
  // isDense[b], Ld[b] and Ls[b] in one pass.
  AffineMap id = b.getMultiDimIdentityMap(1);
  auto split = linalg::GenericOp::create(
      b, TypeRange{lengthType.clone(i1), lengthType, lengthType}, ValueRange{lengths},
      ValueRange{vector(i1), vector(elt), vector(elt)}, ArrayRef<AffineMap>{id, id, id, id},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location loc, ValueRange x) {
        ImplicitLocOpBuilder n(loc, nb);
        Value zero = arith::ConstantIntOp::create(n, elt, 0);
        Value dense = arith::CmpIOp::create(n, arith::CmpIPredicate::slt, x[0],
                                            arith::ConstantIntOp::create(n, elt, op.getDenseLen()));
        linalg::YieldOp::create(n, ValueRange{dense, arith::SelectOp::create(n, dense, x[0], zero),
                                              arith::SelectOp::create(n, dense, zero, x[0])});
      });
  Value isDense = split.getResult(0), denseLengths = split.getResult(1),
        sparseLengths = split.getResult(2);
  // Whether any element is dense, and whether any is sparse.
  Value no = arith::ConstantIntOp::create(b, i1, 0), yes = arith::ConstantIntOp::create(b, i1, 1);
  auto scan = scf::ForOp::create(
      b, arith::ConstantIndexOp::create(b, 0), batch, arith::ConstantIndexOp::create(b, 1),
      ValueRange{no, no}, [&](OpBuilder &nb, Location loc, Value e, ValueRange any) {
        ImplicitLocOpBuilder n(loc, nb);
        Value dense = tensor::ExtractOp::create(n, isDense, ValueRange{e});
        scf::YieldOp::create(
            n, ValueRange{arith::OrIOp::create(n, any[0], dense),
                          arith::OrIOp::create(n, any[1], arith::XOrIOp::create(n, dense, yes))});
      });
  Value anyDense = scan.getResult(0), anySparse = scan.getResult(1);

  // A copy of one side's ops, reading `sideLengths` for kv_lengths.
  auto side = [&](OpBuilder &nb, Region &region, Value sideLengths) {
    IRMapping map;
    map.map(lengths, sideLengths);
    for (Operation &o : region.front().without_terminator())
      nb.clone(o, map);
    SmallVector<Value> values;
    for (Value v : cast<YieldOp>(region.front().getTerminator()).getValues())
      values.push_back(map.lookupOrDefault(v));
    return values;
  };
  // out[b, ...] = isDense[b] ? dense[b, ...] : sparse[b, ...].
  auto pick = [&](ImplicitLocOpBuilder &n, ValueRange dense, ValueRange sparse) {
    SmallVector<Value> out;
    for (auto [d, s] : llvm::zip(dense, sparse)) {
      auto type = cast<RankedTensorType>(s.getType());
      SmallVector<Value> sizes;
      for (int64_t i = 0; i < type.getRank(); ++i)
        if (type.isDynamicDim(i))
          sizes.push_back(tensor::DimOp::create(n, s, i));
      Value init = tensor::EmptyOp::create(n, type.getShape(), type.getElementType(), sizes);
      AffineMap all = n.getMultiDimIdentityMap(type.getRank());
      AffineMap first = AffineMap::get(type.getRank(), 0, {n.getAffineDimExpr(0)}, n.getContext());
      out.push_back(
          linalg::GenericOp::create(
              n, TypeRange{type}, ValueRange{isDense, d, s}, ValueRange{init},
              ArrayRef<AffineMap>{first, all, all, all},
              SmallVector<utils::IteratorType>(type.getRank(), utils::IteratorType::parallel),
              [&](OpBuilder &nb, Location loc, ValueRange x) {
                ImplicitLocOpBuilder e(loc, nb);
                linalg::YieldOp::create(e, ValueRange{arith::SelectOp::create(e, x[0], x[1], x[2])});
              })
              .getResult(0));
    }
    return out;
  };
  auto outer = scf::IfOp::create(
      b, anySparse,
      [&](OpBuilder &nb, Location loc) {
        SmallVector<Value> sparse = side(nb, op.getSparse(), sparseLengths);
        auto mixed = scf::IfOp::create(
            nb, loc, anyDense,
            [&](OpBuilder &tb, Location l) {
              ImplicitLocOpBuilder t(l, tb);
              SmallVector<Value> dense = side(t, op.getDense(), denseLengths);
              scf::YieldOp::create(t, pick(t, dense, sparse));
            },
            [&](OpBuilder &eb, Location l) { scf::YieldOp::create(eb, l, sparse); });
        scf::YieldOp::create(nb, loc, mixed.getResults());
      },
      [&](OpBuilder &nb, Location loc) {
        scf::YieldOp::create(nb, loc, side(nb, op.getDense(), denseLengths));
      });
  op.replaceAllUsesWith(outer.getResults());
  op.erase();
}

void decompose(SwitchOp op) {
  if (op.getKvLengths())
    decomposePerElement(op);
  else
    decomposeOnKeys(op);
}

struct Decompose : impl::AttnDecomposeBase<Decompose> {
  void runOnOperation() override {
    getOperation()->walk([](NsaOp op) { decompose(op); });
    getOperation()->walk([](MobaOp op) { decompose(op); });
    SmallVector<SwitchOp> switches;
    getOperation()->walk([&](SwitchOp op) { switches.push_back(op); });
    for (SwitchOp op : switches)
      decompose(op);
  }
};
} // namespace
} // namespace mlir::attn
