//===- Sparse.h - Float64 reference of sparse and hierarchical attention --===//
//
// Sections 3 to 5 of attention-semantics.md in float64: token compression,
// top-k block selection (softmax_prob, softmax_prob_max, mean_key,
// key_bound) and the composites NSA, MoBA and InfLLM-V2. Block-sparse
// attention itself is referenceAttention with a block_idx operand
// (Reference.h). Tensors are canonical [B, H, S, D]; queries sit at
// absolute positions i + off with off = L - Sq (bottom-right, the
// composites' rule) unless a semantics says otherwise.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_REFERENCE_SPARSE_H
#define ATTN_RUNTIME_REFERENCE_SPARSE_H

#include "runtime/reference/Reference.h"

#include <string>
#include <vector>

namespace attn::rt {

enum class Pool { Mean, Max, Weighted };
const char *poolName(Pool p);                 // "mean", "max", "weighted"

/// Compression with block length l and stride d (d divides l).
struct Compression {
  int64_t block = 32, stride = 16;
  Pool pool = Pool::Mean;
  std::vector<double> weights; // Weighted: l weights
  /// Sc = (S - l) / d + 1 when S >= l, else 0.
  int64_t tokens(int64_t keys) const {
    return keys >= block ? (keys - block) / stride + 1 : 0;
  }
  std::string validate() const;
};

/// kc[b, h, t] = pool(k[b, h, t*d .. t*d + l - 1]), any float dtype in, F64
/// [B, H, Sc, D] out. With kvLengths (an integer [B] tensor), tokens whose
/// span reaches past element b's valid keys (t*d + l > L) are 0.
std::string referenceCompress(const Tensor &k, const Compression &c, Tensor &out,
                              const Tensor *kvLengths = nullptr);

/// Top-k block selection (section 4), per query row (q_block = 1).
struct Selection {
  ScoreMethod method = ScoreMethod::SoftmaxProb;
  int64_t block = 64;          // l' = kv_block of the selection
  int64_t topK = 16, init = 1, local = 2;
  bool perQueryHead = false;   // Hsel = Hq; else Hkv (the group shares)
  Compression compression;     // softmax_prob(_max): how kc is formed
  std::optional<double> scale; // softmax_prob(_max); default 1/sqrt(D)
  std::string validate() const;
};

/// idx [B, Hsel, Sq, K] (I32, ascending, -1 padded) for queries at
/// bottom-right positions over the valid keys of `k`: the first
/// kvLengths[b] (an integer [B] tensor) or all of them. Keys past L never
/// count: blocks starting there are ineligible, block summaries and
/// compressed tokens use only valid keys.
///
/// With compressed values `values` [B, Hkv, Sc, Dv] (softmax_prob(_max)),
/// also the attention whose probabilities the scores come from, F64
/// [B, Hq, Sq, Dv] into `output`: out[b, h, i] = sum_t pc[t] *
/// vc[b, h / G, t]; zero rows where no compressed token is visible.
///
/// With `compressedKeys` [B, Hkv, Sc, D] (softmax_prob(_max)), the scores
/// go through those instead of k pooled by s.compression (a KV cache's).
std::string referenceSelect(const Tensor &q, const Tensor &k, const Selection &s,
                            Tensor &idx, const Tensor *kvLengths = nullptr,
                            const Tensor *values = nullptr, Tensor *output = nullptr,
                            const Tensor *compressedKeys = nullptr);

/// The scores referenceSelect ranks, F64 [B, Hsel, Sq, blocks]: -inf for
/// ineligible blocks, +inf for forced ones (to check a selection computed in
/// lower precision, whose near-ties may order differently).
std::string referenceBlockScores(const Tensor &q, const Tensor &k, const Selection &s,
                                 Tensor &scores, const Tensor *kvLengths = nullptr,
                                 const Tensor *compressedKeys = nullptr);

/// NSA: out = g_cmp * A(q, kc, vc) + g_slc * BlockSparse(q, k, v, idx)
///          + g_win * Window(q, k, v, (w - 1, 0)); all causal, bottom-right.
struct NsaParams {
  Compression compression;
  Selection selection; // softmax_prob over `compression`, Hsel = Hkv
  int64_t window = 512;
  std::optional<double> scale;
};
/// (For this and the composites below: a given `selection` is used instead
/// of computing one, e.g. to check a kernel's output against its own list.)
/// NSA with compressedKeys and compressedValues ([B, Hkv, Sc, D] and
/// [B, Hkv, Sc, Dv], a KV cache's) uses them instead of pooling k and v.
std::string referenceNsa(const Tensor &q, const Tensor &k, const Tensor &v,
                         const Tensor &gates, const NsaParams &p, Tensor &out,
                         Tensor &idx, const Tensor *selection = nullptr,
                         const Tensor *kvLengths = nullptr,
                         const Tensor *compressedKeys = nullptr,
                         const Tensor *compressedValues = nullptr);

/// MoBA: BlockSparse(q, k, v, select(mean_key, Hsel = Hq, init 0, local 1)),
/// causal, bottom-right.
std::string referenceMoba(const Tensor &q, const Tensor &k, const Tensor &v,
                          int64_t block, int64_t topK, std::optional<double> scale,
                          Tensor &out, Tensor &idx, const Tensor *selection = nullptr,
                          const Tensor *kvLengths = nullptr);

/// InfLLM-V2: per batch element, dense causal attention when its valid
/// key length (kvLengths[b], else Skv) is below `denseLen`, else
/// block-sparse over softmax_prob_max selection (`selection.local` =
/// window / block). `idx` is left empty when every element is dense, and
/// holds -1 lists for the dense elements of a mixed batch.
struct InfLlmV2Params {
  int64_t denseLen = 8192;
  Selection selection;
  std::optional<double> scale;
};
std::string referenceInfLlmV2(const Tensor &q, const Tensor &k, const Tensor &v,
                              const InfLlmV2Params &p, Tensor &out, Tensor &idx,
                              const Tensor *selection = nullptr,
                              const Tensor *kvLengths = nullptr);

} // namespace attn::rt

#endif // ATTN_RUNTIME_REFERENCE_SPARSE_H
