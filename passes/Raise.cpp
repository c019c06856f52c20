//===- Raise.cpp - attn-raise ---------------------------------------------===//
//
// Unfused attention in linalg into attn.attention (see Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNRAISE
#include "passes/Passes.h.inc"

namespace {
/// What the chain below one softmax holds. With expanded K/V heads
/// (grouped-query attention written as a copy), `key4`/`value4` are the
/// [B, Hkv, S, D] tensors before the copy and `group` the copies per head.
struct Chain {
  Value query, key, value, mask;
  std::optional<double> scale;
  bool causal = false, bottomRight = false;
  Value key4, value4;
  int64_t group = 0;
};

/// x3 = collapse_shape(broadcast(x4 [B, Hkv, S, D] -> [B, Hkv, G, S, D]))
/// to [B*Hkv*G, S, D]: returns x4 and G (else null).
Value unexpandHeads(Value x3, int64_t &group) {
  auto collapse = x3.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse)
    return Value();
  SmallVector<ReassociationIndices, 4> groups = collapse.getReassociationIndices();
  if (groups.size() != 3 || groups[0] != ReassociationIndices{0, 1, 2})
    return Value();
  auto broadcast = collapse.getSrc().getDefiningOp<linalg::BroadcastOp>();
  if (!broadcast || broadcast.getDimensions() != ArrayRef<int64_t>{2})
    return Value();
  auto shape = cast<RankedTensorType>(broadcast.getInit().getType()).getShape();
  if (ShapedType::isDynamic(shape[2]))
    return Value();
  group = shape[2];
  return broadcast.getInput();
}

/// An element-wise linalg.generic over rank-3 tensors with identity maps.
bool isElementwise(linalg::GenericOp g, unsigned inputs) {
  return g && g.getNumDpsInputs() == inputs && g.getNumDpsInits() == 1 &&
         g.getNumLoops() == 3 && g.getNumParallelLoops() == 3 &&
         llvm::all_of(g.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); });
}

/// The single arith op a generic's body yields, with the block arguments.
Operation *bodyOp(linalg::GenericOp g) {
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  return &body.front();
}

/// Scale: s * c or s / c with a scalar constant c defined outside.
std::optional<double> matchScale(linalg::GenericOp g, Value &input) {
  if (!isElementwise(g, 1))
    return std::nullopt;
  Operation *op = bodyOp(g);
  if (!op || !isa<arith::MulFOp, arith::DivFOp>(op))
    return std::nullopt;
  Value arg = g.getRegion().front().getArgument(0);
  Value other = op->getOperand(0) == arg ? op->getOperand(1) : op->getOperand(0);
  if (isa<arith::DivFOp>(op) && op->getOperand(0) != arg)
    return std::nullopt; // c / s is not a scale
  FloatAttr c;
  if (!matchPattern(other, m_Constant(&c)))
    return std::nullopt;
  input = g.getDpsInputs()[0];
  double x = c.getValueAsDouble();
  return isa<arith::DivFOp>(op) ? 1.0 / x : x;
}

/// A constant [N, Sq, Skv] mask that is exactly causal: 0 where
/// j <= i + off, a very negative value elsewhere, for off = 0 (top-left)
/// or Skv - Sq (bottom-right).
std::optional<bool> causalAlignment(Value mask) {
  DenseElementsAttr values;
  auto type = cast<RankedTensorType>(mask.getType());
  if (!matchPattern(mask, m_Constant(&values)) || !type.hasStaticShape() ||
      !isa<FloatType>(type.getElementType()))
    return std::nullopt;
  int64_t n = type.getDimSize(0), sq = type.getDimSize(1), skv = type.getDimSize(2);
  auto data = values.getValues<APFloat>();
  for (int64_t off : {int64_t(0), skv - sq}) {
    bool ok = true;
    for (int64_t b = 0; ok && b < n; ++b)
      for (int64_t i = 0; ok && i < sq; ++i)
        for (int64_t j = 0; ok && j < skv; ++j) {
          double x = data[values.isSplat() ? 0 : (b * sq + i) * skv + j].convertToDouble();
          ok = j <= i + off ? x == 0.0 : x <= -1e30;
        }
    if (ok)
      return off != 0;
  }
  return std::nullopt;
}

