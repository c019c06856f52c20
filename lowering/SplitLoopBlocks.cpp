//===- SplitLoopBlocks.cpp - attn-split-loop-blocks -----------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSPLITLOOPBLOCKS
#include "lowering/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct SplitLoopBlocks
    : mlir::attn::impl::AttnSplitLoopBlocksBase<SplitLoopBlocks> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp func) {
      if (func.isExternal())
        return;
      SmallVector<Operation *> loops;
      for (Block &block : func.getBody())
        for (Operation &op : block)
          if (isa<scf::ForOp, scf::WhileOp, scf::IfOp>(op))
            loops.push_back(&op);
      // Last first: each split then moves only the ops up to the next loop.
      for (Operation *loop : llvm::reverse(loops)) {
        Block *block = loop->getBlock();
        Operation *next = loop->getNextNode();
        if (!next || next->hasTrait<OpTrait::IsTerminator>())
          continue;
        Block *rest = block->splitBlock(next);
        OpBuilder b = OpBuilder::atBlockEnd(block);
        cf::BranchOp::create(b, loop->getLoc(), rest);
      }
    });
  }
};
} // namespace
