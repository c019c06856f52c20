//===- attn-conformance.cpp - ONNX Attention conformance on the CPU -------===//
//
//   attn-conformance DIR... [--pipeline=fused|reference]
//
// For every case folder (case.json + .npy, see ../shared/conformance/README.md)
// builds the attention in the dialect from the ONNX node's attributes and
// inputs, runs it through the fused CPU pipeline (or the float64 reference
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
#include <cstring>

using namespace mlir;
namespace rt = ::attn::rt;
namespace cl = llvm::cl;

static cl::list<std::string> dirs(cl::Positional, cl::desc("<case or folder of cases>..."),
                                  cl::OneOrMore);
static cl::opt<std::string> pipeline("pipeline", cl::init("fused"),
                                     cl::desc("fused (JIT-compiled kernels) or reference (float64)"));

namespace {
/// The first `n` positions of a [B, H, S, D] tensor along S.
rt::Tensor prefix(const rt::Tensor &t, int64_t n, int64_t axis) {
  std::vector<int64_t> shape = t.shape;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= shape[i];
  for (int64_t i = axis + 1; i < t.rank(); ++i)
    inner *= shape[i];
  int64_t from = shape[axis];
  shape[axis] = n;
  rt::Tensor out = rt::Tensor::zeros(t.dtype, shape);
  size_t bytes = inner * n * rt::dtypeSize(t.dtype);
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(&out.bytes[o * bytes],
                &t.bytes[o * inner * from * rt::dtypeSize(t.dtype)], bytes);
  return out;
}

/// The case as one attn.attention: the operands in their order and the
/// function. ONNX's KV cache puts queries right after the past keys
/// (off = past length); the op aligns bottom-right (off = L - Sq), which is
/// the same when there are as many new keys as queries, and becomes the same
/// otherwise by dropping the trailing keys that no query can see.
std::string lower(const rt::OnnxCase &c, mlir::attn::AttentionFunction &f,
                  std::vector<rt::Tensor> &inputs) {
  rt::AttentionParams p = c.params;
  rt::Tensor k = c.k, v = c.v;
  std::optional<rt::Tensor> mask = c.mask;
  bool bhsd = p.layout == rt::Layout::BHSD;
  int64_t seqAxis = bhsd ? 2 : 1;
  int64_t sq = c.q.shape[seqAxis], skv = k.shape[seqAxis];
  if (p.queryOffset) {
    int64_t off = *p.queryOffset;
    p.queryOffset.reset();
    if (p.causal || p.window || p.branches) {
      if (c.kvLengths || off > skv - sq)
        return "query offset " + std::to_string(off) +
               " is not expressible as a bottom-right alignment";
      if (off < skv - sq) {
        skv = off + sq;
        k = prefix(k, skv, seqAxis);
        v = prefix(v, skv, seqAxis);
        if (mask && mask->shape.back() > skv)
          mask = prefix(*mask, skv, mask->rank() - 1);
      }
      p.bottomRight = true;
    }
  }
  f.dtype = c.dtype;
  f.params = p;
  f.query = c.q.shape;
  f.key = k.shape;
  f.value = v.shape;
  inputs = {c.q, k, v};
  if (mask) {
    f.maskType = mask->dtype;
    for (int64_t d : mask->shape)
      f.mask.push_back(d == 1 ? 1 : -1);
    inputs.push_back(*mask);
  }
  if (c.kvLengths) {
    f.lengthType = c.kvLengths->dtype;
    inputs.push_back(*c.kvLengths);
  }
  return "";
}

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
  cl::ParseCommandLineOptions(argc, argv, "ONNX Attention conformance\n");
  if (pipeline != "fused" && pipeline != "reference") {
    llvm::errs() << "attn-conformance: --pipeline must be fused or reference\n";
    return 2;
  }
  DialectRegistry registry;
  mlir::attn::registerDialects(registry);
  MLIRContext context(registry);
  // Cases with equal attributes and head sizes share one compiled function.
  llvm::StringMap<std::unique_ptr<mlir::attn::HostModule>> compiled;
  llvm::StringMap<OwningOpRef<ModuleOp>> modules;

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
      if (rt::readCaseOp(dir, op).empty() && op != "Attention") {
        llvm::outs() << "SKIP " << name << " (op " << op
                     << ", not ONNX Attention)\n";
        ++skipped;
        continue;
      }
      rt::OnnxCase c;
      mlir::attn::AttentionFunction f;
      std::vector<rt::Tensor> inputs;
      std::map<std::string, rt::Tensor> actual;
      std::string problem = rt::loadOnnxCase(dir, c);
      if (problem.empty())
        problem = lower(c, f, inputs);
      if (problem.empty())
        problem = rt::runOnnxCase(c, actual); // present_*, qk_matmul_output
      std::vector<rt::Tensor> results;
      if (problem.empty()) {
        std::string text = f.text();
        auto &module = modules[text];
        if (!module)
          module = parseSourceString<ModuleOp>(text, &context);
        auto func = module ? module->lookupSymbol<func::FuncOp>(f.name) : nullptr;
        problem = !func ? "the generated function does not parse"
                        : mlir::attn::checkInputs(func, inputs);
        if (problem.empty() && pipeline == "reference")
          problem = mlir::attn::interpret(func, inputs, results);
        if (problem.empty() && pipeline == "fused") {
          auto &host = compiled[text];
          if (!host)
            host = mlir::attn::HostModule::compile(*module, problem);
          if (host)
            problem = host->run(f.name, inputs, results);
        }
      }
      if (problem.empty() && c.outputLayout != c.params.layout) {
        rt::Tensor y;
        problem = rt::convertLayout(results[0], c.params.layout, c.outputLayout,
                                    c.params.numQHeads, y);
        results[0] = std::move(y);
      }
      if (problem.empty())
        actual["Y"] = results[0];

      double worstRel = 0, worstAbs = 0;
      for (auto &[slot, want] : c.expected) {
        if (!problem.empty())
          break;
        rt::Comparison cmp = rt::compareTensors(actual[slot], want,
                                                rt::toleranceFor(want.dtype));
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
    llvm::outs() << skipped << " skipped (not ONNX Attention)\n";
  llvm::outs() << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
