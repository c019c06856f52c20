//===- attn-bench.cpp - fused CPU attention against the unfused form ------===//
//
//   attn-bench [--filter=TEXT] [--min-time=0.5]
//
// Times the fused kernels (one shape-generic compiled function per kernel)
// against the unfused decomposition run in the same process: per head,
// OpenBLAS sgemm for Q K^T, a row softmax, sgemm for P V. The yardstick is an
// sgemm of 2048^3 on the same cores. GFLOP/s count useful work only:
// 2 * (Dqk + Dv) flops per (query, visible key) pair, so a causal attention
// is credited with the pairs it must compute, not with the skipped half.
// Each row times the fused call, the sgemm yardstick and the unfused form in
// interleaved rounds and reports medians. Peak memory is measured per call in
// a fresh child process (high-water RSS above the RSS before the call); both
// include their output (the fused one twice: the JIT's result buffer and the
// copy handed back as a runtime tensor).
//
//===----------------------------------------------------------------------===//
#include "runtime/jit/AttentionFunction.h"
#include "runtime/reference/OnnxCase.h"
#include "runtime/jit/HostModule.h"
#include "tools/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <unistd.h>
#include <cstdio>
#include <malloc.h>
#include <cstdlib>
#include <cstring>

using namespace mlir;
namespace rt = ::attn::rt;
namespace cl = llvm::cl;

static cl::OptionCategory category("attn-bench options");
static cl::opt<std::string> filter("filter", cl::desc("run only benchmarks whose name contains this"),
                                   cl::cat(category));
static cl::opt<std::string> tilePlan("tile-plan", cl::desc("pin a tile plan, e.g. '#attn.tile_plan<target = cpu, q_block = 64, kv_block = 64, warps = 1, stages = 1>'"),
                                     cl::cat(category));
static cl::opt<std::string> measureMemory("measure-memory", cl::Hidden,
    cl::desc("internal: print the peak memory of one run of BENCH/fused|unfused"),
    cl::cat(category));
static cl::opt<bool> sparse("sparse",
    cl::desc("time NSA, MoBA and the InfLLM-V2 switch against dense causal "
             "attention at 4k-32k keys (prefill and decode) instead"),
    cl::cat(category));
static cl::list<int64_t> sparseLengths("lengths", cl::CommaSeparated,
    cl::desc("key lengths for --sparse (default 4096,8192,16384,32768)"),
    cl::cat(category));
enum class Rows { Prefill, Decode, Both };
static cl::opt<Rows> sparseRows(
    "rows", cl::init(Rows::Both), cl::desc("with --sparse: which rows to time"),
    cl::values(clEnumValN(Rows::Prefill, "prefill", "as many queries as keys"),
               clEnumValN(Rows::Decode, "decode", "one query"),
               clEnumValN(Rows::Both, "both", "prefill, then decode")),
    cl::cat(category));
static cl::opt<bool> nsaParts("nsa-parts",
    cl::desc("with --sparse: time NSA's parts (compression and compressed "
             "attention, selection, selected blocks, window) separately"),
    cl::cat(category));
static cl::opt<bool> ragged("ragged",
    cl::desc("with --sparse: the InfLLM-V2 switch on a ragged batch of two (one "
             "element on each side) against each element run alone"),
    cl::cat(category));
static cl::opt<double> minTime("min-time", cl::init(0.5), cl::desc("seconds to time each run for"),
                               cl::cat(category));

namespace {
struct Bench {
  std::string name;
  int64_t b, hq, hkv, sq, skv, d;
  bool causal;
  bool baseline = true; // the unfused form needs Sq x Skv scores per head
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Median seconds per call of each function, timed in interleaved rounds
/// (so that a slow spell of this shared machine hits all of them alike),
/// after one warm-up call each.
std::vector<double> timeInterleaved(const std::vector<std::function<void()>> &fns) {
  std::vector<std::vector<double>> times(fns.size());
  for (auto &fn : fns)
    fn();
  // Each round runs the functions in a fresh random order, so none always
  // runs right after the same other one (or itself, as the ends of
  // alternating rounds did) and inherits its cache and thread state.
  std::mt19937 order(7);
  std::vector<size_t> perm(fns.size());
  std::iota(perm.begin(), perm.end(), size_t(0));
  double start = now();
  do {
    std::shuffle(perm.begin(), perm.end(), order);
    for (size_t i : perm) {
      double t0 = now();
      fns[i]();
      times[i].push_back(now() - t0);
    }
  } while (now() - start < minTime * fns.size() || times[0].size() < 5);
  std::vector<double> medians;
  for (auto &t : times) {
    std::sort(t.begin(), t.end());
    medians.push_back(t[t.size() / 2]);
  }
  return medians;
}

/// VmRSS or VmHWM of this process, in MB.
double statusMB(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kb = -1;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, field, n) && line[n] == ':')
      kb = atof(line + n + 1);
  if (f)
    fclose(f);
  return kb / 1024.0;
}

