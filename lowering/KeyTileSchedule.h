//===- KeyTileSchedule.h - which key tiles a query tile visits --*- C++ -*-===//
//
// Every attention variant differs in which key tiles a tile of queries
// visits and in the per-element mask inside partly visible tiles. The
// schedule answers the first question for the CPU and GPU generators alike:
// `count` tiles, tile t starting at key `start(t)`, and which of them need
// the per-element test. Dense attention visits a contiguous key range (the
// mask model's bounds, so fully masked tiles are never visited), split into
// partial / full / partial segments (full tiles carry no masking code).
// Block-sparse attention visits the key blocks its selection lists, each
// once: entries that pad (-1), lie outside the keys or miss the dense range
// are skipped, so a bad list can never make a kernel read out of bounds
// (indexList tests each entry as it goes; a kernel that filters the list
// itself gives the schedule the tiles it `chose`).
//
// Values are of the position type the generator uses (index on CPUs, i32 on
// GPUs).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LOWERING_KEYTILESCHEDULE_H
#define ATTN_LOWERING_KEYTILESCHEDULE_H

#include "lowering/MaskModel.h"

#include "llvm/ADT/SmallVector.h"

#include <functional>

namespace mlir::attn {

class KeyTileSchedule {
public:
  /// The key tiles of `size` keys that queries at absolute positions
  /// [pLo, pHi] may see, keys at or beyond `kvEnd` masked. With
  /// `wholeTiles`, kernels compute whole tiles, so a tile reaching past the
  /// visible range is partial (needs the per-element test).
  static KeyTileSchedule dense(ImplicitLocOpBuilder &b, const MaskModel &masks,
                               Value pLo, Value pHi, Value kvEnd, int64_t size,
                               bool wholeTiles);

  /// The key blocks of `size` keys listed by `entry(t)`, t in [0, count)
  /// (block numbers of the position type), restricted to the dense range
  /// of [pLo, pHi]. Every visited tile is partial. Entry t is visited only
  /// where keep(t) holds: the caller makes the list a set (the CPU kernel
  /// marks the blocks its rows list in a bitmap and walks the bitmap).
  static KeyTileSchedule indexList(ImplicitLocOpBuilder &b, const MaskModel &masks,
                                   Value pLo, Value pHi, Value kvEnd, int64_t size,
                                   Value count, std::function<Value(Value)> entry,
                                   std::function<Value(Value)> keep);

  /// `count` tiles the caller has chosen, tile t starting at key
  /// `startOf(t)`; keys at or beyond `kvEnd` are never visible. Tile t is
  /// full where `full(t)` holds (decided per tile at run time, as
  /// FlexAttention's full blocks), else partial; all are partial without
  /// `full`. (The GPU kernel sorts its tile's list into shared memory,
  /// without duplicates or blocks outside the dense range, and walks it.)
  static KeyTileSchedule chosen(ImplicitLocOpBuilder &b, Value count,
                                std::function<Value(Value)> startOf, Value kvEnd,
                                std::function<Value(Value)> full = nullptr);

  /// A run of tiles [from, to) that are all partial (`masked`) or all full.
  struct Segment {
    Value from, to;
    bool masked;
  };

  /// Number of tiles visited.
  Value count() const { return tiles; }
  /// First key of tile t (t in [0, count)); for t = count, one past the
  /// last visited tile (prefetchers test t + 1 < count first).
  Value start(ImplicitLocOpBuilder &b, Value t) const;
  /// Keys at or beyond end() are never visible (a tile may extend past it).
  Value end() const { return hi; }
  /// The segments in visiting order; together they cover [0, count).
  ArrayRef<Segment> segments() const { return parts; }

  /// Emits the visit: for each segment an scf.for over its tiles carrying
  /// `init`; `body(t, masked, carried)` returns the next values.
  SmallVector<Value>
  visit(ImplicitLocOpBuilder &b, ValueRange init,
        function_ref<SmallVector<Value>(Value t, bool masked, ValueRange)> body)
      const;

private:
  /// Index lists: whether list entry t is visited (see indexList).
  Value listed(ImplicitLocOpBuilder &b, Value t) const;

  int64_t size = 0;
  Value lo, hi, tiles;
  SmallVector<Segment, 3> parts;
  std::function<Value(Value)> entry, keep; // set for index lists
  std::function<Value(Value)> startOf;     // set for chosen tiles
  std::function<Value(Value)> full;        // chosen tiles: full at run time
};

} // namespace mlir::attn

#endif // ATTN_LOWERING_KEYTILESCHEDULE_H
