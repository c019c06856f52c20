//===- GpuArtefacts.cpp - GPU kernels to files a runtime loads ------------===//
#include "lowering/GpuArtefacts.h"
#include "lowering/GpuKernel.h"
#include "lowering/GpuTileLayout.h"
#include "lowering/Passes.h"
#include "passes/Passes.h"
#include "passes/TilePlanner.h"

#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/xxhash.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;
using namespace mlir::attn;
namespace rt = ::attn::rt;
namespace fs = llvm::sys::fs;

std::string mlir::attn::ptxasPath() {
  if (const char *p = std::getenv("PTXAS"))
    return p;
  const char *cuda = std::getenv("CUDA_PATH");
  return std::string(cuda ? cuda : "/usr/local/cuda") + "/bin/ptxas";
}

std::string mlir::attn::defaultGpuCacheDir() {
  if (const char *dir = std::getenv("ATTN_CACHE_DIR"))
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/attn";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/attn";
  return "";
}

namespace {

/// Registers, spill bytes (stores plus loads) and the log of `ptxas -v`.
rt::PtxasFigures parsePtxasLog(StringRef log) {
  rt::PtxasFigures f;
  f.log = log.str();
  SmallVector<StringRef> m;
  if (llvm::Regex("Used ([0-9]+) registers").match(log, &m))
    m[1].getAsInteger(10, f.registers);
  if (llvm::Regex("([0-9]+) bytes spill stores, ([0-9]+) bytes spill loads")
          .match(log, &m)) {
    int64_t stores = 0, loads = 0;
    m[1].getAsInteger(10, stores);
    m[2].getAsInteger(10, loads);
    f.spillBytes = stores + loads;
  }
  return f;
}

std::optional<std::string> readFile(const Twine &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  return (*buffer)->getBuffer().str();
}

/// Writes `bytes` to a fresh file next to `path`; returns its name, or ""
/// with `error` set.
std::string writeTemporary(StringRef path, StringRef bytes, std::string &error) {
  int fd;
  SmallString<256> temp;
  if (std::error_code ec = fs::createUniqueFile(path + ".tmp-%%%%%%", fd, temp)) {
    error = "cannot write " + path.str() + ": " + ec.message();
    return "";
  }
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  os << bytes;
  os.close();
  if (os.has_error()) {
    error = "cannot write " + path.str() + ": " + os.error().message();
    os.clear_error();
    fs::remove(temp);
    return "";
  }
  return temp.str().str();
}

/// Writes every (path, bytes) pair, all or none: temporaries first, then
/// renames.
std::string writeAll(ArrayRef<std::pair<std::string, std::string>> files) {
  std::string error;
  SmallVector<std::string> temps;
  for (const auto &[path, bytes] : files) {
    std::string temp = writeTemporary(path, bytes, error);
    if (temp.empty())
      break;
    temps.push_back(temp);
  }
  for (size_t i = 0; error.empty() && i < temps.size(); ++i)
    if (std::error_code ec = fs::rename(temps[i], files[i].first))
      error = "cannot write " + files[i].first + ": " + ec.message();
  for (const std::string &temp : temps)
    fs::remove(temp); // a no-op for the renamed ones
  return error;
}

/// The ptxas binary as the cache sees it: path, size and modification time
/// (a different or updated ptxas is a different toolchain).
std::string ptxasIdentity(const std::string &ptxas) {
  fs::file_status st;
  if (fs::status(ptxas, st))
    return ptxas;
  return ptxas + ":" + std::to_string(st.getSize()) + ":" +
         std::to_string(st.getLastModificationTime().time_since_epoch().count());
}

/// One kernel being compiled.
struct Kernel {
  KernelSpec spec;
  bool pinned;                  // the input fixed its tile plan
  SmallVector<Operation *> ops; // that use it (attn.attention, attn.select_blocks)
  std::string ptx, cubin;
  rt::PtxasFigures figures;
  bool cached = false;
};

class Compiler {
public:
  Compiler(ModuleOp module, const GpuArtefactOptions &options)
      : module(module), ctx(module.getContext()), options(options),
        chip(stringifyTarget(options.chip).str()), ptxas(ptxasPath()),
        toolchain(ptxasIdentity(ptxas)) {}

