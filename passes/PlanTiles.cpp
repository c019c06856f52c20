//===- PlanTiles.cpp - attn-plan-tiles ------------------------------------===//
#include "passes/Passes.h"
#include "passes/TilePlanner.h"

#define DEBUG_TYPE "attn-plan-tiles"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNPLANTILES
#include "passes/Passes.h.inc"

namespace {
struct PlanTiles : impl::AttnPlanTilesBase<PlanTiles> {
  using Base::Base;
  void runOnOperation() override {
    std::optional<Target> parsed = parseTarget(target);
    if (!parsed) {
      getOperation()->emitError() << "attn-plan-tiles: unknown target '"
                                  << target << "' (use cpu, sm_80 or sm_90)";
      return signalPassFailure();
    }
    WalkResult result = getOperation()->walk([&](AttentionOp op) {
      if (op.getTilePlan())
        return WalkResult::advance();
      FailureOr<TilePlanAttr> plan = planTiles(op, *parsed);
      if (failed(plan))
        return WalkResult::interrupt();
      op.setTilePlanAttr(*plan);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::attn
