//===- GpuRuntimeUnitTest.cpp - attn-gpu-runtime-unit ---------------------===//
//
// GoogleTest unit tests of the GPU runtime that need no GPU: the artefact
// JSON writer and reader (a round trip, and each contradiction the reader
// refuses), loading (and each way a set of files can be broken), the
// operand checks of an attention launch (each bad operand with its own
// status and message), the PTX parameter list, and Triton's raw-argument
// rule. The artefacts are written into a scratch folder; their PTX is a
// real but empty kernel, so on a machine with a GPU the launch tests launch
// it for real (it reads none of the fake pointers). Run by lit
// (test/Runtime/gpu-runtime-unit.test) and by run-gpu-checks.sh.
//
//===----------------------------------------------------------------------===//

#include "lowering/GpuTileLayout.h"
#include "runtime/AttnRuntime.h"
#include "runtime/JsonFile.h"
#include "runtime/KernelArtefact.h"
#include "runtime/unittests/TestFiles.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace attn::rt;
using namespace attn::test;

namespace {

// Whether this machine has a usable GPU; the launch tests expect OK then,
// ATTN_ERROR_NO_DEVICE otherwise.
bool haveDevice() {
  static bool have = attn_device_init() == ATTN_OK;
  return have;
}

// A call's status, and its message when it failed.
::testing::AssertionResult gives(attn_status got, attn_status want,
                                 const std::string &part) {
  std::string message = got == ATTN_OK ? "" : attn_last_error();
  if (got == want && message.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << attn_status_name(got) << " \"" << message << "\", expected "
         << attn_status_name(want) << " with \"" << part << "\"";
}

//===-- Configs and artefacts ---------------------------------------------===//

struct Optional {
  bool mask = true, lengths = true, offsets = false, lse = true;
};

// bf16, group 2, head dims 64, bottom-right causal, 128 x 64 tiles on sm_80
// (64 query positions per block).
AttentionConfig baseConfig(const Optional &o = {}) {
  AttentionConfig c;
  c.dtype = DType::BF16;
  c.group = 2;
  c.headDim = c.valueDim = 64;
  c.scale = 0.125;
  c.causal = true;
  c.bottomRight = true;
  if (o.mask)
    c.maskDtype = DType::Bool;
  if (o.lengths)
    c.lengthsDtype = DType::I32;
  if (o.offsets)
    c.offsetsDtype = DType::I64;
  c.lse = o.lse;
  c.plan = {Target::SM80, 128, 64, 4, 2};
  return c;
}

// A PTX kernel with the given parameter sizes that returns at once.
std::string emptyKernelPtx(const std::string &name,
                           const std::vector<int> &sizes) {
  std::string ptx = ".version 7.0\n.target sm_80\n.address_size 64\n\n"
                    ".visible .entry " + name + "(\n";
  for (size_t i = 0; i < sizes.size(); ++i)
    ptx += std::string("\t.param ") +
           (sizes[i] == 8 ? ".u64 .ptr .global .align 1 " : ".u32 ") + name +
           "_param_" + std::to_string(i) + (i + 1 < sizes.size() ? ",\n" : "\n");
  return ptx + ")\n{\n\tret;\n}\n";
}

std::vector<int> paramSizes(const AttentionConfig &c) {
  std::vector<int> sizes;
  for (const KernelParam &p : kernelParams(c))
    sizes.push_back(p.bytes());
  return sizes;
}

Json artefactJson(const AttentionConfig &c, const PtxasFigures &f = {}) {
  Json j;
  std::string e = parseJson(attentionArtefactJson(c, f), j);
  EXPECT_EQ(e, "");
  return j;
}

// Writes FILE.json and, unless `ptx` is empty, FILE.ptx under the scratch
// folder; the .json path.
std::string writeArtefact(const std::string &file, const std::string &json,
                          const std::string &ptx) {
  std::string base = scratch() + "/" + file;
  writeFile(base + ".json", json);
  if (!ptx.empty())
    writeFile(base + ".ptx", ptx);
  return base + ".json";
}

// The artefact of `c` as attn-compile writes it, with an empty kernel.
std::string writeAttention(const std::string &file, const AttentionConfig &c) {
  return writeArtefact(file, attentionArtefactJson(c, {}),
                       emptyKernelPtx(c.name(), paramSizes(c)));
}

struct Kernel {
  attn_kernel *k = nullptr;
  explicit Kernel(const std::string &jsonPath) {
    attn_status s = attn_kernel_load(jsonPath.c_str(), &k);
    EXPECT_EQ(s, ATTN_OK) << jsonPath << ": " << attn_last_error();
  }
  ~Kernel() { attn_kernel_free(k); }
};

// Every field of two configs, the scale resolved (the writer resolves it).
void expectSameConfig(AttentionConfig a, AttentionConfig b) {
  a.scale = a.resolvedScale();
  b.scale = b.resolvedScale();
  EXPECT_EQ(a.name(), b.name());
  EXPECT_EQ(a.scale, b.scale);
  EXPECT_EQ(a.softcap, b.softcap);
  EXPECT_EQ(a.causal, b.causal);
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.branches, b.branches);
  EXPECT_EQ(a.bottomRight, b.bottomRight);
  EXPECT_EQ(a.queryOffset, b.queryOffset);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.headDim, b.headDim);
  EXPECT_EQ(a.valueDim, b.valueDim);
  EXPECT_EQ(a.maskDtype, b.maskDtype);
  EXPECT_EQ(a.lengthsDtype, b.lengthsDtype);
  EXPECT_EQ(a.offsetsDtype, b.offsetsDtype);
  EXPECT_EQ(a.compressedKeys, b.compressedKeys);
  EXPECT_EQ(a.blocks, b.blocks);
  EXPECT_EQ(a.blockHeads, b.blockHeads);
  EXPECT_EQ(a.lse, b.lse);
  EXPECT_EQ(a.selection.has_value(), b.selection.has_value());
  if (a.selection && b.selection)
    EXPECT_TRUE(*a.selection == *b.selection);
  EXPECT_TRUE(a.plan == b.plan);
}

