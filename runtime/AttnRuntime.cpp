//===- AttnRuntime.cpp - Loading and launching compiled kernels (C API) ---===//

#include "runtime/AttnRuntime.h"

#include "runtime/CudaDriver.h"
#include "runtime/KernelArtefact.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
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

std::string str(int64_t x) { return std::to_string(x); }

std::string hex(const void *p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(p)));
  return buf;
}

//===-- Attention operands ------------------------------------------------===//

enum OperandIndex { Q, K, V, MASK, LENGTHS, OUT, LSE, NUM_OPERANDS };
const char *const kAxisLetters[3] = {"b", "h", "s"}; // as in X_stride_b

struct Operand {
  const char *name;
  const attn_tensor *t; // nullptr when not given
  bool compiled;        // the kernel was compiled with it
  DType dtype;          // the element type the kernel reads
  int rank;
  /// Whether the kernel may copy its rows with 16-byte cp.async: then the
  /// base and every stride but the innermost are 16-byte multiples. The
  /// others (lse, kv_lengths) need element alignment only.
  bool rows16;
  int64_t strides[4] = {0, 0, 0, 0}; // extent-1 axes read as stride 0
};

// Everything a launch passes, once the checks have passed.
struct Problem {
  Operand ops[NUM_OPERANDS];
  int64_t batch = 0, seqQ = 0, seqKv = 0, maskKeys = 0;
};

bool toDType(int code, DType &t) {
  static const DType types[] = {DType::F16,  DType::BF16, DType::F32,
                                DType::Bool, DType::I32,  DType::I64};
  if (code < ATTN_F16 || code > ATTN_I64)
    return false;
  t = types[code];
  return true;
}

Failure checkPresence(const Operand &op) {
  if (op.t && !op.compiled)
    return fail(ATTN_ERROR_ARGUMENT,
                std::string(op.name) +
                    ": given, but the kernel was compiled without it; pass "
                    "NULL or use a kernel compiled with " + op.name);
  if (!op.t && op.compiled)
    return fail(ATTN_ERROR_ARGUMENT,
                std::string(op.name) +
                    ": missing (NULL), but the kernel was compiled with it");
  return {};
}

Failure checkPointer(const Operand &op) {
  if (!op.t->data)
    return fail(ATTN_ERROR_ARGUMENT,
                std::string(op.name) + ": data pointer is NULL");
  return {};
}

Failure checkDType(const Operand &op) {
  DType got;
  if (!toDType(op.t->dtype, got))
    return fail(ATTN_ERROR_DTYPE, std::string(op.name) + ": dtype code " +
                                      str(op.t->dtype) +
                                      " is not one of ATTN_F16..ATTN_I64");
  if (got != op.dtype)
    return fail(ATTN_ERROR_DTYPE, std::string(op.name) + ": element type " +
                                      elementTypeName(got) + ", expected " +
                                      elementTypeName(op.dtype) +
                                      " (what the kernel was compiled for)");
  return {};
}

Failure checkRank(const Operand &op) {
  if (op.t->rank != op.rank)
    return fail(ATTN_ERROR_SHAPE, std::string(op.name) + ": rank " +
                                      str(op.t->rank) + ", expected " +
                                      str(op.rank));
  for (int i = 0; i < op.rank; ++i)
    if (op.t->shape[i] < 1)
      return fail(ATTN_ERROR_SHAPE,
                  std::string(op.name) + ": axis " + str(i) + " has extent " +
                      str(op.t->shape[i]) +
                      "; the runtime launches only non-empty problems");
  return {};
}

// Negative strides are rejected; an extent-1 axis reads as stride 0, which
// is also how a broadcast mask axis reaches the kernel.
Failure normalizeStrides(Operand &op) {
  for (int i = 0; i < op.rank; ++i) {
    if (op.t->strides[i] < 0)
      return fail(ATTN_ERROR_LAYOUT, std::string(op.name) + ": stride " +
                                         str(op.t->strides[i]) + " of axis " +
                                         str(i) +
                                         " is negative; pass a view with "
                                         "non-negative strides");
    op.strides[i] = op.t->shape[i] == 1 ? 0 : op.t->strides[i];
  }
  return {};
}

// `what` names the axis ("kv heads"); `from` says where `want` comes from.
Failure checkExtent(const Operand &op, int axis, const char *what,
                    int64_t want, const std::string &from,
                    bool broadcastable = false) {
  int64_t got = op.t->shape[axis];
  if (got == want || (broadcastable && got == 1))
    return {};
  return fail(ATTN_ERROR_SHAPE,
              std::string(op.name) + ": axis " + str(axis) + " (" + what +
                  ") is " + str(got) + ", expected " + str(want) +
                  (broadcastable ? " or 1" : "") + " (" + from + ")");
}

