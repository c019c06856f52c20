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

#include "runtime/Tensor.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attn::rt {

/// Layouts of q, k, v and out: [B, H, S, D], [B, S, H, D], [B, S, H*D].
enum class Layout { BHSD, BSHD, Packed };
const char *layoutName(Layout l);

struct AttentionParams {
  std::optional<double> scale; // default 1/sqrt(Dqk)
  double softcap = 0;          // 0 = off; negative or non-finite is an error
  bool causal = false;
  /// (left, right), -1 unbounded: visible iff pos - left <= j <= pos + right.
  std::optional<std::pair<int64_t, int64_t>> window;
  /// (P, N) parallel branches; implies causal.
  std::optional<std::pair<int64_t, int64_t>> branches;
  /// off = L - Sq (L = kvLengths[b] if given, else Skv); otherwise off = 0.
  bool bottomRight = false;
  /// When set, off = queryOffset for every batch element and bottomRight is
  /// not consulted. ONNX's KV cache puts the queries right after the past
  /// keys (off = past length), which is not L - Sq when the new keys
  /// outnumber the queries.
  std::optional<int64_t> queryOffset;
  Layout layout = Layout::BHSD;
  int64_t numQHeads = 0, numKvHeads = 0; // needed only for Packed
};

/// off of section 1 item 4 for one batch element whose valid key length is
/// `validKeys`.
int64_t alignmentOffset(const AttentionParams &p, int64_t sq,
                        int64_t validKeys);

/// The structured masks of section 1 item 4 (causal, window, branches, valid
/// key length) for in-block query row `i` and key `j`. Every structured mask
/// in the runtime is decided here, once.
bool visible(int64_t i, int64_t j, int64_t off, int64_t validKeys,
             const AttentionParams &p);

/// Dense attention in float64.
/// q, k, v: any float dtype, in p.layout. mask: optional, Bool (true = keep)
/// or float (added), rank 1..4, broadcast right-aligned to [B, Hq, Sq, Skv];
/// a last dim shorter than Skv leaves the keys it does not cover masked (it is
/// padded, never broadcast). kvLengths: optional I32/I64 [B] in [0, Skv].
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