// A selection kernel (NSA's: blocks of 64 keys, 16 per list, 1 initial and
// 2 local forced) over keys compressed by (32, 16), lists per key head;
// with values unless `values` is false.
AttentionConfig selectionConfig(bool values = true) {
  AttentionConfig c = baseConfig({false, true, false, false});
  c.compressedKeys = std::make_pair(int64_t(32), int64_t(16));
  c.blockHeads = BlockHeads::KeyHead;
  c.selection = BlockSelection{64, 16, 1, 2, ScoreMethod::SoftmaxProb};
  c.plan = {Target::SM90, 128, 32, 4, 3};
  if (!values)
    c.valueDim = 0;
  return c;
}

//===-- The artefact JSON -------------------------------------------------===//

TEST(ArtefactJson, RoundTrip) {
  std::vector<AttentionConfig> configs = {baseConfig(),
                                          baseConfig({false, false, true, false})};
  AttentionConfig c = baseConfig({false, false, false, false});
  c.dtype = DType::F16, c.causal = false, c.bottomRight = false;
  c.scale.reset(); // 1/sqrt(head dim), written resolved
  c.window = std::make_pair(int64_t(4095), int64_t(-1));
  c.softcap = 50;
  c.maskDtype = DType::F32;
  c.headDim = 128, c.valueDim = 64;
  c.plan = {Target::SM90, 128, 32, 4, 3};
  configs.push_back(c);
  c = baseConfig({true, true, true, true});
  c.branches = std::make_pair(int64_t(16), int64_t(4));
  c.queryOffset = 12;
  c.group = 8;
  c.plan = {Target::SM90, 256, 64, 8, 2};
  configs.push_back(c);
  c = baseConfig({false, true, false, true});
  c.blocks = std::make_pair(int64_t(1), int64_t(64));
  c.blockHeads = BlockHeads::KeyHead;
  c.plan = {Target::SM90, 16, 32, 1, 3};
  configs.push_back(c);
  c = baseConfig({false, true, false, true});
  c.bottomRight = false;
  c.compressedKeys = std::make_pair(int64_t(32), int64_t(16));
  configs.push_back(c);
  configs.push_back(selectionConfig());
  c = selectionConfig(/*values=*/false);
  c.selection->method = ScoreMethod::SoftmaxProbMax;
  c.blockHeads = BlockHeads::QueryHead;
  configs.push_back(c);
  // MoBA's: block means, no compressed keys.
  c = selectionConfig(/*values=*/false);
  c.compressedKeys.reset();
  c.selection = BlockSelection{128, 8, 0, 1, ScoreMethod::MeanKey};
  c.blockHeads = BlockHeads::QueryHead;
  configs.push_back(c);

  PtxasFigures figures{168, 0, "ptxas info    : Used 168 registers"};
  for (size_t i = 0; i < configs.size(); ++i) {
    const AttentionConfig &want = configs[i];
    ASSERT_EQ(want.validate(), "");
    ASSERT_EQ(attn::GpuTileLayout::check(want), "");
    std::string json = attentionArtefactJson(want, figures);
    std::string path = writeArtefact("round_trip_" + std::to_string(i), json,
                                     emptyKernelPtx(want.name(), paramSizes(want)));
    KernelArtefact art;
    ASSERT_EQ(loadKernelArtefact(path, art), "");
    ASSERT_TRUE(art.attn.has_value());
    expectSameConfig(*art.attn, want);
    EXPECT_EQ(art.name, want.name());
    EXPECT_EQ(art.numWarps, want.plan.warps);
    EXPECT_EQ(art.shared, attn::GpuTileLayout(want).sharedBytes);
    EXPECT_EQ(art.arch, targetArch(want.plan.target));
    EXPECT_EQ(art.ptxas.registers, 168);
    EXPECT_EQ(art.ptxas.log, figures.log);
    EXPECT_EQ(art.ptxParamSizes, paramSizes(want));
    // Written again from what was read: the same text.
    EXPECT_EQ(attentionArtefactJson(*art.attn, art.ptxas), json);
  }
}

TEST(ArtefactJson, Format) {
  Json j = artefactJson(baseConfig({true, true, true, true}));
  EXPECT_EQ(j["attn"]["version"], 4);
  EXPECT_EQ(j["attn"]["selection"], nullptr);
  EXPECT_EQ(j["num_ctas"], 1);
  EXPECT_EQ(j["target"].dump(), R"({"backend":"cuda","arch":80,"warp_size":32})");
  EXPECT_EQ(j["attn"]["grid"].dump(),
            R"({"x":{"ceil_div":["seq_q",64]},"y":{"extent":["k",1]},)"
            R"("z":{"arg":"batch"}})");
  EXPECT_EQ(j["attn"]["block"].dump(), "[128,1,1]");
  EXPECT_EQ(j["attn"]["tile_plan"].dump(),
            R"({"target":"sm_80","q_block":128,"kv_block":64,"warps":4,"stages":2})");
  EXPECT_EQ(j["attn"]["offsets_dtype"], "i64");
  EXPECT_EQ(j["attn"]["query_offset"], nullptr);
  EXPECT_EQ(j["attn"]["window"], nullptr);
  EXPECT_EQ(j["attn"]["registers"], nullptr);
  // q, k, v, mask, kv_lengths, q_offsets, out, lse, then the scalars.
  const Json &args = j["attn"]["args"];
  ASSERT_EQ(args.size(), 30u);
  EXPECT_EQ(args[5].dump(), R"({"name":"q_offsets","kind":"tensor","dtype":"i64"})");
  EXPECT_EQ(args[8]["name"], "batch");
  EXPECT_EQ(args[21]["name"], "mask_stride_b");
  EXPECT_EQ(args[24]["name"], "out_stride_b");
}

