//===- attn-random-test.cpp - fused CPU attention vs the float64 reference ===//
//
// Seeded, reproducible differential testing. Each of --kernels random
// attention kernels (element type, layout, heads and group size, head dims,
// scale, softcap, every mask kind, valid lengths, query placement (aligned,
// a static or per-batch offset), lse) is compiled once and
// run on --shapes random batch and sequence sizes (so one compiled function
// serves every length), on random inputs that include fp16 with large
// magnitudes and rows whose every key is masked. Each run is compared with
// the float64 reference at the tolerance of its element type.
//
//   attn-random-test [--seed=N] [--kernels=50] [--shapes=4] [--only=K]
//                    [--dump=DIR]   (failing cases as .mlir + .npy for attn-run)
//
//===----------------------------------------------------------------------===//
#include "runtime/reference/Compare.h"
#include "runtime/Npy.h"
#include "runtime/jit/AttentionFunction.h"
#include "runtime/jit/HostModule.h"
#include "runtime/reference/OnnxCase.h"
#include "runtime/reference/Sparse.h"
#include "tools/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

using namespace mlir;
namespace rt = ::attn::rt;
namespace cl = llvm::cl;

static cl::OptionCategory category("attn-random-test options");
static cl::opt<uint64_t> seed("seed", cl::init(2026), cl::desc("random seed"),
                              cl::cat(category));
static cl::opt<unsigned> kernels("kernels", cl::init(50),
                                 cl::desc("random kernels to compile"), cl::cat(category));
static cl::opt<unsigned> shapes("shapes", cl::init(4),
                                cl::desc("random shapes per kernel (at least 1)"),
                                cl::cat(category));
static cl::opt<unsigned> composites(
    "composites", cl::init(30),
    cl::desc("random sparse composites (NSA, MoBA, InfLLM-V2 switch, Quest) to "
             "run after the kernels"),
    cl::cat(category));
static cl::opt<int> only("only", cl::init(-1), cl::desc("run only kernel #K"),
                         cl::cat(category));
static cl::opt<std::string> dumpDir("dump", cl::desc("write failing cases here"),
                                    cl::value_desc("dir"), cl::cat(category));

namespace {
struct Random {
  std::mt19937_64 engine;
  explicit Random(uint64_t s) : engine(s) {}
  int64_t uniform(int64_t lo, int64_t hi) { // inclusive
    return lo + static_cast<int64_t>(engine() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(engine) < p; }
  template <typename T> T pick(std::initializer_list<T> xs) {
    return xs.begin()[uniform(0, xs.size() - 1)];
  }
  double normal() { return std::normal_distribution<double>(0, 1)(engine); }
};

/// Attributes of one kernel: everything but batch and sequence sizes.
struct KernelConfig {
  rt::DType dtype;
  rt::Layout layout;
  int64_t kvHeads, group, headDim, valueDim;
  rt::AttentionParams params;
  std::optional<rt::DType> maskType;
  std::vector<bool> maskFull; // per leading mask axis: full size (else 1)
  bool shortMask = false;     // mask covers fewer keys than Skv
  std::optional<rt::DType> lengthType;
  std::optional<rt::DType> offsetType; // per-batch query_offsets operand
  int64_t selectionHeads = 0;          // block-sparse: Hsel (0: dense)
  int64_t listLength = 0;              // block-sparse: K
  bool lse;
  double magnitude; // input scale (large for some fp16 kernels)