/// linalg.batch_matmul accumulates into its init: it must be zero-filled.
bool zeroInit(linalg::BatchMatmulOp mm) {
  auto fill = mm.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  FloatAttr zero;
  return fill && matchPattern(fill.getInputs()[0], m_Constant(&zero)) &&
         zero.getValue().isZero();
}

/// Matches softmax(...) . V ending in `pv`; on a near-miss returns the
/// step that failed (for a remark), else "" with `chain` filled.
std::string match(linalg::BatchMatmulOp pv, Chain &chain) {
  if (pv.hasUserDefinedMaps())
    return "P V uses transposed operands";
  auto softmax = pv.getDpsInputs()[0].getDefiningOp<linalg::SoftmaxOp>();
  if (!softmax) {
    auto g = pv.getDpsInputs()[0].getDefiningOp<linalg::GenericOp>();
    if (g && llvm::any_of(g.getDpsInputs(), [](Value x) {
          return x.getDefiningOp<linalg::SoftmaxOp>();
        }))
      return "the probabilities pass through a linalg.generic after the softmax";
    return "not-attention";
  }
  if (softmax.getDimension() != 2)
    return "softmax is over axis " + std::to_string(softmax.getDimension()) +
           ", not the key axis 2";
  if (!zeroInit(pv))
    return "P V accumulates into a tensor that is not zero-filled";
  chain.value = pv.getDpsInputs()[1];
  Value scores = softmax.getInput();
  // Optional additive mask, then optional scale, in either order of
  // appearance the graph uses: s -> (scale) -> (+ mask) -> softmax.
  if (auto add = scores.getDefiningOp<linalg::GenericOp>();
      add && isElementwise(add, 2) && bodyOp(add) && isa<arith::AddFOp>(bodyOp(add))) {
    chain.mask = add.getDpsInputs()[1];
    scores = add.getDpsInputs()[0];
  }
  if (auto mul = scores.getDefiningOp<linalg::GenericOp>()) {
    Value input;
    std::optional<double> scale = matchScale(mul, input);
    if (!scale)
      return "the scores pass through a linalg.generic that is neither a scale "
             "by a constant nor an additive mask";
    chain.scale = scale;
    scores = input;
  }
  auto qk = scores.getDefiningOp<linalg::BatchMatmulOp>();
  if (!qk || qk.hasUserDefinedMaps())
    return "the softmax input is not Q K^T (a plain linalg.batch_matmul)";
  if (!zeroInit(qk))
    return "Q K^T accumulates into a tensor that is not zero-filled";
  auto transpose = qk.getDpsInputs()[1].getDefiningOp<linalg::TransposeOp>();
  if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 1})
    return "K^T is not a linalg.transpose of K with permutation [0, 2, 1]";
  chain.query = qk.getDpsInputs()[0];
  chain.key = transpose.getInput();
  // Grouped-query attention written as copies of the K/V heads: attend to
  // the heads themselves.
  int64_t gk = 0, gv = 0;
  Value k4 = unexpandHeads(chain.key, gk), v4 = unexpandHeads(chain.value, gv);
  if (bool(k4) != bool(v4) || gk != gv)
    return "keys and values are expanded to different head counts";
  if (k4) {
    auto q = cast<RankedTensorType>(chain.query.getType());
    auto k = cast<RankedTensorType>(k4.getType()).getShape();
    if (!q.hasStaticShape() || ShapedType::isDynamic(k[0]) || ShapedType::isDynamic(k[1]) ||
        q.getDimSize(0) != k[0] * k[1] * gk)
      return "the query batch does not match the expanded key heads";
    chain.key4 = k4, chain.value4 = v4, chain.group = gk;
  }
  if (chain.mask) {
    if (std::optional<bool> bottomRight = causalAlignment(chain.mask)) {
      chain.causal = true;
      chain.bottomRight = *bottomRight;
      chain.mask = Value();
    }
  }
  return "";
}

