//===- AttnRuntime.cpp - Loading and launching compiled kernels (C API) ---===//

#include "runtime/AttnRuntime.h"

#include "runtime/CudaDriver.h"
#include "runtime/KernelArtefact.h"
#include "lowering/GpuTileLayout.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

using namespace attn::rt;

struct attn_kernel {
  KernelArtefact artefact;
  // The module in each context it was loaded into, loaded at first launch.
  struct Loaded {
    CUcontext context;
    CUmodule module;
    CUfunction function;
  };
  std::vector<Loaded> loaded;
  std::mutex mutex;
};

const KernelArtefact &attn::rt::artefactOf(const attn_kernel &kernel) {
  return kernel.artefact;
}

namespace {

thread_local std::string lastError;

struct Failure {
  attn_status status = ATTN_OK;
  std::string message;
  explicit operator bool() const { return status != ATTN_OK; }
};

Failure fail(attn_status status, std::string message) {
  return {status, std::move(message)};
}

attn_status report(const Failure &f) {
  if (f)
    lastError = f.message;
  return f.status;
}

// Runs `body`, turning any exception into ATTN_ERROR_INTERNAL: none may
// cross the C API, whose callers (C, ctypes) cannot take one.
template <typename Body> attn_status guarded(Body body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return report(fail(ATTN_ERROR_INTERNAL, "out of memory"));
  } catch (const std::exception &e) {
    return report(
        fail(ATTN_ERROR_INTERNAL, std::string("internal error: ") + e.what()));
  } catch (...) {
    return report(fail(ATTN_ERROR_INTERNAL, "internal error (an exception of "
                                            "unknown type)"));
  }
}

std::string str(int64_t x) { return std::to_string(x); }

std::string hex(const void *p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(p)));
  return buf;
}

//===-- Attention operands ------------------------------------------------===//

const char *const kAxisLetters[3] = {"b", "h", "s"}; // as in X_stride_b

// One operand of a launch: what the kernel takes (kernelOperands) and what
// the caller gave.
struct Operand {
  KernelOperand spec;
  const attn_tensor *t = nullptr;
  int64_t strides[4] = {0, 0, 0, 0}; // extent-1 axes read as stride 0

  const char *name() const { return spec.name.c_str(); }
  /// Whether the kernel may copy its rows with 16-byte cp.async: then the
  /// base and every stride but the innermost are 16-byte multiples. The
  /// others (lse, kv_lengths, q_offsets) need element alignment only.
  bool rows16() const {
    return spec.rank == 4 && spec.name != "block_idx" && spec.name != "select_idx";
  }
};

// Everything a launch passes, once the checks have passed.
struct Problem {
  std::vector<Operand> ops; // in ABI order
  int64_t batch = 0, qHeads = 0, seqQ = 0, kvHeads = 0, seqKv = 0;
  int64_t maskKeys = 0, blockK = 0;
  std::vector<uint64_t> params; // one 8-byte slot per kernelParams entry
  unsigned grid[3] = {0, 0, 0};

  const Operand *find(const std::string &name) const {
    for (const Operand &op : ops)
      if (op.spec.name == name)
        return &op;
    return nullptr;
  }
};

// The members of attn_attention_args by operand name; which of them a
// kernel takes, and in which order, is kernelOperands'.
std::vector<std::pair<std::string, const attn_tensor *>>
members(const attn_attention_args &a) {
  return {{"q", a.q},   {"k", a.k},     {"v", a.v},
          {"mask", a.mask}, {"kv_lengths", a.kv_lengths},
          {"q_offsets", a.q_offsets}, {"block_idx", a.block_idx},
          {"out", a.out}, {"lse", a.lse}, {"select_idx", a.select_idx}};
}

bool toDType(int code, DType &t) {
  static const DType types[] = {DType::F16,  DType::BF16, DType::F32,
                                DType::Bool, DType::I32,  DType::I64};
  if (code < ATTN_F16 || code > ATTN_I64)
    return false;
  t = types[code];
  return true;
}

