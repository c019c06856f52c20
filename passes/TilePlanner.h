//===- TilePlanner.h - tile sizes per target --------------------*- C++ -*-===//
#ifndef ATTN_PASSES_TILEPLANNER_H
#define ATTN_PASSES_TILEPLANNER_H

#include "dialects/AttnOps.h"

#include <optional>

namespace mlir::attn {
/// Parses "cpu", "sm_80", "sm_90".
std::optional<Target> parseTarget(llvm::StringRef name);

/// The tile plan for `op` on `target`, or an error naming what the target
/// cannot run (e.g. a head dim the GPU kernels do not support).
FailureOr<TilePlanAttr> planTiles(AttentionOp op, Target target);
} // namespace mlir::attn

#endif // ATTN_PASSES_TILEPLANNER_H
