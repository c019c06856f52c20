//===- AttentionConfig.h - One attention kernel, without MLIR ---*- C++ -*-===//
//
// The one description of an attention, shared by every part of the project
// that needs it: the op (KernelSpec is this plus MLIR types), the float64
// reference, the artefact JSON writer and reader, the runtime's operand
// checks and the generated C header. Plain C++ so that the runtime builds on
// a machine without MLIR.
//
//   AttentionSemantics  what is computed beyond the operands: scale, softcap,
//                       structured masks, query positions (section 1 of
//                       attention-semantics.md). The reference takes this.
//   AttentionConfig     one kernel: the semantics plus element types, group
//                       size, head dims, optional operands and the tile plan.
//                       Never batch, head counts or sequence lengths: one
//                       kernel serves them all.
//   kernelOperands()    the kernel's operands, in ABI order (CPU and GPU).
//   kernelParams()      the GPU launch parameters (docs/artefacts.md).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_ATTENTIONCONFIG_H
#define ATTN_RUNTIME_ATTENTIONCONFIG_H

#include "runtime/Tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attn::rt {

/// What a tile plan is sized for (#attn.target).
enum class Target { CPU, SM80, SM90 };
/// "cpu", "sm_80", "sm_90".
const char *targetName(Target t);
bool parseTarget(const std::string &name, Target &t);
/// 80 or 90 for GPU targets, 0 for the CPU.
int targetArch(Target t);

/// Tile sizes of one kernel (#attn.tile_plan): q_block rows of a packed
/// group tile (G heads times q_block / G positions) against kv_block keys per
/// step; warps and stages (K/V buffers) matter on GPUs only.
struct TilePlan {
  Target target = Target::CPU;
  int64_t qBlock = 0, kvBlock = 0, warps = 1, stages = 1;
  bool operator==(const TilePlan &o) const {
    return target == o.target && qBlock == o.qBlock && kvBlock == o.kvBlock &&
           warps == o.warps && stages == o.stages;
  }
};

/// Largest window side that can exclude a key: positions are below 2^62
/// everywhere (2^31 on GPUs, whose parameters are i32), so a larger side is
/// unbounded. Sides are normalized to -1 beyond it, which also keeps
/// `pos + side` from overflowing in any kernel.
constexpr int64_t kMaxWindowSide = int64_t(1) << 62;

/// What an attention computes beyond its operands: attention-semantics.md
/// section 1, items 1, 2 and 4.
struct AttentionSemantics {
  std::optional<double> scale; // default 1/sqrt(Dqk)
  double softcap = 0;          // 0 = off
  bool causal = false;
  /// (left, right), -1 unbounded: visible iff pos - left <= j <= pos + right.
  std::optional<std::pair<int64_t, int64_t>> window;
  /// (P, N) parallel branches; implies causal.
  std::optional<std::pair<int64_t, int64_t>> branches;
  /// Query positions: the query in row i sits at absolute position i + off,
  /// where off is, in order of precedence, the batch element's entry of a
  /// query-offsets operand, `queryOffset`, L - Sq when `bottomRight` (L the
  /// valid key length), else 0.
  bool bottomRight = false;
  std::optional<int64_t> queryOffset;
  /// Block-sparse attention (section 2): (q_block, kv_block) of a
  /// selection operand idx[B, Hsel, ceil(Sq / q_block), K] that lists, per
  /// query block, the key blocks its queries may see (a set: -1 padding,
  /// order and duplicates do not matter).
  std::optional<std::pair<int64_t, int64_t>> blocks;
  /// Compressed keys (section 3): key j stands for the span of original
  /// keys [j*d, j*d + l - 1] of (l, d), so a causal mask sees it once the
  /// span's last key is visible: j <= floor((p - l + 1) / d) for a query at
  /// original position p. Causal only (no window or branches).
  std::optional<std::pair<int64_t, int64_t>> compressedKeys;
  /// With `blocks`: a second output, the same attention with the block list
  /// replaced by a window (left, right) (-1 unbounded), both computed in one
  /// pass over the union of their keys (NSA's selected and window branches).
  /// No window, branches or compressed keys of its own.
  std::optional<std::pair<int64_t, int64_t>> windowBranch;