// Given exactly when compiled, in both directions.
Failure checkPresence(const AttentionConfig &c, const attn_attention_args &a) {
  const std::vector<KernelOperand> compiled = kernelOperands(c);
  for (const auto &[name, t] : members(a)) {
    bool wanted = false;
    for (const KernelOperand &op : compiled)
      wanted |= op.name == name;
    if (t && !wanted)
      return fail(ATTN_ERROR_ARGUMENT,
                  name + ": given, but the kernel was compiled without it; "
                         "pass NULL or use a kernel compiled with " + name);
    if (!t && wanted)
      return fail(ATTN_ERROR_ARGUMENT,
                  name + ": missing (NULL), but the kernel was compiled "
                         "with it");
  }
  return {};
}

Failure checkPointer(const Operand &op) {
  if (!op.t->data)
    return fail(ATTN_ERROR_ARGUMENT,
                std::string(op.name()) + ": data pointer is NULL");
  return {};
}

Failure checkDType(const Operand &op) {
  DType got;
  if (!toDType(op.t->dtype, got))
    return fail(ATTN_ERROR_DTYPE, std::string(op.name()) + ": dtype code " +
                                      str(op.t->dtype) +
                                      " is not one of ATTN_F16..ATTN_I64");
  if (got != op.spec.dtype)
    return fail(ATTN_ERROR_DTYPE, std::string(op.name()) + ": element type " +
                                      elementTypeName(got) + ", expected " +
                                      elementTypeName(op.spec.dtype) +
                                      " (what the kernel was compiled for)");
  return {};
}

Failure checkRank(const Operand &op) {
  if (op.t->rank != op.spec.rank)
    return fail(ATTN_ERROR_SHAPE, std::string(op.name()) + ": rank " +
                                      str(op.t->rank) + ", expected " +
                                      str(op.spec.rank));
  for (int i = 0; i < op.spec.rank; ++i)
    if (op.t->shape[i] < 1)
      return fail(ATTN_ERROR_SHAPE,
                  std::string(op.name()) + ": axis " + str(i) +
                      " has extent " + str(op.t->shape[i]) +
                      "; the runtime launches only non-empty problems");
  return {};
}

// Negative strides are rejected; an extent-1 axis reads as stride 0, which
// is also how a broadcast mask axis reaches the kernel.
Failure normalizeStrides(Operand &op) {
  for (int i = 0; i < op.spec.rank; ++i) {
    if (op.t->strides[i] < 0)
      return fail(ATTN_ERROR_LAYOUT, std::string(op.name()) + ": stride " +
                                         str(op.t->strides[i]) + " of axis " +
                                         str(i) +
                                         " is negative; pass a view with "
                                         "non-negative strides");
    op.strides[i] = op.t->shape[i] == 1 ? 0 : op.t->strides[i];
  }
  return {};
}

// What one axis of an operand must be: `want`, or also 1 when `broadcast`;
// `from` says where `want` comes from.
struct AxisRule {
  const char *what;
  int64_t want;
  std::string from;
  bool broadcast = false;
};