// The mask may cover fewer keys than seq_kv (the rest are masked), not more.
Failure checkMaskKeys(const Operand &op, int64_t seqKv) {
  if (op.t->shape[3] <= seqKv)
    return {};
  return fail(ATTN_ERROR_SHAPE,
              std::string(op.name) + ": axis 3 (keys) is " +
                  str(op.t->shape[3]) + ", more than seq_kv " + str(seqKv) +
                  " (from k); pass at most seq_kv keys");
}

Failure checkFitsI32(const char *what, int64_t value) {
  if (value <= std::numeric_limits<int32_t>::max())
    return {};
  return fail(ATTN_ERROR_SHAPE, std::string(what) + " " + str(value) +
                                    " does not fit the kernel's i32 "
                                    "parameter; split the problem");
}

// The axes whose stride is not a kernel parameter must be contiguous: the
// head dim of 4-D operands, and kv_lengths' only axis.
Failure checkUnitInnermost(const Operand &op) {
  if (op.rank == 3) // lse passes its stride along S
    return {};
  int last = op.rank - 1;
  if (op.strides[last] == 1 || op.t->shape[last] == 1)
    return {};
  return fail(ATTN_ERROR_LAYOUT,
              std::string(op.name) + ": innermost stride (axis " + str(last) +
                  ") is " + str(op.t->strides[last]) +
                  ", expected 1; make the last axis contiguous");
}

Failure checkAlignment(const Operand &op) {
  const int64_t elementBytes = int64_t(dtypeSize(op.dtype));
  const int64_t need = op.rows16 ? 16 : elementBytes;
  auto address = reinterpret_cast<uintptr_t>(op.t->data);
  if (address % uintptr_t(need) != 0)
    return fail(ATTN_ERROR_ALIGNMENT,
                std::string(op.name) + ": base address " + hex(op.t->data) +
                    " is not " + str(need) + "-byte aligned" +
                    (op.rows16 ? " (the kernel copies rows with 16-byte "
                                 "cp.async)"
                               : ""));
  if (!op.rows16)
    return {};
  for (int i = 0; i < op.rank - 1; ++i)
    if ((op.strides[i] * elementBytes) % 16 != 0)
      return fail(ATTN_ERROR_ALIGNMENT,
                  std::string(op.name) + ": stride " + str(op.strides[i]) +
                      " of axis " + str(i) + " is " +
                      str(op.strides[i] * elementBytes) +
                      " bytes, not a multiple of 16 (the kernel copies rows "
                      "with 16-byte cp.async); pad the rows to " +
                      str(16 / elementBytes) + " elements");
  return {};
}

