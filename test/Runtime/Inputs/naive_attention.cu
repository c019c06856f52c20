// A deliberately simple attention kernel with the attention ABI
// (docs/artefacts.md, runtime/AttentionConfig.h kernelParams): one thread
// per query row, float accumulation, the reference's masking rules. It lets
// the runtime's launch path and attn-gpu-test be checked on a GPU
// independently of the compiler's kernels.
//
// Configured with -D (naive_artefacts.py derives them from the artefact's
// "attn" section): NAME (entry point), ELEM (__half or __nv_bfloat16), D,
// DV, GROUP (query heads per key head), POSITIONS (query positions per
// block), SCALE, SOFTCAP (when on), CAUSAL, BOTTOM_RIGHT, WINDOW_LEFT /
// WINDOW_RIGHT (-1 = unbounded), BRANCH_P / BRANCH_N (BRANCH_N 0 = off),
// QUERY_OFFSET (when static), MASK_T (a mask operand: bool or a float type,
// added), LEN_T (kv_lengths: int or long long), OFF_T (q_offsets), HAS_LSE.
// Launch as the artefact says: grid (ceil(seq_q / POSITIONS), k's heads,
// batch); a block covers the GROUP query heads of one key head.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

__device__ float toFloat(__half x) { return __half2float(x); }
__device__ float toFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ float toFloat(float x) { return x; }
__device__ float toFloat(bool x) { return x; }
__device__ void store(__half *p, float x) { *p = __float2half_rn(x); }
__device__ void store(__nv_bfloat16 *p, float x) { *p = __float2bfloat16_rn(x); }

// Same rules as AttentionSemantics::visible (runtime/AttentionConfig.cpp).
__device__ bool visible(long long pos, long long j, long long validKeys) {
  if (j >= validKeys)
    return false;
#if BRANCH_N > 0
  if (j > pos)
    return false;
  if (pos >= BRANCH_P && j >= BRANCH_P &&
      (j - BRANCH_P) % BRANCH_N != (pos - BRANCH_P) % BRANCH_N)
    return false;
#else
  if (CAUSAL && j > pos)
    return false;
#endif
  if (WINDOW_LEFT >= 0 && j < pos - WINDOW_LEFT)
    return false;
  if (WINDOW_RIGHT >= 0 && j > pos + WINDOW_RIGHT)
    return false;
  return true;
}

extern "C" __global__ void NAME(
    const ELEM *q, const ELEM *k, const ELEM *v,
#ifdef MASK_T
    const MASK_T *mask,
#endif
#ifdef LEN_T
    const LEN_T *kv_lengths,
#endif
#ifdef OFF_T
    const OFF_T *q_offsets,
#endif
    ELEM *out,
#ifdef HAS_LSE
    float *lse,
#endif
    int batch, int seq_q, int seq_kv,
#ifdef MASK_T
    int mask_keys,
#endif
    long long q_sb, long long q_sh, long long q_ss,
    long long k_sb, long long k_sh, long long k_ss,
    long long v_sb, long long v_sh, long long v_ss,
#ifdef MASK_T
    long long mask_sb, long long mask_sh, long long mask_ss,
#endif
    long long out_sb, long long out_sh, long long out_ss
#ifdef HAS_LSE
    , long long lse_sb, long long lse_sh, long long lse_ss
#endif
) {
  const long long hk = blockIdx.y, b = blockIdx.z;
  if (b >= batch)
    return;
  long long validKeys = seq_kv;
#ifdef LEN_T
  validKeys = kv_lengths[b];
#endif
#if defined(OFF_T)
  const long long off = q_offsets[b];
#elif defined(QUERY_OFFSET)
  const long long off = QUERY_OFFSET;
#else
  const long long off = BOTTOM_RIGHT ? validKeys - seq_q : 0;
#endif
  // The block's rows: GROUP heads times POSITIONS query positions.
  for (int r = threadIdx.x; r < GROUP * POSITIONS; r += blockDim.x) {
    const long long h = hk * GROUP + r / POSITIONS;
    const long long i = (long long)blockIdx.x * POSITIONS + r % POSITIONS;
    if (i >= seq_q)
      continue;
    const long long pos = i + off;
    const ELEM *qi = q + b * q_sb + h * q_sh + i * q_ss;
    float acc[DV];
    for (int d = 0; d < DV; ++d)
      acc[d] = 0;
    float maxScore = -INFINITY, sum = 0;
    for (long long j = 0; j < seq_kv; ++j) {
      if (!visible(pos, j, validKeys))
        continue;
      const ELEM *kj = k + b * k_sb + hk * k_sh + j * k_ss;
      float s = 0;
      for (int d = 0; d < D; ++d)
        s += toFloat(qi[d]) * toFloat(kj[d]);
      s *= SCALE;
#ifdef SOFTCAP
      s = SOFTCAP * tanhf(s / SOFTCAP);
#endif
#ifdef MASK_T
      if (j >= mask_keys)
        continue;
      MASK_T m = mask[b * mask_sb + h * mask_sh + i * mask_ss + j];
      if (sizeof(MASK_T) == 1) { // bool: keep or drop
        if (!m)
          continue;
      } else {
        s += toFloat(m);
      }
#endif
      if (s == -INFINITY)
        continue;
      const float next = fmaxf(maxScore, s);
      const float rescale = expf(maxScore - next), p = expf(s - next);
      sum = sum * rescale + p;
      const ELEM *vj = v + b * v_sb + hk * v_sh + j * v_ss;
      for (int d = 0; d < DV; ++d)
        acc[d] = acc[d] * rescale + p * toFloat(vj[d]);
      maxScore = next;
    }
    ELEM *o = out + b * out_sb + h * out_sh + i * out_ss;
    for (int d = 0; d < DV; ++d)
      store(o + d, sum > 0 ? acc[d] / sum : 0.0f);
#ifdef HAS_LSE
    lse[b * lse_sb + h * lse_sh + i * lse_ss] =
        sum > 0 ? maxScore + logf(sum) : -INFINITY;
#endif
  }
}