/// The resident memory one call of fn() adds at its peak. Run in a fresh
/// process (--measure-memory) after a warm-up call and malloc_trim, so that
/// neither start-up costs nor cached free memory distort it: the high-water
/// mark is reset to the current RSS first (Linux clear_refs "5").
double peakMB(const std::function<void()> &fn) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f || fputs("5", f) < 0) {
    if (f)
      fclose(f);
    return -1;
  }
  fclose(f);
  double start = statusMB("VmRSS");
  fn();
  return statusMB("VmHWM") - start;
}

int64_t visiblePairs(const Bench &x) {
  if (!x.causal)
    return x.sq * x.skv;
  int64_t off = x.skv - x.sq, pairs = 0; // bottom-right, as a KV cache
  for (int64_t i = 0; i < x.sq; ++i)
    pairs += std::clamp<int64_t>(i + off + 1, 0, x.skv);
  return pairs;
}

/// softmax(scale * Q K^T [+ causal]) V per head with sgemm, materialising
/// the Sq x Skv scores of one head at a time.
void unfused(const Bench &x, const float *q, const float *k, const float *v,
             float *out, std::vector<float> &scores) {
  float scale = 1.0f / std::sqrt(static_cast<float>(x.d));
  int64_t g = x.hq / x.hkv, off = x.skv - x.sq;
  for (int64_t b = 0; b < x.b; ++b)
    for (int64_t h = 0; h < x.hq; ++h) {
      const float *qh = q + (b * x.hq + h) * x.sq * x.d;
      const float *kh = k + (b * x.hkv + h / g) * x.skv * x.d;
      const float *vh = v + (b * x.hkv + h / g) * x.skv * x.d;
      float *oh = out + (b * x.hq + h) * x.sq * x.d;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, x.sq, x.skv, x.d, scale,
                  qh, x.d, kh, x.d, 0.0f, scores.data(), x.skv);
      for (int64_t i = 0; i < x.sq; ++i) {
        float *row = &scores[i * x.skv];
        int64_t visible = x.causal ? std::clamp<int64_t>(i + off + 1, 0, x.skv) : x.skv;
        float m = -INFINITY, sum = 0;
        for (int64_t j = 0; j < visible; ++j)
          m = std::max(m, row[j]);
        for (int64_t j = 0; j < visible; ++j)
          sum += row[j] = std::exp(row[j] - m);
        float inv = sum > 0 ? 1.0f / sum : 0.0f;
        for (int64_t j = 0; j < visible; ++j)
          row[j] *= inv;
        std::fill(row + visible, row + x.skv, 0.0f);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, x.sq, x.d, x.skv, 1.0f,
                  scores.data(), x.skv, vh, x.d, 0.0f, oh, x.d);
    }
}

std::vector<float> randomFloats(size_t n, std::mt19937 &gen) {
  std::normal_distribution<float> dist;
  std::vector<float> out(n);
  for (float &x : out)
    x = dist(gen);
  return out;
}

rt::Tensor tensorOf(const std::vector<float> &data, std::vector<int64_t> shape) {
  rt::Tensor t = rt::Tensor::zeros(rt::DType::F32, std::move(shape));
  std::memcpy(t.bytes.data(), data.data(), data.size() * sizeof(float));
  return t;
}
/// Parses and compiles `text` for the CPU; exits with the error on failure.
std::unique_ptr<mlir::attn::HostModule> compileOrExit(MLIRContext &context,
                                                      const std::string &text) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
  std::string error;
  auto host = module ? mlir::attn::HostModule::compile(*module, error) : nullptr;
  if (!host) {
    llvm::errs() << "attn-bench: " << error << "\n";
    exit(1);
  }
  return host;
}

/// The query lengths --rows asks for at `skv` keys.
std::vector<int64_t> rowsOf(int64_t skv) {
  if (sparseRows == Rows::Prefill)
    return {skv};
  if (sparseRows == Rows::Decode)
    return {1};
  return {skv, 1};
}

