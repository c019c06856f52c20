//===- MaskModel.h - structured masks as loop bounds and predicates -------===//
//
// The one mask model every generator uses (CPU and GPU alike). Positions are
// absolute: query index i becomes p = i + off, where off is 0 for top-left
// alignment and L - Sq for bottom-right (L the valid key length of the batch
// element). Three questions are answered in IR:
//  - which keys can a block of queries see at all (loop bounds, so fully
//    masked key tiles are never visited),
//  - which key tiles need no per-element test (a contiguous range of them),
//  - is key j visible to position p (scalars or vectors alike).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LOWERING_MASKMODEL_H
#define ATTN_LOWERING_MASKMODEL_H

#include "runtime/AttentionConfig.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {

class MaskModel {
public:
  explicit MaskModel(const ::attn::rt::AttentionConfig &spec) : spec(spec) {}

  /// off for one batch element: its query offset (`batchOffset`, from the
  /// q_offsets operand, already of the position type), the static one,
  /// validKeys - seqQ when aligned bottom-right, else 0.
  Value queryOffset(ImplicitLocOpBuilder &b, Value seqQ, Value validKeys,
                    Value batchOffset) const;

  /// The position query `index` (a scalar or vector of the position type)
  /// is masked at: index + off, in compressed-key coordinates for
  /// compressed keys (monotone, so tile bounds map to tile bounds).
  Value position(ImplicitLocOpBuilder &b, Value index, Value off) const;

  /// Keys [lo, hi) that any query of positions [pLo, pHi] (absolute,
  /// inclusive) may see, with keys at or beyond `kvEnd` masked. Index values;
  /// hi <= lo means nothing is visible.
  std::pair<Value, Value> keyRange(ImplicitLocOpBuilder &b, Value pLo,
                                   Value pHi, Value kvEnd) const;

  /// Key tiles t of [lo + t * size, lo + (t + 1) * size) for t in [0, tiles):
  /// those in [first, last) need no per-element test for any position of
  /// [pLo, pHi]; the ones before and after do. With `wholeTiles`, a tile
  /// that reaches past `hi` is not full (kernels that always compute whole
  /// tiles must mask its tail). Index or integer values.
  std::pair<Value, Value> fullTiles(ImplicitLocOpBuilder &b, Value pLo,
                                    Value pHi, Value lo, Value hi,
                                    Value tiles, int64_t size,
                                    bool wholeTiles) const;

  /// i1 (or a vector of i1): key `key` is visible to absolute position `pos`
  /// under the structured masks. Both are i64 or vectors of i64 of one shape;
  /// valid lengths and explicit masks are not included.
  Value visible(ImplicitLocOpBuilder &b, Value pos, Value key) const;

private:
  const ::attn::rt::AttentionConfig &spec;
};

} // namespace mlir::attn

#endif // ATTN_LOWERING_MASKMODEL_H
