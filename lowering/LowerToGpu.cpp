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
      // One gpu.module per kernel, named after it: one artefact each.
      std::string name = spec->name();
      auto kernels = module.lookupSymbol<gpu::GPUModuleOp>(name);
      if (!kernels) {
        OpBuilder b(module.getBodyRegion());
        kernels = gpu::GPUModuleOp::create(b, module.getLoc(), name);
        module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        b.getUnitAttr());
      }
      gpu::GPUFuncOp kernel = getOrCreateGpuKernel(kernels, *spec);
      gpuKernel.setAttr(op, SymbolRefAttr::get(kernels.getNameAttr(),
                                               {FlatSymbolRefAttr::get(kernel.getNameAttr())}));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