/// [N, S, D] -> [N, 1, S, D].
Value addHeadDim(ImplicitLocOpBuilder &b, Value x) {
  auto t = cast<RankedTensorType>(x.getType());
  auto shape = t.getShape();
  auto to = RankedTensorType::get({shape[0], 1, shape[1], shape[2]}, t.getElementType());
  SmallVector<ReassociationIndices> groups = {{0, 1}, {2}, {3}};
  return tensor::ExpandShapeOp::create(b, to, x, groups);
}

/// [B*H, S, D] -> [B, H, S, D].
Value splitHeads(ImplicitLocOpBuilder &b, Value x, int64_t batch, int64_t heads) {
  auto t = cast<RankedTensorType>(x.getType());
  auto shape = t.getShape();
  auto to = RankedTensorType::get({batch, heads, shape[1], shape[2]}, t.getElementType());
  SmallVector<ReassociationIndices> groups = {{0, 1}, {2}, {3}};
  return tensor::ExpandShapeOp::create(b, to, x, groups);
}

void raise(linalg::BatchMatmulOp pv, const Chain &chain) {
  ImplicitLocOpBuilder b(pv.getLoc(), pv);
  // [N, S, D] as [N, 1, S, D], or [B, Hq, S, D] over the K/V heads (GQA).
  int64_t batch = cast<RankedTensorType>(chain.query.getType()).getDimSize(0), heads = 1;
  if (chain.group) {
    auto k = cast<RankedTensorType>(chain.key4.getType()).getShape();
    batch = k[0], heads = k[1] * chain.group;
  }
  Value q = splitHeads(b, chain.query, batch, heads);
  Value k = chain.group ? chain.key4 : addHeadDim(b, chain.key);
  Value v = chain.group ? chain.value4 : addHeadDim(b, chain.value);
  Value mask = chain.mask ? splitHeads(b, chain.mask, batch, heads) : Value();
  auto resultType = cast<RankedTensorType>(pv.getResult(0).getType());
  auto shape = resultType.getShape();
  auto outType = RankedTensorType::get({batch, heads, shape[1], shape[2]},
                                       resultType.getElementType());
  FloatAttr scale = chain.scale ? b.getF64FloatAttr(*chain.scale) : FloatAttr();
  auto op = AttentionOp::create(
      b, outType, Type(), q, k, v, mask, Value(), Value(), Value(), scale, FloatAttr(),
      chain.causal ? b.getUnitAttr() : UnitAttr(), DenseI64ArrayAttr(), DenseI64ArrayAttr(),
      chain.bottomRight ? AlignmentAttr::get(b.getContext(), Alignment::BottomRight)
                        : AlignmentAttr(),
      IntegerAttr(), DenseI64ArrayAttr(), DenseI64ArrayAttr(), LayoutAttr(),
      DenseI64ArrayAttr(), TilePlanAttr());
  if (!chain.scale) // batch_matmul has no scale: the op's default would add one
    op.setScaleAttr(b.getF64FloatAttr(1.0));
  SmallVector<ReassociationIndices> groups = {{0, 1}, {2}, {3}};
  Value out = tensor::CollapseShapeOp::create(b, resultType, op.getOutput(), groups);
  pv.getResult(0).replaceAllUsesWith(out);
  pv.erase();
}

struct Raise : impl::AttnRaiseBase<Raise> {
  void runOnOperation() override {
    SmallVector<linalg::BatchMatmulOp> candidates;
    getOperation()->walk([&](linalg::BatchMatmulOp op) { candidates.push_back(op); });
    for (linalg::BatchMatmulOp pv : candidates) {
      Chain chain;
      std::string failure = match(pv, chain);
      if (failure == "not-attention")
        continue;
      if (!failure.empty()) {
        pv.emitRemark() << "attn-raise: not raised: " << failure;
        continue;
      }
      raise(pv, chain);
    }
  }
};
} // namespace
} // namespace mlir::attn
