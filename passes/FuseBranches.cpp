//===- FuseBranches.cpp - attn-fuse-branches ------------------------------===//
//
// A block-sparse and a sliding-window attention of the same inputs into one
// attention with a window branch (see Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNFUSEBRANCHES
#include "passes/Passes.h.inc"

namespace {
/// Whether `sparse` and `window` differ only in their block list and window.
bool sameExceptMasks(AttentionOp sparse, AttentionOp window) {
  if (!llvm::equal(sparse->getOperands().drop_back(), window->getOperands()))
    return false;
  AttentionOp::Properties a = sparse.getProperties(), b = window.getProperties();
  a.block_sizes = b.block_sizes;
  a.window = b.window;
  a.operandSegmentSizes = b.operandSegmentSizes;
  a.resultSegmentSizes = b.resultSegmentSizes;
  return a == b;
}

/// Whether some user of `op` sits before `at` in `op`'s block (the fused
/// op, created at `at`, would not dominate it).
bool usedBefore(Operation *op, Operation *at) {
  for (Operation *user : op->getUsers()) {
    Operation *ancestor = op->getBlock()->findAncestorOpInBlock(*user);
    if (!ancestor || ancestor == at || ancestor->isBeforeInBlock(at))
      return true;
  }
  return false;
}

/// The query length's axis (the layouts put it second or third).
int64_t seqAxis(AttentionOp op) {
  return op.getEffectiveLayout() == Layout::BHSD ? 2 : 1;
}

/// The fused op for `sparse` and `window`, built by `b`: its results stand
/// for sparse's output, [lse] and window's output.
SmallVector<Value> createFused(OpBuilder &b, AttentionOp sparse, AttentionOp window) {
  OperationState state(sparse.getLoc(), sparse->getName());
  state.addOperands(sparse->getOperands());
  state.addTypes(sparse.getOutput().getType());
  if (sparse.getLse())
    state.addTypes(sparse.getLse().getType());
  state.addTypes(window.getOutput().getType());
  AttentionOp::Properties props = sparse.getProperties();
  props.window_branch = window.getWindowAttr();
  props.resultSegmentSizes = {1, sparse.getLse() ? 1 : 0, 1};
  state.useProperties(props);
  for (NamedAttribute attr : sparse->getDiscardableAttrs())
    state.addAttribute(attr.getName(), attr.getValue());
  return SmallVector<Value>(b.create(state)->getResults());
}

/// Static query lengths below `maxQueries` get the fused op; dynamic ones
/// an scf.if on the length, the fused op on one side and the pair on the
/// other.
void fuse(AttentionOp sparse, AttentionOp window, int64_t maxQueries) {
  Operation *later = sparse->isBeforeInBlock(window) ? window : sparse;
  OpBuilder b(later);
  Location loc = sparse.getLoc();
  SmallVector<Value> pair = {sparse.getOutput()};
  if (sparse.getLse())
    pair.push_back(sparse.getLse());
  pair.push_back(window.getOutput());
  Value query = sparse.getQuery();
  if (!cast<RankedTensorType>(query.getType()).isDynamicDim(seqAxis(sparse))) {
    for (auto [from, to] : llvm::zip(pair, createFused(b, sparse, window)))
      from.replaceAllUsesWith(to);
    sparse.erase();
    window.erase();
    return;
  }
  Value queries = tensor::DimOp::create(b, loc, query, seqAxis(sparse));
  Value fewer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, queries,
                                      arith::ConstantIndexOp::create(b, loc, maxQueries));
  auto branch = scf::IfOp::create(b, loc, ValueRange(pair).getTypes(), fewer,
                                  /*withElseRegion=*/true);
  for (auto [from, to] : llvm::zip(pair, branch.getResults()))
    from.replaceAllUsesWith(to);
  OpBuilder then = branch.getThenBodyBuilder();
  scf::YieldOp::create(then, loc, createFused(then, sparse, window));
  OpBuilder otherwise = branch.getElseBodyBuilder();
  auto yield = scf::YieldOp::create(otherwise, loc, pair);
  sparse->moveBefore(yield);
  window->moveBefore(yield);
}

/// Whether `op` is on the long side of an earlier fusion (an scf.if whose
/// other side holds the fused op), so running the pass twice changes
/// nothing.
bool alreadyFused(AttentionOp op) {
  auto branch = dyn_cast<scf::IfOp>(op->getParentOp());
  if (!branch || op->getParentRegion() != &branch.getElseRegion())
    return false;
  bool fused = false;
  branch.getThenRegion().walk([&](AttentionOp a) { fused |= bool(a.getWindowBranch()); });
  return fused;
}

struct FuseBranches : impl::AttnFuseBranchesBase<FuseBranches> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<AttentionOp> sparse, windows;
    getOperation()->walk([&](AttentionOp op) {
      if (op.getTilePlan() || op.getWindowBranch() || alreadyFused(op))
        return;
      if (op.getBlockIndices() && !op.getWindow())
        sparse.push_back(op);
      else if (!op.getBlockIndices() && op.getWindow() && !op.getLse())
        windows.push_back(op);
    });
    SmallVector<std::pair<AttentionOp, AttentionOp>> pairs;
    llvm::SmallPtrSet<Operation *, 8> taken;
    for (AttentionOp s : sparse)
      for (AttentionOp w : windows) {
        if (taken.contains(w) || s->getBlock() != w->getBlock() || !sameExceptMasks(s, w))
          continue;
        // Prefill keeps the pair (see Passes.td).
        int64_t queries =
            cast<RankedTensorType>(s.getQuery().getType()).getDimSize(seqAxis(s));
        if (!ShapedType::isDynamic(queries) && queries >= maxQueries)
          continue;
        bool sFirst = s->isBeforeInBlock(w);
        Operation *earlier = sFirst ? s.getOperation() : w.getOperation();
        Operation *later = sFirst ? w.getOperation() : s.getOperation();
        // The fused op takes the later one's place, where every operand of
        // both is defined; the earlier one's users must come after it.
        if (usedBefore(earlier, later))
          continue;
        taken.insert(w);
        pairs.push_back({s, w});
        break;
      }
    for (auto [s, w] : pairs)
      fuse(s, w, maxQueries);
  }
};
} // namespace
} // namespace mlir::attn
