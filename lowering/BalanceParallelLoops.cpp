//===- BalanceParallelLoops.cpp - attn-balance-parallel-loops -------------===//
#include "lowering/Passes.h"

#define DEBUG_TYPE "attn-balance-parallel-loops"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNBALANCEPARALLELLOOPS
#include "lowering/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct BalanceParallelLoops
    : attn::impl::AttnBalanceParallelLoopsBase<BalanceParallelLoops> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp func) {
      if (!func->hasAttr("attn.kernel"))
        return;
      func.walk([](omp::WsloopOp loop) {
        loop.setScheduleKind(omp::ClauseScheduleKind::Dynamic);
      });
    });
  }
};
} // namespace