// Each contradiction in NAME.json: its own ATTN_ERROR_ARTEFACT message,
// naming the file, the field, the expected and the actual value.
TEST(ArtefactJson, Contradictions) {
  const AttentionConfig c = baseConfig();
  const std::string shared = std::to_string(attn::GpuTileLayout(c).sharedBytes);
  AttentionConfig withoutLse = c;
  withoutLse.lse = false;
  struct Case {
    const char *what;
    std::function<void(Json &)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"version-1", [](Json &j) { j["attn"]["version"] = 1; },
       "attn.version: expected 4, got 1; recompile the kernel"},
      {"not-attention", [](Json &j) { j["attn"]["op"] = "nsa"; },
       "attn.op: expected \"attention\", got \"nsa\""},
      {"missing-group", [](Json &j) { j["attn"].erase("group"); },
       "missing field \"attn.group\" (an integer)"},
      {"group-0", [](Json &j) { j["attn"]["group"] = 0; },
       "\"attn.group\" must be an integer >= 1, got 0"},
      {"bad-dtype", [](Json &j) { j["attn"]["dtype"] = "fp8"; },
       "\"attn.dtype\" must be one of f16, bf16, f32, f64, bool, i32, i64, "
       "got \"fp8\""},
      {"block-heads", [](Json &j) { j["attn"]["block_heads"] = "all"; },
       "\"attn.block_heads\" must be null, \"shared\", \"kv\" or \"q\", got \"all\""},
      {"block-heads-alone", [](Json &j) { j["attn"]["block_heads"] = "kv"; },
       "attn.block_heads: set exactly when attn.block_sizes or attn.selection is"},
      {"selection-pool",
       [](Json &j) {
         j["attn"]["selection"] = {{"block", 64}, {"k", 16}, {"init", 1},
                                   {"local", 2}, {"method", "key_bound"}};
       },
       "attn.selection.method: expected \"softmax_prob\", \"softmax_prob_max\" "
       "or \"mean_key\", got \"key_bound\""},
      {"window-not-pair", [](Json &j) { j["attn"]["window"] = {1, 2, 3}; },
       "\"attn.window\" must be null or two integers, got [1,2,3]"},
      {"alignment", [](Json &j) { j["attn"]["alignment"] = "left"; },
       "attn.alignment: expected \"bottom_right\" or \"top_left\", got \"left\""},
      {"plan-target", [](Json &j) { j["attn"]["tile_plan"]["target"] = "sm_75"; },
       "attn.tile_plan.target: expected \"sm_80\" or \"sm_90\", got \"sm_75\""},
      {"head-dim-72", [](Json &j) { j["attn"]["head_dim"] = 72; },
       "attn: GPU kernels need head dims that are multiples of 16 up to 256, "
       "got Dqk = 72, Dv = 64"},
      {"f32-kernel", [](Json &j) { j["attn"]["dtype"] = "f32"; },
       "attn: GPU kernels take f16 or bf16, got f32"},
      {"q-block-48", [](Json &j) { j["attn"]["tile_plan"]["q_block"] = 48; },
       "attn: tile_plan q_block must be a multiple of 16 * warps = 64"},
      {"softcap-huge", [](Json &j) { j["attn"]["softcap"] = 1e300; },
       "attn: softcap 1e+300 is outside the range f32 kernels compute in"},
      {"negative-window", [](Json &j) { j["attn"]["window"] = {-5, 0}; },
       "attn: window sides must be >= 0 or -1 (unbounded), got (-5, 0)"},
      {"causal-not-in-name", [](Json &j) { j["attn"]["causal"] = false; },
       "name: expected \"attn_sm_80_bf16_d64_g2_maski1_leni32_lse_q128k64_"
       "s3fc0000000000000\" (the kernel the attn section describes), got \"" +
           c.name() + "\"; the section says \"_maski1\", the name \"_causal\""},
      {"lse-not-in-name", [](Json &j) { j["attn"]["lse"] = false; },
       "name: expected \"" + withoutLse.name() +
           "\" (the kernel the attn section describes), got \"" + c.name() +
           "\"; the section says \"_q128k64\", the name \"_lse\""},
      {"num-warps", [](Json &j) { j["num_warps"] = 8; },
       "num_warps: expected 4 (attn.tile_plan.warps), got 8"},
      {"num-stages", [](Json &j) { j["num_stages"] = 3; },
       "num_stages: expected 2 (attn.tile_plan.stages), got 3"},
      {"shared-0", [](Json &j) { j["shared"] = 0; },
       "shared: expected " + shared +
           " (the shared memory of attn.tile_plan), got 0"},
      {"arch", [](Json &j) { j["target"]["arch"] = 90; },
       "target.arch: expected 80 (attn.tile_plan.target sm_80), got 90"},
      {"no-target", [](Json &j) { j.erase("target"); },
       "target.arch: expected 80 (attn.tile_plan.target sm_80), got null"},
      {"block-overflow",
       [](Json &j) {
         j["attn"]["block"] = {int64_t(1) << 32, int64_t(1) << 32, 1};
       },
       "attn.block: expected [128,1,1] (32 * attn.tile_plan.warps threads), "
       "got [4294967296,4294967296,1]"},
      {"grid-value",
       [](Json &j) { j["attn"]["grid"]["y"] = {{"value", 2}}; },
       "attn.grid: expected {\"x\":{\"ceil_div\":[\"seq_q\",64]},\"y\":"},
      {"args-order",
       [](Json &j) { std::swap(j["attn"]["args"][0], j["attn"]["args"][1]); },
       "attn.args[0] is 'k' (tensor bf16), the ABI expects 'q' (tensor bf16) "
       "here"},
      {"args-short", [](Json &j) { j["attn"]["args"].erase(28); },
       "attn.args ends after 28 entries, the ABI continues with "
       "'lse_stride_s' (scalar i64)"},
      {"num-ctas", [](Json &j) { j["num_ctas"] = 2; },
       "num_ctas: expected 1, got 2"},
  };
  std::vector<std::string> seen;
  for (const Case &k : cases) {
    Json j = artefactJson(c);
    k.edit(j);
    std::string path = writeArtefact(std::string("bad_") + k.what, writeJson(j),
                                     emptyKernelPtx(c.name(), paramSizes(c)));
    attn_kernel *kernel = nullptr;
    EXPECT_TRUE(gives(attn_kernel_load(path.c_str(), &kernel),
                      ATTN_ERROR_ARTEFACT, path + ": " + k.message))
        << k.what;
    EXPECT_EQ(kernel, nullptr);
    std::string message = attn_last_error();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const std::string &s : seen)
      EXPECT_NE(s, message) << k.what;
    seen.push_back(message);
  }
}

