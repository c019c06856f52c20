//===- AttentionFunction.h - one attention as an .mlir function -*- C++ -*-===//
//
// The conformance runner, the random differential tests and the benchmarks
// all need "a function holding one attn.attention for these operands and
// these parameters". This writes it as MLIR text, with batch and sequence
// sizes dynamic so one compiled function serves every length.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_JIT_ATTENTIONFUNCTION_H
#define ATTN_RUNTIME_JIT_ATTENTIONFUNCTION_H

#include "runtime/reference/OnnxCase.h"
#include "runtime/reference/Reference.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::attn {

struct AttentionFunction {
  std::string name = "attention";
  ::attn::rt::DType dtype = ::attn::rt::DType::F32;
  /// Shapes as passed (in params.layout); batch and sequence sizes become
  /// dynamic in the function type.
  std::vector<int64_t> query, key, value;
  std::optional<::attn::rt::DType> maskType;
  std::vector<int64_t> mask; // sizes in the function type: -1 dynamic, 1 broadcast
  std::optional<::attn::rt::DType> lengthType;
  /// A per-batch query_offsets operand of this type (else params.queryOffset
  /// or the alignment places the queries).
  std::optional<::attn::rt::DType> offsetType;
  /// Heads of a block-sparse selection operand [B, Hsel, Qb, K] (i32; with
  /// params.blocks), 0 for none.
  int64_t selectionHeads = 0;
  ::attn::rt::AttentionParams params;
  bool lse = false;
  /// A tile plan to pin (e.g. "#attn.tile_plan<...>"); empty: the planner's.
  std::string tilePlan;

  /// `func.func @name(...)` holding the attention, as text.
  std::string text() const;
};

/// The ONNX Attention case `c` as one attention function and its operands in
/// argument order (q, k, v, then mask, kv_lengths and the block selection
/// when given). A KV cache
/// keeps ONNX's query placement (query_offset = past length).
void functionForCase(const ::attn::rt::OnnxCase &c, AttentionFunction &f,
                     std::vector<::attn::rt::Tensor> &inputs);

/// The composite case `c` (NSA, MoBA, InfLLM-V2) as a function
/// @attention(q, k, v[, gates]) -> (Y, select_idx): attn.nsa; MoBA as
/// mean_key selection per query head and a block-sparse attention;
/// InfLLM-V2 as an attn.switch on the key length between dense
/// causal attention and softmax_prob_max selection plus block-sparse
/// attention (the dense side returns a selection of -1). Batch and sequence
/// sizes are dynamic. `inputs` receives the operands in order.
std::string compositeFunctionText(const ::attn::rt::OnnxCase &c,
                                  std::vector<::attn::rt::Tensor> &inputs);

} // namespace mlir::attn

#endif // ATTN_RUNTIME_JIT_ATTENTIONFUNCTION_H