// The axes of operand `name` (AttnRuntime.h, attn_attention_args), from q's
// batch, heads and length, k's heads and length, and the compiled dims. A
// mask's keys are checked by checkMaskKeys.
std::vector<AxisRule> axisRules(const std::string &name, const Problem &p,
                                const AttentionConfig &c) {
  const std::string fromQ = "from q", fromK = "from k";
  const AxisRule batch{"batch", p.batch, fromQ}, seqQ{"seq_q", p.seqQ, fromQ};
  const AxisRule qHeads{"heads", p.qHeads, fromQ};
  const AxisRule kvHeads{"heads", p.kvHeads, fromK};
  const AxisRule seqKv{"seq_kv", p.seqKv, fromK};
  const AxisRule headDim{"head dim", c.headDim, "the kernel's head_dim"};
  const AxisRule valueDim{"value dim", c.valueDim, "the kernel's value_dim"};
  if (name == "q") {
    // Saturates: an absurd kv head count fails the grid check anyway.
    int64_t want = p.kvHeads > std::numeric_limits<int64_t>::max() / c.group
                       ? std::numeric_limits<int64_t>::max()
                       : c.group * p.kvHeads;
    return {batch,
            {"heads", want,
             "the kernel's group " + str(c.group) + " * " + str(p.kvHeads) +
                 " heads of k"},
            seqQ, headDim};
  }
  if (name == "k")
    return {batch, kvHeads, seqKv, headDim};
  if (name == "v")
    return {batch, kvHeads, seqKv, valueDim};
  if (name == "out")
    return {batch, qHeads, seqQ, valueDim};
  if (name == "lse")
    return {batch, qHeads, seqQ};
  if (name == "mask")
    return {{"batch", p.batch, fromQ, true},
            {"heads", p.qHeads, fromQ, true},
            {"seq_q", p.seqQ, fromQ, true}};
  if (name == "block_idx") {
    const BlockHeads heads = c.blockHeads.value_or(BlockHeads::Shared);
    const int64_t qBlock = c.blocks ? c.blocks->first : 1;
    return {batch,
            heads == BlockHeads::Shared ? AxisRule{"heads", 1, "a shared selection"}
            : heads == BlockHeads::KeyHead ? kvHeads
                                           : qHeads,
            {"query blocks", (p.seqQ + qBlock - 1) / qBlock,
             "ceil_div(seq_q, q_block " + str(qBlock) + ")"}};
  }
  if (name == "select_idx")
    return {batch,
            c.blockHeads == BlockHeads::QueryHead ? qHeads : kvHeads,
            seqQ,
            {"entries", c.selection ? c.selection->k : 0, "the kernel's k"}};
  return {batch}; // kv_lengths, q_offsets
}

Failure checkExtents(const Operand &op, const std::vector<AxisRule> &rules) {
  for (size_t axis = 0; axis < rules.size(); ++axis) {
    const AxisRule &r = rules[axis];
    int64_t got = op.t->shape[axis];
    if (got == r.want || (r.broadcast && got == 1))
      continue;
    return fail(ATTN_ERROR_SHAPE,
                std::string(op.name()) + ": axis " + str(int64_t(axis)) +
                    " (" + r.what + ") is " + str(got) + ", expected " +
                    str(r.want) + (r.broadcast ? " or 1" : "") + " (" +
                    r.from + ")");
  }
  return {};
}

// The mask may cover fewer keys than seq_kv (the rest are masked), not more.
Failure checkMaskKeys(const Operand &op, int64_t seqKv) {
  if (op.t->shape[3] <= seqKv)
    return {};
  return fail(ATTN_ERROR_SHAPE,
              std::string(op.name()) + ": axis 3 (keys) is " +
                  str(op.t->shape[3]) + ", more than seq_kv " + str(seqKv) +
                  " (from k); pass at most seq_kv keys");
}

// GPU kernels sort each list in shared memory: 1 to kMaxListEntries
// entries.
Failure checkBlockList(const Operand &op, int64_t &entries) {
  entries = op.t->shape[3];
  const int64_t most = ::attn::GpuTileLayout::kMaxListEntries;
  if (entries >= 1 && entries <= most)
    return {};
  return fail(ATTN_ERROR_SHAPE,
              std::string(op.name()) + ": axis 3 (entries per list) is " +
                  str(entries) + "; GPU kernels take 1 to " + str(most) +
                  " entries, -1 padded; drop the padding or split the keys");
}

// Kernels take sizes as i32 and place queries and keys at i32 positions:
// a sequence stays within 2^29 so that a position plus a window side never
// overflows (GpuTileLayout::kMaxPosition).
Failure checkSize(const char *what, int64_t value, int64_t limit, const char *why) {
  if (value <= limit)
    return {};
  return fail(ATTN_ERROR_SHAPE, std::string(what) + " " + str(value) +
                                    " is beyond the kernel's limit " + str(limit) +
                                    " (" + why + "); split the problem");
}

