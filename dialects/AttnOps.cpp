//===- AttnOps.cpp - attn operation verifiers and helpers -----------------===//
#include "dialects/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

#define GET_OP_CLASSES
#include "dialects/AttnOps.cpp.inc"

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

bool compatible(int64_t a, int64_t b) { return a == kDyn || b == kDyn || a == b; }

std::string str(int64_t v) { return v == kDyn ? "?" : std::to_string(v); }

std::string str(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::interleave(shape, [&](int64_t d) { s += str(d); }, [&] { s += ", "; });
  return s + "]";
}

/// Optional per-batch valid key lengths: [B].
LogicalResult checkLengths(Operation *op, Value lengths, int64_t batch) {
  if (!lengths)
    return success();
  auto shape = cast<RankedTensorType>(lengths.getType()).getShape();
  if (shape.size() != 1 || !compatible(shape[0], batch))
    return op->emitOpError() << "'kv_lengths' must have shape [B] = [" << str(batch)
                             << "], got " << str(shape);
  return success();
}

/// Checks `actual` against `expected` dimension by dimension (dynamic sizes
/// match anything) and names the operand in the error.
LogicalResult checkShape(Operation *op, StringRef what, ArrayRef<int64_t> actual,
                         ArrayRef<int64_t> expected, StringRef why) {
  bool ok = actual.size() == expected.size() &&
            llvm::all_of(llvm::zip(actual, expected), [](auto p) {
              return compatible(std::get<0>(p), std::get<1>(p));
            });
  if (ok)
    return success();
  return op->emitOpError() << what << ": expected shape " << str(expected)
                           << " (" << why << "), got " << str(actual);
}

/// The [B, H, S, D] view of an operand in `layout`. `heads` is only used for
/// the packed layout.
SmallVector<int64_t> canonicalView(ArrayRef<int64_t> s, Layout layout,
                                   int64_t heads) {
  switch (layout) {
  case Layout::BHSD:
    return {s[0], s[1], s[2], s[3]};
  case Layout::BSHD:
    return {s[0], s[2], s[1], s[3]};
  case Layout::Packed: {
    int64_t d = (s[2] == kDyn) ? kDyn : s[2] / heads;
    return {s[0], heads, s[1], d};
  }
  }
  llvm_unreachable("unknown layout");
}

/// The shape of an operand with canonical sizes [b, h, s, d] in `layout`.
SmallVector<int64_t> layoutShape(int64_t b, int64_t h, int64_t s, int64_t d,
                                 Layout layout) {
  switch (layout) {
  case Layout::BHSD:
    return {b, h, s, d};
  case Layout::BSHD:
    return {b, s, h, d};
  case Layout::Packed:
    return {b, s, (h == kDyn || d == kDyn) ? kDyn : h * d};
  }
  llvm_unreachable("unknown layout");
}

StringRef layoutName(Layout layout) { return stringifyLayout(layout); }
} // namespace

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

AttentionShape AttentionOp::getShape() {
  Layout layout = getEffectiveLayout();
  int64_t hq = kDyn, hkv = kDyn;
  if (layout == Layout::Packed && getNumHeads() && getNumHeads()->size() == 2) {
    hq = (*getNumHeads())[0];
    hkv = (*getNumHeads())[1];
  }
  auto q = canonicalView(getQuery().getType().getShape(), layout, hq);
  auto k = canonicalView(getKey().getType().getShape(), layout, hkv);
  auto v = canonicalView(getValue().getType().getShape(), layout, hkv);
  auto pick = [](int64_t a, int64_t b) { return a != kDyn ? a : b; };
  return AttentionShape{pick(q[0], pick(k[0], v[0])), q[1], pick(k[1], v[1]),
                        q[2], pick(k[2], v[2]), pick(q[3], k[3]), v[3]};
}