  bool hasStructuredMask() const { return causal || window || branches; }
  double effectiveScale(int64_t headDim) const;
  /// off for one batch element.
  int64_t offset(int64_t seqQ, int64_t validKeys,
                 std::optional<int64_t> batchOffset = std::nullopt) const;
  /// The position the masks compare keys with for query row i: i + off, in
  /// compressed-key coordinates when compressedKeys is set.
  int64_t position(int64_t i, int64_t off) const;
  /// The structured masks (causal, window, branches) for a query at
  /// absolute position `pos` and key `key`; valid lengths and explicit masks
  /// are not included. Never overflows.
  bool visible(int64_t pos, int64_t key) const;
  /// "" or one line naming the field at fault: finite scale, softcap 0 or
  /// positive and finite, window sides >= -1, branches P >= 0 and N >= 1,
  /// positive block sizes.
  std::string validate() const;
  /// What a kernel computes in f32 must stay finite: "" or one line saying
  /// which value is out of range (see kF32ComputeRange).
  std::string validateForF32() const;
  /// Window sides beyond kMaxWindowSide become -1 (unbounded).
  void normalize();
  /// The semantics of the window branch's output: no block list, the
  /// window branch as the window.
  AttentionSemantics windowBranchSemantics() const;
};

/// The magnitudes of scale and softcap that f32 kernels take (products with
/// log2(e), quotients of one by the other and their reciprocals stay finite
/// and normal): 0, or within [2^-60, 2^60].
constexpr double kF32ComputeMin = 8.673617379884035e-19; // 2^-60
constexpr double kF32ComputeMax = 1.152921504606847e18;  // 2^60

/// Which query heads share one list of a block-sparse selection: all of
/// them (Hsel = 1), the group of a key head (Hsel = Hkv) or none (Hsel = Hq).
enum class BlockHeads { Shared, KeyHead, QueryHead };
const char *blockHeadsName(BlockHeads h); // "shared", "kv", "q"
bool parseBlockHeads(const std::string &name, BlockHeads &h);
/// The rule for a selection with `hsel` heads among hq query and hkv key
/// heads (Hkv wins when Hq = Hkv); nullopt when hsel is none of them.
std::optional<BlockHeads> blockHeadsFor(int64_t hsel, int64_t hq, int64_t hkv);

/// A block selection (section 4, softmax_prob or softmax_prob_max) out of
/// an attention over compressed keys (GPU kernels): the kernel computes the
/// compressed attention (its output is NSA's compressed branch) and then,
/// from the same probabilities, each query row's top `k` blocks of `block`
/// keys, blocks `0 .. init-1` and the `local` blocks ending at the query's
/// own forced, into select_idx[B, Hsel, Sq, k] (ascending, -1 padded; Hsel
/// by blockHeads: "kv" or "q"). Queries sit at i + L - Sq with L from the
/// kv_lengths operand (required: the original valid key length, which the
/// compressed keys do not tell), and compressed token t is visible iff
/// p >= t*d + l - 1 and t*d + l <= L. valueDim 0: no values, no output
/// (a selection alone, as InfLLM-V2's). By mean_key (MoBA) there is no
/// attention: k holds each block's mean key [B, Hkv, ceil(S / block), D]
/// (over its valid keys), scored by q . mean unscaled; no compressed keys,
/// no values. (key_bound has no GPU kernel.)
enum class ScoreMethod { SoftmaxProb, SoftmaxProbMax, MeanKey, KeyBound };
const char *scoreMethodName(ScoreMethod m); // "softmax_prob", ...
/// The methods a selection kernel takes (not key_bound).
bool parseKernelScoreMethod(const std::string &name, ScoreMethod &m);
struct BlockSelection {
  int64_t block = 0, k = 0, init = 0, local = 0;
  ScoreMethod method = ScoreMethod::SoftmaxProb;
  bool operator==(const BlockSelection &o) const {
    return block == o.block && k == o.k && init == o.init && local == o.local &&
           method == o.method;
  }
  bool meanKey() const { return method == ScoreMethod::MeanKey; }
};

