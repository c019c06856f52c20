//===- GpuRuntimeUnitTest.cpp - attn-gpu-runtime-unit ---------------------===//
//
// Unit tests of the GPU runtime's C API that need no GPU: loading artefacts
// (and each way a set of them can be broken), the operand checks of an
// attention launch (each bad operand with its own status and message), the
// PTX parameter list, and Triton's raw-argument rule. The artefacts are
// written into a temporary folder; their PTX is a real but empty kernel, so
// on a machine with a GPU the launch steps launch it for real (it reads none
// of the fake pointers). Prints every rejection's message, one line per test,
// and "N passed, N failed"; exits nonzero on any failure.
//
//===----------------------------------------------------------------------===//

#include "runtime/unittests/UnitTest.h"
#include "runtime/AttnRuntime.h"
#include "runtime/Json.h"
#include "runtime/KernelArtefact.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace attn::rt;
using namespace attn::test;

namespace {



// Checks a call's status and that its message contains `part`.
#define CHECK_STATUS(call, status, part)                                       \
  do {                                                                         \
    attn_status s_ = (call);                                                   \
    std::string e_ = s_ == ATTN_OK ? "" : attn_last_error();                   \
    check(s_ == (status) && contains(e_, part),                                \
          std::string(#call) + " gave " + attn_status_name(s_) + " \"" + e_ + \
              "\", expected " + attn_status_name(status) + " with \"" +        \
              (part) + "\"",                                                   \
          __LINE__);                                                           \
  } while (0)


// Whether this machine has a usable GPU; the launch tests expect OK then,
// ATTN_ERROR_NO_DEVICE otherwise.
bool haveDevice() {
  static bool have = attn_device_init() == ATTN_OK;
  return have;
}

//===-- Fake artefacts ----------------------------------------------------===//

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

struct AttentionOptions {
  bool mask = true, lengths = true, lse = true;
  int64_t shared = 0;
};

// NAME.json of an attention kernel: bf16, 4 query heads over 2 kv heads,
// head dims 64; grid (ceil_div(seq_q, 64), kv_heads, batch).
Json attentionJson(const std::string &name, const AttentionOptions &o) {
  std::optional<DType> mask, lengths;
  if (o.mask)
    mask = DType::Bool;
  if (o.lengths)
    lengths = DType::I32;
  Json args = Json::array();
  for (const KernelArg &a : attentionAbiArgs(DType::BF16, mask, lengths, o.lse))
    args.push(Json::object({{"name", Json::string(a.name)},
                            {"kind", Json::string(a.isTensor ? "tensor"
                                                             : "scalar")},
                            {"dtype", Json::string(elementTypeName(a.dtype))}}));
  auto pair = [](int64_t a, int64_t b) {
    return Json::array({Json::integer(a), Json::integer(b)});
  };
  auto typeOrNull = [](bool on, const char *t) {
    return on ? Json::string(t) : Json();
  };
  Json grid = Json::object(
      {{"x", Json::object({{"ceil_div", Json::array({Json::string("seq_q"),
                                                     Json::integer(64)})}})},
       {"y", Json::object({{"value", Json::integer(2)}})},
       {"z", Json::object({{"arg", Json::string("batch")}})}});
  Json attn = Json::object({
      {"version", Json::integer(1)},
      {"op", Json::string("attention")},
      {"dtype", Json::string("bf16")},
      {"q_heads", Json::integer(4)},
      {"kv_heads", Json::integer(2)},
      {"group", Json::integer(2)},
      {"head_dim", Json::integer(64)},
      {"value_dim", Json::integer(64)},
      {"scale", Json::number(0.125)},
      {"softcap", Json::number(0)},
      {"causal", Json::boolean(true)},
      {"window", pair(-1, -1)},
      {"branches", Json()},
      {"alignment", Json::string("bottom_right")},
      {"mask_dtype", typeOrNull(o.mask, "bool")},
      {"lengths_dtype", typeOrNull(o.lengths, "i32")},
      {"lse", Json::boolean(o.lse)},
      {"block", Json::array({Json::integer(128), Json::integer(1),
                             Json::integer(1)})},
      {"grid", grid},
      {"q_positions_per_block", Json::integer(64)},
      {"args", args},
  });
  return Json::object({
      {"name", Json::string(name)},
      {"num_warps", Json::integer(4)},
      {"num_stages", Json::integer(2)},
      {"num_ctas", Json::integer(1)},
      {"shared", Json::integer(o.shared)},
      {"target", Json::object({{"backend", Json::string("cuda")},
                               {"arch", Json::integer(80)},
                               {"warp_size", Json::integer(32)}})},
      {"attn", attn},
  });
}

std::vector<int> abiSizes(const AttentionOptions &o) {
  std::optional<DType> mask, lengths;
  if (o.mask)
    mask = DType::Bool;
  if (o.lengths)
    lengths = DType::I32;
  std::vector<int> sizes;
  for (const KernelArg &a : attentionAbiArgs(DType::BF16, mask, lengths, o.lse))
    sizes.push_back(a.isTensor ? 8 : int(dtypeSize(a.dtype)));
  return sizes;
}

// Writes NAME.json and NAME.ptx under the scratch folder; the .json path.
std::string writeArtefact(const std::string &name, const Json &json,
                          const std::string &ptx) {
  std::string base = scratch() + "/" + name;
  writeFile(base + ".json", writeJson(json));
  if (!ptx.empty())
    writeFile(base + ".ptx", ptx);
  return base + ".json";
}

std::string writeAttention(const std::string &name,
                           const AttentionOptions &o = {}) {
  return writeArtefact(name, attentionJson(name, o),
                       emptyKernelPtx(name, abiSizes(o)));
}

// The object `j` without member `key`.
Json without(const Json &j, const std::string &key) {
  Json::Items items;
  for (const auto &item : j.items())
    if (item.first != key)
      items.push_back(item);
  return Json::object(items);
}

Json with(Json j, const std::string &key, Json value) {
  j.set(key, std::move(value));
  return j;
}

// The "attn" section of `j` changed by `edit`.
Json withAttn(const Json &j, const std::function<Json(const Json &)> &edit) {
  return with(j, "attn", edit(*j.get("attn")));
}

struct Kernel {
  attn_kernel *k = nullptr;
  explicit Kernel(const std::string &jsonPath) {
    attn_status s = attn_kernel_load(jsonPath.c_str(), &k);
    if (s != ATTN_OK)
      std::printf("  load %s: %s %s\n", jsonPath.c_str(), attn_status_name(s),
                  attn_last_error());
  }
  ~Kernel() { attn_kernel_free(k); }
};

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

// B = 2, Sq = 130, Skv = 1029, heads 4/2, dims 64; a mask of 1040-byte rows
// (1029 keys padded to a 16-byte multiple) broadcast over heads.
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
  attn_tensor out = contiguous(0x600000, ATTN_BF16, {2, 4, 130, 64});
  attn_tensor lse = contiguous(0x700000, ATTN_F32, {2, 4, 130});
  bool withMask = true, withLengths = true, withLse = true;

  attn_status check(const attn_kernel *kernel, unsigned grid[3]) const {
    return attn_attention_check(kernel, &q, &k, &v, withMask ? &mask : nullptr,
                                withLengths ? &lengths : nullptr, &out,
                                withLse ? &lse : nullptr, grid);
  }
  attn_status launch(attn_kernel *kernel) const {
    return attn_attention_launch(kernel, &q, &k, &v,
                                 withMask ? &mask : nullptr,
                                 withLengths ? &lengths : nullptr, &out,
                                 withLse ? &lse : nullptr, nullptr);
  }
};

//===-- Loading -----------------------------------------------------------===//

void loadValid() {
  Kernel k(writeAttention("attn_ok"));
  CHECK(k.k != nullptr);
  if (!k.k)
    return;
  CHECK(std::string(attn_kernel_name(k.k)) == "attn_ok");
  CHECK(attn_kernel_is_attention(k.k) == 1);
  // 7 pointers, 4 i32, 18 i64 strides.
  CHECK(attn_kernel_param_count(k.k) == 29);
  CHECK(attn_kernel_param_size(k.k, 0) == 8);
  CHECK(attn_kernel_param_size(k.k, 7) == 4);
  CHECK(attn_kernel_param_size(k.k, 11) == 8);
  CHECK(attn_kernel_param_size(k.k, 29) == -1);
}

// Each broken artefact: its own ATTN_ERROR_ARTEFACT message.
void loadErrors() {
  const AttentionOptions o;
  const Json good = attentionJson("bad", o);
  const std::string ptx = emptyKernelPtx("bad", abiSizes(o));
  struct Case {
    const char *what;
    std::string jsonPath;
    const char *message;
  };
  std::vector<Case> cases;
  auto add = [&](const char *what, const Json &json, const std::string &ptxText,
                 const char *message) {
    std::string name = std::string("bad_") + what;
    Json renamed = with(json, "name", Json::string(name));
    std::string p = ptxText;
    for (size_t at; (at = p.find("bad(")) != std::string::npos;)
      p.replace(at, 3, name);
    cases.push_back({what, writeArtefact(name, renamed, p), message});
  };
  cases.push_back({"missing-json", scratch() + "/nothing.json",
                   "cannot open the file"});
  writeFile(scratch() + "/malformed.json", "{\"name\": \"x\", \"num_warps\": ");
  writeFile(scratch() + "/malformed.ptx", ptx);
  cases.push_back({"malformed-json", scratch() + "/malformed.json", "line 1"});
  add("missing-num-warps", without(good, "num_warps"), ptx,
      "missing field \"num_warps\"");
  add("missing-q-heads",
      withAttn(good, [](const Json &a) { return without(a, "q_heads"); }), ptx,
      "attn: missing field \"q_heads\"");
  add("bad-dtype",
      withAttn(good,
               [](const Json &a) { return with(a, "dtype", Json::string("fp8")); }),
      ptx, "\"dtype\" must be one of");
  add("no-image", good, "", "is next to it");
  add("args-order",
      withAttn(good,
               [](const Json &a) {
                 Json args = *a.get("args");
                 std::vector<Json> e = args.elements();
                 std::swap(e[0], e[1]);
                 return with(a, "args", Json::array(e));
               }),
      ptx, "args[0] is 'k' (tensor bf16), the ABI expects 'q' (tensor bf16)");
  add("grid-unknown-arg",
      withAttn(good,
               [](const Json &a) {
                 Json grid = *a.get("grid");
                 grid.set("x", Json::object({{"arg", Json::string("heads")}}));
                 return with(a, "grid", grid);
               }),
      ptx, "grid.x uses \"heads\", which is not a scalar argument");
  add("ptx-param-count", good, emptyKernelPtx("bad", {8, 8, 8}),
      "has 3 parameters, the attention ABI 29");
  add("ptx-no-entry", good, emptyKernelPtx("other", abiSizes(o)),
      "no \".entry bad_ptx-no-entry(\" in the PTX");
  add("block-threads",
      withAttn(good,
               [](const Json &a) {
                 return with(a, "block",
                             Json::array({Json::integer(64), Json::integer(1),
                                          Json::integer(1)}));
               }),
      ptx, "32 * num_warps = 128");
  std::vector<std::string> seen;
  for (const Case &c : cases) {
    attn_kernel *k = nullptr;
    CHECK_STATUS(attn_kernel_load(c.jsonPath.c_str(), &k), ATTN_ERROR_ARTEFACT,
                 c.message);
    CHECK(k == nullptr);
    std::string message = attn_last_error();
    for (const std::string &s : seen)
      CHECK(s != message);
    seen.push_back(message);
    // Without the scratch path, so FileCheck can pin the messages.
    std::string shown = message;
    for (size_t at; (at = shown.find(scratch())) != std::string::npos;)
      shown.replace(at, scratch().size(), "DIR");
    std::printf("  %s: %s\n", c.what, shown.c_str());
  }
}

//===-- Attention operand checks ------------------------------------------===//

void checkValid() {
  Kernel k(writeAttention("attn_check"));
  Operands ops;
  unsigned grid[3] = {0, 0, 0};
  CHECK_STATUS(ops.check(k.k, grid), ATTN_OK, "");
  CHECK(grid[0] == 3 && grid[1] == 2 && grid[2] == 2); // ceil(130/64), Hkv, B

  // Strided views: [B, S, H, D] buffers, a mask broadcast by stride 0 over
  // batch and shorter than seq_kv, a non-contiguous lse.
  Operands views;
  views.q.strides[1] = 64, views.q.strides[2] = 4 * 64,
  views.q.strides[0] = 130 * 4 * 64;
  views.k.strides[1] = 64, views.k.strides[2] = 2 * 64;
  views.mask.shape[0] = 2, views.mask.strides[0] = 0;
  views.mask.shape[3] = 500;
  views.lse.strides[2] = 4, views.lse.strides[1] = 1;
  CHECK_STATUS(views.check(k.k, grid), ATTN_OK, "");

  // Large problems that stay within the grid limits.
  Operands big;
  big.q.shape[2] = big.out.shape[2] = big.lse.shape[2] = 100000;
  big.mask.shape[2] = 1;
  CHECK_STATUS(big.check(k.k, grid), ATTN_OK, "");
  CHECK(grid[0] == 1563);
}

// Every rule, broken once: each gives its own status and message.
void checkErrors() {
  Kernel k(writeAttention("attn_errors"));
  Kernel plain(writeAttention("attn_plain", {false, false, false, 0}));
  struct Case {
    const char *what;
    std::function<void(Operands &)> breakIt;
    attn_status status;
    const char *message;
    bool plainKernel = false;
  };
  const std::vector<Case> cases = {
      {"wrong-dtype", [](Operands &o) { o.q.dtype = ATTN_F16; },
       ATTN_ERROR_DTYPE, "q: element type f16, expected bf16"},
      {"bad-dtype-code", [](Operands &o) { o.v.dtype = 42; }, ATTN_ERROR_DTYPE,
       "v: dtype code 42"},
      {"wrong-mask-dtype", [](Operands &o) { o.mask.dtype = ATTN_F32; },
       ATTN_ERROR_DTYPE, "mask: element type f32, expected bool"},
      {"wrong-rank", [](Operands &o) { o.k.rank = 3; }, ATTN_ERROR_SHAPE,
       "k: rank 3, expected 4"},
      {"empty-axis", [](Operands &o) { o.q.shape[2] = 0; }, ATTN_ERROR_SHAPE,
       "q: axis 2 has extent 0"},
      {"wrong-heads", [](Operands &o) { o.q.shape[1] = 8; }, ATTN_ERROR_SHAPE,
       "q: axis 1 (heads) is 8, expected 4 (the kernel's q_heads)"},
      {"wrong-kv-heads", [](Operands &o) { o.v.shape[1] = 4; },
       ATTN_ERROR_SHAPE, "v: axis 1 (heads) is 4, expected 2 (the kernel's "
                         "kv_heads)"},
      {"wrong-head-dim", [](Operands &o) { o.k.shape[3] = 128; },
       ATTN_ERROR_SHAPE, "k: axis 3 (head dim) is 128, expected 64"},
      {"batch-mismatch", [](Operands &o) { o.k.shape[0] = 3; },
       ATTN_ERROR_SHAPE, "k: axis 0 (batch) is 3, expected 2 (from q)"},
      {"seq-kv-mismatch", [](Operands &o) { o.v.shape[2] = 1028; },
       ATTN_ERROR_SHAPE, "v: axis 2 (seq_kv) is 1028, expected 1029 (from k)"},
      {"wrong-out-shape", [](Operands &o) { o.out.shape[2] = 129; },
       ATTN_ERROR_SHAPE, "out: axis 2 (seq_q) is 129, expected 130 (from q)"},
      {"mask-heads", [](Operands &o) { o.mask.shape[1] = 2; },
       ATTN_ERROR_SHAPE, "mask: axis 1 (heads) is 2, expected 4 or 1"},
      {"mask-too-long", [](Operands &o) { o.mask.shape[3] = 1030; },
       ATTN_ERROR_SHAPE, "mask: axis 3 (keys) is 1030, more than seq_kv 1029"},
      {"lengths-batch", [](Operands &o) { o.lengths.shape[0] = 3; },
       ATTN_ERROR_SHAPE, "kv_lengths: axis 0 (batch) is 3, expected 2"},
      {"lse-shape", [](Operands &o) { o.lse.shape[2] = 64; }, ATTN_ERROR_SHAPE,
       "lse: axis 2 (seq_q) is 64, expected 130"},
      {"seq-beyond-i32",
       [](Operands &o) {
         o.k.shape[2] = o.v.shape[2] = int64_t(1) << 31;
       },
       ATTN_ERROR_SHAPE, "seq_kv 2147483648 does not fit the kernel's i32"},
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
       ATTN_ERROR_ALIGNMENT, "lse: base address 0x700002 is not 4-byte"},
      {"batch-beyond-grid",
       [](Operands &o) {
         for (attn_tensor *t : {&o.q, &o.k, &o.v, &o.mask, &o.lengths, &o.out,
                                &o.lse})
           t->shape[0] = 70000;
         o.lengths.strides[0] = 1;
       },
       ATTN_ERROR_GRID, "grid.z (batch) = 70000 is outside CUDA's limit "
                        "[1, 65535]"},
      {"missing-mask", [](Operands &o) { o.withMask = false; },
       ATTN_ERROR_ARGUMENT, "mask: missing (NULL), but the kernel was compiled "
                            "with it"},
      {"missing-lse", [](Operands &o) { o.withLse = false; },
       ATTN_ERROR_ARGUMENT, "lse: missing"},
      {"unexpected-lengths", [](Operands &o) { o.withLengths = true; },
       ATTN_ERROR_ARGUMENT, "kv_lengths: given, but the kernel was compiled "
                            "without it",
       true},
      {"null-pointer", [](Operands &o) { o.v.data = nullptr; },
       ATTN_ERROR_ARGUMENT, "v: data pointer is NULL"},
  };
  std::vector<std::string> seen;
  for (const Case &c : cases) {
    Operands ops;
    if (c.plainKernel)
      ops.withMask = ops.withLengths = ops.withLse = false;
    c.breakIt(ops);
    unsigned grid[3];
    CHECK_STATUS(ops.check(c.plainKernel ? plain.k : k.k, grid), c.status,
                 c.message);
    std::string message = attn_last_error();
    for (const std::string &s : seen)
      CHECK(s != message);
    seen.push_back(message);
    std::printf("  %s: %s: %s\n", c.what, attn_status_name(c.status),
                message.c_str());
  }
  // Not an attention kernel, or none at all.
  Operands ops;
  CHECK_STATUS(ops.check(nullptr, nullptr), ATTN_ERROR_ARGUMENT,
               "kernel is NULL");
}