  std::string describe() const {
    std::string s = std::string(rt::dtypeName(dtype)) + " " + rt::layoutName(layout) +
                    " Hkv=" + std::to_string(kvHeads) + " G=" + std::to_string(group) +
                    " D=" + std::to_string(headDim) + " Dv=" + std::to_string(valueDim);
    if (params.scale) s += " scale";
    if (params.softcap) s += " softcap";
    if (params.causal) s += " causal";
    if (params.window)
      s += " window(" + std::to_string(params.window->first) + "," +
           std::to_string(params.window->second) + ")";
    if (params.branches)
      s += " branches(" + std::to_string(params.branches->first) + "," +
           std::to_string(params.branches->second) + ")";
    if (params.bottomRight) s += " bottom-right";
    if (params.queryOffset) s += " query_offset=" + std::to_string(*params.queryOffset);
    if (offsetType) s += " query_offsets";
    if (params.blocks)
      s += " blocks(" + std::to_string(params.blocks->first) + "," +
           std::to_string(params.blocks->second) + ") Hsel=" +
           std::to_string(selectionHeads) + " K=" + std::to_string(listLength);
    if (params.windowBranch)
      s += " window_branch(" + std::to_string(params.windowBranch->first) + "," +
           std::to_string(params.windowBranch->second) + ")";
    if (maskType)
      s += std::string(" mask:") + rt::dtypeName(*maskType) + "/rank" +
           std::to_string(maskFull.size() + 1) + (shortMask ? "/short" : "");
    if (lengthType) s += " kv_lengths";
    if (lse) s += " lse";
    if (magnitude > 1) s += " large";
    return s;
  }
};

KernelConfig randomKernel(Random &r) {
  KernelConfig k;
  k.dtype = r.pick({rt::DType::F32, rt::DType::F32, rt::DType::F16, rt::DType::BF16});
  k.layout = r.pick({rt::Layout::BHSD, rt::Layout::BHSD, rt::Layout::BSHD, rt::Layout::Packed});
  k.kvHeads = r.pick<int64_t>({1, 2, 3});
  k.group = r.pick<int64_t>({1, 1, 2, 3, 4, 8});
  k.headDim = r.pick<int64_t>({1, 6, 32, 64, 64, 80, 96, 128, 256});
  k.valueDim = r.chance(0.8) ? k.headDim : r.pick<int64_t>({1, 16, 48, 64, 72});
  auto &p = k.params;
  if (r.chance(0.3)) p.scale = r.pick({0.05, 0.2, 1.0, -0.3});
  if (r.chance(0.25)) p.softcap = r.pick({5.0, 20.0, 50.0});
  int kind = r.uniform(0, 5);
  p.causal = kind == 1 || (kind == 2 && r.chance(0.5));
  if (kind == 2 || kind == 3)
    p.window = std::make_pair(r.pick<int64_t>({-1, 0, 1, 16, 63, 64, 100}),
                              r.pick<int64_t>({-1, 0, 3, 64, 70}));
  if (kind == 4)
    p.branches = std::make_pair(r.pick<int64_t>({0, 5, 40}), r.pick<int64_t>({1, 2, 3, 7}));
  // Where the queries sit among the keys: top-left, bottom-right, a static
  // offset or a per-batch one (a KV cache).
  if (p.causal || p.window || p.branches) {
    int placement = r.uniform(0, 3);
    p.bottomRight = placement == 1;
    if (placement == 2)
      p.queryOffset = r.pick<int64_t>({-3, 0, 5, 70, 300});
    if (placement == 3)
      k.offsetType = r.pick({rt::DType::I32, rt::DType::I64});
  }
  if (k.layout == rt::Layout::Packed) {
    p.layout = rt::Layout::Packed;
    p.numQHeads = k.kvHeads * k.group;
    p.numKvHeads = k.kvHeads;
  } else {
    p.layout = k.layout;
  }
  if (kind == 5 || r.chance(0.2)) {
    k.maskType = r.pick({rt::DType::Bool, k.dtype, rt::DType::F32, rt::DType::F64});
    int rank = r.uniform(1, 4);
    for (int i = 0; i < rank - 1; ++i) // leading axes of [.., B, Hq, Sq]
      k.maskFull.push_back(r.chance(0.6));
    k.shortMask = r.chance(0.3);
  }
  if (r.chance(0.25))
    k.lengthType = r.pick({rt::DType::I32, rt::DType::I64});
  // Block-sparse selections, lists per key head, per query head or shared,
  // with duplicates, -1 padding and any order.
  if (r.chance(0.25)) {
    p.blocks = std::make_pair(r.pick<int64_t>({1, 1, 3, 16, 64}),
                              r.pick<int64_t>({5, 16, 16, 64, 100}));
    k.selectionHeads = r.pick<int64_t>({k.kvHeads, k.kvHeads, k.kvHeads * k.group, 1});
    k.listLength = r.pick<int64_t>({1, 2, 4, 7});
    // NSA's selected and window branches fused (attn-fuse-branches).
    if (!p.window && !p.branches && r.chance(0.4))
      p.windowBranch = std::make_pair(r.pick<int64_t>({-1, 0, 5, 64, 100}),
                                      r.pick<int64_t>({-1, 0, 3}));
  }
  k.lse = r.chance(0.4);
  k.magnitude = k.dtype == rt::DType::F16 && r.chance(0.5) ? 8.0 : 1.0;
  return k;
}

rt::Tensor randomTensor(Random &r, rt::DType dtype, std::vector<int64_t> shape,
                        double scale) {
  rt::Tensor t = rt::Tensor::zeros(dtype, std::move(shape));
  for (size_t i = 0; i < t.numel(); ++i)
    t.set(i, scale * r.normal());
  return t;
}

/// q/k/v shape in `layout` for canonical sizes.
std::vector<int64_t> layoutShape(rt::Layout l, int64_t b, int64_t h, int64_t s, int64_t d) {
  switch (l) {
  case rt::Layout::BHSD: return {b, h, s, d};
  case rt::Layout::BSHD: return {b, s, h, d};
  case rt::Layout::Packed: return {b, s, h * d};
  }
  return {};
}

struct Case {
  mlir::attn::AttentionFunction function;
  std::vector<rt::Tensor> inputs;
  std::string shape;
};

Case randomCase(Random &r, const KernelConfig &k, int64_t &work) {
  int64_t hq = k.kvHeads * k.group;
  int64_t b, sq, skv;
  do {
    b = r.pick<int64_t>({1, 1, 2, 3});
    sq = r.pick<int64_t>({1, 2, 17, 33, 64, 77, 130, 257, 1029});
    skv = r.chance(0.4) ? sq : r.pick<int64_t>({1, 5, 17, 64, 65, 77, 130, 257, 1029});
    work = b * hq * sq * skv * (k.headDim + k.valueDim);
  } while (work > 120'000'000);

  Case c;
  auto &f = c.function;
  f.dtype = k.dtype;
  f.params = k.params;
  f.lse = k.lse;
  f.query = layoutShape(k.layout, b, hq, sq, k.headDim);
  f.key = layoutShape(k.layout, b, k.kvHeads, skv, k.headDim);
  f.value = layoutShape(k.layout, b, k.kvHeads, skv, k.valueDim);
  c.inputs.push_back(randomTensor(r, k.dtype, f.query, k.magnitude));
  c.inputs.push_back(randomTensor(r, k.dtype, f.key, k.magnitude));
  c.inputs.push_back(randomTensor(r, k.dtype, f.value, 1.0));
  if (k.maskType) {
    std::vector<int64_t> full = {b, hq, sq}, shape;
    size_t lead = k.maskFull.size();
    for (size_t i = 0; i < lead; ++i) {
      shape.push_back(k.maskFull[i] ? full[3 - lead + i] : 1);
      f.mask.push_back(k.maskFull[i] ? -1 : 1);
    }
    int64_t keys = k.shortMask ? std::max<int64_t>(1, skv - r.uniform(1, 40)) : skv;
    shape.push_back(keys);
    f.mask.push_back(-1);
    f.maskType = k.maskType;
    rt::Tensor m = rt::Tensor::zeros(*k.maskType, shape);
    bool boolean = *k.maskType == rt::DType::Bool;
    // Mostly visible; some masked entries; and whole rows masked.
    size_t rows = m.numel() / keys;
    for (size_t row = 0; row < rows; ++row) {
      bool dead = r.chance(0.05);
      for (int64_t j = 0; j < keys; ++j) {
        bool keep = !dead && r.chance(0.85);
        size_t i = row * keys + j;
        m.set(i, boolean ? keep : (keep ? 2.0 * r.normal() : -INFINITY));
      }
    }
    c.inputs.push_back(std::move(m));
  }
  if (k.lengthType) {
    f.lengthType = k.lengthType;
    rt::Tensor len = rt::Tensor::zeros(*k.lengthType, {b});
    for (int64_t i = 0; i < b; ++i)
      len.set(i, r.pick<int64_t>({0, 1, skv, skv, skv / 2, r.uniform(0, skv)}));
    c.inputs.push_back(std::move(len));
  }
  if (k.offsetType) {
    f.offsetType = k.offsetType;
    rt::Tensor off = rt::Tensor::zeros(*k.offsetType, {b});
    for (int64_t i = 0; i < b; ++i)
      off.set(i, r.pick<int64_t>({0, skv - sq, -sq, r.uniform(-20, skv + 20)}));
    c.inputs.push_back(std::move(off));
  }
  if (k.selectionHeads) {
    f.selectionHeads = k.selectionHeads;
    auto [qb, kvb] = *k.params.blocks;
    int64_t qBlocks = (sq + qb - 1) / qb, kvBlocks = (skv + kvb - 1) / kvb;
    rt::Tensor idx = rt::Tensor::zeros(rt::DType::I32, {b, k.selectionHeads, qBlocks,
                                                        k.listLength});
    for (size_t i = 0; i < idx.numel(); ++i)
      idx.set(i, r.chance(0.2) ? -1 : r.uniform(0, kvBlocks - 1));
    c.inputs.push_back(std::move(idx));
  }
  c.shape = "B=" + std::to_string(b) + " Sq=" + std::to_string(sq) +
            " Skv=" + std::to_string(skv);
  return c;
}

/// A random composite case: shapes that are not multiples of any block,
/// sequences shorter than one compressed span, decode rows.
rt::OnnxCase randomComposite(Random &r, std::string &describe) {
  rt::OnnxCase c;
  c.composite = r.pick<const char *>({"NSA", "MoBA", "InfLLMV2", "Quest"});
  int64_t b = r.pick<int64_t>({1, 2}), hkv = r.pick<int64_t>({1, 2}),
          g = r.pick<int64_t>({1, 2, 3}), d = r.pick<int64_t>({16, 32, 40});
  int64_t dv = r.chance(0.7) ? d : 48;
  int64_t skv = r.pick<int64_t>({3, 17, 77, 130, 300});
  int64_t sq = r.pick<int64_t>({1, 5, skv});
  c.dtype = r.pick({rt::DType::F32, rt::DType::F32, rt::DType::F16});
  c.q = randomTensor(r, c.dtype, {b, hkv * g, sq, d}, 1.0);
  c.k = randomTensor(r, c.dtype, {b, hkv, skv, d}, 1.0);
  c.v = randomTensor(r, c.dtype, {b, hkv, skv, dv}, 1.0);
  if (r.chance(0.5))
    c.params.scale = r.pick({0.1, 0.3});
  int64_t stride = r.pick<int64_t>({2, 4}), span = stride * r.pick<int64_t>({1, 2});
  int64_t block = stride * r.pick<int64_t>({2, 4, 8});
  int64_t init = r.pick<int64_t>({0, 1}), local = r.pick<int64_t>({1, 2});
  int64_t topK = init + local + r.pick<int64_t>({0, 1, 3});
  if (c.composite == "NSA") {
    c.nsa.compression = {span, stride};
    c.nsa.compression.pool = r.pick({rt::Pool::Mean, rt::Pool::Max});
    c.nsa.selection.block = block;
    c.nsa.selection.topK = topK;
    c.nsa.selection.init = init;
    c.nsa.selection.local = local;
    c.nsa.window = r.pick<int64_t>({1, 8, 33});
    c.nsa.scale = c.params.scale;
    rt::Tensor gates = randomTensor(r, c.dtype, {b, hkv * g, sq, 3}, 1.0);
    c.gates = gates;
  } else if (c.composite == "MoBA") {
    c.mobaBlock = block, c.mobaTopK = 1 + r.uniform(0, 3);
  } else if (c.composite == "Quest") {
    c.quest.method = rt::ScoreMethod::KeyBound;
    c.quest.block = block, c.quest.topK = 1 + r.uniform(0, 3);
    c.quest.init = 0, c.quest.local = 1, c.quest.perQueryHead = true;
  } else {
    rt::Selection &sel = c.infLlmV2.selection;
    sel.compression = {span, stride};
    sel.block = block, sel.topK = topK, sel.init = init, sel.local = local;
    c.infLlmV2.denseLen = r.pick<int64_t>({1, 50, 200});
    c.infLlmV2.scale = c.params.scale;
  }
  // Per-batch valid key lengths (a ragged batch; InfLLM-V2 then picks its
  // side per element).
  std::string lengths;
  if (r.chance(0.4)) {
    rt::Tensor len = rt::Tensor::zeros(r.pick({rt::DType::I32, rt::DType::I64}), {b});
    for (int64_t i = 0; i < b; ++i) {
      len.set(size_t(i), r.pick<int64_t>({0, 1, skv, skv / 2, r.uniform(0, skv)}));
      lengths += (i ? "," : " L=") + std::to_string(int64_t(len.get(size_t(i))));
    }
    c.kvLengths = len;
    // Often a mixed batch: the longest element sparse, shorter ones dense.
    if (c.composite == "InfLLMV2" && r.chance(0.5)) {
      c.infLlmV2.denseLen = 1;
      for (int64_t i = 0; i < b; ++i)
        c.infLlmV2.denseLen = std::max(c.infLlmV2.denseLen, int64_t(len.get(size_t(i))));
    }
  }
  describe = c.composite + " " + rt::dtypeName(c.dtype) + " B=" + std::to_string(b) +
             " Hkv=" + std::to_string(hkv) + " G=" + std::to_string(g) +
             " D=" + std::to_string(d) + " Dv=" + std::to_string(dv) +
             " Sq=" + std::to_string(sq) + " Skv=" + std::to_string(skv) +
             " block=" + std::to_string(block) + " span=" + std::to_string(span) +
             "/" + std::to_string(stride) +
             (c.composite == "NSA" ? std::string(" pool=") + rt::poolName(c.nsa.compression.pool)
                                   : std::string()) +
             lengths +
             (c.composite == "InfLLMV2" ? " dense_len=" + std::to_string(c.infLlmV2.denseLen)
                                        : std::string());
  return c;
}


void dump(const std::string &name, const Case &c) {
  llvm::sys::fs::create_directories(dumpDir);
  std::string base = dumpDir + "/" + name;
  std::ofstream(base + ".mlir") << c.function.text();
  std::string inputs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::string file = base + "_in" + std::to_string(i) + ".npy";
    (void)rt::writeNpy(file, c.inputs[i]);
    inputs += (i ? "," : "") + file;
  }
  llvm::outs() << "    reproduce: attn-run " << base << ".mlir --inputs=" << inputs
               << " --check\n";
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "fused vs reference, random configurations\n");
  if (shapes < 1) {
    llvm::errs() << "attn-random-test: --shapes must be at least 1 (each kernel "
                    "runs on that many random shapes)\n";
    return 2;
  }
  DialectRegistry registry;
  mlir::attn::registerDialects(registry);
  MLIRContext context(registry);

