//===- HostModule.cpp - JIT-compiled attn functions -----------------------===//
#include "runtime/jit/HostModule.h"

#include "lowering/Passes.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>
#include <cstring>

using namespace mlir;
using namespace mlir::attn;
namespace rt = ::attn::rt;

bool mlir::attn::signatureOf(Type type, TensorSignature &sig) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return false;
  Type e = tensor.getElementType();
  if (e.isF16())
    sig.dtype = rt::DType::F16;
  else if (e.isBF16())
    sig.dtype = rt::DType::BF16;
  else if (e.isF32())
    sig.dtype = rt::DType::F32;
  else if (e.isF64())
    sig.dtype = rt::DType::F64;
  else if (e.isInteger(1))
    sig.dtype = rt::DType::Bool;
  else if (e.isInteger(32))
    sig.dtype = rt::DType::I32;
  else if (e.isInteger(64))
    sig.dtype = rt::DType::I64;
  else
    return false;
  sig.shape.clear();
  for (int64_t d : tensor.getShape())
    sig.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return true;
}

HostModule::~HostModule() = default;

/// f32 -> bf16 (round to nearest even), returned as the x86-64 and AArch64
/// ABIs return a bf16: in the low 16 bits of the first FP register.
static float truncateToBFloat16(float x) {
  uint32_t bits = rt::encodeBFloat16(x);
  float result;
  std::memcpy(&result, &bits, sizeof(result));
  return result;
}

std::unique_ptr<HostModule> HostModule::compile(ModuleOp source,
                                                std::string &error) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;

  std::unique_ptr<HostModule> host(new HostModule);
  OwningOpRef<ModuleOp> module = source.clone();
  MLIRContext *ctx = module->getContext();
  for (auto func : module->getOps<func::FuncOp>()) {
    if (func.isPrivate() || func.isExternal())
      continue;
    Signature sig;
    for (auto [types, out] :
         {std::pair{func.getArgumentTypes(), &sig.args},
          std::pair{func.getResultTypes(), &sig.results}}) {
      for (Type t : types) {
        TensorSignature ts;
        if (!signatureOf(t, ts)) {
          llvm::raw_string_ostream(error)
              << "function @" << func.getName() << " takes or returns " << t
              << "; the runner handles ranked tensors of f16, bf16, f32, f64, "
                 "i1, i32 and i64";
          return nullptr;
        }
        out->push_back(ts);
      }
    }
    host->signatures[func.getName()] = std::move(sig);
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  }

  std::string diagnostics;
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error)
      diagnostics += (diagnostics.empty() ? "" : "; ") + d.str();
    return success();
  });
  PassManager pm(ctx);
  buildAttnToCpuPipeline(pm);
  if (failed(pm.run(*module))) {
    error = "compiling for the CPU failed: " + diagnostics;
    return nullptr;
  }

  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = "cannot describe this host to LLVM: " + toString(builder.takeError());
    return nullptr;
  }
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = builder->createTargetMachine();
  auto engineTm = builder->createTargetMachine();
  if (!tm || !engineTm) {
    error = "cannot create an LLVM target machine for this host";
    return nullptr;
  }
  host->targetMachine = std::move(*tm);
  // The wrappers around each public function f (_mlir_ciface_f, which
  // loads every descriptor field and passes them on, and the packed
  // _mlir_f) run once per call. A 32-layer model's f takes ~2000 arguments,
  // mostly on the stack, and SelectionDAG's store merging is quadratic in
  // those stores (13 s of a 14 s JIT): such wrappers compile without
  // optimisation. Only those: doing it for every wrapper (f no longer
  // inlined into it) made NSA at 32k keys 15% slower.
  auto optimize = makeOptimizingTransformer(3, 0, host->targetMachine.get());
  auto transformer = [optimize](llvm::Module *m) -> llvm::Error {
    for (llvm::Function &f : *m) {
      StringRef name = f.getName();
      if (f.isDeclaration() || !name.consume_front("_mlir_"))
        continue;
      name.consume_front("ciface_");
      if (llvm::Function *target = m->getFunction(name); target && target->arg_size() > 256) {
        f.addFnAttr(llvm::Attribute::NoInline);
        f.addFnAttr(llvm::Attribute::OptimizeNone);
      }
    }
    return optimize(m);
  };
  SmallVector<StringRef> libs = {ATTN_OPENMP_LIBRARY};
  ExecutionEngineOptions options;
  options.transformer = transformer;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  options.sharedLibPaths = libs;
  // `perf` names the JIT's functions (via /tmp/perf-PID.map) when asked to.
  options.enablePerfNotificationListener = getenv("ATTN_JIT_PERF") != nullptr;
  auto engine = ExecutionEngine::create(*module, options, std::move(*engineTm));
  if (!engine) {
    error = "JIT compilation failed: " + toString(engine.takeError());
    return nullptr;
  }
  host->engine = std::move(*engine);
  // LLVM legalizes some bf16 vector ops (a masked gather of a bf16 mask)
  // through f32 and calls __truncsfbf2, which GCC 12's libgcc lacks.
  host->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("__truncsfbf2")] = {
        llvm::orc::ExecutorAddr::fromPtr(&truncateToBFloat16),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  return host;
}

