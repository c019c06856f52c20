//===- Reference.h - The float64 reference for dense attention ---*- C++ -*-===//
//
// A direct transcription of attention-semantics.md section 1 and its
// "Merging partial results" paragraph, computed in float64 one query row at
// a time. It is the yardstick for every kernel, so it favours being obviously
// right over being fast.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_REFERENCE_H
#define ATTN_RUNTIME_REFERENCE_H

#include "runtime/AttentionConfig.h"
#include "runtime/Tensor.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attn::rt {

/// Layouts of q, k, v and out: [B, H, S, D], [B, S, H, D], [B, S, H*D].
enum class Layout { BHSD, BSHD, Packed };
const char *layoutName(Layout l);

/// The semantics (AttentionConfig.h) plus the layout of q, k, v and out.
struct AttentionParams : AttentionSemantics {
  Layout layout = Layout::BHSD;
  int64_t numQHeads = 0, numKvHeads = 0; // needed only for Packed
};

/// The valid key length of each of `batches` elements into `out`:
/// kvLengths[b] (an I32/I64 [B] tensor, each entry in [0, keys]), or `keys`
/// for every element when kvLengths is null. Returns "" or the problem.
std::string validKeyLengths(const Tensor *kvLengths, int64_t batches, int64_t keys,
                            std::vector<int64_t> &out);

/// Dense attention in float64.
/// q, k, v: any float dtype, in p.layout. mask: optional, Bool (true = keep)
/// or float (added), rank 1..4, broadcast right-aligned to [B, Hq, Sq, Skv];
/// a last dim shorter than Skv leaves the keys it does not cover masked (it is
/// padded, never broadcast). kvLengths: optional I32/I64 [B] in [0, Skv].
/// queryOffsets: optional I32/I64 [B], the per-batch query offset (see
/// AttentionSemantics). blockIdx: the block-sparse selection, I32
/// [B, Hsel, ceil(Sq / q_block), K] with Hsel = Hkv, Hq or 1, given iff
/// p.blocks is; an entry outside [-1, ceil(Skv / kv_block)) is an error.
/// Outputs (F64): out in p.layout with head dim Dv; lse [B, Hq, Sq] (natural
/// log, -inf for a row that sees no key, whose out is 0). With qk non-null,
/// also ONNX's qk_matmul_output for qkMode 0..3, [B, Hq, Sq, Skv]:
///   0, 1: scale * q.k, after softcap when set (no mask of any kind);
///   2:    those scores plus the explicit mask and every structured mask
///         (causal, window, valid lengths), masked entries -inf;
///   3:    the probabilities, all zero in a row that sees no key.
/// Checked against the ONNX vectors: mode 0 excludes the mask
/// (test_attention_4d_with_past_and_present_qk_matmul fails if it is added);
/// mode 2 includes the causal mask, as ONNX's reference folds causality into
/// the bias it adds (..._qk_matmul_bias_3d_mask_causal stores -inf at the 84
/// causally masked positions). No vector uses mode 1; it follows the doc and
/// ONNX's reference (= mode 0), not onnxruntime's "QK + mask".
/// Returns "" on success, else one line naming the operand at fault.
std::string referenceAttention(const Tensor &q, const Tensor &k,
                               const Tensor &v, const Tensor *mask,
                               const Tensor *kvLengths,
                               const Tensor *queryOffsets,
                               const Tensor *blockIdx,
                               const AttentionParams &p, Tensor &out,
                               Tensor &lse, int qkMode = -1,
                               Tensor *qk = nullptr);

/// Merges partial results over disjoint key sets: lse = logsumexp_n(lse_n),
/// out = sum_n exp(lse_n - lse) * out_n; a row whose every lse_n is -inf
/// gets out 0 and lse -inf. outs[n] [B, H, S, D], lses[n] [B, H, S], any
/// float dtype; results F64.
std::string referenceMerge(const std::vector<Tensor> &outs,
                           const std::vector<Tensor> &lses, Tensor &out,
                           Tensor &lse);

/// Re-lays a float tensor [B, H, S, D]-equivalent from one layout to another
/// (`numHeads` is needed when either side is Packed). Keeps the dtype.
std::string convertLayout(const Tensor &in, Layout from, Layout to,
                          int64_t numHeads, Tensor &out);

} // namespace attn::rt

#endif // ATTN_RUNTIME_REFERENCE_H