// Broken files next to a good NAME.json, and paths that are no file.
TEST(Load, FileErrors) {
  const AttentionConfig c = baseConfig();
  const std::string json = attentionArtefactJson(c, {});
  const std::string ptx = emptyKernelPtx(c.name(), paramSizes(c));
  std::string dir = scratch() + "/a_folder.json";
  fs::create_directories(dir);
  struct Case {
    std::string path, message;
  };
  const std::vector<Case> cases = {
      {scratch() + "/nothing.json", "nothing.json: cannot open the file"},
      {writeArtefact("malformed", "{\"name\": \"x\", \"num_warps\": ", ""),
       "malformed.json: line 1, column 28: syntax error"},
      {writeArtefact("list", "[1, 2]", ""),
       "list.json: not a JSON object; expected kernel metadata"},
      {dir, "a_folder.json: is a directory; pass the path of a file"},
      {"/dev/zero", "/dev/zero: not a regular file"},
      {writeArtefact("no_image", json, ""),
       "no_image.json: neither no_image.cubin nor no_image.ptx is next to it"},
      {writeArtefact("few_params", json, emptyKernelPtx(c.name(), {8, 8, 8})),
       "few_params.ptx: .entry " + c.name() +
           " has 3 parameters, the attention ABI 29"},
      {writeArtefact("other_entry", json, emptyKernelPtx("other", paramSizes(c))),
       "other_entry.ptx: no \".entry " + c.name() + "(\" in the PTX"},
      {writeArtefact("empty_ptx", json, " "), "empty_ptx.ptx: no \".entry"},
  };
  for (const Case &k : cases) {
    attn_kernel *kernel = nullptr;
    EXPECT_TRUE(gives(attn_kernel_load(k.path.c_str(), &kernel),
                      ATTN_ERROR_ARTEFACT, k.message));
    EXPECT_EQ(kernel, nullptr);
  }
  // The PTX's parameter sizes must be the ABI's.
  std::vector<int> sizes = paramSizes(c);
  sizes[7] = 8; // batch as 8 bytes
  std::string path = writeArtefact("wide_batch", json, emptyKernelPtx(c.name(), sizes));
  attn_kernel *kernel = nullptr;
  EXPECT_TRUE(gives(attn_kernel_load(path.c_str(), &kernel), ATTN_ERROR_ARTEFACT,
                    "parameter 7 of .entry " + c.name() +
                        " has 8 bytes, the ABI's 'batch' (scalar i32) has 4"));
}

// Triton's .json has no "attn" section; its arch must still be sane.
TEST(Load, TritonArch) {
  auto triton = [](const std::string &arch) {
    return "{\"name\": \"add_kernel\", \"num_warps\": 4, \"shared\": 0, "
           "\"target\": {\"backend\": \"cuda\", \"arch\": " + arch + "}}";
  };
  std::string ptx = emptyKernelPtx("add_kernel", {8, 8, 8, 4});
  attn_kernel *kernel = nullptr;
  std::string good = writeArtefact("triton_86", triton("86"), ptx);
  EXPECT_TRUE(gives(attn_kernel_load(good.c_str(), &kernel), ATTN_OK, ""));
  attn_kernel_free(kernel);
  std::string huge = writeArtefact("triton_huge", triton("8000"), ptx);
  EXPECT_TRUE(gives(attn_kernel_load(huge.c_str(), &kernel), ATTN_ERROR_ARTEFACT,
                    "target.arch: expected a compute capability such as 80 or "
                    "90 (major * 10 + minor), got 8000"));
  std::string negative = writeArtefact("triton_negative", triton("-80"), ptx);
  EXPECT_TRUE(gives(attn_kernel_load(negative.c_str(), &kernel),
                    ATTN_ERROR_ARTEFACT,
                    "\"target.arch\" must be an integer >= 1, got -80"));
}

TEST(Load, Valid) {
  const AttentionConfig c = baseConfig();
  Kernel k(writeAttention("attn_ok", c));
  ASSERT_NE(k.k, nullptr);
  EXPECT_EQ(std::string(attn_kernel_name(k.k)), c.name());
  EXPECT_EQ(attn_kernel_is_attention(k.k), 1);
  // 7 pointers, 4 i32, 18 i64 strides.
  EXPECT_EQ(attn_kernel_param_count(k.k), 29);
  EXPECT_EQ(attn_kernel_param_size(k.k, 0), 8);
  EXPECT_EQ(attn_kernel_param_size(k.k, 7), 4);
  EXPECT_EQ(attn_kernel_param_size(k.k, 11), 8);
  EXPECT_EQ(attn_kernel_param_size(k.k, 29), -1);
}

//===-- Operands ----------------------------------------------------------===//

// A contiguous tensor at a fake (never dereferenced) device address.
attn_tensor contiguous(uintptr_t address, int dtype,
                       std::vector<int64_t> shape) {
  attn_tensor t{};
  t.data = reinterpret_cast<void *>(address);
  t.dtype = dtype;
  t.rank = int(shape.size());
  int64_t stride = 1;
  for (int i = t.rank - 1; i >= 0; --i) {
    t.shape[i] = shape[size_t(i)];
    t.strides[i] = stride;
    stride *= shape[size_t(i)];
  }
  return t;
}

// B = 2, Sq = 130, Skv = 1029, heads 4 over 2, dims 64; a mask of 1040-byte
// rows (1029 keys padded to a 16-byte multiple) broadcast over heads.
struct Operands {
  attn_tensor q = contiguous(0x100000, ATTN_BF16, {2, 4, 130, 64});
  attn_tensor k = contiguous(0x200000, ATTN_BF16, {2, 2, 1029, 64});
  attn_tensor v = contiguous(0x300000, ATTN_BF16, {2, 2, 1029, 64});
  attn_tensor mask = [] {
    attn_tensor m = contiguous(0x400000, ATTN_BOOL, {2, 1, 130, 1040});
    m.shape[3] = 1029;
    return m;
  }();
  attn_tensor lengths = contiguous(0x500000, ATTN_I32, {2});
  attn_tensor offsets = contiguous(0x580000, ATTN_I64, {2});
  attn_tensor out = contiguous(0x600000, ATTN_BF16, {2, 4, 130, 64});
  attn_tensor lse = contiguous(0x700000, ATTN_F32, {2, 4, 130});
  // Per-query-head lists of query blocks of 64: [B, Hq, ceil(130 / 64), K].
  attn_tensor blocks = contiguous(0x800004, ATTN_I32, {2, 4, 3, 5});
  Optional given;
  bool blockLists = false;

