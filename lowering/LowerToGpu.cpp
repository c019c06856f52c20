//===- LowerToGpu.cpp - attn-lower-to-gpu ---------------------------------===//
#include "lowering/GpuKernel.h"
#include "lowering/Passes.h"

#define DEBUG_TYPE "attn-lower-to-gpu"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERTOGPU
#include "lowering/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct LowerToGpu : mlir::attn::impl::AttnLowerToGpuBase<LowerToGpu> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<Target> wanted;
    if (!chip.empty() && !(wanted = symbolizeTarget(chip))) {
      module.emitError() << "attn-lower-to-gpu: unknown chip '" << chip
                         << "' (use sm_80 or sm_90)";
      return signalPassFailure();
    }
    auto gpuKernel = getContext().getLoadedDialect<AttnDialect>()->getGpuKernelAttrHelper();
    // `spec`'s kernel, in one gpu.module per kernel named after it (one
    // artefact each), named on `op` for the host side.
    auto lower = [&](Operation *op, const KernelSpec &spec) {
      std::string name = spec.name();
      auto kernels = module.lookupSymbol<gpu::GPUModuleOp>(name);
      if (!kernels) {
        OpBuilder b(module.getBodyRegion());
        kernels = gpu::GPUModuleOp::create(b, module.getLoc(), name);
        module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        b.getUnitAttr());
      }
      gpu::GPUFuncOp kernel = getOrCreateGpuKernel(kernels, spec);
      gpuKernel.setAttr(op, SymbolRefAttr::get(kernels.getNameAttr(),
                                               {FlatSymbolRefAttr::get(kernel.getNameAttr())}));
    };
    WalkResult result = module.walk([&](AttentionOp op) {
      if (auto plan = op.getTilePlan()) {
        Target target = plan->getTarget();
        if (target == Target::CPU || (wanted && target != *wanted)) {
          op.emitOpError() << "has a tile plan for " << stringifyTarget(target)
                           << ", but the kernels are generated for "
                           << (wanted ? stringifyTarget(*wanted) : "a GPU")
                           << "; drop the tile_plan to re-plan, or compile for "
                           << stringifyTarget(target);
          return WalkResult::interrupt();
        }
      }
      FailureOr<KernelSpec> spec = KernelSpec::get(op);
      if (failed(spec))
        return WalkResult::interrupt();
      lower(op, *spec);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    // Selections by softmax_prob(_max) and mean_key: their selection
    // kernels, planned here for the chip (no tile_plan on the op).
    result = module.walk([&](SelectBlocksOp op) {
      if (op.getSelection().method == ::attn::rt::ScoreMethod::KeyBound)
        return WalkResult::advance(); // no GPU kernel: left as it is
      if (!wanted) {
        op.emitOpError() << "attn-lower-to-gpu plans selection kernels for "
                            "one chip: pass chip=sm_80 or chip=sm_90";
        return WalkResult::interrupt();
      }
      FailureOr<KernelSpec> spec = KernelSpec::getSelection(op, targetOf(*wanted));
      if (failed(spec))
        return WalkResult::interrupt();
      lower(op, *spec);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
