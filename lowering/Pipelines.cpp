//===- Pipelines.cpp - named pass pipelines -------------------------------===//
#include "lowering/Passes.h"
#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::attn::buildAttnToCpuPipeline(OpPassManager &pm) {
  pm.addPass(createAttnDecompose());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  // NSA's selected and window branches: one kernel, one pass over K/V.
  pm.addPass(createAttnFuseBranches());
  AttnPlanTilesOptions plan;
  plan.target = "cpu";
  pm.addPass(createAttnPlanTiles(plan));
  pm.addPass(createAttnLowerToCpu());
  pm.addPass(createCanonicalizerPass());
  // One compression of K where NSA's compressed branch and its selection
  // both pool it (identical linalg ops on tensors).
  pm.addPass(createCSEPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.unknownTypeConversion = bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  // Buffers yielded out of nested scf.if (a switch per batch element) come
  // back as bufferization.clone: an alloc and a copy.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createAttnStridedCopiesToLinalg());

  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createAttnOutlineLoops());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createAttnBalanceParallelLoops());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToLLVMPass());
  // Lowers the alloca scopes of the OpenMP loop bodies while they still hold
  // one block each (before scf-to-cf splits them).
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createAttnSplitLoopBlocks());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::attn::buildGpuModulesToNvvmPipeline(OpPassManager &pm,
                                                StringRef chip) {
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createConvertNVVMToLLVMPass()); // inline PTX -> llvm.inline_asm
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = chip.str();
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
}

void mlir::attn::buildAttnToNvvmPipeline(OpPassManager &pm, StringRef chip) {
  pm.addPass(createCanonicalizerPass());
  AttnPlanTilesOptions plan;
  plan.target = chip.str();
  pm.addPass(createAttnPlanTiles(plan));
  AttnLowerToGpuOptions lower;
  lower.chip = chip.str();
  pm.addPass(createAttnLowerToGpu(lower));
  buildGpuModulesToNvvmPipeline(pm, chip);
}

namespace {
struct NvvmPipelineOptions : PassPipelineOptions<NvvmPipelineOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("sm_80 or sm_90"),
                           llvm::cl::init("sm_80")};
};
} // namespace

void mlir::attn::registerAttnPipelines() {
  PassPipelineRegistration<NvvmPipelineOptions>(
      "attn-to-nvvm",
      "generate fused GPU kernels and lower them to the LLVM/NVVM dialects",
      [](OpPassManager &pm, const NvvmPipelineOptions &options) {
        buildAttnToNvvmPipeline(pm, options.chip);
      });
  PassPipelineRegistration<>(
      "attn-to-cpu",
      "lower attention to fused CPU kernels and everything to the LLVM dialect",
      buildAttnToCpuPipeline);
}