  attn_attention_args args() const {
    return {&q,
            &k,
            &v,
            given.mask ? &mask : nullptr,
            given.lengths ? &lengths : nullptr,
            given.offsets ? &offsets : nullptr,
            &out,
            given.lse ? &lse : nullptr,
            blockLists ? &blocks : nullptr};
  }
  attn_status check(const attn_kernel *kernel, unsigned grid[3]) const {
    attn_attention_args a = args();
    return attn_attention_check(kernel, &a, grid);
  }
  attn_status launch(attn_kernel *kernel) const {
    attn_attention_args a = args();
    return attn_attention_launch(kernel, &a, nullptr);
  }
};

// Per-query-head lists of query blocks of 64 (Operands::blocks), no other
// optional operand.
AttentionConfig blockListConfig() {
  AttentionConfig c = baseConfig({false, false, false, false});
  c.blocks = {{64, 48}};
  c.blockHeads = BlockHeads::QueryHead;
  c.plan = {Target::SM80, 64, 16, 4, 2};
  return c;
}

TEST(Check, Valid) {
  Kernel k(writeAttention("attn_check", baseConfig()));
  Operands ops;
  unsigned grid[3] = {0, 0, 0};
  EXPECT_TRUE(gives(ops.check(k.k, grid), ATTN_OK, ""));
  EXPECT_EQ(grid[0], 3u); // ceil(130 / 64)
  EXPECT_EQ(grid[1], 2u); // k's heads
  EXPECT_EQ(grid[2], 2u); // batch

  // Strided views: [B, S, H, D] buffers, a mask broadcast by stride 0 over
  // batch and shorter than seq_kv, a non-contiguous lse.
  Operands views;
  views.q.strides[1] = 64, views.q.strides[2] = 4 * 64,
  views.q.strides[0] = 130 * 4 * 64;
  views.k.strides[1] = 64, views.k.strides[2] = 2 * 64;
  views.mask.shape[0] = 2, views.mask.strides[0] = 0;
  views.mask.shape[3] = 500;
  views.lse.strides[2] = 4, views.lse.strides[1] = 1;
  EXPECT_TRUE(gives(views.check(k.k, grid), ATTN_OK, ""));

  // Head counts are free: 8 query heads over 4 key heads, a mask per head.
  Operands wide;
  wide.q = contiguous(0x100000, ATTN_BF16, {2, 8, 130, 64});
  wide.out = contiguous(0x600000, ATTN_BF16, {2, 8, 130, 64});
  wide.lse = contiguous(0x700000, ATTN_F32, {2, 8, 130});
  wide.k = contiguous(0x200000, ATTN_BF16, {2, 4, 1029, 64});
  wide.v = contiguous(0x300000, ATTN_BF16, {2, 4, 1029, 64});
  wide.mask.shape[1] = 8, wide.mask.strides[1] = 130 * 1040;
  wide.mask.strides[0] = 8 * 130 * 1040;
  EXPECT_TRUE(gives(wide.check(k.k, grid), ATTN_OK, ""));
  EXPECT_EQ(grid[1], 4u);

  // Large problems that stay within the grid limits.
  Operands big;
  big.q.shape[2] = big.out.shape[2] = big.lse.shape[2] = 100000;
  big.mask.shape[2] = 1;
  EXPECT_TRUE(gives(big.check(k.k, grid), ATTN_OK, ""));
  EXPECT_EQ(grid[0], 1563u);

  // q_offsets, [B] like kv_lengths.
  Kernel offs(writeAttention("attn_offsets", baseConfig({false, false, true, false})));
  Operands withOffsets;
  withOffsets.given = {false, false, true, false};
  EXPECT_TRUE(gives(withOffsets.check(offs.k, grid), ATTN_OK, ""));
}

