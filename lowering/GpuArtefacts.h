//===- GpuArtefacts.h - GPU kernels to files a runtime loads ----*- C++ -*-===//
//
// The GPU side of the compiler as a library: plans every attention of a
// module for a chip, generates each distinct kernel once, emits PTX with
// LLVM's NVPTX backend, assembles it with ptxas (once per kernel), re-plans
// a kernel that spills registers, and writes per kernel NAME.ptx,
// NAME.cubin, NAME.json (docs/artefacts.md), NAME.h and NAME.ptxas.log.
//
// Files appear whole or not at all: each is written to a temporary name and
// renamed once the kernel's set is complete. ptxas runs are cached on disk,
// keyed by the PTX text (which names the kernel and its whole config, and
// is what LLVM made of it) and the ptxas binary, so a re-run or another
// module with the same kernel skips the slow step.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LOWERING_GPUARTEFACTS_H
#define ATTN_LOWERING_GPUARTEFACTS_H

#include "lowering/KernelSpec.h"
#include "runtime/KernelArtefact.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mlir::attn {

struct GpuArtefactOptions {
  Target chip = Target::SM80;
  std::string outputDir;
  /// ptxas results are cached here; "" disables the cache.
  std::string cacheDir;
  /// Keep every plan even when its kernel spills (to measure a plan).
  /// Pinned plans (a tile_plan written in the input) are always kept.
  bool keepPlans = false;
  /// "[n/N] NAME ..." lines while compiling; null for none.
  llvm::raw_ostream *progress = nullptr;
};

struct GpuArtefact {
  KernelSpec spec; // as compiled (after any re-plan)
  ::attn::rt::PtxasFigures ptxas;
  int64_t sharedBytes = 0;
  bool cached = false; // ptxas's output came from the cache
};

/// The ptxas binary: $PTXAS, else $CUDA_PATH/bin/ptxas, else
/// /usr/local/cuda/bin/ptxas.
std::string ptxasPath();

/// The default cache folder: $ATTN_CACHE_DIR, else $XDG_CACHE_HOME/attn,
/// else $HOME/.cache/attn ("" when none is set).
std::string defaultGpuCacheDir();

/// Compiles the kernels of every attention op in `module` (whose ops get
/// their final tile plans) and writes their artefacts. Returns them in
/// first-use order, or failure after a diagnostic on the offending op or
/// the module (a ptxas failure carries ptxas's log).
FailureOr<std::vector<GpuArtefact>>
compileGpuArtefacts(ModuleOp module, const GpuArtefactOptions &options);

} // namespace mlir::attn

#endif // ATTN_LOWERING_GPUARTEFACTS_H
