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
struct LowerToGpu : attn::impl::AttnLowerToGpuBase<LowerToGpu> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    WalkResult result = module.walk([&](AttentionOp op) {
      FailureOr<KernelSpec> spec = KernelSpec::get(op);
      if (failed(spec))
        return WalkResult::interrupt();
      if (spec->plan.getTarget() == Target::CPU) {
        op.emitOpError() << "attn-lower-to-gpu needs an sm_80 or sm_90 tile "
                            "plan, got cpu";
        return WalkResult::interrupt();
      }
      // One gpu.module per kernel, named after it: one artefact each.
      std::string name = describeGpuKernel(*spec).name;
      auto kernels = module.lookupSymbol<gpu::GPUModuleOp>(name);
      if (!kernels) {
        OpBuilder b(module.getBodyRegion());
        kernels = gpu::GPUModuleOp::create(b, module.getLoc(), name);
        module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        b.getUnitAttr());
      }
      gpu::GPUFuncOp kernel = getOrCreateGpuKernel(kernels, *spec);
      op->setAttr("attn.gpu_kernel",
                  SymbolRefAttr::get(kernels.getNameAttr(),
                                     {FlatSymbolRefAttr::get(kernel.getNameAttr())}));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