// The axes whose stride is not a kernel parameter must be contiguous: the
// head dim of 4-D operands and the only axis of 1-D ones (rank-3 lse passes
// all three of its strides).
Failure checkUnitInnermost(const Operand &op) {
  int last = op.spec.rank - 1;
  if (op.spec.rank == 3 || op.strides[last] == 1 || op.t->shape[last] == 1)
    return {};
  return fail(ATTN_ERROR_LAYOUT,
              std::string(op.name()) + ": innermost stride (axis " +
                  str(last) + ") is " + str(op.strides[last]) +
                  ", expected 1; make the last axis contiguous");
}

Failure checkAlignment(const Operand &op) {
  const int64_t elementBytes = int64_t(dtypeSize(op.spec.dtype));
  const int64_t need = op.rows16() ? 16 : elementBytes;
  auto address = reinterpret_cast<uintptr_t>(op.t->data);
  if (address % uintptr_t(need) != 0)
    return fail(ATTN_ERROR_ALIGNMENT,
                std::string(op.name()) + ": base address " + hex(op.t->data) +
                    " is not " + str(need) + "-byte aligned" +
                    (op.rows16() ? " (the kernel copies rows with 16-byte "
                                   "cp.async)"
                                 : ""));
  if (!op.rows16())
    return {};
  for (int i = 0; i < op.spec.rank - 1; ++i)
    if ((op.strides[i] * elementBytes) % 16 != 0)
      return fail(ATTN_ERROR_ALIGNMENT,
                  std::string(op.name()) + ": stride " + str(op.strides[i]) +
                      " of axis " + str(i) + " is " +
                      str(op.strides[i] * elementBytes) +
                      " bytes, not a multiple of 16 (the kernel copies rows "
                      "with 16-byte cp.async); pad the rows to " +
                      str(16 / elementBytes) + " elements");
  return {};
}

// A scalar parameter by name: batch, seq_q, seq_kv, mask_keys, X_stride_Y.
bool scalarValue(const Problem &p, const std::string &name, int64_t &value) {
  const std::pair<const char *, int64_t> sizes[] = {{"batch", p.batch},
                                                    {"seq_q", p.seqQ},
                                                    {"seq_kv", p.seqKv},
                                                    {"mask_keys", p.maskKeys},
                                                    {"block_k", p.blockK}};
  for (const auto &[n, v] : sizes)
    if (name == n) {
      value = v;
      return true;
    }
  size_t at = name.rfind("_stride_");
  if (at == std::string::npos)
    return false;
  const Operand *op = p.find(name.substr(0, at));
  for (int i = 0; op && i < 3 && i < op->spec.rank; ++i)
    if (name.substr(at + 8) == kAxisLetters[i]) {
      value = op->strides[i];
      return true;
    }
  return false;
}

// One 8-byte slot per parameter of kernelParams(c), in its order;
// cuLaunchKernel reads each at its size.
Failure fillParams(const AttentionConfig &c, Problem &p) {
  const std::vector<KernelParam> abi = kernelParams(c);
  p.params.assign(abi.size(), 0);
  for (size_t i = 0; i < abi.size(); ++i) {
    const KernelParam &param = abi[i];
    if (param.isTensor) {
      const Operand *op = p.find(param.name);
      if (!op)
        return fail(ATTN_ERROR_INTERNAL,
                    "the ABI's pointer '" + param.name +
                        "' is no operand of the kernel; AttentionConfig.cpp "
                        "and the runtime disagree");
      std::memcpy(&p.params[i], &op->t->data, sizeof(void *));
      continue;
    }
    int64_t value = 0;
    if (!scalarValue(p, param.name, value))
      return fail(ATTN_ERROR_INTERNAL,
                  "the ABI's scalar '" + param.name +
                      "' has no value in the runtime; AttentionConfig.cpp "
                      "and AttnRuntime.cpp disagree");
    if (param.dtype == DType::I32) {
      int32_t narrow = int32_t(value); // range checked before
      std::memcpy(&p.params[i], &narrow, sizeof narrow);
    } else {
      std::memcpy(&p.params[i], &value, sizeof value);
    }
  }
  return {};
}

