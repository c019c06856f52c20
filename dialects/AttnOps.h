//===- AttnOps.h - attn operations ------------------------------*- C++ -*-===//
#ifndef ATTN_DIALECTS_ATTNOPS_H
#define ATTN_DIALECTS_ATTNOPS_H

#include "dialects/AttnDialect.h"
#include "runtime/AttentionConfig.h"
#include "runtime/reference/Sparse.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::attn {
/// Sizes of an attention in the canonical [B, H, S, D] view; a dynamic size
/// is ShapedType::kDynamic.
struct AttentionShape {
  int64_t batch, queryHeads, kvHeads, querySeq, kvSeq, headDim, valueDim;
};
} // namespace mlir::attn

#define GET_OP_CLASSES
#include "dialects/AttnOps.h.inc"

#endif // ATTN_DIALECTS_ATTNOPS_H