// Every rule, broken once: each gives its own status and message.
TEST(Check, Errors) {
  Kernel k(writeAttention("attn_errors", baseConfig()));
  Kernel plain(writeAttention("attn_plain", baseConfig({false, false, false, false})));
  Kernel offs(writeAttention("attn_offs", baseConfig({false, false, true, false})));
  Kernel lists(writeAttention("attn_errors_lists", blockListConfig()));
  struct Case {
    const char *what;
    std::function<void(Operands &)> breakIt;
    attn_status status;
    std::string message;
    const attn_kernel *kernel = nullptr; // k.k unless set
  };
  auto setPlain = [](Operands &o) { o.given = {false, false, false, false}; };
  // The block-list cases, for `lists`: its operands, then one broken.
  auto withLists = [](std::function<void(Operands &)> breakIt) {
    return [breakIt](Operands &o) {
      o.given = {false, false, false, false};
      o.blockLists = true;
      breakIt(o);
    };
  };
  const std::vector<Case> cases = {
      {"wrong-dtype", [](Operands &o) { o.q.dtype = ATTN_F16; },
       ATTN_ERROR_DTYPE, "q: element type f16, expected bf16"},
      {"bad-dtype-code", [](Operands &o) { o.v.dtype = 42; }, ATTN_ERROR_DTYPE,
       "v: dtype code 42 is not one of ATTN_F16..ATTN_I64"},
      {"wrong-mask-dtype", [](Operands &o) { o.mask.dtype = ATTN_F32; },
       ATTN_ERROR_DTYPE, "mask: element type f32, expected bool"},
      {"wrong-rank", [](Operands &o) { o.k.rank = 3; }, ATTN_ERROR_SHAPE,
       "k: rank 3, expected 4"},
      {"empty-axis", [](Operands &o) { o.q.shape[2] = 0; }, ATTN_ERROR_SHAPE,
       "q: axis 2 has extent 0"},
      {"heads-not-group", [](Operands &o) { o.q.shape[1] = 6; },
       ATTN_ERROR_SHAPE,
       "q: axis 1 (heads) is 6, expected 4 (the kernel's group 2 * 2 heads of "
       "k)"},
      {"kv-heads-differ", [](Operands &o) { o.v.shape[1] = 4; },
       ATTN_ERROR_SHAPE, "v: axis 1 (heads) is 4, expected 2 (from k)"},
      {"out-heads", [](Operands &o) { o.out.shape[1] = 2; }, ATTN_ERROR_SHAPE,
       "out: axis 1 (heads) is 2, expected 4 (from q)"},
      {"wrong-head-dim", [](Operands &o) { o.k.shape[3] = 128; },
       ATTN_ERROR_SHAPE,
       "k: axis 3 (head dim) is 128, expected 64 (the kernel's head_dim)"},
      {"batch-mismatch", [](Operands &o) { o.k.shape[0] = 3; },
       ATTN_ERROR_SHAPE, "k: axis 0 (batch) is 3, expected 2 (from q)"},
      {"seq-kv-mismatch", [](Operands &o) { o.v.shape[2] = 1028; },
       ATTN_ERROR_SHAPE, "v: axis 2 (seq_kv) is 1028, expected 1029 (from k)"},
      {"wrong-out-shape", [](Operands &o) { o.out.shape[2] = 129; },
       ATTN_ERROR_SHAPE, "out: axis 2 (seq_q) is 129, expected 130 (from q)"},
      {"mask-heads", [](Operands &o) { o.mask.shape[1] = 2; },
       ATTN_ERROR_SHAPE, "mask: axis 1 (heads) is 2, expected 4 or 1 (from q)"},
      {"mask-too-long", [](Operands &o) { o.mask.shape[3] = 1030; },
       ATTN_ERROR_SHAPE, "mask: axis 3 (keys) is 1030, more than seq_kv 1029"},
      {"lengths-batch", [](Operands &o) { o.lengths.shape[0] = 3; },
       ATTN_ERROR_SHAPE, "kv_lengths: axis 0 (batch) is 3, expected 2 (from q)"},
      {"offsets-batch",
       [&](Operands &o) {
         o.given = {false, false, true, false};
         o.offsets.shape[0] = 1;
       },
       ATTN_ERROR_SHAPE, "q_offsets: axis 0 (batch) is 1, expected 2 (from q)",
       offs.k},
      {"lse-shape", [](Operands &o) { o.lse.shape[2] = 64; }, ATTN_ERROR_SHAPE,
       "lse: axis 2 (seq_q) is 64, expected 130 (from q)"},
      {"seq-beyond-positions",
       [](Operands &o) { o.k.shape[2] = o.v.shape[2] = (int64_t(1) << 29) + 1; },
       ATTN_ERROR_SHAPE,
       "seq_kv 536870913 is beyond the kernel's limit 536870912 (i32 positions)"},
      {"innermost-stride", [](Operands &o) { o.v.strides[3] = 2; },
       ATTN_ERROR_LAYOUT, "v: innermost stride (axis 3) is 2, expected 1"},
      {"lengths-stride", [](Operands &o) { o.lengths.strides[0] = 2; },
       ATTN_ERROR_LAYOUT, "kv_lengths: innermost stride (axis 0) is 2"},
      {"negative-stride", [](Operands &o) { o.out.strides[1] = -8320; },
       ATTN_ERROR_LAYOUT, "out: stride -8320 of axis 1 is negative"},
      {"misaligned-base",
       [](Operands &o) { o.k.data = reinterpret_cast<void *>(0x200008); },
       ATTN_ERROR_ALIGNMENT, "k: base address 0x200008 is not 16-byte aligned"},
      {"misaligned-row", [](Operands &o) { o.q.strides[2] = 68 + 2; },
       ATTN_ERROR_ALIGNMENT,
       "q: stride 70 of axis 2 is 140 bytes, not a multiple of 16"},
      {"misaligned-mask-row", [](Operands &o) { o.mask.strides[2] = 1029; },
       ATTN_ERROR_ALIGNMENT, "mask: stride 1029 of axis 2 is 1029 bytes"},
      {"misaligned-lse",
       [](Operands &o) { o.lse.data = reinterpret_cast<void *>(0x700002); },
       ATTN_ERROR_ALIGNMENT, "lse: base address 0x700002 is not 4-byte aligned"},
      {"misaligned-offsets",
       [&](Operands &o) {
         o.given = {false, false, true, false};
         o.offsets.data = reinterpret_cast<void *>(0x580004);
       },
       ATTN_ERROR_ALIGNMENT,
       "q_offsets: base address 0x580004 is not 8-byte aligned", offs.k},
      {"batch-beyond-grid",
       [](Operands &o) {
         for (attn_tensor *t : {&o.q, &o.k, &o.v, &o.mask, &o.lengths, &o.out,
                                &o.lse})
           t->shape[0] = 70000;
       },
       ATTN_ERROR_GRID,
       "grid.z (batch) = 70000 is outside CUDA's limit [1, 65535] for "
       "gridDim.z"},
      {"kv-heads-beyond-grid",
       [](Operands &o) {
         o.k.shape[1] = o.v.shape[1] = 70000;
         o.q.shape[1] = o.out.shape[1] = o.lse.shape[1] = 140000;
         o.mask.shape[1] = 1;
       },
       ATTN_ERROR_GRID, "grid.y (heads of k) = 70000 is outside CUDA's limit"},
      {"missing-mask", [](Operands &o) { o.given.mask = false; },
       ATTN_ERROR_ARGUMENT,
       "mask: missing (NULL), but the kernel was compiled with it"},
      {"missing-lse", [](Operands &o) { o.given.lse = false; },
       ATTN_ERROR_ARGUMENT, "lse: missing (NULL)"},
      {"unexpected-lengths",
       [&](Operands &o) {
         setPlain(o);
         o.given.lengths = true;
       },
       ATTN_ERROR_ARGUMENT,
       "kv_lengths: given, but the kernel was compiled without it", plain.k},
      {"unexpected-offsets", [](Operands &o) { o.given.offsets = true; },
       ATTN_ERROR_ARGUMENT,
       "q_offsets: given, but the kernel was compiled without it"},
      {"null-pointer", [](Operands &o) { o.v.data = nullptr; },
       ATTN_ERROR_ARGUMENT, "v: data pointer is NULL"},
      {"lists-missing", withLists([](Operands &o) { o.blockLists = false; }),
       ATTN_ERROR_ARGUMENT,
       "block_idx: missing (NULL), but the kernel was compiled with it", lists.k},
      {"lists-dtype", withLists([](Operands &o) { o.blocks.dtype = ATTN_I64; }),
       ATTN_ERROR_DTYPE, "block_idx: element type i64, expected i32", lists.k},
      {"lists-heads", withLists([](Operands &o) { o.blocks.shape[1] = 2; }),
       ATTN_ERROR_SHAPE, "block_idx: axis 1 (heads) is 2, expected 4 (from q)", lists.k},
      {"lists-query-blocks", withLists([](Operands &o) { o.blocks.shape[2] = 2; }),
       ATTN_ERROR_SHAPE,
       "block_idx: axis 2 (query blocks) is 2, expected 3 (ceil_div(seq_q, "
       "q_block 64))",
       lists.k},
      {"lists-too-many-entries",
       withLists([](Operands &o) {
         o.blocks = contiguous(0x800000, ATTN_I32, {2, 4, 3, 513});
       }),
       ATTN_ERROR_SHAPE,
       "block_idx: axis 3 (entries per list) is 513; GPU kernels take 1 to 512",
       lists.k},
      {"lists-misaligned",
       withLists([](Operands &o) { o.blocks.data = reinterpret_cast<void *>(0x800002); }),
       ATTN_ERROR_ALIGNMENT, "block_idx: base address 0x800002 is not 4-byte aligned",
       lists.k},
  };
  std::vector<std::string> seen;
  for (const Case &c : cases) {
    Operands ops;
    c.breakIt(ops);
    unsigned grid[3];
    EXPECT_TRUE(gives(ops.check(c.kernel ? c.kernel : k.k, grid), c.status,
                      c.message))
        << c.what;
    std::string message = attn_last_error();
    for (const std::string &s : seen)
      EXPECT_NE(s, message) << c.what;
    seen.push_back(message);
  }
  Operands ops;
  EXPECT_TRUE(gives(ops.check(nullptr, nullptr), ATTN_ERROR_ARGUMENT,
                    "kernel is NULL"));
  EXPECT_TRUE(gives(attn_attention_check(k.k, nullptr, nullptr),
                    ATTN_ERROR_ARGUMENT, "args is NULL"));
}

