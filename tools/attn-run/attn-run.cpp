//===- attn-run.cpp - run a function of an .mlir file on .npy inputs ------===//
//
//   attn-run model.mlir --function=f --inputs=q.npy,k.npy,v.npy
//            [--outputs=o.npy,lse.npy] [--pipeline=fused|reference] [--check]
//
// --pipeline=fused (default) JIT-compiles the module through attn-to-cpu;
// reference evaluates it in float64. --check runs both and prints the error
// of the fused outputs against the reference.
//
//===----------------------------------------------------------------------===//
#include "runtime/reference/Compare.h"
#include "runtime/Npy.h"
#include "runtime/jit/HostModule.h"
#include "tools/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace rt = ::attn::rt;
namespace cl = llvm::cl;

using mlir::attn::Pipeline;
static cl::OptionCategory category("attn-run options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> functionName("function",
                                         cl::desc("function to run (default: the first public one)"),
                                         cl::cat(category));
static cl::list<std::string> inputFiles("inputs", cl::desc("input .npy files, in argument order"),
                                        cl::CommaSeparated, cl::cat(category));
static cl::list<std::string> outputFiles("outputs", cl::desc("where to write the results (.npy)"),
                                         cl::CommaSeparated, cl::cat(category));
static cl::opt<Pipeline> pipeline(
    "pipeline", cl::desc("what computes the results"), cl::init(Pipeline::Fused),
    cl::values(clEnumValN(Pipeline::Fused, "fused",
                          "the fused kernels, JIT-compiled for this CPU"),
               clEnumValN(Pipeline::Reference, "reference", "the float64 interpreter")),
    cl::cat(category));
static cl::opt<bool> check("check", cl::desc("compare the fused results with the reference"),
                           cl::cat(category));

static int fail(const std::string &message) {
  llvm::errs() << "attn-run: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "run an attn function on .npy inputs\n");

  DialectRegistry registry;
  mlir::attn::registerDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(inputFile, &context);
  if (!module)
    return fail("cannot parse " + inputFile + " (see the error above)");
  func::FuncOp func;
  for (auto f : module->getOps<func::FuncOp>())
    if (!f.isPrivate() && !f.isExternal() &&
        (functionName.empty() || f.getName() == functionName)) {
      func = f;
      break;
    }
  if (!func)
    return fail(functionName.empty() ? "no public function in " + inputFile
                                     : "no public function @" + functionName +
                                           " in " + inputFile);

  std::vector<rt::Tensor> inputs(inputFiles.size());
  for (size_t i = 0; i < inputFiles.size(); ++i)
    if (std::string e = rt::readNpy(inputFiles[i], inputs[i]); !e.empty())
      return fail(e);
  if (std::string e = mlir::attn::checkInputs(func, inputs); !e.empty())
    return fail(e);

  std::vector<rt::Tensor> fused, reference;
  if (pipeline == Pipeline::Reference || check)
    if (std::string e = mlir::attn::interpret(func, inputs, reference); !e.empty())
      return fail(e);
  if (pipeline == Pipeline::Fused) {
    // Compile just this function: the others may not be compilable (yet).
    OwningOpRef<ModuleOp> single = module->clone();
    for (auto f : llvm::make_early_inc_range(single->getOps<func::FuncOp>()))
      if (!f.isPrivate() && f.getName() != func.getName())
        f.erase();
    std::string error;
    auto host = mlir::attn::HostModule::compile(*single, error);
    if (!host)
      return fail(error);
    if (std::string e = host->run(func.getName(), inputs, fused); !e.empty())
      return fail(e);
  }
  const std::vector<rt::Tensor> &results = pipeline == Pipeline::Fused ? fused : reference;

  if (!outputFiles.empty() && outputFiles.size() != results.size())
    return fail("@" + func.getName().str() + " has " +
                std::to_string(results.size()) + " results but --outputs names " +
                std::to_string(outputFiles.size()) + " files");
  // All or nothing: every output goes to a temporary next to its path, and
  // only when all are written do they take their names.
  std::vector<std::string> temps;
  auto removeTemps = [&] {
    for (const std::string &t : temps)
      llvm::sys::fs::remove(t);
  };
  for (size_t i = 0; i < outputFiles.size(); ++i) {
    temps.push_back(outputFiles[i] + ".attn-run-tmp");
    if (std::string e = rt::writeNpy(temps.back(), results[i]); !e.empty()) {
      removeTemps();
      if (llvm::StringRef(e).starts_with(temps.back())) // name the real path
        e = outputFiles[i] + e.substr(temps.back().size());
      return fail(e + " (no output was written)");
    }
  }
  for (size_t i = 0; i < outputFiles.size(); ++i)
    if (std::error_code ec = llvm::sys::fs::rename(temps[i], outputFiles[i])) {
      removeTemps();
      return fail("cannot write " + outputFiles[i] + ": " + ec.message());
    }

  int status = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    llvm::outs() << "result #" << i << ": " << rt::dtypeName(results[i].dtype)
                 << " " << rt::shapeString(results[i].shape);
    if (!outputFiles.empty())
      llvm::outs() << " -> " << outputFiles[i];
    if (check && pipeline == Pipeline::Fused) {
      rt::Comparison c = rt::compareTensors(
          fused[i], reference[i], rt::toleranceFor(results[i].dtype));
      llvm::outs() << "  rel=" << llvm::format("%.3e", c.rel)
                   << " maxabs=" << llvm::format("%.3e", c.maxAbs) << "  "
                   << (c.problem.empty() ? "PASS" : "FAIL: " + c.problem);
      if (!c.problem.empty())
        status = 1;
    }
    llvm::outs() << "\n";
  }
  return status;
}