/// --sparse --nsa-parts: NSA decomposed (attn-decompose) into its parts, each
/// a function timed on its own, so that the table shows where NSA's time
/// goes: the selection (with the compressed branch), the selected and the
/// window branches apart and fused (attn-fuse-branches), and the selection
/// from a cache of compressed keys and values (what a decode loop keeps).
void nsaPartsRow(MLIRContext &context, const rt::OnnxCase &c, double denseMs) {
  const int64_t hq = c.q.shape[1], hkv = c.k.shape[1], d = c.q.shape[3];
  auto t = [](int64_t h, int64_t last, const char *e = "f32") {
    return "tensor<?x" + std::to_string(h) + "x?x" + std::to_string(last) + "x" + e + ">";
  };
  const std::string qt = t(hq, d), kt = t(hkv, d), it = t(hkv, 16, "i32");
  const std::string sig = "(%q: " + qt + ", %k: " + kt + ", %v: " + kt + ")";
  const std::string sel = "{block = 64, compress = array<i64: 32, 16>, init = 1, local = 2, "
                          "method = #attn.score<softmax_prob>, top_k = 16}";
  std::string text =
      "func.func @select" + sig + " -> (" + it + ", " + qt + ") {\n"
      "  %vc = attn.compress %v {block = 32, stride = 16, pool = #attn.pool<mean>} : " + kt + " -> " + kt + "\n"
      "  %i, %o = attn.select_blocks %q, %k values(%vc : " + kt + ") " + sel + " : " + qt + ", " + kt + " -> " + it + ", " + qt + "\n"
      "  return %i, %o : " + it + ", " + qt + "\n}\n"
      "func.func @slc(%q: " + qt + ", %k: " + kt + ", %v: " + kt + ", %i: " + it + ") -> " + qt + " {\n"
      "  %r = attn.attention %q, %k, %v blocks(%i : " + it + ") {alignment = #attn.alignment<bottom_right>, block_sizes = array<i64: 1, 64>, causal} : " + qt + ", " + kt + ", " + kt + " -> " + qt + "\n"
      "  return %r : " + qt + "\n}\n"
      "func.func @win" + sig + " -> " + qt + " {\n"
      "  %r = attn.attention %q, %k, %v {alignment = #attn.alignment<bottom_right>, causal, window = array<i64: 511, 0>} : " + qt + ", " + kt + ", " + kt + " -> " + qt + "\n"
      "  return %r : " + qt + "\n}\n"
      // What attn-fuse-branches makes of the two: one pass over the keys.
      "func.func @both(%q: " + qt + ", %k: " + kt + ", %v: " + kt + ", %i: " + it + ") -> (" + qt + ", " + qt + ") {\n"
      "  %r, %w = attn.attention %q, %k, %v blocks(%i : " + it + ") {alignment = #attn.alignment<bottom_right>, block_sizes = array<i64: 1, 64>, causal, window_branch = array<i64: 511, -1>} : " + qt + ", " + kt + ", " + kt + " -> " + qt + " window " + qt + "\n"
      "  return %r, %w : " + qt + ", " + qt + "\n}\n"
      // The cache, filled once; the selection reading it.
      "func.func @pool(%k: " + kt + ", %v: " + kt + ") -> (" + kt + ", " + kt + ") {\n"
      "  %kc = attn.compress %k {block = 32, stride = 16, pool = #attn.pool<mean>} : " + kt + " -> " + kt + "\n"
      "  %vc = attn.compress %v {block = 32, stride = 16, pool = #attn.pool<mean>} : " + kt + " -> " + kt + "\n"
      "  return %kc, %vc : " + kt + ", " + kt + "\n}\n"
      "func.func @cached(%q: " + qt + ", %k: " + kt + ", %kc: " + kt + ", %vc: " + kt + ") -> (" + it + ", " + qt + ") {\n"
      "  %i, %o = attn.select_blocks %q, %k compressed(%kc : " + kt + ") values(%vc : " + kt + ") " + sel + " : " + qt + ", " + kt + " -> " + it + ", " + qt + "\n"
      "  return %i, %o : " + it + ", " + qt + "\n}\n";
  std::unique_ptr<mlir::attn::HostModule> host = compileOrExit(context, text);
  std::vector<rt::Tensor> idx;
  if (std::string e = host->run("select", {c.q, c.k, c.v}, idx); !e.empty())
    llvm::report_fatal_error(llvm::StringRef(e));
  idx.resize(1);
  std::vector<rt::Tensor> cache;
  if (std::string e = host->run("pool", {c.k, c.v}, cache); !e.empty())
    llvm::report_fatal_error(llvm::StringRef(e));
  std::vector<std::pair<const char *, std::vector<rt::Tensor>>> calls = {
      {"select", {c.q, c.k, c.v}},
      {"slc", {c.q, c.k, c.v, idx[0]}}, {"win", {c.q, c.k, c.v}},
      {"both", {c.q, c.k, c.v, idx[0]}}, {"cached", {c.q, c.k, cache[0], cache[1]}}};
  std::vector<std::vector<rt::Tensor>> outs(calls.size());
  std::vector<std::function<void()>> fns;
  for (size_t i = 0; i < calls.size(); ++i)
    fns.push_back([&, i] {
      if (std::string e = host->run(calls[i].first, calls[i].second, outs[i]); !e.empty())
        llvm::report_fatal_error(llvm::StringRef(e));
    });
  std::vector<double> times = timeInterleaved(fns);
  llvm::outs() << "| " << c.k.shape[2] << " | " << c.q.shape[2] << " | "
               << llvm::format("%.2f", denseMs);
  for (double x : times)
    llvm::outs() << " | " << llvm::format("%.2f", x * 1e3);
  // What the pipeline runs: the selection, then the fused branches; and
  // the same with the selection reading a cache.
  llvm::outs() << " | " << llvm::format("%.2f", (times[0] + times[3]) * 1e3) << " | "
               << llvm::format("%.2f", (times[4] + times[3]) * 1e3) << " |\n";
  llvm::outs().flush();
}