::attn::rt::AttentionSemantics AttentionOp::getSemantics() {
  ::attn::rt::AttentionSemantics s;
  s.scale = getEffectiveScale();
  s.softcap = getEffectiveSoftcap();
  s.causal = getCausal();
  if (auto w = getWindow(); w && w->size() == 2)
    s.window = std::make_pair((*w)[0], (*w)[1]);
  if (auto b = getBranches(); b && b->size() == 2)
    s.branches = std::make_pair((*b)[0], (*b)[1]);
  s.bottomRight = getEffectiveAlignment() == Alignment::BottomRight;
  if (auto offset = getQueryOffset()) // I64Attr reads as unsigned
    s.queryOffset = static_cast<int64_t>(*offset);
  if (auto sizes = getBlockSizes(); sizes && sizes->size() == 2)
    s.blocks = std::make_pair((*sizes)[0], (*sizes)[1]);
  if (auto c = getCompressedKeys(); c && c->size() == 2)
    s.compressedKeys = std::make_pair((*c)[0], (*c)[1]);
  if (auto w = getWindowBranch(); w && w->size() == 2)
    s.windowBranch = std::make_pair((*w)[0], (*w)[1]);
  s.normalize();
  return s;
}

std::optional<::attn::rt::BlockHeads> AttentionOp::getBlockHeads() {
  Value blocks = getBlockIndices();
  if (!blocks)
    return std::nullopt;
  AttentionShape s = getShape();
  return ::attn::rt::blockHeadsFor(cast<ShapedType>(blocks.getType()).getDimSize(1),
                                   s.queryHeads, s.kvHeads);
}

double AttentionOp::getEffectiveScale() {
  if (getScale())
    return getScale()->convertToDouble();
  int64_t d = getShape().headDim;
  return d > 0 ? 1.0 / std::sqrt(static_cast<double>(d)) : 1.0;
}

