//===- AttnCanonicalize.cpp - canonicalization of attn ops ----------------===//
//
// Rewrites that users expect from a graph-level attention op: constant
// scales folded into the `scale` attribute, masks that mask nothing dropped,
// windows that cover the whole sequence dropped, transposes of [B, S, H, D]
// operands and head splits of [B, S, H*D] ones folded into the layout, and an
// unused log-sum-exp result removed.
//
//===----------------------------------------------------------------------===//
#include "dialects/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

using namespace mlir;
using namespace mlir::attn;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// Rebuilds `op` with new operands (same attributes), optionally without
/// its `lse` result.
AttentionOp rebuild(PatternRewriter &rewriter, AttentionOp op, Value query,
                    Value key, Value mask, bool keepLse,
                    bool keepQueryOffsets = true) {
  OperationState state(op.getLoc(), op->getName());
  state.addOperands({query, key, op.getValue()});
  if (mask)
    state.addOperands(mask);
  if (op.getKvLengths())
    state.addOperands(op.getKvLengths());
  Value offsets = keepQueryOffsets ? op.getQueryOffsets() : Value();
  if (offsets)
    state.addOperands(offsets);
  if (op.getBlockIndices())
    state.addOperands(op.getBlockIndices());
  state.addTypes(op.getOutput().getType());
  if (keepLse && op.getLse())
    state.addTypes(op.getLse().getType());
  if (op.getWindowOutput())
    state.addTypes(op.getWindowOutput().getType());
  AttentionOp::Properties props = op.getProperties();
  props.operandSegmentSizes = {1, 1, 1, mask ? 1 : 0, op.getKvLengths() ? 1 : 0,
                               offsets ? 1 : 0, op.getBlockIndices() ? 1 : 0};
  props.resultSegmentSizes = {1, keepLse && op.getLse() ? 1 : 0,
                              op.getWindowOutput() ? 1 : 0};
  state.useProperties(props);
  for (NamedAttribute attr : op->getDiscardableAttrs())
    state.addAttribute(attr.getName(), attr.getValue());
  return cast<AttentionOp>(rewriter.create(state));
}

void replace(PatternRewriter &rewriter, AttentionOp op, AttentionOp newOp) {
  SmallVector<Value> results = {newOp.getOutput()};
  if (op.getLse())
    results.push_back(newOp.getLse() ? newOp.getLse() : Value());
  if (op.getWindowOutput())
    results.push_back(newOp.getWindowOutput());
  rewriter.replaceOp(op, results);
}

/// The splat factor of `value = x * c` (or `x / c`), with x returned.
std::optional<std::pair<Value, double>> splatFactor(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def || !isa<arith::MulFOp, arith::DivFOp>(def))
    return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    if (isa<arith::DivFOp>(def) && side == 0)
      continue; // only x / c
    FloatAttr c;
    if (!matchPattern(def->getOperand(side), m_Constant(&c))) {
      SplatElementsAttr splat;
      if (!matchPattern(def->getOperand(side), m_Constant(&splat)))
        continue;
      c = dyn_cast<FloatAttr>(splat.getSplatValue<Attribute>());
      if (!c)
        continue;
    }
    double f = c.getValueAsDouble();
    if (!std::isfinite(f) || f == 0.0)
      return std::nullopt;
    if (isa<arith::DivFOp>(def))
      f = 1.0 / f;
    return std::make_pair(def->getOperand(1 - side), f);
  }
  return std::nullopt;
}

/// attention(x * c, k, v) -> attention(x, k, v) {scale = c * scale}; the same
/// for a constant factor on the keys.
struct FoldConstantScale : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto q = splatFactor(op.getQuery());
    auto k = splatFactor(op.getKey());
    if (!q && !k)
      return rewriter.notifyMatchFailure(op, "no constant factor on Q or K");
    double scale = op.getEffectiveScale();
    Value query = op.getQuery(), key = op.getKey();
    if (q) {
      query = q->first;
      scale *= q->second;
    }
    if (k) {
      key = k->first;
      scale *= k->second;
    }
    AttentionOp newOp = rebuild(rewriter, op, query, key, op.getMask(), true);
    newOp.setScaleAttr(rewriter.getF64FloatAttr(scale));
    replace(rewriter, op, newOp);
    return success();
  }
};

