//===- Compare.cpp - Comparing results against stored references ----------===//

#include "runtime/reference/Compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

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

std::string checkSelection(const Tensor &idx, const Tensor &scores, double rel) {
  int64_t rows = scores.numel() / scores.shape.back(), blocks = scores.shape.back();
  int64_t k = idx.shape.back();
  if (idx.numel() != size_t(rows * k))
    return "select_idx has shape " + shapeString(idx.shape);
  for (int64_t row = 0; row < rows; ++row) {
    std::vector<bool> chosen(size_t(blocks), false);
    int64_t eligible = 0, count = 0;
    for (int64_t j = 0; j < blocks; ++j)
      eligible += scores.get(size_t(row * blocks + j)) != -INFINITY;
    double worstChosen = INFINITY;
    for (int64_t n = 0; n < k; ++n) {
      int64_t e = int64_t(idx.get(size_t(row * k + n)));
      bool last = n + 1 == k || idx.get(size_t(row * k + n + 1)) < 0;
      if (e < 0)
        continue;
      if (e >= blocks || chosen[size_t(e)] || (!last && idx.get(size_t(row * k + n + 1)) <= e) ||
          n != count)
        return "row " + std::to_string(row) + ": list is not ascending, unique and "
               "padded at the end";
      double x = scores.get(size_t(row * blocks + e));
      if (x == -INFINITY)
        return "row " + std::to_string(row) + ": block " + std::to_string(e) +
               " is not eligible";
      chosen[size_t(e)] = true;
      worstChosen = std::min(worstChosen, x);
      ++count;
    }
    if (count != std::min(k, eligible))
      return "row " + std::to_string(row) + ": " + std::to_string(count) +
             " blocks chosen, expected " + std::to_string(std::min(k, eligible));
    for (int64_t j = 0; j < blocks; ++j) {
      double x = scores.get(size_t(row * blocks + j));
      if (!chosen[size_t(j)] && x != -INFINITY &&
          x > worstChosen + rel * std::max(1.0, std::abs(x)))
        return "row " + std::to_string(row) + ": block " + std::to_string(j) +
               " (score " + std::to_string(x) + ") beats a chosen one (" +
               std::to_string(worstChosen) + ")";
    }
  }
  return "";
}

} // namespace attn::rt