/// --sparse --ragged: the InfLLM-V2 switch (dense_len 8192) over a batch of
/// two with valid lengths (short, Skv), short = min(Skv / 4, 4096) on the
/// dense side and Skv on the sparse side, against each element alone
/// through the same compiled function. A ratio near 1 means each side's
/// kernels skip the other side's element.
int raggedBenchmarks(MLIRContext &context, const std::vector<int64_t> &lengths) {
  const int64_t hq = 8, hkv = 2, d = 64, denseLen = 8192;
  std::mt19937 gen(13);
  llvm::outs() << "| keys | queries | short L | batch of 2 ms | short alone (dense) ms | "
                  "long alone (sparse) ms | batch / sum |\n|---|---|---|---|---|---|---|\n";
  for (int64_t skv : lengths)
    for (int64_t sq : rowsOf(skv)) {
      int64_t shortLen = std::min(skv / 4, denseLen / 2);
      llvm::errs() << "[attn-bench] ragged: " << skv << " keys, " << sq << " queries\n";
      rt::OnnxCase c;
      c.composite = "InfLLMV2";
      c.infLlmV2.denseLen = denseLen;
      rt::Selection &s = c.infLlmV2.selection;
      s.compression = {32, 16};
      s.block = 64, s.topK = 64, s.init = 1, s.local = 2048 / 64;
      // One batch element: q, k, v and its valid length.
      auto element = [&](int64_t len) {
        rt::Tensor lengths = rt::Tensor::zeros(rt::DType::I64, {1});
        lengths.set(0, double(len));
        return std::vector<rt::Tensor>{
            tensorOf(randomFloats(hq * sq * d, gen), {1, hq, sq, d}),
            tensorOf(randomFloats(hkv * skv * d, gen), {1, hkv, skv, d}),
            tensorOf(randomFloats(hkv * skv * d, gen), {1, hkv, skv, d}), lengths};
      };
      std::vector<rt::Tensor> shortOne = element(shortLen), longOne = element(skv), both;
      for (size_t i = 0; i < shortOne.size(); ++i) { // concatenated along the batch
        rt::Tensor t = shortOne[i];
        t.shape[0] = 2;
        t.bytes.insert(t.bytes.end(), longOne[i].bytes.begin(), longOne[i].bytes.end());
        both.push_back(std::move(t));
      }
      c.q = both[0], c.k = both[1], c.v = both[2], c.kvLengths = both[3];
      std::vector<rt::Tensor> inputs;
      auto host = compileOrExit(context, mlir::attn::compositeFunctionText(c, inputs));
      std::vector<std::function<void()>> fns;
      std::vector<rt::Tensor> out;
      for (const std::vector<rt::Tensor> *in : {&both, &shortOne, &longOne})
        fns.push_back([&, in] {
          if (std::string e = host->run("attention", *in, out); !e.empty())
            llvm::report_fatal_error(llvm::StringRef(e));
        });
      std::vector<double> t = timeInterleaved(fns);
      auto ms = [](double x) { return llvm::format("%.2f", x * 1e3); };
      llvm::outs() << "| " << skv << " | " << sq << " | " << shortLen << " | " << ms(t[0])
                   << " | " << ms(t[1]) << " | " << ms(t[2]) << " | "
                   << llvm::format("%.3f", t[0] / (t[1] + t[2])) << " |\n";
      llvm::outs().flush();
    }
  return 0;
}