// Block-sparse kernels: lists per query head put query heads on grid y; a
// tile holds positions of one query block of the selection. (Their errors:
// Check.Errors.)
TEST(Check, BlockLists) {
  AttentionConfig c = blockListConfig();
  Kernel perHead(writeAttention("attn_lists_q", c));
  Operands ops;
  ops.given = {false, false, false, false};
  ops.blockLists = true;
  unsigned grid[3] = {0, 0, 0};
  EXPECT_TRUE(gives(ops.check(perHead.k, grid), ATTN_OK, ""));
  EXPECT_EQ(grid[0], 3u); // ceil(130 / 64)
  EXPECT_EQ(grid[1], 4u); // q's heads
  EXPECT_EQ(grid[2], 2u);

  // Lists per key head of query blocks of 8: the plan's 64 rows would hold
  // 32 positions of 2 heads; a tile takes 8, one query block.
  c.blocks = {{8, 64}};
  c.blockHeads = BlockHeads::KeyHead;
  Kernel perKeyHead(writeAttention("attn_lists_kv", c));
  Operands kv = ops;
  kv.blocks = contiguous(0x800000, ATTN_I32, {2, 2, 17, 1});
  EXPECT_TRUE(gives(kv.check(perKeyHead.k, grid), ATTN_OK, ""));
  EXPECT_EQ(grid[0], 17u); // ceil(130 / 8)
  EXPECT_EQ(grid[1], 2u);  // k's heads
}

// Selection kernels: compressed keys (and values) as k and v, the original
// lengths as kv_lengths (required), select_idx [B, Hsel, Sq, k] written.
TEST(Check, Selection) {
  Kernel sel(writeAttention("attn_select", selectionConfig()));
  Kernel bare(writeAttention("attn_select_bare", selectionConfig(/*values=*/false)));
  Operands ops;
  ops.given = {false, true, false, false};
  ops.k = contiguous(0x200000, ATTN_BF16, {2, 2, 63, 64}); // Sc(1029)
  ops.v = contiguous(0x300000, ATTN_BF16, {2, 2, 63, 64});
  attn_tensor idx = contiguous(0x900000, ATTN_I32, {2, 2, 130, 16});
  unsigned grid[3] = {0, 0, 0};
  attn_attention_args a = ops.args();
  a.select_idx = &idx;
  EXPECT_TRUE(gives(attn_attention_check(sel.k, &a, grid), ATTN_OK, ""));
  EXPECT_EQ(grid[0], 3u); // ceil(130 / 64 positions of 2 heads)
  EXPECT_EQ(grid[1], 2u); // k's heads

  a.select_idx = nullptr;
  EXPECT_TRUE(gives(attn_attention_check(sel.k, &a, grid), ATTN_ERROR_ARGUMENT,
                    "select_idx: missing (NULL), but the kernel was compiled with it"));
  attn_tensor eight = contiguous(0x900000, ATTN_I32, {2, 2, 130, 8});
  a.select_idx = &eight;
  EXPECT_TRUE(gives(attn_attention_check(sel.k, &a, grid), ATTN_ERROR_SHAPE,
                    "select_idx: axis 3 (entries) is 8, expected 16 (the kernel's k)"));
  attn_tensor perQueryHead = contiguous(0x900000, ATTN_I32, {2, 4, 130, 16});
  a.select_idx = &perQueryHead;
  EXPECT_TRUE(gives(attn_attention_check(sel.k, &a, grid), ATTN_ERROR_SHAPE,
                    "select_idx: axis 1 (heads) is 4, expected 2 (from k)"));

  // Without values: no v and no out.
  a.select_idx = &idx;
  EXPECT_TRUE(gives(attn_attention_check(bare.k, &a, grid), ATTN_ERROR_ARGUMENT,
                    "v: given, but the kernel was compiled without it"));
  a.v = a.out = nullptr;
  EXPECT_TRUE(gives(attn_attention_check(bare.k, &a, grid), ATTN_OK, ""));
}