  int passed = 0, failed = 0;
  for (int kernel = 0; kernel < int(kernels); ++kernel) {
    if (only >= 0 && kernel != only)
      continue;
    Random r(seed * 1000003 + kernel);
    KernelConfig k = randomKernel(r);
    std::vector<Case> cases;
    for (unsigned s = 0; s < shapes; ++s) {
      int64_t work;
      cases.push_back(randomCase(r, k, work));
    }
    // One compiled function for every shape of this kernel.
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(cases[0].function.text(), &context);
    std::string error;
    std::unique_ptr<mlir::attn::HostModule> host =
        module ? mlir::attn::HostModule::compile(*module, error) : nullptr;
    auto func = module ? module->lookupSymbol<func::FuncOp>("attention") : nullptr;
    for (unsigned s = 0; s < shapes; ++s) {
      const Case &c = cases[s];
      std::string id = std::to_string(kernel) + "." + std::to_string(s);
      std::vector<rt::Tensor> fused, reference;
      std::string problem = !module ? "the generated function does not parse"
                            : !host ? error
                                    : mlir::attn::checkInputs(func, c.inputs);
      if (problem.empty())
        problem = mlir::attn::interpret(func, c.inputs, reference);
      if (problem.empty())
        problem = host->run("attention", c.inputs, fused);
      double worstRel = 0;
      for (size_t i = 0; problem.empty() && i < fused.size(); ++i) {
        // lse grows with the scores, and so does its fp32 rounding error.
        rt::Tolerance tol = rt::toleranceFor(fused[i].dtype);
        if (i == 1 && k.lse)
          for (size_t e = 0; e < reference[i].numel(); ++e)
            if (std::isfinite(reference[i].get(e)))
              tol.maxAbs = std::max(tol.maxAbs, 1e-6 * std::abs(reference[i].get(e)));
        rt::Comparison cmp = rt::compareTensors(fused[i], reference[i], tol);
        worstRel = std::max(worstRel, cmp.rel);
        if (!cmp.problem.empty())
          problem = "result #" + std::to_string(i) + ": " + cmp.problem;
      }
      llvm::outs() << (problem.empty() ? "PASS " : "FAIL ") << id << "  "
                   << k.describe() << "  " << c.shape;
      if (problem.empty())
        llvm::outs() << "  rel=" << llvm::format("%.1e", worstRel) << "\n";
      else
        llvm::outs() << "\n    " << problem << "\n    rerun: attn-random-test --seed="
                     << seed << " --only=" << kernel << "\n";
      if (!problem.empty() && !dumpDir.empty())
        dump("kernel" + id, c);
      (problem.empty() ? passed : failed)++;
    }
  }
  // Sparse composites: the fused pipeline's Y against the float64 reference
  // run on the fused selection, and that selection against the reference's
  // scores.
  for (unsigned n = 0; n < composites; ++n) {
    if (only >= 0 && int(n) + int(kernels) != only)
      continue;
    Random r(seed * 7919 + n);
    std::string what;
    rt::OnnxCase c = randomComposite(r, what);
    std::vector<rt::Tensor> inputs, fused;
    std::string text = mlir::attn::compositeFunctionText(c, inputs);
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
    std::string problem = module ? "" : "the generated function does not parse";
    std::unique_ptr<mlir::attn::HostModule> host =
        module ? mlir::attn::HostModule::compile(*module, problem) : nullptr;
    if (host)
      problem = host->run("attention", inputs, fused);
    rt::Tensor y, idx, scores;
    // InfLLM-V2's side per element: dense elements list nothing.
    std::vector<bool> dense(size_t(c.q.shape[0]), false);
    for (size_t e = 0; c.composite == "InfLLMV2" && e < dense.size(); ++e)
      dense[e] = (c.kvLengths ? int64_t(c.kvLengths->get(e)) : c.k.shape[2]) <
                 c.infLlmV2.denseLen;
    bool allDense = std::all_of(dense.begin(), dense.end(), [](bool d) { return d; });
    const rt::Tensor *lengths = c.kvLengths ? &*c.kvLengths : nullptr;
    if (problem.empty() && !allDense)
      problem = rt::referenceBlockScores(c.q, c.k, rt::compositeSelection(c), scores, lengths);
    if (problem.empty() && !allDense) {
      size_t row = scores.numel() / dense.size();
      for (size_t e = 0; e < dense.size(); ++e)
        for (size_t i = e * row; dense[e] && i < (e + 1) * row; ++i)
          scores.set(i, -INFINITY);
      problem = rt::checkSelection(fused[1], scores, 1e-4);
    }
    if (problem.empty())
      problem = rt::runCompositeCase(c, allDense ? nullptr : &fused[1], y, idx);
    if (problem.empty()) {
      rt::Comparison cmp = rt::compareTensors(fused[0], y, rt::toleranceFor(c.dtype));
      if (!cmp.problem.empty())
        problem = "Y: " + cmp.problem;
    }
    std::string id = std::to_string(kernels + n);
    llvm::outs() << (problem.empty() ? "PASS " : "FAIL ") << id << "  " << what << "\n";
    if (!problem.empty())
      llvm::outs() << "    " << problem << "\n    rerun: attn-random-test --seed=" << seed
                   << " --kernels=" << kernels << " --only=" << id << "\n";
    (problem.empty() ? passed : failed)++;
  }
  llvm::outs() << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