// A scalar of the ABI by name: batch, seq_q, seq_kv, mask_keys, X_stride_Y.
bool scalarValue(const Problem &p, const std::string &name, int64_t &value) {
  if (name == "batch" || name == "seq_q" || name == "seq_kv" ||
      name == "mask_keys") {
    value = name == "batch"    ? p.batch
            : name == "seq_q"  ? p.seqQ
            : name == "seq_kv" ? p.seqKv
                               : p.maskKeys;
    return true;
  }
  size_t at = name.rfind("_stride_");
  if (at == std::string::npos)
    return false;
  std::string operand = name.substr(0, at), axis = name.substr(at + 8);
  for (const Operand &op : p.ops)
    for (int i = 0; i < 3; ++i)
      if (operand == op.name && axis == kAxisLetters[i]) {
        value = op.strides[i];
        return true;
      }
  return false;
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

Failure computeGrid(const AttentionSpec &a, const Problem &p,
                    unsigned grid[3]) {
  for (int i = 0; i < 3; ++i) {
    const GridAxis &g = a.grid[i];
    int64_t value = g.value;
    std::string what;
    if (g.kind != GridAxis::Kind::Value) {
      int64_t arg = 0;
      scalarValue(p, g.arg, arg); // a scalar of the ABI: checked at load
      bool ceilDiv = g.kind == GridAxis::Kind::CeilDiv;
      value = ceilDiv ? (arg + g.value - 1) / g.value : arg;
      what = ceilDiv ? " (ceil_div(" + g.arg + ", " + str(g.value) + "))"
                     : " (" + g.arg + ")";
    }
    if (Failure f = checkGridAxis(i, value, what))
      return f;
    grid[i] = unsigned(value);
  }
  return {};
}

Failure checkAttention(const attn_kernel *kernel, const attn_tensor *q,
                       const attn_tensor *k, const attn_tensor *v,
                       const attn_tensor *mask, const attn_tensor *kvLengths,
                       const attn_tensor *out, const attn_tensor *lse,
                       Problem &p, unsigned grid[3]) {
  if (!kernel)
    return fail(ATTN_ERROR_ARGUMENT, "kernel is NULL");
  if (!kernel->artefact.attn)
    return fail(ATTN_ERROR_ARGUMENT,
                kernel->artefact.jsonPath +
                    ": has no \"attn\" section (not an attention kernel of "
                    "attn-compile); launch it with attn_launch_raw");
  const AttentionSpec &a = *kernel->artefact.attn;
  const bool hasMask = a.maskDtype.has_value();
  const bool hasLengths = a.lengthsDtype.has_value();
  p.ops[Q] = {"q", q, true, a.dtype, 4, true};
  p.ops[K] = {"k", k, true, a.dtype, 4, true};
  p.ops[V] = {"v", v, true, a.dtype, 4, true};
  p.ops[MASK] = {"mask", mask, hasMask, a.maskDtype.value_or(DType::Bool), 4,
                 true};
  p.ops[LENGTHS] = {"kv_lengths", kvLengths, hasLengths,
                    a.lengthsDtype.value_or(DType::I32), 1, false};
  p.ops[OUT] = {"out", out, true, a.dtype, 4, true};
  p.ops[LSE] = {"lse", lse, a.lse, DType::F32, 3, false};

  for (Operand &op : p.ops) {
    if (Failure f = checkPresence(op))
      return f;
    if (!op.t)
      continue;
    if (Failure f = checkPointer(op))
      return f;
    if (Failure f = checkDType(op))
      return f;
    if (Failure f = checkRank(op))
      return f;
    if (Failure f = normalizeStrides(op))
      return f;
  }

  p.batch = q->shape[0];
  p.seqQ = q->shape[2];
  p.seqKv = k->shape[2];
  p.maskKeys = hasMask ? mask->shape[3] : 0;
  const std::string qHeads = "the kernel's q_heads";
  const std::string kvHeads = "the kernel's kv_heads";
  const std::string headDim = "the kernel's head_dim";
  const std::string valueDim = "the kernel's value_dim";
  const std::string fromQ = "from q", fromK = "from k";
  Failure checks[] = {
      checkExtent(p.ops[Q], 1, "heads", a.qHeads, qHeads),
      checkExtent(p.ops[Q], 3, "head dim", a.headDim, headDim),
      checkExtent(p.ops[K], 0, "batch", p.batch, fromQ),
      checkExtent(p.ops[K], 1, "heads", a.kvHeads, kvHeads),
      checkExtent(p.ops[K], 3, "head dim", a.headDim, headDim),
      checkExtent(p.ops[V], 0, "batch", p.batch, fromQ),
      checkExtent(p.ops[V], 1, "heads", a.kvHeads, kvHeads),
      checkExtent(p.ops[V], 2, "seq_kv", p.seqKv, fromK),
      checkExtent(p.ops[V], 3, "value dim", a.valueDim, valueDim),
      checkExtent(p.ops[OUT], 0, "batch", p.batch, fromQ),
      checkExtent(p.ops[OUT], 1, "heads", a.qHeads, qHeads),
      checkExtent(p.ops[OUT], 2, "seq_q", p.seqQ, fromQ),
      checkExtent(p.ops[OUT], 3, "value dim", a.valueDim, valueDim),
  };
  for (const Failure &f : checks)
    if (f)
      return f;
  if (hasMask) {
    Failure maskChecks[] = {
        checkExtent(p.ops[MASK], 0, "batch", p.batch, fromQ, true),
        checkExtent(p.ops[MASK], 1, "heads", a.qHeads, qHeads, true),
        checkExtent(p.ops[MASK], 2, "seq_q", p.seqQ, fromQ, true),
        checkMaskKeys(p.ops[MASK], p.seqKv),
    };
    for (const Failure &f : maskChecks)
      if (f)
        return f;
  }
  if (hasLengths)
    if (Failure f = checkExtent(p.ops[LENGTHS], 0, "batch", p.batch, fromQ))
      return f;
  if (a.lse) {
    Failure lseChecks[] = {
        checkExtent(p.ops[LSE], 0, "batch", p.batch, fromQ),
        checkExtent(p.ops[LSE], 1, "heads", a.qHeads, qHeads),
        checkExtent(p.ops[LSE], 2, "seq_q", p.seqQ, fromQ),
    };
    for (const Failure &f : lseChecks)
      if (f)
        return f;
  }
  Failure sizes[] = {checkFitsI32("batch", p.batch),
                     checkFitsI32("seq_q", p.seqQ),
                     checkFitsI32("seq_kv", p.seqKv)};
  for (const Failure &f : sizes)
    if (f)
      return f;

  for (const Operand &op : p.ops) {
    if (!op.t)
      continue;
    if (Failure f = checkUnitInnermost(op))
      return f;
    if (Failure f = checkAlignment(op))
      return f;
  }
  return computeGrid(a, p, grid);
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
  unsigned block[3] = {unsigned(32 * art.numWarps), 1, 1};
  if (art.attn)
    std::memcpy(block, art.attn->block, sizeof block);
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
      "ATTN_ERROR_GRID",   "ATTN_ERROR_LAUNCH"};
  int i = int(status);
  return i >= 0 && i < int(sizeof names / sizeof *names) ? names[i]
                                                          : "ATTN_UNKNOWN_STATUS";
}