LogicalResult AttentionOp::verify() {
  Operation *op = getOperation();
  Layout layout = getEffectiveLayout();
  size_t rank = layout == Layout::Packed ? 3 : 4;
  StringRef rankWhy = layout == Layout::Packed ? "[B, S, H*D]"
                      : layout == Layout::BSHD ? "[B, S, H, D]"
                                               : "[B, H, S, D]";
  for (auto [name, value] : {std::pair<StringRef, Value>{"query", getQuery()},
                             {"key", getKey()},
                             {"value", getValue()},
                             {"result 'output'", getOutput()}}) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getRank() != static_cast<int64_t>(rank))
      return emitOpError() << "'" << name << "' must have rank " << rank
                           << " " << rankWhy << " for layout "
                           << layoutName(layout) << ", got rank "
                           << type.getRank() << " " << str(type.getShape());
  }

  // Heads of the packed layout.
  if (layout == Layout::Packed) {
    if (!getNumHeads())
      return emitOpError() << "layout packed needs num_heads = array<i64: Hq, "
                              "Hkv> to split [B, S, H*D]";
    if (getNumHeads()->size() != 2 || (*getNumHeads())[0] <= 0 ||
        (*getNumHeads())[1] <= 0)
      return emitOpError() << "num_heads must be two positive sizes [Hq, Hkv], "
                              "got "
                           << str(*getNumHeads());
    int64_t hq = (*getNumHeads())[0], hkv = (*getNumHeads())[1];
    for (auto [name, value, heads] :
         {std::tuple<StringRef, Value, int64_t>{"query", getQuery(), hq},
          {"key", getKey(), hkv},
          {"value", getValue(), hkv}}) {
      int64_t last = cast<RankedTensorType>(value.getType()).getShape()[2];
      if (last != kDyn && last % heads != 0)
        return emitOpError() << "'" << name << "' last dimension " << last
                             << " is not a multiple of its " << heads
                             << " heads (num_heads)";
    }
  } else if (getNumHeads()) {
    return emitOpError() << "num_heads is only meaningful with layout packed, "
                            "got layout "
                         << layoutName(layout);
  }

  // Element types.
  Type elt = getQuery().getType().getElementType();
  if (getKey().getType().getElementType() != elt ||
      getValue().getType().getElementType() != elt)
    return emitOpError() << "'query', 'key' and 'value' must share one element "
                            "type, got "
                         << elt << ", " << getKey().getType().getElementType()
                         << ", " << getValue().getType().getElementType();
  if (getOutput().getType().getElementType() != elt)
    return emitOpError() << "result 'output' must have the element type of "
                            "'value' ("
                         << elt << "), got "
                         << getOutput().getType().getElementType();

  // Shapes in the canonical view.
  int64_t hqAttr = kDyn, hkvAttr = kDyn;
  if (layout == Layout::Packed) {
    hqAttr = (*getNumHeads())[0];
    hkvAttr = (*getNumHeads())[1];
  }
  auto q = canonicalView(getQuery().getType().getShape(), layout, hqAttr);
  auto k = canonicalView(getKey().getType().getShape(), layout, hkvAttr);
  auto v = canonicalView(getValue().getType().getShape(), layout, hkvAttr);
  if (!compatible(k[0], q[0]))
    return emitOpError() << "'key' batch size " << str(k[0])
                         << " differs from the batch size " << str(q[0])
                         << " of 'query'";
  if (!compatible(v[0], q[0]))
    return emitOpError() << "'value' batch size " << str(v[0])
                         << " differs from the batch size " << str(q[0])
                         << " of 'query'";
  if (k[1] == 0 || q[1] == 0)
    return emitOpError() << "head counts must be positive, got " << str(q[1])
                         << " query heads and " << str(k[1]) << " key heads";
  if (q[1] != kDyn && k[1] != kDyn && q[1] % k[1] != 0)
    return emitOpError() << "query heads (" << q[1]
                         << ") must be a multiple of key/value heads (" << k[1]
                         << ") for grouped-query attention";
  if (!compatible(v[1], k[1]))
    return emitOpError() << "'value' has " << str(v[1])
                         << " heads but 'key' has " << str(k[1]);
  if (!compatible(v[2], k[2]))
    return emitOpError() << "'value' sequence length " << str(v[2])
                         << " differs from the sequence length " << str(k[2])
                         << " of 'key'";
  if (!compatible(k[3], q[3]))
    return emitOpError() << "'key' head dim " << str(k[3])
                         << " differs from the head dim " << str(q[3])
                         << " of 'query'";
  if (q[3] == 0 || v[3] == 0)
    return emitOpError() << "head dims must be positive, got Dqk = "
                         << str(q[3]) << ", Dv = " << str(v[3]);
  int64_t batch = q[0] != kDyn ? q[0] : (k[0] != kDyn ? k[0] : v[0]);
  int64_t kvSeq = k[2] != kDyn ? k[2] : v[2];
  if (failed(checkShape(op, "result 'output'",
                        getOutput().getType().getShape(),
                        layoutShape(batch, q[1], q[2], v[3], layout),
                        "the query's layout with value head dim Dv")))
    return failure();
  if (getLse() &&
      failed(checkShape(op, "result 'lse'",
                        cast<RankedTensorType>(getLse().getType()).getShape(),
                        {batch, q[1], q[2]}, "[B, Hq, Sq]")))
    return failure();

  // Explicit mask: rank 1..4 (ONNX allows a key-only mask), right-aligned broadcast to [B, Hq, Sq, Skv].
  if (Value mask = getMask()) {
    auto shape = cast<RankedTensorType>(mask.getType()).getShape();
    if (shape.empty() || shape.size() > 4)
      return emitOpError() << "'mask' must have rank 1 to 4 (broadcast to [B, "
                              "Hq, Sq, Skv]), got rank "
                           << shape.size() << " " << str(shape);
    SmallVector<int64_t> full = {batch, q[1], q[2], kvSeq};
    ArrayRef<int64_t> target = ArrayRef(full).take_back(shape.size());
    static const char *names[] = {"batch", "query heads", "query length"};
    for (size_t i = 0; i + 1 < shape.size(); ++i) {
      int64_t want = target[i];
      if (shape[i] != 1 && !compatible(shape[i], want))
        return emitOpError()
               << "'mask' " << str(shape) << " does not broadcast to "
               << str(full) << ": its "
               << names[4 - shape.size() + i] << " dimension is "
               << str(shape[i]) << ", expected 1 or " << str(want);
    }
    int64_t last = shape.back();
    if (last != kDyn && kvSeq != kDyn && last > kvSeq)
      return emitOpError() << "'mask' covers " << last
                           << " keys but 'key' has only " << kvSeq;
  }

  if (failed(checkLengths(*this, getKvLengths(), batch)))
    return failure();

  // Block-sparse selection [B, Hsel, ceil(Sq / q_block), K].
  if (auto sizes = getBlockSizes(); sizes && sizes->size() != 2)
    return emitOpError() << "block_sizes must be [q_block, kv_block], got "
                         << sizes->size() << " values";
  if (bool(getBlockIndices()) != bool(getBlockSizes()))
    return emitOpError() << (getBlockIndices()
                                 ? "'blocks' needs block_sizes = array<i64: "
                                   "q_block, kv_block>"
                                 : "block_sizes needs a 'blocks' operand");
  if (Value blocks = getBlockIndices()) {
    auto shape = cast<RankedTensorType>(blocks.getType()).getShape();
    int64_t qBlock = (*getBlockSizes())[0];
    int64_t qBlocks = q[2] == kDyn || qBlock < 1 ? kDyn : (q[2] + qBlock - 1) / qBlock;
    if (shape.size() != 4)
      return emitOpError() << "'blocks' must have rank 4 [B, Hsel, ceil(Sq / "
                              "q_block), K], got "
                           << str(shape);
    if (!compatible(shape[0], batch) || !compatible(shape[2], qBlocks))
      return emitOpError() << "'blocks' " << str(shape) << " must be [" << str(batch)
                           << ", Hsel, " << str(qBlocks)
                           << " (ceil(Sq / q_block)), K]";
    if (shape[1] == kDyn || q[1] == kDyn || k[1] == kDyn)
      return emitOpError() << "'blocks' needs static head counts to tell whose "
                              "lists it holds, got Hsel = "
                           << str(shape[1]) << ", Hq = " << str(q[1])
                           << ", Hkv = " << str(k[1]);
    if (!::attn::rt::blockHeadsFor(shape[1], q[1], k[1]))
      return emitOpError() << "'blocks' has " << shape[1]
                           << " heads; expected Hkv = " << k[1] << ", Hq = " << q[1]
                           << " or 1 (lists per key head, query head or shared)";
  }

  // Attributes: the checks the reference and the kernels share.
  if (auto window = getWindow(); window && window->size() != 2)
    return emitOpError() << "window must be [left, right], got "
                         << window->size() << " values";
  if (auto c = getCompressedKeys(); c && c->size() != 2)
    return emitOpError() << "compressed_keys must be [l, d], got " << c->size()
                         << " values";
  if (auto branches = getBranches(); branches && branches->size() != 2)
    return emitOpError() << "branches must be [P, N], got "
                         << branches->size() << " values";
  if (auto w = getWindowBranch(); w && w->size() != 2)
    return emitOpError() << "window_branch must be [left, right], got " << w->size()
                         << " values";
  if (bool(getWindowBranch()) != bool(getWindowOutput()))
    return emitOpError() << (getWindowBranch()
                                 ? "window_branch needs a 'window' result"
                                 : "a 'window' result needs window_branch = "
                                   "array<i64: left, right>");
  if (Value w = getWindowOutput(); w && w.getType() != getOutput().getType())
    return emitOpError() << "result 'window' has type " << w.getType()
                         << ", expected that of 'output', " << getOutput().getType();
  if (std::string e = getSemantics().validate(); !e.empty())
    return emitOpError() << e;

  if (getCompressedKeys() && getEffectiveAlignment() == Alignment::BottomRight)
    return emitOpError() << "compressed_keys place queries at original positions: "
                            "give query_offset or query_offsets, not alignment "
                            "bottom_right (which would count compressed keys)";
  // Query positions: one rule (alignment, a static or a per-batch offset).
  int rules = bool(getAlignment()) + bool(getQueryOffset()) +
              bool(getQueryOffsets());
  if (rules > 1)
    return emitOpError() << "takes one of 'alignment', 'query_offset' and "
                            "'query_offsets' (they all place the queries)";
  if (auto offset = getSemantics().queryOffset;
      offset && std::abs(*offset) > ::attn::rt::kMaxWindowSide)
    return emitOpError() << "query_offset " << *offset
                         << " is beyond +-2^62 (positions must fit i64 sums)";
  if (Value offsets = getQueryOffsets()) {
    auto shape = cast<RankedTensorType>(offsets.getType()).getShape();
    if (shape.size() != 1 || !compatible(shape[0], batch))
      return emitOpError() << "'query_offsets' must have shape [B] = ["
                           << str(batch) << "], got " << str(shape);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// MergeOp
//===----------------------------------------------------------------------===//

LogicalResult MergeOp::verify() {
  if (getPartials().empty())
    return emitOpError() << "needs at least one partial result";
  if (getPartials().size() != getPartialLses().size())
    return emitOpError() << "has " << getPartials().size()
                         << " partial results but " << getPartialLses().size()
                         << " partial log-sum-exps";
  auto outShape = getOutput().getType().getShape();
  if (outShape.size() != 4)
    return emitOpError() << "result 'output' must be [B, H, S, D], got "
                         << str(outShape);
  SmallVector<int64_t> lseShape(outShape.drop_back());
  for (auto [i, partial] : llvm::enumerate(getPartials())) {
    auto shape = cast<RankedTensorType>(partial.getType()).getShape();
    if (failed(checkShape(*this, "partial #" + std::to_string(i), shape,
                          outShape, "that of the output")))
      return failure();
  }
  for (auto [i, lse] : llvm::enumerate(getPartialLses())) {
    auto shape = cast<RankedTensorType>(lse.getType()).getShape();
    if (failed(checkShape(*this, "partial lse #" + std::to_string(i), shape,
                          lseShape, "[B, H, S] of the output")))
      return failure();
  }
  return checkShape(*this, "result 'lse'", getLse().getType().getShape(),
                    lseShape, "[B, H, S] of the output");
}

LogicalResult MergeOp::fold(FoldAdaptor, SmallVectorImpl<OpFoldResult> &results) {
  // One partial is already the result when no cast is needed.
  if (getPartials().size() != 1 ||
      getPartials()[0].getType() != getOutput().getType() ||
      getPartialLses()[0].getType() != getLse().getType())
    return failure();
  results.push_back(getPartials()[0]);
  results.push_back(getPartialLses()[0]);
  return success();
}

//===----------------------------------------------------------------------===//
// Sparse and hierarchical attention
//===----------------------------------------------------------------------===//

namespace {
ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// [B, H, S, D] operands: rank 4 each.
LogicalResult checkRank4(Operation *op, ArrayRef<std::pair<StringRef, Value>> operands) {
  for (auto [name, value] : operands)
    if (shapeOf(value).size() != 4)
      return op->emitOpError() << "'" << name << "' must be [B, H, S, D], got "
                               << str(shapeOf(value));
  return success();
}

/// q [B, Hq, Sq, D] and k [B, Hkv, Skv, D] of a grouped-query attention.
LogicalResult checkQueryKey(Operation *op, Value query, Value key) {
  auto q = shapeOf(query), k = shapeOf(key);
  if (!compatible(q[0], k[0]) || !compatible(q[3], k[3]))
    return op->emitOpError() << "'query' " << str(q) << " and 'key' " << str(k)
                             << " must share batch and head dim";
  if (q[1] != kDyn && k[1] != kDyn && (k[1] < 1 || q[1] % k[1] != 0))
    return op->emitOpError() << "query heads (" << q[1]
                             << ") must be a multiple of key heads (" << k[1] << ")";
  return success();
}

int64_t compressedTokens(int64_t keys, const ::attn::rt::Compression &c) {
  return keys == kDyn ? kDyn : c.tokens(keys);
}
} // namespace

::attn::rt::Compression CompressOp::getCompression() {
  ::attn::rt::Compression c;
  c.block = getBlock();
  c.stride = getStride();
  c.pool = static_cast<::attn::rt::Pool>(getPool());
  return c;
}

LogicalResult CompressOp::verify() {
  ::attn::rt::Compression c = getCompression();
  if (c.pool == ::attn::rt::Pool::Weighted)
    c.weights.assign(size_t(std::max<int64_t>(c.block, 0)), 1.0);
  if (std::string e = c.validate(); !e.empty())
    return emitOpError() << e;
  if (failed(checkRank4(*this, {{"input", getInput()}})))
    return failure();
  auto in = shapeOf(getInput());
  if (failed(checkShape(*this, "result 'output'", shapeOf(getOutput()),
                        {in[0], in[1], compressedTokens(in[2], c), in[3]},
                        "[B, H, (S - l) / d + 1 or 0, D]")))
    return failure();
  if (getOutput().getType().getElementType() != getInput().getType().getElementType())
    return emitOpError() << "result 'output' must have the input's element type";
  if (bool(getWeights()) != (c.pool == ::attn::rt::Pool::Weighted))
    return emitOpError() << "'weights' [l] go with pool weighted and only with it";
  if (Value w = getWeights();
      w && failed(checkShape(*this, "'weights'", shapeOf(w), {c.block}, "[l]")))
    return failure();
  return checkLengths(*this, getKvLengths(), in[0]);
}

::attn::rt::Selection SelectBlocksOp::getSelection() {
  ::attn::rt::Selection s;
  s.method = static_cast<::attn::rt::ScoreMethod>(getMethod());
  s.block = getBlock();
  s.topK = getTopK();
  s.init = getInit();
  s.local = getLocal();
  s.perQueryHead = getPerQueryHead();
  if (auto c = getCompress(); c && c->size() == 2) {
    s.compression.block = (*c)[0];
    s.compression.stride = (*c)[1];
  }
  s.compression.pool = static_cast<::attn::rt::Pool>(getPool());
  if (auto scale = getScale())
    s.scale = scale->convertToDouble();
  return s;
}

LogicalResult SelectBlocksOp::verify() {
  ::attn::rt::Selection s = getSelection();
  bool probs = s.method == ::attn::rt::ScoreMethod::SoftmaxProb ||
               s.method == ::attn::rt::ScoreMethod::SoftmaxProbMax;
  if (probs != bool(getCompress()) || (getCompress() && getCompress()->size() != 2))
    return emitOpError() << "softmax_prob and softmax_prob_max score through "
                            "compressed keys: they, and only they, need "
                            "compress = array<i64: l, d>";
  if (std::string e = s.validate(); !e.empty())
    return emitOpError() << e;
  if (failed(checkRank4(*this, {{"query", getQuery()}, {"key", getKey()}})) ||
      failed(checkQueryKey(*this, getQuery(), getKey())))
    return failure();
  if (getPool() != Pool::Mean && !probs)
    return emitOpError() << "'pool' pools the compressed keys of softmax_prob "
                            "and softmax_prob_max only";
  if (getPool() == Pool::Weighted)
    return emitOpError() << "pools keys by mean or max (weighted compression "
                            "takes weights: score through attn.compress by hand)";
  auto q = shapeOf(getQuery()), k = shapeOf(getKey());
  if (failed(checkLengths(*this, getKvLengths(), q[0])) ||
      failed(checkShape(*this, "result 'indices'", shapeOf(getIndices()),
                        {q[0], s.perQueryHead ? q[1] : k[1], q[2], s.topK},
                        s.perQueryHead ? "[B, Hq, Sq, top_k]" : "[B, Hkv, Sq, top_k]")))
    return failure();
  // Compressed keys and values hold Sc tokens.
  int64_t tokens = k[2] == kDyn ? kDyn : s.compression.tokens(k[2]);
  if (Value kc = getCompressedKeys()) {
    if (!probs)
      return emitOpError() << "'compressed' needs softmax_prob or softmax_prob_max "
                              "(the other methods score from block summaries)";
    if (failed(checkRank4(*this, {{"compressed", kc}})))
      return failure();
    if (failed(checkShape(*this, "'compressed'", shapeOf(kc), {q[0], k[1], tokens, k[3]},
                          "[B, Hkv, Sc, D], Sc the compressed key count")))
      return failure();
  }
  if (bool(getValues()) != bool(getOutput()))
    return emitOpError() << "'values' and result 'output' go together";
  Value values = getValues();
  if (!values)
    return success();
  if (!probs)
    return emitOpError() << "'values' needs softmax_prob or softmax_prob_max (the "
                            "output is the attention over the compressed tokens)";
  if (failed(checkRank4(*this, {{"values", values}})))
    return failure();
  auto vc = shapeOf(values);
  if (failed(checkShape(*this, "'values'", vc, {q[0], k[1], tokens, vc[3]},
                        "[B, Hkv, Sc, Dv], Sc the compressed key count")) ||
      failed(checkShape(*this, "result 'output'", shapeOf(getOutput()),
                        {q[0], q[1], q[2], vc[3]}, "[B, Hq, Sq, Dv]")))
    return failure();
  if (getOutput().getType().getElementType() != getQuery().getType().getElementType())
    return emitOpError() << "result 'output' must have the query's element type";
  return success();
}

::attn::rt::NsaParams NsaOp::getParams() {
  ::attn::rt::NsaParams p;
  p.compression.block = getCompressBlock();
  p.compression.stride = getCompressStride();
  p.compression.pool = static_cast<::attn::rt::Pool>(getPool());
  p.selection.block = getSelectBlock();
  p.selection.topK = getTopK();
  p.selection.init = getInitBlocks();
  p.selection.local = getLocalBlocks();
  p.selection.compression = p.compression;
  p.window = getWindow();
  if (auto scale = getScale())
    p.scale = p.selection.scale = scale->convertToDouble();
  return p;
}

LogicalResult NsaOp::verify() {
  ::attn::rt::NsaParams p = getParams();
  if (p.compression.pool == ::attn::rt::Pool::Weighted)
    return emitOpError() << "pools keys by mean or max (weighted compression "
                            "takes weights: decompose it by hand)";
  if (std::string e = p.selection.validate(); !e.empty())
    return emitOpError() << e;
  if (p.window < 1)
    return emitOpError() << "window must hold at least the query's own key, got "
                         << p.window;
  if (failed(checkRank4(*this, {{"query", getQuery()},
                                {"key", getKey()},
                                {"value", getValue()},
                                {"gates", getGates()}})) ||
      failed(checkQueryKey(*this, getQuery(), getKey())))
    return failure();
  auto q = shapeOf(getQuery()), k = shapeOf(getKey()), v = shapeOf(getValue());
  if (failed(checkShape(*this, "'value'", v, {k[0], k[1], k[2], v[3]},
                        "[B, Hkv, Skv, Dv] like 'key'")) ||
      failed(checkShape(*this, "'gates'", shapeOf(getGates()), {q[0], q[1], q[2], 3},
                        "[B, Hq, Sq, 3]: compressed, selected, window")) ||
      failed(checkShape(*this, "result 'output'", shapeOf(getOutput()),
                        {q[0], q[1], q[2], v[3]}, "[B, Hq, Sq, Dv]")) ||
      failed(checkShape(*this, "result 'indices'", shapeOf(getIndices()),
                        {q[0], k[1], q[2], p.selection.topK}, "[B, Hkv, Sq, top_k]")) ||
      failed(checkLengths(*this, getKvLengths(), q[0])))
    return failure();
  for (Value x : {getKey(), getValue(), getGates(), getOutput()})
    if (cast<RankedTensorType>(x.getType()).getElementType() !=
        getQuery().getType().getElementType())
      return emitOpError() << "query, key, value, gates and output must share "
                              "one element type";
  if (bool(getCompressedKeys()) != bool(getCompressedValues()))
    return emitOpError() << "'compressed' takes the compressed keys and values together";
  if (Value kc = getCompressedKeys()) {
    Value vc = getCompressedValues();
    if (failed(checkRank4(*this, {{"compressed keys", kc}, {"compressed values", vc}})))
      return failure();
    int64_t tokens = k[2] == kDyn ? kDyn : p.compression.tokens(k[2]);
    if (failed(checkShape(*this, "compressed keys", shapeOf(kc), {k[0], k[1], tokens, k[3]},
                          "[B, Hkv, Sc, D], Sc the compressed key count")) ||
        failed(checkShape(*this, "compressed values", shapeOf(vc),
                          {k[0], k[1], tokens, v[3]}, "[B, Hkv, Sc, Dv]")))
      return failure();
    for (Value x : {kc, vc})
      if (cast<RankedTensorType>(x.getType()).getElementType() !=
          getQuery().getType().getElementType())
        return emitOpError() << "compressed keys and values must have the query's "
                                "element type";
  }
  return success();
}

::attn::rt::Selection MobaOp::getSelection() {
  ::attn::rt::Selection s;
  s.method = ::attn::rt::ScoreMethod::MeanKey;
  s.block = getBlock();
  s.topK = getTopK();
  s.init = 0;
  s.local = 1;
  s.perQueryHead = true;
  return s;
}

LogicalResult MobaOp::verify() {
  if (std::string e = getSelection().validate(); !e.empty())
    return emitOpError() << e;
  if (failed(checkRank4(*this, {{"query", getQuery()}, {"key", getKey()}, {"value", getValue()}})) ||
      failed(checkQueryKey(*this, getQuery(), getKey())))
    return failure();
  auto q = shapeOf(getQuery()), k = shapeOf(getKey()), v = shapeOf(getValue());
  if (failed(checkShape(*this, "'value'", v, {k[0], k[1], k[2], v[3]},
                        "[B, Hkv, Skv, Dv] like 'key'")) ||
      failed(checkShape(*this, "result 'output'", shapeOf(getOutput()),
                        {q[0], q[1], q[2], v[3]}, "[B, Hq, Sq, Dv]")) ||
      failed(checkShape(*this, "result 'indices'", shapeOf(getIndices()),
                        {q[0], q[1], q[2], int64_t(getTopK())}, "[B, Hq, Sq, top_k]")) ||
      failed(checkLengths(*this, getKvLengths(), q[0])))
    return failure();
  for (Value x : {getKey(), getValue(), getOutput()})
    if (cast<RankedTensorType>(x.getType()).getElementType() !=
        getQuery().getType().getElementType())
      return emitOpError() << "query, key, value and output must share one element type";
  return success();
}

LogicalResult SwitchOp::verify() {
  if (shapeOf(getKey()).size() != 4)
    return emitOpError() << "'key' must be [B, H, S, D], got " << str(shapeOf(getKey()));
  if (getDenseLen() < 0)
    return emitOpError() << "dense_len must be >= 0, got " << getDenseLen();
  int64_t batch = shapeOf(getKey())[0];
  if (failed(checkLengths(*this, getKvLengths(), batch)))
    return failure();
  // A per-element choice takes each result's rows [b] from one side.
  if (getKvLengths())
    for (auto [n, type] : llvm::enumerate(getResultTypes())) {
      auto t = dyn_cast<RankedTensorType>(type);
      if (!t || t.getRank() < 1 || !compatible(t.getShape()[0], batch))
        return emitOpError() << "with 'kv_lengths' the side is chosen per batch "
                                "element, so result #"
                             << n << " must be a tensor [B, ...] with B = " << str(batch)
                             << ", got " << type;
    }
  for (auto [name, region] : {std::pair<StringRef, Region *>{"dense", &getDense()},
                              {"sparse", &getSparse()}}) {
    auto yield = dyn_cast<YieldOp>(region->front().getTerminator());
    if (!yield)
      return emitOpError() << "the " << name << " region must end in attn.yield";
    if (yield.getValues().getTypes() != getResultTypes())
      return emitOpError() << "the " << name << " region yields "
                           << yield.getValues().size()
                           << " values whose types differ from the results";
  }
  return success();
}
