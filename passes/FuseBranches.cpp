//===- FuseBranches.cpp - attn-fuse-branches ------------------------------===//
//
// A block-sparse and a sliding-window attention of the same inputs into one
// attention with a window branch (see Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

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

void fuse(AttentionOp sparse, AttentionOp window) {
  Operation *later = sparse->isBeforeInBlock(window) ? window : sparse;
  OpBuilder b(later);
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
  auto fused = cast<AttentionOp>(b.create(state));
  sparse.getOutput().replaceAllUsesWith(fused.getOutput());
  if (sparse.getLse())
    sparse.getLse().replaceAllUsesWith(fused.getLse());
  window.getOutput().replaceAllUsesWith(fused.getWindowOutput());
  sparse.erase();
  window.erase();
}

struct FuseBranches : impl::AttnFuseBranchesBase<FuseBranches> {
  void runOnOperation() override {
    SmallVector<AttentionOp> sparse, windows;
    getOperation()->walk([&](AttentionOp op) {
      if (op.getTilePlan() || op.getWindowBranch())
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
      fuse(s, w);
  }
};
} // namespace
} // namespace mlir::attn
