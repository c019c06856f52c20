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
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace rt = ::attn::rt;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required);
static cl::opt<std::string> functionName("function",
                                         cl::desc("function to run (default: the first public one)"));
static cl::list<std::string> inputFiles("inputs", cl::desc("input .npy files, in argument order"),
                                        cl::CommaSeparated);
static cl::list<std::string> outputFiles("outputs", cl::desc("where to write the results (.npy)"),
                                         cl::CommaSeparated);
static cl::opt<std::string> pipeline("pipeline", cl::init("fused"),
                                     cl::desc("fused (JIT-compiled kernels) or reference (float64)"));
static cl::opt<bool> check("check", cl::desc("compare the fused results with the reference"));

static int fail(const std::string &message) {
  llvm::errs() << "attn-run: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "run an attn function on .npy inputs\n");
  if (pipeline != "fused" && pipeline != "reference")
    return fail("--pipeline must be fused or reference, got '" + pipeline + "'");

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
  if (pipeline == "reference" || check)
    if (std::string e = mlir::attn::interpret(func, inputs, reference); !e.empty())
      return fail(e);
  if (pipeline == "fused") {
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
  const std::vector<rt::Tensor> &results = pipeline == "fused" ? fused : reference;

  if (!outputFiles.empty() && outputFiles.size() != results.size())
    return fail("@" + func.getName().str() + " has " +
                std::to_string(results.size()) + " results but --outputs names " +
                std::to_string(outputFiles.size()) + " files");
  int status = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    llvm::outs() << "result #" << i << ": " << rt::dtypeName(results[i].dtype)
                 << " " << rt::shapeString(results[i].shape);
    if (!outputFiles.empty()) {
      if (std::string e = rt::writeNpy(outputFiles[i], results[i]); !e.empty())
        return fail(e);
      llvm::outs() << " -> " << outputFiles[i];
    }
    if (check && pipeline == "fused") {
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