  FailureOr<std::vector<GpuArtefact>> run();

private:
  LogicalResult collect();
  LogicalResult generatePtx(Kernel &k);
  std::string assemble(Kernel &k); // "" or an error with ptxas's log
  bool replan(Kernel &k);
  std::string write(const Kernel &k);
  void progress(size_t i, const Kernel &k, StringRef what) {
    if (options.progress)
      *options.progress << "[" << i + 1 << "/" << kernels.size() << "] "
                        << k.spec.name() << ": " << what << "\n";
  }

  ModuleOp module;
  MLIRContext *ctx;
  const GpuArtefactOptions &options;
  std::string chip, ptxas, toolchain;
  std::vector<Kernel> kernels;
};

LogicalResult Compiler::collect() {
  // Composites (attn.nsa, attn.moba, ...) become primitive ops, so the
  // attention among them gets kernels.
  PassManager canonicalize(ctx);
  canonicalize.addPass(createAttnDecompose());
  canonicalize.addPass(createCanonicalizerPass());
  if (failed(canonicalize.run(module)))
    return failure();
  module.walk([&](CompressOp op) {
    op->emitWarning() << "'" << op->getName()
                      << "' has no GPU kernel yet: attn-compile builds the "
                         "kernels around it; run it on the CPU (attn-run) or "
                         "in the framework that launches them";
  });
  llvm::StringMap<size_t> byName;
  auto add = [&](const KernelSpec &spec, Operation *op, bool pinned) {
    auto [it, added] = byName.try_emplace(spec.name(), kernels.size());
    if (added)
      kernels.push_back(Kernel{spec, pinned, {}, {}, {}, {}, false});
    kernels[it->second].ops.push_back(op);
    kernels[it->second].pinned |= pinned;
  };
  // Selections by softmax_prob(_max) and mean_key: one kernel each (for
  // the former, the attention over the compressed keys, its output and the
  // lists); the keys come pooled (or as block means).
  WalkResult selections = module.walk([&](SelectBlocksOp op) {
    ::attn::rt::ScoreMethod m = op.getSelection().method;
    if (m == ::attn::rt::ScoreMethod::KeyBound) {
      op->emitWarning() << "'" << op->getName()
                        << "' by key_bound has no GPU kernel yet (GPU kernels "
                           "select by softmax_prob, softmax_prob_max and "
                           "mean_key); run it on the CPU (attn-run) or in the "
                           "framework";
      return WalkResult::advance();
    }
    if (m == ::attn::rt::ScoreMethod::MeanKey)
      op->emitWarning() << "the GPU selection kernel by mean_key takes each "
                           "block's mean key (over its valid keys) as its k: "
                           "compute them where the keys are written";
    else if (!op.getCompressedKeys())
      op->emitWarning() << "the GPU selection kernel takes the pooled keys "
                           "as its k: pool them with attn.compress (no GPU "
                           "kernel yet) or keep them with the KV cache and "
                           "pass them as compressed(%kc)";
    FailureOr<KernelSpec> spec = KernelSpec::getSelection(op, targetOf(options.chip));
    if (failed(spec))
      return WalkResult::interrupt();
    add(*spec, op, false);
    return WalkResult::advance();
  });
  if (selections.wasInterrupted())
    return failure();
  WalkResult walk = module.walk([&](AttentionOp op) {
    bool pinned = false;
    if (std::optional<TilePlanAttr> plan = op.getTilePlan()) {
      if (plan->getTarget() != options.chip) {
        op.emitOpError() << "has a tile plan for "
                         << stringifyTarget(plan->getTarget())
                         << ", but the kernels are generated for " << chip
                         << "; drop the tile_plan to re-plan, or compile for "
                         << stringifyTarget(plan->getTarget());
        return WalkResult::interrupt();
      }
      pinned = true;
    } else {
      FailureOr<TilePlanAttr> planned = planTiles(op, options.chip);
      if (failed(planned))
        return WalkResult::interrupt();
      op.setTilePlanAttr(*planned);
    }
    FailureOr<KernelSpec> spec = KernelSpec::get(op);
    if (failed(spec))
      return WalkResult::interrupt();
    add(*spec, op, pinned);
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

LogicalResult Compiler::generatePtx(Kernel &k) {
  Location loc = k.ops.front()->getLoc();
  OwningOpRef<ModuleOp> holder = ModuleOp::create(loc);
  OpBuilder b(holder->getBodyRegion());
  (*holder)->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                     b.getUnitAttr());
  auto kernelModule = gpu::GPUModuleOp::create(b, loc, k.spec.name());
  getOrCreateGpuKernel(kernelModule, k.spec);

  PassManager pm(ctx);
  buildGpuModulesToNvvmPipeline(pm, chip);
  GpuModuleToBinaryPassOptions toPtx;
  toPtx.compilationTarget = "isa"; // PTX from LLVM's NVPTX backend
  pm.addPass(createGpuModuleToBinaryPass(toPtx));
  if (failed(pm.run(*holder)))
    return k.ops.front()->emitOpError() << "kernel " << k.spec.name()
                                       << " did not lower to PTX (see above)";
  auto binary = holder->lookupSymbol<gpu::BinaryOp>(k.spec.name());
  k.ptx = cast<gpu::ObjectAttr>(binary.getObjects()[0]).getObject().str();
  return success();
}

std::string Compiler::assemble(Kernel &k) {
  // The cache entry: the kernel's name, then a hash of everything ptxas
  // sees (its input, its binary, the target).
  std::string entry;
  if (!options.cacheDir.empty()) {
    uint64_t key = llvm::xxh3_64bits(k.ptx + "\n" + toolchain + "\n" + chip);
    entry = options.cacheDir + "/" + k.spec.name() + "-" +
            llvm::utohexstr(key, /*LowerCase=*/true);
    std::optional<std::string> cubin = readFile(entry + ".cubin");
    std::optional<std::string> log = readFile(entry + ".log");
    if (cubin && log && !cubin->empty()) {
      k.cubin = std::move(*cubin);
      k.figures = parsePtxasLog(*log);
      k.cached = true;
      return "";
    }
  }

  if (!fs::can_execute(ptxas))
    return "ptxas not found at " + ptxas + " (set PTXAS or CUDA_PATH)";
  SmallString<128> ptxFile, cubinFile, logFile;
  fs::createTemporaryFile("attn", "ptx", ptxFile);
  fs::createTemporaryFile("attn", "cubin", cubinFile);
  fs::createTemporaryFile("attn", "log", logFile);
  llvm::scope_exit cleanup([&] {
    for (StringRef f : {ptxFile.str(), cubinFile.str(), logFile.str()})
      fs::remove(f);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(ptxFile, ec);
    os << k.ptx;
    if (ec || (os.close(), os.has_error())) {
      os.clear_error();
      return "cannot write a temporary file for ptxas in " +
             std::string(llvm::sys::path::parent_path(ptxFile));
    }
  }
  std::string arch = "-arch=" + chip;
  SmallVector<StringRef> argv = {ptxas, arch, "-O3", "-v", ptxFile, "-o", cubinFile};
  std::optional<StringRef> redirects[] = {std::nullopt, logFile.str(), logFile.str()};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(ptxas, argv, std::nullopt, redirects, 0, 0,
                                     &error);
  std::string log = readFile(logFile).value_or("");
  if (rc != 0)
    return "ptxas failed (exit " + std::to_string(rc) + ")" +
           (error.empty() ? "" : ": " + error) + "\n" + log;
  std::optional<std::string> cubin = readFile(cubinFile);
  if (!cubin || cubin->empty())
    return "ptxas wrote no cubin\n" + log;
  k.cubin = std::move(*cubin);
  k.figures = parsePtxasLog(log);
  k.cached = false;
  // The cache is an optimisation: a folder that cannot be written is not
  // an error.
  if (!entry.empty() && !fs::create_directories(options.cacheDir))
    (void)writeAll({{entry + ".cubin", k.cubin}, {entry + ".log", log}});
  return "";
}

/// A spilling kernel whose plan is free gets half the query rows (down to
/// 64) when the kernels support that plan. Returns whether it did.
bool Compiler::replan(Kernel &k) {
  if (options.keepPlans || k.pinned || k.figures.spillBytes == 0 ||
      k.spec.plan.qBlock <= 64)
    return false;
  KernelSpec smaller = k.spec;
  smaller.plan.qBlock /= 2;
  if (!::attn::GpuTileLayout::check(smaller).empty())
    return false;
  k.spec = smaller;
  return true;
}

std::string Compiler::write(const Kernel &k) {
  std::string base = options.outputDir + "/" + k.spec.name();
  int64_t shared = ::attn::GpuTileLayout(k.spec).sharedBytes;
  return writeAll({{base + ".ptx", k.ptx},
                   {base + ".cubin", k.cubin},
                   {base + ".json", rt::attentionArtefactJson(k.spec, k.figures)},
                   {base + ".h", rt::kernelHeader(k.spec, shared)},
                   {base + ".ptxas.log", k.figures.log}});
}

FailureOr<std::vector<GpuArtefact>> Compiler::run() {
  if (failed(collect()))
    return failure();
  if (std::error_code ec = fs::create_directories(options.outputDir))
    return module.emitError() << "cannot create " << options.outputDir << ": "
                              << ec.message();
  // Rounds: generate the PTX of every pending kernel (the main thread) while
  // ptxas assembles the previous ones (a thread pool); a kernel re-planned
  // after spilling goes into the next round.
  SmallVector<size_t> pending = llvm::to_vector(llvm::seq<size_t>(0, kernels.size()));
  std::vector<std::string> errors(kernels.size());
  while (!pending.empty()) {
    llvm::DefaultThreadPool pool(llvm::hardware_concurrency());
    for (size_t i : pending) {
      progress(i, kernels[i], "generating PTX");
      if (failed(generatePtx(kernels[i])))
        return failure();
      pool.async([this, &errors, i] { errors[i] = assemble(kernels[i]); });
    }
    pool.wait();
    SmallVector<size_t> next;
    for (size_t i : pending) {
      Kernel &k = kernels[i];
      if (!errors[i].empty())
        return k.ops.front()->emitOpError()
               << "kernel " << k.spec.name() << ": " << errors[i];
      if (replan(k)) {
        progress(i, k, "re-planned with half the query rows (the previous "
                       "plan spilled registers)");
        next.push_back(i);
      }
    }
    pending = std::move(next);
  }

  std::vector<GpuArtefact> result;
  for (Kernel &k : kernels) {
    if (std::string error = write(k); !error.empty())
      return module.emitError() << error;
    TilePlanAttr plan =
        TilePlanAttr::get(ctx, options.chip, k.spec.plan.qBlock,
                          k.spec.plan.kvBlock, k.spec.plan.warps,
                          k.spec.plan.stages);
    for (Operation *op : k.ops)
      if (auto attention = dyn_cast<AttentionOp>(op))
        attention.setTilePlanAttr(plan);
    result.push_back({k.spec, k.figures,
                      ::attn::GpuTileLayout(k.spec).sharedBytes, k.cached});
  }
  return result;
}

} // namespace

FailureOr<std::vector<GpuArtefact>>
mlir::attn::compileGpuArtefacts(ModuleOp module,
                                const GpuArtefactOptions &options) {
  static std::once_flag nvptx;
  std::call_once(nvptx, [] {
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
  module.getContext()->loadAllAvailableDialects();
  return Compiler(module, options).run();
}
