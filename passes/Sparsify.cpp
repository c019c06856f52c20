//===- Sparsify.cpp - attn-sparsify ---------------------------------------===//
//
// Dense causal attention into block-sparse attention by policy (see
// Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSPARSIFY
#include "passes/Passes.h.inc"

namespace {
struct Sparsify : impl::AttnSparsifyBase<Sparsify> {
  using Base::Base;

  /// Why `op` is left dense, or "".
  std::string skipReason(AttentionOp op) {
    if (!op.getCausal() || op.getEffectiveAlignment() != Alignment::BottomRight)
      return "it is not causal attention aligned bottom-right";
    if (op.getEffectiveLayout() != Layout::BHSD)
      return "its layout is not bhsd";
    if (op.getMask() || op.getQueryOffsets() ||
        op.getBlockIndices() || op.getWindow() || op.getBranches() ||
        op.getCompressedKeys() || op.getQueryOffset())
      return "it has masks or operands a selection would have to honour";
    AttentionShape s = op.getShape();
    if (ShapedType::isDynamic(s.queryHeads) || ShapedType::isDynamic(s.kvHeads))
      return "its head counts are dynamic";
    return "";
  }

  void runOnOperation() override {
    if (policy != "moba" && policy != "quest" && policy != "infllm-v2") {
      getOperation()->emitError() << "attn-sparsify: unknown policy '" << policy
                                  << "' (use moba, quest or infllm-v2)";
      return signalPassFailure();
    }
    ::attn::rt::Selection s;
    s.block = block, s.topK = topK;
    if (policy == "infllm-v2") {
      s.method = ::attn::rt::ScoreMethod::SoftmaxProbMax;
      s.init = init;
      s.local = block > 0 ? window / block : 0;
      s.compression.block = compressBlock, s.compression.stride = compressStride;
      if (block < 1 || window % block != 0) {
        getOperation()->emitError() << "attn-sparsify: window " << window
                                    << " must be a multiple of block " << block;
        return signalPassFailure();
      }
    } else {
      s.method = policy == "moba" ? ::attn::rt::ScoreMethod::MeanKey
                                  : ::attn::rt::ScoreMethod::KeyBound;
      s.init = 0, s.local = 1, s.perQueryHead = true;
    }
    if (std::string e = s.validate(); !e.empty()) {
      getOperation()->emitError() << "attn-sparsify: " << e;
      return signalPassFailure();
    }
    if (reuse < 1) {
      getOperation()->emitError() << "attn-sparsify: reuse must be at least 1";
      return signalPassFailure();
    }
    SmallVector<AttentionOp> ops;
    getOperation()->walk([&](AttentionOp op) { ops.push_back(op); });
    int64_t n = 0;
    for (AttentionOp op : ops) {
      if (std::string why = skipReason(op); !why.empty()) {
        op.emitRemark() << "attn-sparsify: left dense: " << why;
        continue;
      }
      rewrite(op, s, n++ % reuse != 0);
    }
  }

  /// The most recent selection (DELTA / LessIsMore reuse) and the shapes it
  /// was computed for.
  Value lastSelection;
  Type lastQuery, lastKey;
  Value lastLengths;

  void rewrite(AttentionOp op, const ::attn::rt::Selection &s, bool reuseLast) {
    ImplicitLocOpBuilder b(op.getLoc(), op);
    AttentionShape shape = op.getShape();
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    int64_t hsel = s.perQueryHead ? shape.queryHeads : shape.kvHeads;
    auto idxType = RankedTensorType::get(
        {qType.getDimSize(0), hsel, qType.getDimSize(2), s.topK}, b.getI32Type());
    FloatAttr scale = b.getF64FloatAttr(op.getEffectiveScale());
    auto sparse = [&](OpBuilder &nb, Location loc) -> SmallVector<Value> {
      ImplicitLocOpBuilder r(loc, nb);
      DenseI64ArrayAttr compress =
          s.method == ::attn::rt::ScoreMethod::SoftmaxProbMax
              ? r.getDenseI64ArrayAttr({s.compression.block, s.compression.stride})
              : DenseI64ArrayAttr();
      // Reuse the previous selection when its shapes match and it is
      // visible here (same block, computed earlier; not inside a switch).
      Value indices;
      if (reuseLast && lastSelection && policy != "infllm-v2" &&
          lastQuery == op.getQuery().getType() && lastKey == op.getKey().getType() &&
          lastLengths == op.getKvLengths() &&
          lastSelection.getParentBlock() == op->getBlock())
        indices = lastSelection;
      if (!indices) {
        indices = SelectBlocksOp::create(r, idxType, Type(), op.getQuery(), op.getKey(),
                                         Value(), Value(), op.getKvLengths(),
                                         static_cast<ScoreMethod>(s.method), s.block,
                                         s.topK, s.init, s.local, s.perQueryHead,
                                         compress, Pool::Mean, scale)
                      .getIndices();
        lastSelection = indices;
        lastQuery = op.getQuery().getType(), lastKey = op.getKey().getType();
        lastLengths = op.getKvLengths();
      }
      Operation *clone = r.clone(*op.getOperation());
      auto attention = cast<AttentionOp>(clone);
      attention.getBlockIndicesMutable().assign(indices);
      attention.setBlockSizesAttr(r.getDenseI64ArrayAttr({1, s.block}));
      attention.setScaleAttr(scale);
      return SmallVector<Value>(attention->getResults());
    };
    SmallVector<Value> results;
    if (policy == "infllm-v2") {
      // The switch: dense below dense-len keys, sparse from there.
      auto choice = SwitchOp::create(b, op->getResultTypes(), op.getKey(),
                                     op.getKvLengths(), b.getI64IntegerAttr(denseLen));
      for (Region *region : {&choice.getDense(), &choice.getSparse()}) {
        Block *block = new Block();
        region->push_back(block);
        OpBuilder nb = OpBuilder::atBlockEnd(block);
        SmallVector<Value> values =
            region == &choice.getDense()
                ? SmallVector<Value>(nb.clone(*op.getOperation())->getResults())
                : sparse(nb, op.getLoc());
        YieldOp::create(nb, op.getLoc(), values);
      }
      results.assign(choice.getResults().begin(), choice.getResults().end());
    } else {
      results = sparse(b, b.getLoc());
    }
    op->replaceAllUsesWith(results);
    op->erase();
  }
};
} // namespace
} // namespace mlir::attn