// The launch checks first (no GPU needed), then needs a device: on this
// machine either the empty kernel runs or the reason there is none shows.
void launchOrNoDevice() {
  Kernel k(writeAttention("attn_launch"));
  Operands bad;
  bad.q.dtype = ATTN_F32;
  CHECK_STATUS(bad.launch(k.k), ATTN_ERROR_DTYPE, "q: element type f32");
  Operands ops;
  if (haveDevice()) {
    CHECK_STATUS(ops.launch(k.k), ATTN_OK, "");
  } else {
    CHECK_STATUS(ops.launch(k.k), ATTN_ERROR_NO_DEVICE, "no CUDA device: ");
  }
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

void ptxParams() {
  std::vector<int> sizes;
  CHECK(ptxEntryParamSizes(kTritonPtx, "add_kernel", sizes).empty());
  CHECK((sizes == std::vector<int>{8, 8, 8, 4, 8, 8}));
  // A longer name sharing the prefix, a byte array, comments, no params.
  const std::string more = ".entry add_kernel_2(.param .u32 a)\n"
                           ".visible .entry f(\n"
                           "  .param .align 8 .b8 f_param_0[24], // struct\n"
                           "  .param .f32 f_param_1\n)\n"
                           ".entry g()\n{ ret; }\n";
  CHECK(ptxEntryParamSizes(more, "add_kernel_2", sizes).empty());
  CHECK((sizes == std::vector<int>{4}));
  CHECK(ptxEntryParamSizes(more, "f", sizes).empty());
  CHECK((sizes == std::vector<int>{24, 4}));
  CHECK(ptxEntryParamSizes(more, "g", sizes).empty());
  CHECK(sizes.empty());
  CHECK(contains(ptxEntryParamSizes(more, "add", sizes), "no \".entry add(\""));
  CHECK(contains(ptxEntryParamSizes(".entry h(.param x)", "h", sizes),
                 "cannot read the parameter"));
}

Json tritonJson(int64_t globalScratch) {
  return Json::object({
      {"name", Json::string("add_kernel")},
      {"num_warps", Json::integer(4)},
      {"num_ctas", Json::integer(1)},
      {"num_stages", Json::integer(3)},
      {"shared", Json::integer(0)},
      {"global_scratch_size", Json::integer(globalScratch)},
      {"profile_scratch_size", Json::integer(0)},
      {"target", Json::object({{"backend", Json::string("cuda")},
                               {"arch", Json::integer(80)},
                               {"warp_size", Json::integer(32)}})},
  });
}

void tritonRawArguments() {
  std::string dir = scratch() + "/triton";
  fs::create_directories(dir);
  writeFile(dir + "/add_kernel.json", writeJson(tritonJson(0)));
  writeFile(dir + "/add_kernel.ptx", kTritonPtx);
  Kernel k(dir + "/add_kernel.json");
  CHECK(k.k && attn_kernel_is_attention(k.k) == 0);
  CHECK(attn_kernel_param_count(k.k) == 6);
  if (!k.k)
    return;

  // Fake device pointers: the kernel returns at once.
  void *x = reinterpret_cast<void *>(0x100000), *y = x, *out = x, *g = nullptr;
  int n = 1000;
  void *args[6] = {&x, &y, &out, &n, &g, &g};
  unsigned grid[3] = {1, 1, 1};
  CHECK_STATUS(attn_launch_raw(k.k, grid, args, 3, nullptr),
               ATTN_ERROR_ARGUMENT,
               "add_kernel takes 6 parameters (its PTX), or 4 without "
               "Triton's two scratch pointers, given 3");
  std::printf("  count: %s\n", attn_last_error());
  args[1] = nullptr;
  CHECK_STATUS(attn_launch_raw(k.k, grid, args, 4, nullptr),
               ATTN_ERROR_ARGUMENT, "args[1] is NULL");
  args[1] = &y;
  unsigned tooTall[3] = {1, 70000, 1};
  CHECK_STATUS(attn_launch_raw(k.k, tooTall, args, 4, nullptr),
               ATTN_ERROR_GRID, "grid.y = 70000 is outside CUDA's limit");
  attn_status want = haveDevice() ? ATTN_OK : ATTN_ERROR_NO_DEVICE;
  const char *why = haveDevice() ? "" : "no CUDA device";
  CHECK_STATUS(attn_launch_raw(k.k, grid, args, 4, nullptr), want, why);
  CHECK_STATUS(attn_launch_raw(k.k, grid, args, 6, nullptr), want, why);

  // A Triton kernel is no attention kernel.
  Operands ops;
  CHECK_STATUS(ops.check(k.k, nullptr), ATTN_ERROR_ARGUMENT,
               "has no \"attn\" section");

  // With a scratch buffer to allocate, the caller has to pass it.
  writeFile(dir + "/add_kernel.json", writeJson(tritonJson(256)));
  Kernel scratchy(dir + "/add_kernel.json");
  CHECK_STATUS(attn_launch_raw(scratchy.k, grid, args, 4, nullptr),
               ATTN_ERROR_ARGUMENT, "needs scratch buffers (global_scratch_size "
                                    "256");
  CHECK_STATUS(attn_launch_raw(scratchy.k, grid, args, 6, nullptr), want, why);
}

} // namespace

int main() {
  std::printf("device: %s\n", haveDevice() ? "available" : attn_last_error());
  const TestList tests = {
      {"load-valid", loadValid},
      {"load-errors", loadErrors},
      {"check-valid", checkValid},
      {"check-errors", checkErrors},
      {"launch-or-no-device", launchOrNoDevice},
      {"ptx-params", ptxParams},
      {"triton-raw-arguments", tritonRawArguments},
  };
  return runTests(tests);
}