// The launch checks first (no GPU needed), then needs a device: on this
// machine either the empty kernel runs or the reason there is none shows.
TEST(Launch, OrNoDevice) {
  Kernel k(writeAttention("attn_launch", baseConfig()));
  Operands bad;
  bad.q.dtype = ATTN_F32;
  EXPECT_TRUE(gives(bad.launch(k.k), ATTN_ERROR_DTYPE, "q: element type f32"));
  Operands ops;
  if (haveDevice())
    EXPECT_TRUE(gives(ops.launch(k.k), ATTN_OK, ""));
  else
    EXPECT_TRUE(gives(ops.launch(k.k), ATTN_ERROR_NO_DEVICE, "no CUDA device: "));
}

//===-- PTX parameters and Triton kernels ---------------------------------===//

// Shaped like Triton 3.x's output for add_kernel(x, y, out, n): three
// pointers, an i32, then the global and profile scratch pointers.
const char *kTritonPtx = R"(//
// Generated by LLVM NVPTX Back-End
//

.version 8.0
.target sm_80
.address_size 64

	// .globl	add_kernel              // -- Begin function add_kernel
                                        // @add_kernel
.visible .entry add_kernel(
	.param .u64 .ptr .global .align 1 add_kernel_param_0,
	.param .u64 .ptr .global .align 1 add_kernel_param_1,
	.param .u64 .ptr .global .align 1 add_kernel_param_2,
	.param .u32 add_kernel_param_3,
	.param .u64 .ptr .global .align 1 add_kernel_param_4,
	.param .u64 .ptr .global .align 1 add_kernel_param_5
)
.reqntid 128
{
	ret;
}
)";

TEST(Ptx, ParamSizes) {
  std::vector<int> sizes;
  EXPECT_EQ(ptxEntryParamSizes(kTritonPtx, "add_kernel", sizes), "");
  EXPECT_EQ(sizes, (std::vector<int>{8, 8, 8, 4, 8, 8}));
  // A longer name sharing the prefix, a byte array, comments, no params.
  const std::string more = ".entry add_kernel_2(.param .u32 a)\n"
                           ".visible .entry f(\n"
                           "  .param .align 8 .b8 f_param_0[24], // struct\n"
                           "  .param .f32 f_param_1\n)\n"
                           ".entry g()\n{ ret; }\n";
  EXPECT_EQ(ptxEntryParamSizes(more, "add_kernel_2", sizes), "");
  EXPECT_EQ(sizes, (std::vector<int>{4}));
  EXPECT_EQ(ptxEntryParamSizes(more, "f", sizes), "");
  EXPECT_EQ(sizes, (std::vector<int>{24, 4}));
  EXPECT_EQ(ptxEntryParamSizes(more, "g", sizes), "");
  EXPECT_TRUE(sizes.empty());
  EXPECT_TRUE(contains(ptxEntryParamSizes(more, "add", sizes),
                       "no \".entry add(\""));
  EXPECT_TRUE(contains(ptxEntryParamSizes(".entry h(.param x)", "h", sizes),
                       "cannot read the parameter"));
}

std::string tritonJson(int64_t globalScratch) {
  return R"({"name": "add_kernel", "num_warps": 4, "num_ctas": 1,
             "num_stages": 3, "shared": 0, "global_scratch_size": )" +
         std::to_string(globalScratch) + R"(, "profile_scratch_size": 0,
             "target": {"backend": "cuda", "arch": 80, "warp_size": 32}})";
}

TEST(Triton, RawArguments) {
  std::string dir = scratch() + "/triton";
  fs::create_directories(dir);
  writeFile(dir + "/add_kernel.json", tritonJson(0));
  writeFile(dir + "/add_kernel.ptx", kTritonPtx);
  Kernel k(dir + "/add_kernel.json");
  ASSERT_NE(k.k, nullptr);
  EXPECT_EQ(attn_kernel_is_attention(k.k), 0);
  EXPECT_EQ(attn_kernel_param_count(k.k), 6);

  // Fake device pointers: the kernel returns at once.
  void *x = reinterpret_cast<void *>(0x100000), *y = x, *out = x, *g = nullptr;
  int n = 1000;
  void *args[6] = {&x, &y, &out, &n, &g, &g};
  unsigned grid[3] = {1, 1, 1};
  EXPECT_TRUE(gives(attn_launch_raw(k.k, grid, args, 3, nullptr),
                    ATTN_ERROR_ARGUMENT,
                    "add_kernel takes 6 parameters (its PTX), or 4 without "
                    "Triton's two scratch pointers, given 3"));
  args[1] = nullptr;
  EXPECT_TRUE(gives(attn_launch_raw(k.k, grid, args, 4, nullptr),
                    ATTN_ERROR_ARGUMENT, "args[1] is NULL"));
  args[1] = &y;
  unsigned tooTall[3] = {1, 70000, 1};
  EXPECT_TRUE(gives(attn_launch_raw(k.k, tooTall, args, 4, nullptr),
                    ATTN_ERROR_GRID, "grid.y = 70000 is outside CUDA's limit"));
  attn_status want = haveDevice() ? ATTN_OK : ATTN_ERROR_NO_DEVICE;
  const char *why = haveDevice() ? "" : "no CUDA device";
  EXPECT_TRUE(gives(attn_launch_raw(k.k, grid, args, 4, nullptr), want, why));
  EXPECT_TRUE(gives(attn_launch_raw(k.k, grid, args, 6, nullptr), want, why));

  // A Triton kernel is no attention kernel.
  Operands ops;
  EXPECT_TRUE(gives(ops.check(k.k, nullptr), ATTN_ERROR_ARGUMENT,
                    "has no \"attn\" section"));

  // With a scratch buffer to allocate, the caller has to pass it.
  writeFile(dir + "/add_kernel.json", tritonJson(256));
  Kernel scratchy(dir + "/add_kernel.json");
  EXPECT_TRUE(gives(attn_launch_raw(scratchy.k, grid, args, 4, nullptr),
                    ATTN_ERROR_ARGUMENT,
                    "needs scratch buffers (global_scratch_size 256"));
  EXPECT_TRUE(
      gives(attn_launch_raw(scratchy.k, grid, args, 6, nullptr), want, why));
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::printf("device: %s\n", haveDevice() ? "available" : attn_last_error());
  return RUN_ALL_TESTS();
}
