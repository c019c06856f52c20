/*===- AttnRuntime.h - Loading and launching compiled kernels (C API) -----===*
 *
 * The C interface of the GPU runtime, for C, C++ and Python (ctypes, see
 * runtime/python/attn_runtime.py). It loads a kernel's artefacts (NAME.json
 * and the NAME.cubin or NAME.ptx beside it, docs/artefacts.md), checks the
 * operands of an attention kernel against what it was compiled for, and
 * launches it through the CUDA driver, which it opens at run time: nothing
 * here links libcuda, and everything but the launch works without a GPU.
 *
 * Every function returns a status; on failure attn_last_error() holds one
 * line (per thread) that names the operand or file at fault, the expected and
 * the actual value, and what to do. No function lets an exception escape.
 *
 *   attn_kernel *kernel;
 *   if (attn_kernel_load("out/attn_sm_80_bf16_d128_g4_....json", &kernel) != ATTN_OK)
 *     fprintf(stderr, "%s\n", attn_last_error());
 *   attn_tensor q = {q_ptr, ATTN_BF16, 4, {B, Hq, Sq, D}, {...strides...}};
 *   ...
 *   attn_attention_args args = {&q, &k, &v, NULL, NULL, NULL, &out, NULL};
 *   attn_attention_launch(kernel, &args, stream);
 *
 *===----------------------------------------------------------------------===*/
#ifndef ATTN_RUNTIME_ATTNRUNTIME_H
#define ATTN_RUNTIME_ATTNRUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ATTN_API __attribute__((visibility("default")))
#else
#define ATTN_API
#endif

typedef enum {
  ATTN_OK = 0,
  ATTN_ERROR_NO_DEVICE, /* no driver library, no GPU, or the driver failed to start */
  ATTN_ERROR_DRIVER,    /* a driver call failed (loading the module, ...) */
  ATTN_ERROR_ARTEFACT,  /* the .json, .cubin or .ptx is missing or malformed */
  ATTN_ERROR_ARGUMENT,  /* null pointer, operand missing or unexpected, wrong count */
  ATTN_ERROR_DTYPE,     /* element type differs from the compiled one */
  ATTN_ERROR_SHAPE,     /* rank, extents, or a size beyond the i32 parameters */
  ATTN_ERROR_LAYOUT,    /* a stride the kernel cannot take (innermost not 1, negative) */
  ATTN_ERROR_ALIGNMENT, /* a base pointer or row not 16-byte aligned */
  ATTN_ERROR_GRID,      /* a grid dimension beyond the device's limits */
  ATTN_ERROR_LAUNCH,    /* the device cannot run it (shared memory, arch) or cuLaunchKernel failed */
  ATTN_ERROR_INTERNAL   /* an unexpected failure inside the runtime (out of memory, ...) */
} attn_status;

/* "ATTN_OK", "ATTN_ERROR_SHAPE", ...; "ATTN_UNKNOWN_STATUS" otherwise. */
ATTN_API const char *attn_status_name(attn_status status);
/* The message of the calling thread's last failure ("" if none yet); a
 * success leaves it as it was. Valid until that thread's next failure. */
ATTN_API const char *attn_last_error(void);

/* Loads the CUDA driver and makes a context current on this thread: the one
 * already current (PyTorch's) if any, else device 0's primary context.
 * ATTN_ERROR_NO_DEVICE, with the reason, when there is no usable GPU. The
 * launch functions call it themselves; tools call it to decide to skip. */
ATTN_API attn_status attn_device_init(void);

typedef struct attn_kernel attn_kernel; /* opaque */

/* Reads and checks NAME.json and the NAME.cubin (else NAME.ptx) next to it.
 * Needs no GPU: the module is loaded into the current context at the first
 * launch (and once more per further context). */
ATTN_API attn_status attn_kernel_load(const char *json_path, attn_kernel **out);
ATTN_API void attn_kernel_free(attn_kernel *kernel); /* NULL is fine */
ATTN_API const char *attn_kernel_name(const attn_kernel *kernel);
/* 1 when the .json has the "attn" section (an attn-compile kernel), 0 for
 * any other (Triton) kernel. */