namespace {
/// A memref descriptor as the C interface lays it out: allocated and aligned
/// pointers, offset, sizes, strides (all 8-byte words).
std::vector<int64_t> describe(const rt::Tensor &t) {
  std::vector<int64_t> d(3 + 2 * t.shape.size());
  auto *data = const_cast<uint8_t *>(t.bytes.data());
  std::memcpy(&d[0], &data, sizeof(void *));
  std::memcpy(&d[1], &data, sizeof(void *));
  d[2] = 0;
  int64_t stride = 1;
  for (int64_t i = t.rank() - 1; i >= 0; --i) {
    d[3 + i] = t.shape[i];
    d[3 + t.rank() + i] = stride;
    stride *= t.shape[i];
  }
  return d;
}
} // namespace

std::string HostModule::run(StringRef name,
                            const std::vector<rt::Tensor> &inputs,
                            std::vector<rt::Tensor> &outputs) {
  auto it = signatures.find(name);
  if (it == signatures.end())
    return "no public function @" + name.str() + " in the module";
  const Signature &sig = it->second;

  std::vector<std::vector<int64_t>> descriptors;
  for (const rt::Tensor &t : inputs)
    descriptors.push_back(describe(t));
  std::vector<void *> argPointers;
  for (auto &d : descriptors)
    argPointers.push_back(d.data());
  size_t resultWords = 0;
  for (const TensorSignature &r : sig.results)
    resultWords += 3 + 2 * r.shape.size();
  std::vector<int64_t> results(resultWords);
  void *resultPointer = results.data();

  std::vector<void *> packed;
  if (!sig.results.empty())
    packed.push_back(&resultPointer);
  for (void *&p : argPointers)
    packed.push_back(&p);
  if (llvm::Error e = engine->invokePacked(("_mlir_ciface_" + name).str(), packed))
    return "running @" + name.str() + " failed: " + toString(std::move(e));

  outputs.clear();
  llvm::SmallPtrSet<void *, 4> freed;
  size_t at = 0;
  for (const TensorSignature &r : sig.results) {
    size_t rank = r.shape.size();
    uint8_t *allocated, *aligned;
    std::memcpy(&allocated, &results[at], sizeof(void *));
    std::memcpy(&aligned, &results[at + 1], sizeof(void *));
    int64_t offset = results[at + 2];
    const int64_t *sizes = &results[at + 3], *strides = &results[at + 3 + rank];
    rt::Tensor out = rt::Tensor::zeros(r.dtype, std::vector<int64_t>(sizes, sizes + rank));
    size_t elt = rt::dtypeSize(r.dtype);
    bool contiguous = true;
    for (int64_t i = rank - 1, stride = 1; i >= 0; stride *= sizes[i--])
      contiguous &= sizes[i] == 1 || strides[i] == stride;
    if (contiguous) {
      if (!out.bytes.empty())
        std::memcpy(out.bytes.data(), aligned + offset * elt, out.bytes.size());
    } else {
      std::vector<int64_t> index(rank, 0);
      for (size_t flat = 0, n = out.numel(); flat < n; ++flat) {
        int64_t src = offset;
        for (size_t i = 0; i < rank; ++i)
          src += index[i] * strides[i];
        std::memcpy(&out.bytes[flat * elt], aligned + src * elt, elt);
        for (int64_t i = rank - 1; i >= 0 && ++index[i] == sizes[i]; --i)
          index[i] = 0;
      }
    }
    // Results are fresh buffers that the caller owns, unless a function
    // returns one of its arguments unchanged (or one buffer twice).
    bool isInput = llvm::any_of(inputs, [&](const rt::Tensor &t) {
      return allocated == t.bytes.data();
    });
    if (!isInput && freed.insert(allocated).second)
      std::free(allocated);
    outputs.push_back(std::move(out));
    at += 3 + 2 * rank;
  }
  return "";
}