// gridDim.x up to 2^31 - 1, gridDim.y and z up to 65535. `what` says where
// the value came from, for the message.
Failure checkGridAxis(int axis, int64_t value, const std::string &what) {
  static const char *const names[3] = {"x", "y", "z"};
  const int64_t limit = axis == 0 ? std::numeric_limits<int32_t>::max() : 65535;
  if (value >= 1 && value <= limit)
    return {};
  return fail(ATTN_ERROR_GRID, std::string("grid.") + names[axis] + what +
                                   " = " + str(value) +
                                   " is outside CUDA's limit [1, " +
                                   str(limit) + "] for gridDim." +
                                   names[axis] + "; split the problem");
}

// (blocks of positionsPerBlock query positions, k's heads (q's for
// per-query-head block lists), batch), as the artefact's "grid" says.
Failure computeGrid(const AttentionConfig &c, Problem &p) {
  const int64_t positions = positionsPerBlock(c);
  const bool perQueryHead = gridPerQueryHead(c);
  const int64_t values[3] = {(p.seqQ + positions - 1) / positions,
                             perQueryHead ? p.qHeads : p.kvHeads, p.batch};
  const std::string what[3] = {" (ceil_div(seq_q, " + str(positions) + "))",
                               perQueryHead ? " (heads of q)" : " (heads of k)",
                               " (batch)"};
  for (int i = 0; i < 3; ++i) {
    if (Failure f = checkGridAxis(i, values[i], what[i]))
      return f;
    p.grid[i] = unsigned(values[i]);
  }
  return {};
}

Failure checkAttention(const attn_kernel *kernel,
                       const attn_attention_args *args, Problem &p) {
  if (!kernel)
    return fail(ATTN_ERROR_ARGUMENT, "kernel is NULL");
  if (!args)
    return fail(ATTN_ERROR_ARGUMENT, "args is NULL; pass the operands in an "
                                     "attn_attention_args");
  if (!kernel->artefact.attn)
    return fail(ATTN_ERROR_ARGUMENT,
                kernel->artefact.jsonPath +
                    ": has no \"attn\" section (not an attention kernel of "
                    "attn-compile); launch it with attn_launch_raw");
  const AttentionConfig &c = *kernel->artefact.attn;
  if (Failure f = checkPresence(c, *args))
    return f;
  for (const KernelOperand &spec : kernelOperands(c)) {
    Operand op{spec};
    for (const auto &[name, t] : members(*args))
      if (name == spec.name)
        op.t = t;
    if (Failure f = checkPointer(op))
      return f;
    if (Failure f = checkDType(op))
      return f;
    if (Failure f = checkRank(op))
      return f;
    if (Failure f = normalizeStrides(op))
      return f;
    p.ops.push_back(op);
  }

  const attn_tensor &q = *args->q, &k = *args->k;
  p.batch = q.shape[0], p.qHeads = q.shape[1], p.seqQ = q.shape[2];
  p.kvHeads = k.shape[1], p.seqKv = k.shape[2];
  p.maskKeys = args->mask ? args->mask->shape[3] : 0;
  for (const Operand &op : p.ops) {
    if (Failure f = checkExtents(op, axisRules(op.spec.name, p, c)))
      return f;
    if (op.spec.name == "mask")
      if (Failure f = checkMaskKeys(op, p.seqKv))
        return f;
    if (op.spec.name == "block_idx")
      if (Failure f = checkBlockList(op, p.blockK))
        return f;
  }
  const int64_t i32 = std::numeric_limits<int32_t>::max();
  const int64_t positions = ::attn::GpuTileLayout::kMaxPosition;
  Failure sizes[] = {checkSize("batch", p.batch, i32, "an i32 parameter"),
                     checkSize("seq_q", p.seqQ, positions, "i32 positions"),
                     checkSize("seq_kv", p.seqKv, positions, "i32 positions")};
  for (const Failure &f : sizes)
    if (f)
      return f;
  for (const Operand &op : p.ops) {
    if (Failure f = checkUnitInnermost(op))
      return f;
    if (Failure f = checkAlignment(op))
      return f;
  }
  if (Failure f = computeGrid(c, p))
    return f;
  return fillParams(c, p);
}