/// One attention kernel: everything a generated kernel is specialised on.
struct AttentionConfig : AttentionSemantics {
  DType dtype = DType::F32; // of query, key, value and output
  int64_t group = 1;        // query heads per key head
  int64_t headDim = 0, valueDim = 0;
  std::optional<DType> maskDtype;    // explicit mask: Bool or a float type
  std::optional<DType> lengthsDtype; // per-batch valid key lengths: I32, I64
  std::optional<DType> offsetsDtype; // per-batch query offsets: I32, I64
  /// The block-sparse selection operand (I32) and whose lists it holds;
  /// present iff `blocks` is.
  std::optional<BlockHeads> blockHeads;
  bool lse = false;
  std::optional<BlockSelection> selection;
  TilePlan plan;

  /// Whether the kernel reads values and writes an output (not so for a
  /// selection without values).
  bool hasValues() const { return valueDim > 0; }

  /// Query heads one tile packs (sharing each K/V tile): the group, or 1
  /// when block lists are per query head (the group's heads then differ in
  /// the keys they see).
  int64_t tileGroup() const {
    return blockHeads == BlockHeads::QueryHead ? 1 : group;
  }
  /// The resolved scale (the attribute, else 1/sqrt(headDim)).
  double resolvedScale() const { return effectiveScale(headDim); }
  /// "" or one line naming the field at fault (semantics, types, dims, a
  /// plan with non-positive sizes). Target limits are the generators' (see
  /// lowering/).
  std::string validate() const;
  /// validate()'s part for `selection`.
  std::string validateSelection() const;
  /// A readable, deterministic symbol: equal configs give equal names
  /// ("attn_cpu_f32_d64_g1_causal_q64k64_s3fc0000000000000").
  std::string name() const;
};

/// One tensor operand of a kernel, in ABI order: q, k, [v], [mask],
/// [kv_lengths], [q_offsets], [block_idx], [out], [lse], [out_window],
/// [select_idx] (v and out exist unless a selection has no values). `rank` is that of the
/// canonical view: [B, H, S, D] (mask [B, Hq, Sq, M], broadcast axes with
/// stride 0; block_idx [B, Hsel, Qblocks, K], select_idx [B, Hsel, Sq, k]),
/// [B, H, S] for lse, [B] for
/// kv_lengths and q_offsets.
struct KernelOperand {
  std::string name;
  DType dtype;
  int rank;
  bool isOutput;
};
std::vector<KernelOperand> kernelOperands(const AttentionConfig &c);

/// One GPU launch parameter: the operands' pointers, then batch, seq_q,
/// seq_kv, [mask_keys], [block_k] (entries per list of block_idx), then the b, h and s strides (elements) of every
/// operand of rank >= 3 ("q_stride_b", ...).
struct KernelParam {
  std::string name;
  bool isTensor = false; // a pointer; else a scalar of `dtype`
  DType dtype = DType::I32;
  int bytes() const { return isTensor ? 8 : int(dtypeSize(dtype)); }
};
std::vector<KernelParam> kernelParams(const AttentionConfig &c);

/// Query positions one GPU thread block or CPU task covers (the grid's x
/// granularity).
int64_t positionsPerBlock(const AttentionConfig &c);
/// Whether a GPU grid's y axis runs over query heads (a tile per query
/// head: per-query-head block lists) rather than key/value heads.
bool gridPerQueryHead(const AttentionConfig &c);

/// A C header for a GPU kernel `c` named `name`: its parameter struct, a grid
/// helper and the shared-memory size.
std::string kernelHeader(const AttentionConfig &c, int64_t sharedBytes);

} // namespace attn::rt

#endif // ATTN_RUNTIME_ATTENTIONCONFIG_H
