//===- attn-conformance.cpp - conformance vectors on the CPU ---------------===//
//
//   attn-conformance DIR... [--pipeline=fused|reference]
//
// For every case folder (case.json + .npy, see ../shared/conformance/README.md:
// ONNX Attention, block-sparse and parallel-branches attention) builds the
// attention in the dialect (runtime/jit/AttentionFunction.h: functionForCase),
// runs it through the fused CPU pipeline (or the float64 reference
// interpreter) and compares every stored output at the README's tolerances.
// Y comes from the compiled function. present_key / present_value (the KV
// cache concatenation) and qk_matmul_output (an intermediate that a fused
// kernel never forms) come from the unfused reference path.
//
//===----------------------------------------------------------------------===//
#include "runtime/reference/Compare.h"
#include "runtime/reference/OnnxCase.h"
#include "runtime/jit/AttentionFunction.h"
#include "runtime/jit/HostModule.h"
#include "tools/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;
namespace rt = ::attn::rt;
namespace cl = llvm::cl;

static cl::OptionCategory category("attn-conformance options");
static cl::list<std::string> dirs(cl::Positional, cl::desc("<case or folder of cases>..."),
                                  cl::OneOrMore, cl::cat(category));
static cl::opt<mlir::attn::Pipeline> pipeline(
    "pipeline", cl::desc("what computes Y"), cl::init(mlir::attn::Pipeline::Fused),
    cl::values(clEnumValN(mlir::attn::Pipeline::Fused, "fused",
                          "the fused kernels, JIT-compiled for this CPU"),
               clEnumValN(mlir::attn::Pipeline::Reference, "reference",
                          "the float64 interpreter")),
    cl::cat(category));

namespace {
/// Runs the attention of a case through the chosen pipeline; cases with
/// equal attributes and head sizes share one compiled function.
class AttentionRunner {
public:
  explicit AttentionRunner(MLIRContext &context) : context(context) {}

  /// Fills `actual` with Y (from the pipeline) and the other stored slots
  /// (present_*, qk_matmul_output: the unfused reference).
  std::string run(const rt::OnnxCase &c, std::map<std::string, rt::Tensor> &actual) {
    mlir::attn::AttentionFunction f;
    std::vector<rt::Tensor> inputs, results;
    mlir::attn::functionForCase(c, f, inputs);
    if (std::string e = rt::runOnnxCase(c, actual); !e.empty())
      return e;
    std::string text = f.text();
    ModuleOp module = parsed(text);
    auto func = module ? module.lookupSymbol<func::FuncOp>(f.name) : nullptr;
    if (!func)
      return "the generated function does not parse";
    if (std::string e = mlir::attn::checkInputs(func, inputs); !e.empty())
      return e;
    std::string problem;
    if (pipeline == mlir::attn::Pipeline::Reference) {
      problem = mlir::attn::interpret(func, inputs, results);
    } else if (auto *host = compiledFor(text, module, problem)) {
      problem = host->run(f.name, inputs, results);
    }
    if (problem.empty() && c.outputLayout != c.params.layout) {
      rt::Tensor y;
      problem = rt::convertLayout(results[0], c.params.layout, c.outputLayout,
                                  c.params.numQHeads, y);
      results[0] = std::move(y);
    }
    if (problem.empty())
      actual["Y"] = results[0];
    return problem;
  }

  /// NSA, MoBA, InfLLM-V2 through the fused pipeline: Y and select_idx.
  std::string runComposite(const rt::OnnxCase &c,
                           std::map<std::string, rt::Tensor> &actual) {
    std::vector<rt::Tensor> inputs, results;
    std::string text = mlir::attn::compositeFunctionText(c, inputs);
    ModuleOp module = parsed(text);
    if (!module)
      return "the generated function does not parse";
    std::string problem;
    if (auto *host = compiledFor(text, module, problem))
      problem = host->run("attention", inputs, results);
    if (!problem.empty())
      return problem;
    actual["Y"] = results[0];
    if (c.expected.count("select_idx"))
      actual["select_idx"] = results[1];
    return "";
  }

private:
  /// The module of a function's text, parsed once (null if it does not parse).
  ModuleOp parsed(const std::string &text) {
    auto &module = modules[text];
    if (!module)
      module = parseSourceString<ModuleOp>(text, &context);
    return module ? *module : ModuleOp();
  }
  /// The JIT-compiled module of `text`, compiled once; null with `problem` set
  /// when compilation fails.
  mlir::attn::HostModule *compiledFor(const std::string &text, ModuleOp module,
                                      std::string &problem) {
    auto &host = compiled[text];
    if (!host)
      host = mlir::attn::HostModule::compile(module, problem);
    return host.get();
  }

  MLIRContext &context;
  llvm::StringMap<std::unique_ptr<mlir::attn::HostModule>> compiled;
  llvm::StringMap<OwningOpRef<ModuleOp>> modules;
};

/// Case folders: `path` itself when it holds a case.json, else its children.
std::vector<std::string> caseFolders(const std::string &path) {
  std::vector<std::string> out;
  if (llvm::sys::fs::exists(path + "/case.json"))
    return {path};
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::fs::exists(it->path() + "/case.json"))
      out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "ONNX Attention conformance\n");
  DialectRegistry registry;
  mlir::attn::registerDialects(registry);
  MLIRContext context(registry);
  AttentionRunner runner(context);

  int passed = 0, failed = 0, skipped = 0;
  for (const std::string &path : dirs) {
    std::vector<std::string> cases = caseFolders(path);
    if (cases.empty()) {
      llvm::outs() << "FAIL " << path << ": no case.json here or in its subfolders\n";
      ++failed;
    }
    for (const std::string &dir : cases) {
      std::string name = llvm::sys::path::filename(dir).str();
      std::string op;
      if (rt::readCaseOp(dir, op).empty() && !rt::isLoadableCaseOp(op)) {
        llvm::outs() << "SKIP " << name << " (op " << op
                     << ": no runner for it yet)\n";
        ++skipped;
        continue;
      }
      rt::OnnxCase c;
      std::map<std::string, rt::Tensor> actual;
      std::string problem = rt::loadOnnxCase(dir, c);
      if (problem.empty())
        problem = c.composite.empty() ? runner.run(c, actual)
                  : pipeline == mlir::attn::Pipeline::Reference
                      ? rt::runOnnxCase(c, actual)
                      : runner.runComposite(c, actual);
      double worstRel = 0, worstAbs = 0;
      for (auto &[slot, want] : c.expected) {
        if (!problem.empty())
          break;
        if (!actual.count(slot)) {
          problem = slot + ": not computed";
          break;
        }
        // Selections are compared exactly.
        rt::Tolerance tol = rt::isFloat(want.dtype) ? rt::toleranceFor(want.dtype)
                                                    : rt::Tolerance{0, 0};
        rt::Comparison cmp = rt::compareTensors(actual[slot], want, tol);
        worstRel = std::max(worstRel, cmp.rel);
        worstAbs = std::max(worstAbs, cmp.maxAbs);
        if (!cmp.problem.empty())
          problem = slot + ": " + cmp.problem;
      }
      if (problem.empty()) {
        llvm::outs() << "PASS " << name << "  rel=" << llvm::format("%.1e", worstRel)
                     << " maxabs=" << llvm::format("%.1e", worstAbs) << "\n";
        ++passed;
      } else {
        llvm::outs() << "FAIL " << name << ": " << problem << "\n";
        ++failed;
      }
      llvm::outs().flush();
    }
  }
  if (skipped)
    llvm::outs() << skipped << " skipped (no fused pipeline or no runner)\n";
  llvm::outs() << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
