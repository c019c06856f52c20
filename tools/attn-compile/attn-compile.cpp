//===- attn-compile.cpp - GPU kernels to PTX, cubin and metadata ----------===//
//
//   attn-compile in.mlir --target=sm_80|sm_90 -o DIR [--report]
//
// Writes, per kernel of the module's attention ops, NAME.ptx, NAME.cubin,
// NAME.json (Triton's cache layout plus the launch ABI, docs/artefacts.md),
// NAME.h and NAME.ptxas.log; the work is lowering/GpuArtefacts.h's.
// ptxas is $PTXAS, else $CUDA_PATH/bin/ptxas, else /usr/local/cuda/bin/ptxas.
//
//===----------------------------------------------------------------------===//
#include "lowering/GpuArtefacts.h"
#include "tools/Registration.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("attn-compile options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<in.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<mlir::attn::Target> target(
    "target", cl::desc("the GPU to compile for"), cl::init(mlir::attn::Target::SM80),
    cl::values(clEnumValN(mlir::attn::Target::SM80, "sm_80", "A100 and later"),
               clEnumValN(mlir::attn::Target::SM90, "sm_90", "H100, H200")),
    cl::cat(category));
static cl::opt<std::string> outputDir("o", cl::desc("output folder"),
                                      cl::value_desc("dir"), cl::Required,
                                      cl::cat(category));
static cl::opt<std::string> cacheDir(
    "cache-dir", cl::init(mlir::attn::defaultGpuCacheDir()), cl::value_desc("dir"),
    cl::desc("where ptxas results are cached (\"\" for no cache; default "
             "$ATTN_CACHE_DIR, else $XDG_CACHE_HOME/attn or ~/.cache/attn)"),
    cl::cat(category));
static cl::opt<bool> keepPlans(
    "keep-plans", cl::desc("never re-plan a kernel that spills (to measure a plan)"),
    cl::cat(category));
static cl::opt<bool> report("report", cl::desc("print a markdown row per kernel"),
                            cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("no progress lines on stderr"),
                           cl::cat(category));

static int fail(const Twine &message) {
  llvm::errs() << "attn-compile: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "compile the attention kernels of a module for "
                              "an NVIDIA GPU (PTX, cubin, JSON, C header)\n");
  DialectRegistry registry;
  mlir::attn::registerDialects(registry);
  MLIRContext context(registry);
  // Errors and warnings, one line each, as MLIR prints errors by default
  // (it drops warnings: those of ops without a GPU kernel matter here).
  context.getDiagEngine().registerHandler([](Diagnostic &d) {
    if (d.getSeverity() != DiagnosticSeverity::Error &&
        d.getSeverity() != DiagnosticSeverity::Warning)
      return success();
    auto &os = llvm::errs();
    if (auto at = dyn_cast<FileLineColLoc>(d.getLocation()))
      os << at.getFilename().getValue() << ":" << at.getLine() << ":"
         << at.getColumn() << ": ";
    else if (!isa<UnknownLoc>(d.getLocation()))
      os << d.getLocation() << ": ";
    os << (d.getSeverity() == DiagnosticSeverity::Error ? "error: " : "warning: ")
       << d << "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(inputFile, &context);
  if (!module)
    return fail("cannot parse " + inputFile + " (see the error above)");

  mlir::attn::GpuArtefactOptions options;
  options.chip = target;
  options.outputDir = outputDir;
  options.cacheDir = cacheDir;
  options.keepPlans = keepPlans;
  options.progress = quiet ? nullptr : &llvm::errs();
  FailureOr<std::vector<mlir::attn::GpuArtefact>> kernels =
      mlir::attn::compileGpuArtefacts(*module, options);
  if (failed(kernels))
    return fail("compilation failed (see the error above)");
  if (kernels->empty())
    return fail("no attention ops in " + inputFile);
  for (const mlir::attn::GpuArtefact &k : *kernels) {
    if (report)
      llvm::outs() << "| " << k.spec.name() << " | " << k.ptxas.registers
                   << " | " << k.ptxas.spillBytes << " | " << k.sharedBytes
                   << " |\n";
    else
      llvm::outs() << k.spec.name() << ": " << k.ptxas.registers
                   << " registers, " << k.ptxas.spillBytes << " spill bytes, "
                   << k.sharedBytes << " bytes of shared memory"
                   << (k.cached ? " (ptxas output from the cache)\n" : "\n");
  }
  return 0;
}
