//===- KeyTileSchedule.cpp ------------------------------------------------===//
#include "lowering/KeyTileSchedule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::attn;

static Value constant(ImplicitLocOpBuilder &b, Type type, int64_t v) {
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, v);
  return arith::ConstantIntOp::create(b, type, v);
}

KeyTileSchedule KeyTileSchedule::dense(ImplicitLocOpBuilder &b,
                                       const MaskModel &masks, Value pLo,
                                       Value pHi, Value kvEnd, int64_t size,
                                       bool wholeTiles) {
  KeyTileSchedule s;
  s.size = size;
  Type t = pLo.getType();
  std::tie(s.lo, s.hi) = masks.keyRange(b, pLo, pHi, kvEnd);
  Value zero = constant(b, t, 0);
  Value keys = arith::MaxSIOp::create(b, arith::SubIOp::create(b, s.hi, s.lo), zero);
  s.tiles = arith::CeilDivSIOp::create(b, keys, constant(b, t, size));
  auto [first, last] =
      masks.fullTiles(b, pLo, pHi, s.lo, s.hi, s.tiles, size, wholeTiles);
  s.parts = {{zero, first, true}, {first, last, false}, {last, s.tiles, true}};
  return s;
}

KeyTileSchedule KeyTileSchedule::indexList(ImplicitLocOpBuilder &b,
                                           const MaskModel &masks, Value pLo,
                                           Value pHi, Value kvEnd, int64_t size,
                                           Value count,
                                           std::function<Value(Value)> entry,
                                           std::function<Value(Value)> keep) {
  KeyTileSchedule s;
  s.size = size;
  std::tie(s.lo, s.hi) = masks.keyRange(b, pLo, pHi, kvEnd);
  s.tiles = count;
  s.parts = {{constant(b, count.getType(), 0), count, true}};
  s.entry = std::move(entry);
  s.keep = std::move(keep);
  return s;
}

KeyTileSchedule KeyTileSchedule::chosen(ImplicitLocOpBuilder &b, Value count,
                                        std::function<Value(Value)> startOf,
                                        Value kvEnd,
                                        std::function<Value(Value)> full) {
  KeyTileSchedule s;
  s.hi = kvEnd;
  s.tiles = count;
  s.startOf = std::move(startOf);
  s.full = std::move(full);
  s.parts = {{constant(b, count.getType(), 0), count, true}};
  return s;
}

Value KeyTileSchedule::start(ImplicitLocOpBuilder &b, Value t) const {
  if (startOf)
    return startOf(t);
  Value step = constant(b, t.getType(), size);
  if (entry)
    return arith::MulIOp::create(b, entry(t), step);
  return arith::AddIOp::create(b, lo, arith::MulIOp::create(b, t, step));
}

Value KeyTileSchedule::listed(ImplicitLocOpBuilder &b, Value t) const {
  using P = arith::CmpIPredicate;
  Type type = t.getType();
  Value e = entry(t);
  Value first = arith::MulIOp::create(b, e, constant(b, type, size));
  Value last = arith::AddIOp::create(b, first, constant(b, type, size));
  Value ok = arith::AndIOp::create(
      b, arith::CmpIOp::create(b, P::sge, e, constant(b, type, 0)),
      arith::AndIOp::create(b, arith::CmpIOp::create(b, P::slt, first, hi),
                            arith::CmpIOp::create(b, P::sgt, last, lo)));
  return arith::AndIOp::create(b, ok, keep(t));
}

SmallVector<Value> KeyTileSchedule::visit(
    ImplicitLocOpBuilder &b, ValueRange init,
    function_ref<SmallVector<Value>(Value, bool, ValueRange)> body) const {
  SmallVector<Value> carried(init);
  for (const Segment &seg : parts) {
    auto loop = scf::ForOp::create(
        b, seg.from, seg.to, constant(b, seg.from.getType(), 1), carried,
        [&](OpBuilder &, Location, Value t, ValueRange state) {
          if (full) {
            auto visit = scf::IfOp::create(
                b, full(t),
                [&](OpBuilder &, Location) {
                  scf::YieldOp::create(b, body(t, /*masked=*/false, state));
                },
                [&](OpBuilder &, Location) {
                  scf::YieldOp::create(b, body(t, /*masked=*/true, state));
                });
            scf::YieldOp::create(b, visit.getResults());
            return;
          }
          if (!keep) {
            scf::YieldOp::create(b, body(t, seg.masked, state));
            return;
          }
          auto visit = scf::IfOp::create(
              b, listed(b, t),
              [&](OpBuilder &, Location) {
                scf::YieldOp::create(b, body(t, seg.masked, state));
              },
              [&](OpBuilder &, Location) { scf::YieldOp::create(b, state); });
          scf::YieldOp::create(b, visit.getResults());
        });
    carried.assign(loop.getResults().begin(), loop.getResults().end());
  }
  return carried;
}
