//===- BalanceParallelLoops.cpp - attn-balance-parallel-loops -------------===//
#include "dialects/AttnDialect.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#define DEBUG_TYPE "attn-balance-parallel-loops"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNBALANCEPARALLELLOOPS
#include "lowering/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct BalanceParallelLoops
    : mlir::attn::impl::AttnBalanceParallelLoopsBase<BalanceParallelLoops> {
  void runOnOperation() override {
    mlir::attn::AttnDialect::KernelAttrHelper kernel(&getContext());
    getOperation().walk([&](func::FuncOp func) {
      if (!kernel.isAttrPresent(func))
        return;
      func.walk([](omp::WsloopOp loop) {
        loop.setScheduleKind(omp::ClauseScheduleKind::Dynamic);
        // chunk = max(1, tasks / 256), tasks = the product of trip counts.
        auto nest = dyn_cast<omp::LoopNestOp>(loop.getWrappedLoop());
        if (!nest || nest.getLoopInclusive())
          return;
        ImplicitLocOpBuilder b(loop.getLoc(), loop);
        Type type = nest.getLoopLowerBounds().front().getType();
        auto constant = [&](int64_t v) {
          return arith::ConstantOp::create(b, b.getIntegerAttr(type, v)).getResult();
        };
        Value tasks = constant(1);
        for (auto [lo, hi, step] : llvm::zip(nest.getLoopLowerBounds(),
                                             nest.getLoopUpperBounds(), nest.getLoopSteps())) {
          Value span = arith::MaxSIOp::create(b, arith::SubIOp::create(b, hi, lo), constant(0));
          tasks = arith::MulIOp::create(b, tasks, arith::CeilDivUIOp::create(b, span, step));
        }
        Value chunk = arith::MaxSIOp::create(
            b, arith::DivUIOp::create(b, tasks, constant(256)), constant(1));
        loop.getScheduleChunkMutable().assign(chunk);
      });
    });
  }
};
} // namespace