/// A mask that masks nothing: all-zero float, all-true bool, covering every
/// key (a shorter mask masks the keys it does not cover).
struct DropNeutralMask : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Value mask = op.getMask();
    SplatElementsAttr splat;
    if (!mask || !matchPattern(mask, m_Constant(&splat)))
      return rewriter.notifyMatchFailure(op, "no constant splat mask");
    int64_t keys = cast<RankedTensorType>(mask.getType()).getShape().back();
    if (keys == kDyn || keys != op.getShape().kvSeq)
      return rewriter.notifyMatchFailure(op, "mask may not cover every key");
    Attribute value = splat.getSplatValue<Attribute>();
    bool neutral = false;
    if (auto f = dyn_cast<FloatAttr>(value))
      neutral = f.getValue().isZero();
    else if (auto i = dyn_cast<IntegerAttr>(value))
      neutral = i.getValue().isAllOnes();
    if (!neutral)
      return rewriter.notifyMatchFailure(op, "mask masks something");
    replace(rewriter, op,
            rebuild(rewriter, op, op.getQuery(), op.getKey(), Value(), true));
    return success();
  }
};

/// Structured-mask attributes in their simplest equivalent form:
/// softcap 0 removed; window sides that can never exclude a key become -1
/// (unbounded), a window (-1, -1) is dropped, a window (-1, 0) is `causal`,
/// and an alignment or query offset with no structured mask to place is
/// dropped.
struct SimplifyStructuredMask : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    bool dropSoftcap = op.getSoftcap() && op.getEffectiveSoftcap() == 0.0;
    bool causal = op.getCausal();
    std::optional<std::pair<int64_t, int64_t>> window;
    if (auto w = op.getWindow()) {
      int64_t left = (*w)[0], right = (*w)[1];
      AttentionShape s = op.getShape();
      bool bottomRight = op.getEffectiveAlignment() == Alignment::BottomRight;
      // Positions p = i + off over the valid keys [0, L), L <= Skv:
      // top-left p in [0, Sq - 1]; bottom-right p in [L - Sq, L - 1];
      // a static offset p in [off, off + Sq - 1]. A left side of at least
      // max(p) and a right side of at least Skv - 1 - min(p) exclude nothing.
      int64_t maxPos = bottomRight ? s.kvSeq : s.querySeq;
      int64_t rightNeeded = bottomRight ? s.querySeq : s.kvSeq;
      if (auto off = op.getQueryOffset()) {
        maxPos = s.querySeq == kDyn ? kDyn : *off + s.querySeq;
        rightNeeded = s.kvSeq == kDyn ? kDyn : s.kvSeq - *off;
      }
      if (op.getQueryOffsets())
        maxPos = rightNeeded = kDyn; // positions known at run time only
      if (left >= 0 && maxPos != kDyn && left >= maxPos - 1)
        left = -1;
      if (right >= 0 && ((rightNeeded != kDyn && right >= rightNeeded - 1) ||
                         causal || op.getBranches()))
        right = -1; // causality already bounds the keys on the right
      if (left == -1 && right == 0 && !op.getBranches()) {
        causal = true;
        right = -1;
      }
      if (left != -1 || right != -1)
        window = std::make_pair(left, right);
    }
    bool windowChanged =
        op.getWindow() && (!window || window->first != (*op.getWindow())[0] ||
                           window->second != (*op.getWindow())[1]);
    bool unplaced = !causal && !window && !op.getBranches() && !op.getWindowBranch();
    bool dropAlignment = unplaced && (op.getAlignment() || op.getQueryOffset());
    bool dropOffsets = unplaced && op.getQueryOffsets();
    if (!dropSoftcap && !windowChanged && !dropAlignment && !dropOffsets &&
        causal == op.getCausal())
      return rewriter.notifyMatchFailure(op, "already simplest");
    if (dropOffsets) {
      AttentionOp newOp = rebuild(rewriter, op, op.getQuery(), op.getKey(),
                                  op.getMask(), true, false);
      replace(rewriter, op, newOp);
      op = newOp;
    }
    rewriter.modifyOpInPlace(op, [&] {
      if (dropSoftcap)
        op.removeSoftcapAttr();
      op.setCausal(causal);
      if (!window)
        op.removeWindowAttr();
      else
        op.setWindow(ArrayRef<int64_t>{window->first, window->second});
      if (dropAlignment) {
        op.removeAlignmentAttr();
        op.removeQueryOffsetAttr();
      }
    });
    return success();
  }
};