/// --sparse: one row per (key length, prefill or decode): the fused dense
/// causal attention and each sparse composite of the same shape, timed in
/// interleaved rounds; ratios are dense time / sparse time.
int sparseBenchmarks(MLIRContext &context) {
  const int64_t hq = 8, hkv = 2, d = 64;
  std::vector<int64_t> lengths(sparseLengths.begin(), sparseLengths.end());
  if (lengths.empty())
    lengths = {4096, 8192, 16384, 32768};
  if (ragged)
    return raggedBenchmarks(context, lengths);
  std::mt19937 gen(11);
  if (nsaParts)
    llvm::outs() << "| keys | queries | dense causal ms | selection + compressed ms | "
                    "selected ms | window ms | selected + window fused ms | "
                    "selection from a cache ms | NSA parts ms (selection + fused) | "
                    "with a cache ms |\n"
                 << "|---|---|---|---|---|---|---|---|---|---|\n";
  else
    llvm::outs() << "| keys | queries | dense causal ms | NSA ms | NSA speed-up | MoBA ms | "
                    "MoBA speed-up | switch ms | switch side | switch / its side |\n"
                 << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (int64_t skv : lengths)
    for (int64_t sq : rowsOf(skv)) {
      if (!filter.empty() && std::to_string(skv).find(filter) == std::string::npos)
        continue;
      llvm::errs() << "[attn-bench] sparse: " << skv << " keys, " << sq
                   << " queries: compiling\n";
      rt::OnnxCase c;
      c.q = tensorOf(randomFloats(hq * sq * d, gen), {1, hq, sq, d});
      c.k = tensorOf(randomFloats(hkv * skv * d, gen), {1, hkv, skv, d});
      c.v = tensorOf(randomFloats(hkv * skv * d, gen), {1, hkv, skv, d});
      std::vector<float> g(size_t(hq * sq * 3), 1.0f / 3);
      c.gates = tensorOf(g, {1, hq, sq, 3}); // NSA: the contract's defaults
      c.mobaBlock = 128, c.mobaTopK = 8;
      rt::Selection &infllm = c.infLlmV2.selection; // dense_len 8192
      infllm.compression = {32, 16};
      infllm.block = 64, infllm.topK = 64, infllm.init = 1, infllm.local = 2048 / 64;
      auto compile = [&](const std::string &text) { return compileOrExit(context, text); };
      struct Run {
        std::unique_ptr<mlir::attn::HostModule> host;
        std::vector<rt::Tensor> inputs;
        std::string name;
      };
      std::vector<Run> runs;
      mlir::attn::AttentionFunction dense;
      dense.query = c.q.shape, dense.key = dense.value = c.k.shape;
      dense.params.causal = dense.params.bottomRight = true;
      runs.push_back({compile(dense.text()), {c.q, c.k, c.v}, dense.name});
      auto composite = [&](const char *name, int64_t denseLen) {
        rt::OnnxCase x = c;
        x.composite = name;
        x.infLlmV2.denseLen = denseLen;
        Run r;
        r.host = compile(mlir::attn::compositeFunctionText(x, r.inputs));
        r.name = "attention";
        runs.push_back(std::move(r));
      };
      if (nsaParts) {
        std::vector<rt::Tensor> out;
        double dense = timeInterleaved({[&] {
          if (std::string e = runs[0].host->run(runs[0].name, runs[0].inputs, out); !e.empty())
            llvm::report_fatal_error(llvm::StringRef(e));
        }})[0];
        nsaPartsRow(context, c, dense * 1e3);
        continue;
      }
      for (const char *name : {"NSA", "MoBA", "InfLLMV2"})
        composite(name, c.infLlmV2.denseLen);
      // The side the switch takes: the dense function above below dense_len
      // keys, else the sparse side compiled on its own (dense_len 0).
      bool denseSide = skv < c.infLlmV2.denseLen;
      if (!denseSide)
        composite("InfLLMV2", 0);
      std::vector<std::function<void()>> fns;
      std::vector<std::vector<rt::Tensor>> outs(runs.size());
      // The switch and the side it is compared with read the same input
      // tensors: otherwise the ratio measured whose copy of K and V the
      // cache still held.
      for (size_t i = 0; i < runs.size(); ++i)
        fns.push_back([&, i] {
          const auto &inputs = i == 4 ? runs[3].inputs : runs[i].inputs;
          std::string e = runs[i].host->run(runs[i].name, inputs, outs[i]);
          if (!e.empty())
            llvm::report_fatal_error(llvm::StringRef(e));
        });
      llvm::errs() << "[attn-bench] sparse: " << skv << " keys, " << sq
                   << " queries: timing\n";
      std::vector<double> t = timeInterleaved(fns);
      auto ms = [](double x) { return llvm::format("%.2f", x * 1e3); };
      llvm::outs() << "| " << skv << " | " << sq << " | " << ms(t[0]) << " | " << ms(t[1])
                   << " | " << llvm::format("%.2fx", t[0] / t[1]) << " | " << ms(t[2])
                   << " | " << llvm::format("%.2fx", t[0] / t[2]) << " | " << ms(t[3])
                   << " | " << (denseSide ? "dense" : "sparse") << " | "
                   << llvm::format("%.3f", t[3] / t[denseSide ? 0 : 4]) << " |\n";
      llvm::outs().flush();
    }
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  // Idle worker threads of OpenMP (ours) and of OpenBLAS (the baseline) spin
  // for a while after each call and would steal the cores from whichever
  // runs next in the interleaved rounds: make both sleep at once. OpenBLAS
  // reads its setting when it loads, hence the re-exec.
  if (!getenv("OPENBLAS_THREAD_TIMEOUT")) {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
    execv("/proc/self/exe", argv);
  }
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "fused CPU attention benchmarks\n");
  // OpenMP reads its setting when the JIT loads it. --sparse times only our
  // kernels (one OpenMP runtime, nothing to steal from), so its workers keep
  // OpenMP's default spin: with KMP_BLOCKTIME=0 every parallel region paid a
  // wake-up of about 0.15 ms here, most of a decode call's time.
  if (!sparse && !getenv("KMP_BLOCKTIME"))
    setenv("KMP_BLOCKTIME", "0", 1);
  DialectRegistry registry;
  mlir::attn::registerDialects(registry);
  MLIRContext context(registry);
  std::string self = llvm::sys::fs::getMainExecutable(argv[0], (void *)&timeInterleaved);
  if (sparse)
    return sparseBenchmarks(context);

  std::vector<Bench> benches = {
      {"mha (1,16,2048,64)", 1, 16, 16, 2048, 2048, 64, false},
      {"mha causal (1,16,2048,64)", 1, 16, 16, 2048, 2048, 64, true},
      {"gqa 32/8 causal (1,4096,128)", 1, 32, 8, 4096, 4096, 128, true},
      {"decode gqa 32/8 (Sq=1,Skv=8192,128)", 1, 32, 8, 1, 8192, 128, true},
      {"memory causal (1,1,16384,64)", 1, 1, 1, 16384, 16384, 64, true, false},
      {"memory causal (1,1,32768,64)", 1, 1, 1, 32768, 32768, 64, true, false},
  };

  std::mt19937 gen(7);
  const int n = 2048;
  std::vector<float> a, bm, c;
  auto sgemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(),
                n, bm.data(), n, 0.0f, c.data(), n);
  };
  if (measureMemory.empty()) {
    a = randomFloats(n * n, gen);
    bm = randomFloats(n * n, gen);
    c.resize(n * n);
    llvm::outs() << "| shape | fused ms | fused GFLOP/s | % of sgemm | unfused ms | "
                    "speed-up | causal / full time | fused peak MB | unfused peak MB |\n"
                 << "|---|---|---|---|---|---|---|---|---|\n";
  }

  for (const Bench &x : benches) {
    std::string only = measureMemory.substr(0, measureMemory.rfind('/'));
    if ((!filter.empty() && x.name.find(filter) == std::string::npos) ||
        (!measureMemory.empty() && x.name != only))
      continue;
    auto compile = [&](bool causal, mlir::attn::AttentionFunction &f) {
      f.query = {x.b, x.hq, x.sq, x.d};
      f.key = f.value = {x.b, x.hkv, x.skv, x.d};
      f.params.causal = causal;
      f.params.bottomRight = causal;
      f.tilePlan = tilePlan;
      OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(f.text(), &context);
      std::string error;
      auto host = module ? mlir::attn::HostModule::compile(*module, error) : nullptr;
      if (!host) {
        llvm::errs() << "attn-bench: " << x.name << ": " << error << "\n";
        exit(1);
      }
      return host;
    };
    mlir::attn::AttentionFunction f, fullF;
    auto host = compile(x.causal, f);
    std::vector<float> q = randomFloats(x.b * x.hq * x.sq * x.d, gen);
    std::vector<float> k = randomFloats(x.b * x.hkv * x.skv * x.d, gen);
    std::vector<float> v = randomFloats(x.b * x.hkv * x.skv * x.d, gen);
    std::vector<rt::Tensor> inputs = {tensorOf(q, f.query), tensorOf(k, f.key),
                                      tensorOf(v, f.value)};
    std::vector<rt::Tensor> outputs;
    auto fused = [&] {
      std::string e = host->run(f.name, inputs, outputs);
      if (!e.empty())
        llvm::report_fatal_error(llvm::StringRef(e));
    };
    auto baseline = [&] {
      std::vector<float> scores(x.sq * x.skv), out(x.b * x.hq * x.sq * x.d);
      unfused(x, q.data(), k.data(), v.data(), out.data(), scores);
    };
    if (!measureMemory.empty()) {
      // Warm up (OpenMP starts its threads on the first call), hand the
      // freed memory back to the system, then measure one call.
      bool isFused = llvm::StringRef(measureMemory).ends_with("/fused");
      isFused ? fused() : baseline();
      malloc_trim(0);
      llvm::outs() << llvm::format("%.1f", (isFused ? peakMB(fused) : peakMB(baseline))) << "\n";
      return 0;
    }
    auto memory = [&](const char *which) {
      std::string cmd = "'" + self + "' --measure-memory='" + x.name + "/" + which + "'";
      double mb = -1;
      if (FILE *p = popen(cmd.c_str(), "r")) {
        if (fscanf(p, "%lf", &mb) != 1)
          mb = -1;
        pclose(p);
      }
      return mb;
    };
    // A causal row also times the same shape without the mask, in the same
    // rounds, for the causal / full time ratio.
    std::unique_ptr<mlir::attn::HostModule> full;
    std::vector<std::function<void()>> fns = {fused, sgemm};
    if (x.baseline)
      fns.push_back(baseline);
    if (x.causal && x.baseline) {
      full = compile(false, fullF);
      fns.push_back([&] {
        std::string e = full->run(fullF.name, inputs, outputs);
        if (!e.empty())
          llvm::report_fatal_error(llvm::StringRef(e));
      });
    }
    std::vector<double> t = timeInterleaved(fns);
    double flops = 2.0 * (x.d + x.d) * visiblePairs(x) * x.b * x.hq;
    double rate = flops / t[0] / 1e9, gemmRate = 2.0 * n * n * n / t[1] / 1e9;
    llvm::outs() << "| " << x.name << " | " << llvm::format("%.2f", t[0] * 1e3) << " | "
                 << llvm::format("%.1f", rate) << " | "
                 << llvm::format("%.0f%% of %.0f", 100.0 * rate / gemmRate, gemmRate) << " | ";
    if (x.baseline)
      llvm::outs() << llvm::format("%.2f", t[2] * 1e3) << " | "
                   << llvm::format("%.2fx", t[2] / t[0]) << " | ";
    else
      llvm::outs() << "- | - | ";
    if (full)
      llvm::outs() << llvm::format("%.2f", t[0] / t[3]) << " | ";
    else
      llvm::outs() << "- | ";
    llvm::outs() << llvm::format("%.1f", memory("fused")) << " | ";
    if (x.baseline)
      llvm::outs() << llvm::format("%.1f", memory("unfused")) << " |\n";
    else
      llvm::outs() << "(needs " << llvm::format("%.0f", x.sq * x.skv * 4.0 / 1048576.0)
                   << " MB of scores per head) |\n";
    llvm::outs().flush();
  }
  return 0;
}
