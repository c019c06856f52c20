//===- SparseCpu.h - compression and block selection on CPUs ----*- C++ -*-===//
#ifndef ATTN_LOWERING_SPARSECPU_H
#define ATTN_LOWERING_SPARSECPU_H

#include "dialects/AttnOps.h"

namespace mlir::attn {
/// attn.compress as a parallel loop nest on buffers.
void lowerCompress(CompressOp op);
/// attn.select_blocks as a parallel loop nest on buffers (inserting the
/// attn.compress its scoring needs; lower those afterwards).
void lowerSelectBlocks(SelectBlocksOp op);
} // namespace mlir::attn

#endif // ATTN_LOWERING_SPARSECPU_H