const char *attn_last_error(void) { return lastError.c_str(); }

attn_status attn_device_init(void) {
  std::string why;
  if (!cudaDriver(why))
    return report(fail(ATTN_ERROR_NO_DEVICE, why));
  return ATTN_OK;
}

attn_status attn_kernel_load(const char *json_path, attn_kernel **out) {
  if (!out)
    return report(fail(ATTN_ERROR_ARGUMENT, "out is NULL"));
  *out = nullptr;
  if (!json_path)
    return report(fail(ATTN_ERROR_ARGUMENT, "json_path is NULL"));
  auto kernel = std::make_unique<attn_kernel>();
  if (std::string e = loadKernelArtefact(json_path, kernel->artefact);
      !e.empty())
    return report(fail(ATTN_ERROR_ARTEFACT, e));
  *out = kernel.release();
  return ATTN_OK;
}

void attn_kernel_free(attn_kernel *kernel) {
  if (!kernel)
    return;
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
                                 const attn_tensor *q, const attn_tensor *k,
                                 const attn_tensor *v, const attn_tensor *mask,
                                 const attn_tensor *kv_lengths,
                                 const attn_tensor *out, const attn_tensor *lse,
                                 unsigned grid[3]) {
  Problem p;
  unsigned computed[3];
  Failure f = checkAttention(kernel, q, k, v, mask, kv_lengths, out, lse, p,
                             computed);
  if (!f && grid)
    std::memcpy(grid, computed, sizeof computed);
  return report(f);
}

attn_status attn_attention_launch(attn_kernel *kernel, const attn_tensor *q,
                                  const attn_tensor *k, const attn_tensor *v,
                                  const attn_tensor *mask,
                                  const attn_tensor *kv_lengths,
                                  const attn_tensor *out,
                                  const attn_tensor *lse, void *stream) {
  Problem p;
  unsigned grid[3];
  if (Failure f = checkAttention(kernel, q, k, v, mask, kv_lengths, out, lse,
                                 p, grid))
    return report(f);
  // One 8-byte slot per parameter; cuLaunchKernel reads each at its size.
  const std::vector<KernelArg> &abi = kernel->artefact.attn->args;
  std::vector<uint64_t> slots(abi.size());
  std::vector<void *> params(abi.size());
  for (size_t i = 0; i < abi.size(); ++i) {
    if (abi[i].isTensor) {
      for (const Operand &op : p.ops)
        if (abi[i].name == op.name)
          std::memcpy(&slots[i], &op.t->data, sizeof(void *));
    } else {
      int64_t value = 0;
      scalarValue(p, abi[i].name, value);
      if (abi[i].dtype == DType::I32) {
        int32_t narrow = int32_t(value); // range checked above
        std::memcpy(&slots[i], &narrow, sizeof narrow);
      } else {
        std::memcpy(&slots[i], &value, sizeof value);
      }
    }
    params[i] = &slots[i];
  }
  return report(launch(*kernel, grid, params.data(), stream));
}

attn_status attn_launch_raw(attn_kernel *kernel, const unsigned grid[3],
                            void **args, int nargs, void *stream) {
  if (!kernel || !grid)
    return report(fail(ATTN_ERROR_ARGUMENT, "kernel or grid is NULL"));
  for (int i = 0; i < 3; ++i)
    if (Failure f = checkGridAxis(i, grid[i], ""))
      return report(f);
  std::vector<void *> params;
  if (Failure f = rawArguments(kernel->artefact, args, nargs, params))
    return report(f);
  return report(launch(*kernel, grid, params.data(), stream));
}

} // extern "C"
