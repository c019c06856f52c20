//===- Compare.h - Comparing results against stored references --*- C++ -*-===//
//
// The one tolerance check of the project: every runner (reference, CPU, GPU)
// compares its outputs with this, so a pass means the same thing everywhere.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_COMPARE_H
#define ATTN_RUNTIME_COMPARE_H

#include "runtime/Tensor.h"

#include <string>

namespace attn::rt {

struct Tolerance {
  double rel;    // bound on ||out - ref|| / ||ref|| (2-norms)
  double maxAbs; // bound on max |out - ref|
};

/// The conformance README's tolerances for a case computed in `dtype`:
/// float32 1e-5 relative and 1e-4 max-abs, float16 2e-3 relative (no
/// max-abs bound). bfloat16 (not in the README) gets float16's bound scaled
/// by the ratio of their unit roundoffs, 8; float64 gets 1e-10 for both.
Tolerance toleranceFor(DType dtype);

struct Comparison {
  double rel = 0, maxAbs = 0;
  std::string problem; // "" when the output is within tolerance
};

/// Compares in float64. Non-finite values must match exactly (the -inf of
/// masked scores; a NaN only where `ref` has one) and are left out of the
/// norms. When ||ref|| = 0 the relative error is measured against 1
/// (i.e. it is ||out - ref|| itself), so an all-zero reference demands an
/// output that is zero to within the tolerance.
Comparison compareTensors(const Tensor &out, const Tensor &ref, Tolerance tol);

/// "" when `idx` is a valid selection for the reference's ranked scores:
/// ascending, unique, eligible, min(K, eligible) entries then -1, and no
/// unchosen block scoring above a chosen one beyond rounding (a kernel
/// scoring in f32 may order near-ties differently from float64).
/// `scores` [..., blocks] as referenceBlockScores gives them; `rel` the
/// relative rounding allowed.
std::string checkSelection(const Tensor &idx, const Tensor &scores, double rel);

} // namespace attn::rt

#endif // ATTN_RUNTIME_COMPARE_H