ATTN_API int attn_kernel_is_attention(const attn_kernel *kernel);
/* The number of parameters of the PTX's .entry, and the byte size of each;
 * -1 when no .ptx was next to the .json (or i is out of range). */
ATTN_API int attn_kernel_param_count(const attn_kernel *kernel);
ATTN_API int attn_kernel_param_size(const attn_kernel *kernel, int i);

enum { ATTN_F16 = 0, ATTN_BF16, ATTN_F32, ATTN_BOOL, ATTN_I32, ATTN_I64 };

/* A device buffer seen as a strided array: the canonical [B, H, S, D] view
 * for q, k, v, out and mask, [B, H, S] for lse, [B] for kv_lengths and
 * q_offsets. Strides are in elements; axes beyond `rank` are ignored. An
 * axis of extent 1 may have any stride (the runtime passes 0). */
typedef struct {
  void *data;
  int dtype; /* ATTN_F16, ... */
  int rank;
  int64_t shape[4];
  int64_t strides[4];
} attn_tensor;

/* The operands of an attention kernel (runtime/AttentionConfig.h,
 * kernelOperands): q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, Dv],
 * mask [B or 1, Hq or 1, Sq or 1, <= Skv] (bool keeps, float adds),
 * kv_lengths [B] (valid keys per batch element), q_offsets [B] (the
 * absolute position of each batch element's first query), out
 * [B, Hq, Sq, Dv], lse f32 [B, Hq, Sq], block_idx i32 [B, Hsel, ceil(Sq /
 * q_block), K] (block-sparse lists, -1 padded, 1 <= K <= 512; entries
 * outside the keys are skipped, never read), select_idx i32 [B, Hsel, Sq, k]
 * (written by a selection kernel: k, the compressed keys and values as k
 * and v, kv_lengths the original valid key lengths; v and out absent for a
 * selection without values). Hq = group * Hkv; head counts,
 * batch and lengths are free, the rest is fixed when the kernel is compiled.
 * An optional operand is given exactly when the kernel was compiled with it
 * (NULL otherwise). */
typedef struct {
  const attn_tensor *q, *k, *v, *mask, *kv_lengths, *q_offsets, *out, *lse;
  const attn_tensor *block_idx; /* after out and lse, so older */
  const attn_tensor *select_idx; /* initializers stay valid */
} attn_attention_args;

/* Checks the operands of an attention kernel without touching the GPU and
 * fills grid[3] (when not NULL) with the launch grid:
 * (ceil(Sq / positions per block), Hkv (Hq for per-query-head block lists),
 * B). */
ATTN_API attn_status attn_attention_check(const attn_kernel *kernel,
                                          const attn_attention_args *args,
                                          unsigned grid[3]);

/* attn_attention_check, then cuLaunchKernel on `stream` (a CUstream; NULL is
 * the context's default stream) with the parameters of the ABI. Returns once
 * the launch is queued: errors of the running kernel show up at the next
 * synchronization, as with any CUDA launch. */
ATTN_API attn_status attn_attention_launch(attn_kernel *kernel,
                                           const attn_attention_args *args,
                                           void *stream);

/* Launches any kernel (a Triton one, say) with raw arguments: args[i] points
 * at the value of parameter i, in the kernel's order, as cuLaunchKernel
 * takes them. Block [32 * num_warps, 1, 1] and dynamic shared memory
 * "shared" come from the .json. When the .ptx is known, nargs must equal its
 * parameter count, or be two less when the last two are the global and
 * profile scratch pointers that Triton 3.x appends and the .json's
 * global_scratch_size and profile_scratch_size are 0: they are passed as
 * NULL, as Triton's own launcher does. */
ATTN_API attn_status attn_launch_raw(attn_kernel *kernel, const unsigned grid[3],
                                     void **args, int nargs, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_RUNTIME_ATTNRUNTIME_H */