//===-- Launching ---------------------------------------------------------===//

// The kernel's function in the current context, its module loaded on first
// use.
Failure functionFor(attn_kernel &kernel, const CudaDriver &d,
                    CUfunction &function) {
  const KernelArtefact &art = kernel.artefact;
  std::lock_guard<std::mutex> lock(kernel.mutex);
  CUcontext context = nullptr;
  if (CUresult r = d.cuCtxGetCurrent(&context); r != CUDA_SUCCESS)
    return fail(ATTN_ERROR_DRIVER, d.errorText("cuCtxGetCurrent", r));
  for (const attn_kernel::Loaded &l : kernel.loaded)
    if (l.context == context) {
      function = l.function;
      return {};
    }

  CUdevice device = 0;
  int major = 0, minor = 0, sharedOptin = 0;
  if (CUresult r = d.cuCtxGetDevice(&device); r != CUDA_SUCCESS)
    return fail(ATTN_ERROR_DRIVER, d.errorText("cuCtxGetDevice", r));
  CUresult r1 = d.cuDeviceGetAttribute(
      &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  CUresult r2 = d.cuDeviceGetAttribute(
      &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  CUresult r3 = d.cuDeviceGetAttribute(
      &sharedOptin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
      device);
  if (CUresult r = r1 ? r1 : r2 ? r2 : r3; r != CUDA_SUCCESS)
    return fail(ATTN_ERROR_DRIVER, d.errorText("cuDeviceGetAttribute", r));

  // A cubin runs on its own major version at an equal or newer minor one;
  // PTX is compiled by the driver for any newer device.
  const int64_t deviceArch = major * 10 + minor;
  bool runs = art.imageIsPtx ? deviceArch >= art.arch
                             : art.arch / 10 == major && minor >= art.arch % 10;
  if (art.arch && !runs)
    return fail(ATTN_ERROR_LAUNCH,
                art.imagePath + ": compiled for sm_" + str(art.arch) +
                    ", the device is sm_" + str(deviceArch) +
                    "; recompile the kernel for sm_" + str(deviceArch));
  if (art.shared > sharedOptin)
    return fail(ATTN_ERROR_LAUNCH,
                art.name + " needs " + str(art.shared) +
                    " bytes of shared memory, the device allows " +
                    str(sharedOptin) +
                    " per block; recompile with fewer stages or smaller tiles");

  CUmodule module = nullptr;
  if (CUresult r = d.cuModuleLoadData(&module, art.image.data());
      r != CUDA_SUCCESS)
    return fail(ATTN_ERROR_DRIVER,
                art.imagePath + ": " + d.errorText("cuModuleLoadData", r));
  auto unloadAndFail = [&](Failure f) {
    d.cuModuleUnload(module);
    return f;
  };
  if (CUresult r = d.cuModuleGetFunction(&function, module, art.name.c_str());
      r != CUDA_SUCCESS)
    return unloadAndFail(fail(ATTN_ERROR_DRIVER,
                              art.imagePath + ": kernel " + art.name + ": " +
                                  d.errorText("cuModuleGetFunction", r)));
  // Above the 48 KiB every device grants, dynamic shared memory is opt-in.
  if (art.shared > 48 * 1024)
    if (CUresult r = d.cuFuncSetAttribute(
            function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
            int(art.shared));
        r != CUDA_SUCCESS)
      return unloadAndFail(
          fail(ATTN_ERROR_LAUNCH,
               art.name + ": raising the dynamic shared memory to " +
                   str(art.shared) + " bytes: " +
                   d.errorText("cuFuncSetAttribute", r)));
  kernel.loaded.push_back({context, module, function});
  return {};
}

Failure launch(attn_kernel &kernel, const unsigned grid[3], void **params,
               void *stream) {
  std::string why;
  const CudaDriver *d = cudaDriver(why);
  if (!d)
    return fail(ATTN_ERROR_NO_DEVICE, why);
  CUfunction function = nullptr;
  if (Failure f = functionFor(kernel, *d, function))
    return f;
  const KernelArtefact &art = kernel.artefact;
  const int64_t warps = art.attn ? art.attn->plan.warps : art.numWarps;
  const unsigned block[3] = {unsigned(32 * warps), 1, 1};
  if (CUresult r = d->cuLaunchKernel(
          function, grid[0], grid[1], grid[2], block[0], block[1], block[2],
          unsigned(art.shared), static_cast<CUstream>(stream), params, nullptr);
      r != CUDA_SUCCESS)
    return fail(ATTN_ERROR_LAUNCH,
                art.name + ": " + d->errorText("cuLaunchKernel", r));
  return {};
}

// Triton 3.x appends a global and a profile scratch pointer to every
// kernel; its launcher passes NULL for them when their sizes are 0.
Failure rawArguments(const KernelArtefact &art, void **args, int nargs,
                     std::vector<void *> &params) {
  static void *const null = nullptr;
  if (nargs < 0 || (nargs > 0 && !args))
    return fail(ATTN_ERROR_ARGUMENT,
                "args is NULL or nargs (" + str(nargs) + ") negative");
  for (int i = 0; i < nargs; ++i)
    if (!args[i])
      return fail(ATTN_ERROR_ARGUMENT,
                  "args[" + str(i) + "] is NULL; pass a pointer to the value "
                                     "of each parameter");
  params.assign(args, args + nargs);
  if (!art.ptxParamsKnown)
    return {}; // a cubin alone does not say how many parameters there are
  const int n = int(art.ptxParamSizes.size());
  if (nargs == n)
    return {};
  bool scratchPointers = art.declaresScratch && n >= 2 &&
                         art.ptxParamSizes[n - 1] == 8 &&
                         art.ptxParamSizes[n - 2] == 8;
  if (nargs == n - 2 && scratchPointers) {
    if (art.globalScratchSize != 0 || art.profileScratchSize != 0)
      return fail(ATTN_ERROR_ARGUMENT,
                  art.name + " needs scratch buffers (global_scratch_size " +
                      str(art.globalScratchSize) + ", profile_scratch_size " +
                      str(art.profileScratchSize) +
                      "), which the runtime does not allocate; pass all " +
                      str(n) + " arguments");
    params.push_back(const_cast<void **>(&null));
    params.push_back(const_cast<void **>(&null));
    return {};
  }
  return fail(ATTN_ERROR_ARGUMENT,
              art.name + " takes " + str(n) + " parameters (its PTX)" +
                  (scratchPointers
                       ? ", or " + str(n - 2) +
                             " without Triton's two scratch pointers"
                       : std::string()) +
                  ", given " + str(nargs));
}

} // namespace

extern "C" {

const char *attn_status_name(attn_status status) {
  static const char *const names[] = {
      "ATTN_OK",           "ATTN_ERROR_NO_DEVICE", "ATTN_ERROR_DRIVER",
      "ATTN_ERROR_ARTEFACT", "ATTN_ERROR_ARGUMENT", "ATTN_ERROR_DTYPE",
      "ATTN_ERROR_SHAPE",  "ATTN_ERROR_LAYOUT",    "ATTN_ERROR_ALIGNMENT",
      "ATTN_ERROR_GRID",   "ATTN_ERROR_LAUNCH",    "ATTN_ERROR_INTERNAL"};
  int i = int(status);
  return i >= 0 && i < int(sizeof names / sizeof *names) ? names[i]
                                                          : "ATTN_UNKNOWN_STATUS";
}

const char *attn_last_error(void) { return lastError.c_str(); }

attn_status attn_device_init(void) {
  return guarded([] {
    std::string why;
    if (!cudaDriver(why))
      return report(fail(ATTN_ERROR_NO_DEVICE, why));
    return ATTN_OK;
  });
}

attn_status attn_kernel_load(const char *json_path, attn_kernel **out) {
  if (!out)
    return report(fail(ATTN_ERROR_ARGUMENT, "out is NULL"));
  *out = nullptr;
  if (!json_path)
    return report(fail(ATTN_ERROR_ARGUMENT, "json_path is NULL"));
  return guarded([&] {
    auto kernel = std::make_unique<attn_kernel>();
    if (std::string e = loadKernelArtefact(json_path, kernel->artefact);
        !e.empty())
      return report(fail(ATTN_ERROR_ARTEFACT, e));
    *out = kernel.release();
    return ATTN_OK;
  });
}

void attn_kernel_free(attn_kernel *kernel) {
  if (!kernel)
    return;
  (void)guarded([&] {
    std::string why;
    if (!kernel->loaded.empty())
      if (const CudaDriver *d = cudaDriver(why)) {
        // Unloading works on the current context: visit each module's own.
        CUcontext current = nullptr;
        d->cuCtxGetCurrent(&current);
        for (const attn_kernel::Loaded &l : kernel->loaded) {
          d->cuCtxSetCurrent(l.context);
          d->cuModuleUnload(l.module);
        }
        d->cuCtxSetCurrent(current);
      }
    return ATTN_OK;
  });
  delete kernel;
}

const char *attn_kernel_name(const attn_kernel *kernel) {
  return kernel ? kernel->artefact.name.c_str() : "";
}

int attn_kernel_is_attention(const attn_kernel *kernel) {
  return kernel && kernel->artefact.attn ? 1 : 0;
}

int attn_kernel_param_count(const attn_kernel *kernel) {
  if (!kernel || !kernel->artefact.ptxParamsKnown)
    return -1;
  return int(kernel->artefact.ptxParamSizes.size());
}

int attn_kernel_param_size(const attn_kernel *kernel, int i) {
  if (i < 0 || i >= attn_kernel_param_count(kernel))
    return -1;
  return kernel->artefact.ptxParamSizes[size_t(i)];
}


attn_status attn_attention_check(const attn_kernel *kernel,
                                 const attn_attention_args *args,
                                 unsigned grid[3]) {
  return guarded([&] {
    Problem p;
    Failure f = checkAttention(kernel, args, p);
    if (!f && grid)
      std::memcpy(grid, p.grid, sizeof p.grid);
    return report(f);
  });
}

attn_status attn_attention_launch(attn_kernel *kernel,
                                  const attn_attention_args *args,
                                  void *stream) {
  return guarded([&] {
    Problem p;
    if (Failure f = checkAttention(kernel, args, p))
      return report(f);
    std::vector<void *> params(p.params.size());
    for (size_t i = 0; i < params.size(); ++i)
      params[i] = &p.params[i];
    return report(launch(*kernel, p.grid, params.data(), stream));
  });
}

attn_status attn_launch_raw(attn_kernel *kernel, const unsigned grid[3],
                            void **args, int nargs, void *stream) {
  return guarded([&] {
    if (!kernel || !grid)
      return report(fail(ATTN_ERROR_ARGUMENT, "kernel or grid is NULL"));
    for (int i = 0; i < 3; ++i)
      if (Failure f = checkGridAxis(i, grid[i], ""))
        return report(f);
    std::vector<void *> params;
    if (Failure f = rawArguments(kernel->artefact, args, nargs, params))
      return report(f);
    return report(launch(*kernel, grid, params.data(), stream));
  });
}

} // extern "C"
