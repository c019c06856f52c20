//===- OnnxCase.h - ONNX Attention conformance cases -------------*- C++ -*-===//
//
// Loads one case folder of ../shared/conformance/onnx-attention (case.json
// plus one .npy per tensor) and restates the ONNX Attention node (opsets 23
// to 25) as the project's dense attention problem.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_ONNXCASE_H
#define ATTN_RUNTIME_ONNXCASE_H

#include "runtime/reference/Reference.h"
#include "runtime/reference/Sparse.h"
#include "runtime/Tensor.h"

#include <map>
#include <optional>
#include <string>

namespace attn::rt {

struct OnnxCase {
  std::string name, dir;
  /// Ready for the attention in params.layout: BHSD for 4-D inputs and for
  /// any case with past_key (k and v then hold present_key/present_value),
  /// Packed for 3-D inputs without past.
  Tensor q, k, v;
  std::optional<Tensor> mask;      // ONNX attn_mask as given (bool or float)
  std::optional<Tensor> kvLengths; // ONNX nonpad_kv_seqlen (I64 [B])
  std::optional<Tensor> blockIdx;  // block-sparse selection (I32 [B, Hsel, Qb, K])
  AttentionParams params;
  int qkMode = -1; // qk_matmul_output_mode if that output is stored, else -1
  /// concat(past, new) along the sequence axis, [B, Hkv, S, D], when the
  /// case stores present_key / present_value.
  std::optional<Tensor> presentKey, presentValue;
  /// Output slot (Y, present_key, present_value, qk_matmul_output) -> the
  /// stored tensor.
  std::map<std::string, Tensor> expected;
  /// Composite sparse cases ("NSA", "MoBA", "InfLLMV2"; "" otherwise; the
  /// random tests add "Quest": key_bound pages per query head, the current
  /// page forced): their parameters, and NSA's gates.
  std::string composite;
  NsaParams nsa;
  int64_t mobaBlock = 0, mobaTopK = 0;
  InfLlmV2Params infLlmV2;
  Selection quest;
  std::optional<Tensor> gates;
  DType dtype = DType::F32;           // the float type of Q
  Layout outputLayout = Layout::BHSD; // ONNX's layout of Y (Packed for 3-D)
};

/// The "op" of DIR/case.json ("Attention", or another op a runner skips).
/// Returns "" on success, else one line naming the file and the problem.
std::string readCaseOp(const std::string &dir, std::string &op);

/// Whether loadOnnxCase takes cases of `op`: ONNX "Attention" and, from
/// ../shared/conformance/sparse, "BlockSparseAttention" and
/// "ParallelBranchesAttention" (dense attention with a selection operand or
/// the branches mask) and the composites "NSA", "MoBA" and "InfLLMV2".
bool isLoadableCaseOp(const std::string &op);
/// Whether `op` is one of the composites (run by the reference only).
bool isCompositeCaseOp(const std::string &op);

/// Returns "" on success, else one line naming the folder and the problem
/// (unknown attribute or slot, missing file, dtype or shape mismatch).
std::string loadOnnxCase(const std::string &dir, OnnxCase &c);

/// Runs the reference on a loaded case and fills `actual` with every slot of
/// c.expected, in ONNX's shapes (Y is 3-D for 3-D inputs).
std::string runOnnxCase(const OnnxCase &c,
                        std::map<std::string, Tensor> &actual);

/// The selection a composite case makes (method, blocks, heads, forced).
Selection compositeSelection(const OnnxCase &c);
/// Y (F64) and the selection of a composite case in float64; with
/// `selection`, that list is used instead of the reference's own.
std::string runCompositeCase(const OnnxCase &c, const Tensor *selection, Tensor &y,
                             Tensor &idx);

} // namespace attn::rt

#endif // ATTN_RUNTIME_ONNXCASE_H
