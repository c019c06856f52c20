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
  // One attention of q over `key`/`value` with the composite's scale.
  auto attention = [&](Value key, Value value, Value offsets, Value blocks) {
    return AttentionOp::create(
        b, outType, Type(), q, key, value, Value(), Value(), offsets, blocks, scale,
        FloatAttr(), UnitAttr(), DenseI64ArrayAttr(), DenseI64ArrayAttr(),
        AlignmentAttr(), IntegerAttr(), DenseI64ArrayAttr(), DenseI64ArrayAttr(),
        LayoutAttr(), DenseI64ArrayAttr(), TilePlanAttr());
  };

  // Compressed branch: queries at their original bottom-right positions.
  const int64_t kDyn = ShapedType::kDynamic;
  int64_t tokens = kShape[2] == kDyn ? kDyn : p.compression.tokens(kShape[2]);
  auto compress = [&](Value x, int64_t dim) {
    return CompressOp::create(b, withSeqDim(x, tokens, dim), x, Value(),
                              p.compression.block, p.compression.stride,
                              op.getPool())
        .getOutput();
  };
  Value kc = compress(k, kShape[3]), vc = compress(v, vShape[3]);
  Value keys = tensor::DimOp::create(b, k, 2), queries = tensor::DimOp::create(b, q, 2);
  Value off = arith::IndexCastOp::create(b, b.getI64Type(),
                                         arith::SubIOp::create(b, keys, queries));
  Value batch = tensor::DimOp::create(b, q, 0);
  Value offsets = tensor::SplatOp::create(
      b, RankedTensorType::get({kDyn}, b.getI64Type()), off, ValueRange{batch});
  AttentionOp cmp = attention(kc, vc, offsets, Value());
  cmp.setCausal(true);
  cmp.setCompressedKeysAttr(
      b.getDenseI64ArrayAttr({p.compression.block, p.compression.stride}));

  // Selected branch.
  auto select = SelectBlocksOp::create(
      b, op.getIndices().getType(), q, k, ScoreMethod::SoftmaxProb,
      p.selection.block, p.selection.topK, p.selection.init, p.selection.local,
      /*per_query_head=*/false,
      b.getDenseI64ArrayAttr({p.compression.block, p.compression.stride}), scale);
  AttentionOp slc = attention(k, v, Value(), select.getIndices());
  slc.setCausal(true);
  slc.setAlignment(Alignment::BottomRight);
  slc.setBlockSizesAttr(b.getDenseI64ArrayAttr({1, p.selection.block}));

  // Window branch: w keys including the query's own.
  AttentionOp win = attention(k, v, Value(), Value());
  win.setCausal(true);
  win.setAlignment(Alignment::BottomRight);
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
      SmallVector<Value>{gates, gates, gates, cmp.getOutput(), slc.getOutput(),
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
  auto select = SelectBlocksOp::create(b, op.getIndices().getType(), op.getQuery(),
                                       op.getKey(), ScoreMethod::MeanKey, s.block, s.topK,
                                       s.init, s.local, /*per_query_head=*/true,
                                       DenseI64ArrayAttr(), scale);
  auto attention = AttentionOp::create(
      b, op.getOutput().getType(), Type(), op.getQuery(), op.getKey(), op.getValue(),
      Value(), Value(), Value(), select.getIndices(), scale, FloatAttr(), b.getUnitAttr(),
      DenseI64ArrayAttr(), DenseI64ArrayAttr(),
      AlignmentAttr::get(b.getContext(), Alignment::BottomRight), IntegerAttr(),
      b.getDenseI64ArrayAttr({1, s.block}), DenseI64ArrayAttr(), LayoutAttr(),
      DenseI64ArrayAttr(), TilePlanAttr());
  op.getOutput().replaceAllUsesWith(attention.getOutput());
  op.getIndices().replaceAllUsesWith(select.getIndices());
  op.erase();
}

/// The switch: an scf.if on the key length, each side's block moved in.
void decompose(SwitchOp op) {
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
