//===- Compare.cpp - Comparing results against stored references ----------===//

#include "runtime/reference/Compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace attn::rt {

Tolerance toleranceFor(DType dtype) {
  const double none = std::numeric_limits<double>::infinity();
  switch (dtype) {
  case DType::F16: return {2e-3, none};
  case DType::BF16: return {1.6e-2, none};
  case DType::F64: return {1e-10, 1e-10};
  default: return {1e-5, 1e-4};
  }
}

namespace {
std::string format(const char *fmt, double a, double b) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}
} // namespace

Comparison compareTensors(const Tensor &out, const Tensor &ref, Tolerance tol) {
  Comparison c;
  if (out.shape != ref.shape) {
    c.problem = "shape " + shapeString(out.shape) + " differs from the expected " +
                shapeString(ref.shape);
    return c;
  }
  double diffSquares = 0, refSquares = 0;
  for (size_t i = 0; i < ref.numel(); ++i) {
    double o = out.get(i), r = ref.get(i);
    // Non-finite values (the -inf of masked scores, a NaN that a stored
    // output should never hold) must match exactly and stay out of the norms.
    if (!std::isfinite(o) || !std::isfinite(r)) {
      bool same = (std::isnan(o) && std::isnan(r)) || o == r;
      if (!same && c.problem.empty())
        c.problem = "element " + std::to_string(i) +
                    format(" is %g, expected %g", o, r);
      continue;
    }
    double d = std::fabs(o - r);
    c.maxAbs = std::max(c.maxAbs, d);
    diffSquares += d * d;
    refSquares += r * r;
  }
  double refNorm = std::sqrt(refSquares);
  c.rel = std::sqrt(diffSquares) / (refNorm > 0 ? refNorm : 1.0);
  if (!c.problem.empty())
    return c;
  if (c.rel > tol.rel)
    c.problem = format("relative error %.3g exceeds %.3g", c.rel, tol.rel);
  else if (c.maxAbs > tol.maxAbs)
    c.problem = format("max-abs error %.3g exceeds %.3g", c.maxAbs, tol.maxAbs);
  return c;
}

} // namespace attn::rt