/// q, k and v all transposed from [B, S, H, D] to [B, H, S, D] (as importers
/// write multi-head attention): read the [B, S, H, D] tensors in place with
/// layout bshd. The output comes back in the query's layout, [B, S, H, Dv],
/// and is transposed for the users (which cancels against a transpose back
/// to [B, S, H, D], the usual next op).
struct FoldLayoutTransposes : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getWindowBranch())
      return rewriter.notifyMatchFailure(op, "a fused window branch (folded before fusion)");
    if (op.getEffectiveLayout() != Layout::BHSD)
      return rewriter.notifyMatchFailure(op, "not in the canonical layout");
    const int64_t swap[] = {0, 2, 1, 3};
    SmallVector<Value> sources;
    for (Value x : {op.getQuery(), op.getKey(), op.getValue()}) {
      auto t = x.getDefiningOp<linalg::TransposeOp>();
      if (!t || t.getPermutation() != ArrayRef<int64_t>(swap))
        return rewriter.notifyMatchFailure(op, "operands are not [B, S, H, D] transposed");
      sources.push_back(t.getInput());
    }
    auto outType = op.getOutput().getType();
    auto shape = outType.getShape();
    auto bshd = RankedTensorType::get({shape[0], shape[2], shape[1], shape[3]},
                                      outType.getElementType());
    auto folded = cast<AttentionOp>(rewriter.clone(*op.getOperation()));
    rewriter.modifyOpInPlace(folded, [&] {
      folded.getQueryMutable().assign(sources[0]);
      folded.getKeyMutable().assign(sources[1]);
      folded.getValueMutable().assign(sources[2]);
      folded.getOutput().setType(bshd);
      folded.setLayout(Layout::BSHD);
    });
    Location loc = op.getLoc();
    SmallVector<Value> dynamic;
    for (int64_t i = 0; i < 4; ++i)
      if (outType.isDynamicDim(i))
        dynamic.push_back(tensor::DimOp::create(rewriter, loc, folded.getOutput(), swap[i]));
    Value init = tensor::EmptyOp::create(rewriter, loc, outType.getShape(),
                                         outType.getElementType(), dynamic);
    auto back = linalg::TransposeOp::create(rewriter, loc, folded.getOutput(), init,
                                            ArrayRef<int64_t>(swap));
    SmallVector<Value> results = {back->getResult(0)};
    if (op.getLse())
      results.push_back(folded.getLse());
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// q, k and v in layout bshd, all split from [B, S, H*D] by expand_shape
/// (an importer's projection output): read the packed tensors in place with
/// layout packed and num_heads = [Hq, Hkv]. The output comes back packed and
/// is split for the users (which cancels against the usual collapse back).
struct FoldPackedHeads : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getWindowBranch())
      return rewriter.notifyMatchFailure(op, "a fused window branch (folded before fusion)");
    if (op.getEffectiveLayout() != Layout::BSHD)
      return rewriter.notifyMatchFailure(op, "not in layout bshd");
    SmallVector<Value> sources;
    SmallVector<int64_t> heads;
    for (Value x : {op.getQuery(), op.getKey(), op.getValue()}) {
      auto split = x.getDefiningOp<tensor::ExpandShapeOp>();
      if (!split || split.getSrcType().getRank() != 3 ||
          split.getReassociationIndices()[2] != ReassociationIndices{2, 3})
        return rewriter.notifyMatchFailure(op, "operands are not split from [B, S, H*D]");
      int64_t h = split.getResultType().getDimSize(2);
      if (h == kDyn)
        return rewriter.notifyMatchFailure(op, "head count is dynamic");
      sources.push_back(split.getSrc());
      heads.push_back(h);
    }
    auto outType = op.getOutput().getType();
    auto shape = outType.getShape();
    int64_t hd = shape[3] == kDyn ? kDyn : shape[2] * shape[3];
    auto packed = RankedTensorType::get({shape[0], shape[1], hd}, outType.getElementType());
    auto folded = cast<AttentionOp>(rewriter.clone(*op.getOperation()));
    rewriter.modifyOpInPlace(folded, [&] {
      folded.getQueryMutable().assign(sources[0]);
      folded.getKeyMutable().assign(sources[1]);
      folded.getValueMutable().assign(sources[2]);
      folded.getOutput().setType(packed);
      folded.setLayout(Layout::Packed);
      folded.setNumHeads(ArrayRef<int64_t>{heads[0], heads[1]});
    });
    SmallVector<ReassociationIndices> groups = {{0}, {1}, {2, 3}};
    Value split = tensor::ExpandShapeOp::create(rewriter, op.getLoc(), outType,
                                                folded.getOutput(), groups);
    SmallVector<Value> results = {split};
    if (op.getLse())
      results.push_back(folded.getLse());
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct RemoveUnusedLse : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getLse() || !op.getLse().use_empty())
      return rewriter.notifyMatchFailure(op, "lse absent or used");
    replace(rewriter, op,
            rebuild(rewriter, op, op.getQuery(), op.getKey(), op.getMask(),
                    false));
    return success();
  }
};
} // namespace

void AttentionOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<FoldConstantScale, DropNeutralMask, SimplifyStructuredMask,
               FoldLayoutTransposes, FoldPackedHeads, RemoveUnusedLse>(context);
}
