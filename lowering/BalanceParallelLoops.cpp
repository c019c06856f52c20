//===- BalanceParallelLoops.cpp - attn-balance-parallel-loops -------------===//
#include "dialects/AttnDialect.h"
#include "lowering/Passes.h"

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
      });
    });
  }
};
} // namespace
