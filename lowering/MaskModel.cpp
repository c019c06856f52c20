//===- MaskModel.cpp ------------------------------------------------------===//
#include "lowering/MaskModel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::attn;

/// An integer constant of `type` (scalar or vector).
static Value constant(ImplicitLocOpBuilder &b, Type type, int64_t v) {
  Type elt = getElementTypeOrSelf(type);
  TypedAttr attr = b.getIntegerAttr(elt, v);
  if (auto vec = dyn_cast<VectorType>(type))
    attr = DenseElementsAttr::get(vec, attr);
  return arith::ConstantOp::create(b, attr);
}

Value MaskModel::queryOffset(ImplicitLocOpBuilder &b, Value seqQ,
                             Value validKeys, Value batchOffset) const {
  if (batchOffset)
    return batchOffset;
  if (spec.queryOffset)
    return constant(b, seqQ.getType(), *spec.queryOffset);
  if (spec.bottomRight)
    return arith::SubIOp::create(b, validKeys, seqQ);
  return constant(b, seqQ.getType(), 0);
}

Value MaskModel::position(ImplicitLocOpBuilder &b, Value index, Value off) const {
  Value p = arith::AddIOp::create(b, index, off);
  if (!spec.compressedKeys)
    return p;
  auto [l, d] = *spec.compressedKeys;
  Type t = p.getType();
  return arith::FloorDivSIOp::create(
      b, arith::SubIOp::create(b, p, constant(b, t, l - 1)), constant(b, t, d));
}

std::pair<Value, Value> MaskModel::keyRange(ImplicitLocOpBuilder &b, Value pLo,
                                            Value pHi, Value kvEnd) const {
  Type t = pLo.getType();
  Value lo = constant(b, t, 0), hi = kvEnd;
  if (spec.causal || spec.branches)
    hi = arith::MinSIOp::create(
        b, hi, arith::AddIOp::create(b, pHi, constant(b, t, 1)));
  if (spec.window && spec.window->first >= 0)
    lo = arith::MaxSIOp::create(
        b, lo, arith::SubIOp::create(b, pLo, constant(b, t, spec.window->first)));
  if (spec.window && spec.window->second >= 0)
    hi = arith::MinSIOp::create(
        b, hi,
        arith::AddIOp::create(b, pHi, constant(b, t, spec.window->second + 1)));
  return {lo, hi};
}

std::pair<Value, Value>
MaskModel::fullTiles(ImplicitLocOpBuilder &b, Value pLo, Value pHi, Value lo,
                     Value hi, Value tiles, int64_t size, bool wholeTiles) const {
  Type t = pLo.getType();
  Value n = constant(b, t, size), zero = constant(b, t, 0);
  auto floorDiv = [&](Value x) { return arith::FloorDivSIOp::create(b, x, n); };
  // Each rule bounds t from above (the tile ends early enough) or below.
  Value first = zero, last = tiles;
  auto below = [&](Value bound) { last = arith::MinSIOp::create(b, last, bound); };
  if (spec.maskDtype)
    below(zero);
  if (wholeTiles) // j0 + size <= hi
    below(floorDiv(arith::SubIOp::create(b, hi, lo)));
  auto keysUpTo = [&](Value limit) { // j0 + size - 1 <= limit
    below(floorDiv(arith::AddIOp::create(
        b, arith::SubIOp::create(b, limit, lo), constant(b, t, 1))));
  };
  if (spec.causal || spec.branches)
    keysUpTo(pLo);
  if (spec.branches) // only the shared prefix is plain causal: j0 + size <= P
    keysUpTo(constant(b, t, spec.branches->first - 1));
  if (spec.window && spec.window->second >= 0)
    keysUpTo(arith::AddIOp::create(b, pLo, constant(b, t, spec.window->second)));
  if (spec.window && spec.window->first >= 0) // j0 >= pHi - left
    first = arith::CeilDivSIOp::create(
        b,
        arith::SubIOp::create(
            b, arith::SubIOp::create(b, pHi, constant(b, t, spec.window->first)), lo),
        n);
  first = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, first, zero), tiles);
  last = arith::MaxSIOp::create(b, last, first);
  return {first, last};
}

Value MaskModel::visible(ImplicitLocOpBuilder &b, Value pos, Value key) const {
  Type t = pos.getType();
  Type i1 = b.getI1Type();
  if (auto vec = dyn_cast<VectorType>(t))
    i1 = VectorType::get(vec.getShape(), i1);
  Value vis = arith::ConstantOp::create(
      b, isa<VectorType>(i1)
             ? TypedAttr(DenseElementsAttr::get(cast<VectorType>(i1), true))
             : TypedAttr(b.getBoolAttr(true)));
  auto both = [&](Value c) { vis = arith::AndIOp::create(b, vis, c); };
  auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  };
  if (spec.causal || spec.branches)
    both(cmp(arith::CmpIPredicate::sle, key, pos));
  if (spec.window && spec.window->first >= 0)
    both(cmp(arith::CmpIPredicate::sge, key,
             arith::SubIOp::create(b, pos, constant(b, t, spec.window->first))));
  if (spec.window && spec.window->second >= 0)
    both(cmp(arith::CmpIPredicate::sle, key,
             arith::AddIOp::create(b, pos, constant(b, t, spec.window->second))));
  if (spec.branches) {
    // Past the shared prefix P, a key is seen only from its own branch:
    // (j - P) mod N == (p - P) mod N (with j <= p, both differences >= 0).
    Value prefix = constant(b, t, spec.branches->first);
    Value n = constant(b, t, spec.branches->second);
    Value keyBranch =
        arith::RemSIOp::create(b, arith::SubIOp::create(b, key, prefix), n);
    Value posBranch =
        arith::RemSIOp::create(b, arith::SubIOp::create(b, pos, prefix), n);
    Value inPrefix = cmp(arith::CmpIPredicate::slt, key, prefix);
    Value sameBranch = cmp(arith::CmpIPredicate::eq, keyBranch, posBranch);
    both(arith::OrIOp::create(b, inPrefix, sameBranch));
  }
  return vis;
}
