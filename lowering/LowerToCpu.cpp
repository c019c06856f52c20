//===- LowerToCpu.cpp - attn-lower-to-cpu ---------------------------------===//
#include "lowering/CpuKernel.h"
#include "lowering/SparseCpu.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

#define DEBUG_TYPE "attn-lower-to-cpu"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERTOCPU
#include "lowering/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Strided views in the canonical [B, H, S, D] order of identity-layout
/// buffers, so one kernel serves every layout.
struct ViewBuilder {
  ImplicitLocOpBuilder &b;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value dim(Value buffer, int64_t i) {
    return memref::DimOp::create(b, buffer, i);
  }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }

  Value toBuffer(Value tensor, bool readOnly) { return mlir::attn::toBuffer(b, tensor, readOnly); }

  Value reinterpret(Value buffer, MemRefType to, ArrayRef<Value> sizes,
                    ArrayRef<Value> strides) {
    SmallVector<OpFoldResult> s(sizes), st(strides);
    // Sizes and strides that the kernel type fixes must be given statically.
    auto [staticStrides, offset] = to.getStridesAndOffset();
    for (int64_t i = 0; i < to.getRank(); ++i) {
      if (!ShapedType::isDynamic(to.getShape()[i]))
        s[i] = b.getIndexAttr(to.getShape()[i]);
      if (!ShapedType::isDynamic(staticStrides[i]))
        st[i] = b.getIndexAttr(staticStrides[i]);
    }
    return memref::ReinterpretCastOp::create(b, to, buffer,
                                             OpFoldResult(b.getIndexAttr(0)), s, st);
  }

  /// q/k/v/out in `layout` as [B, H, S, D] (`heads` for the packed layout).
  Value canonical(Value buffer, Layout layout, int64_t heads, MemRefType to) {
    if (layout == Layout::BHSD)
      return memref::CastOp::create(b, to, buffer);
    // [B, S, H, D] and [B, S, H*D] share strides (S*H*D, D, H*D, 1).
    Value batch = dim(buffer, 0), seq = dim(buffer, 1);
    Value h, d, hd;
    if (layout == Layout::BSHD) {
      h = dim(buffer, 2);
      d = dim(buffer, 3);
      hd = mul(h, d);
    } else {
      h = idx(heads);
      hd = dim(buffer, 2);
      d = arith::DivUIOp::create(b, hd, h);
    }
    return reinterpret(buffer, to, {batch, h, seq, d},
                       {mul(seq, hd), d, hd, idx(1)});
  }

  /// A rank-2..4 mask broadcast (stride 0) to [B, Hq, Sq, M].
  Value broadcastMask(Value buffer, ArrayRef<Value> target, MemRefType to) {
    int64_t rank = cast<MemRefType>(buffer.getType()).getRank();
    SmallVector<Value> sizes(target), strides(4, idx(0));
    Value stride = idx(1);
    for (int64_t i = rank - 1; i >= 0; --i) {
      int64_t axis = 4 - rank + i;
      Value size = dim(buffer, i);
      if (axis == 3) {
        sizes[3] = size;
        strides[3] = stride;
      } else {
        Value one = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, size, idx(1));
        strides[axis] = arith::SelectOp::create(b, one, idx(0), stride);
      }
      stride = mul(stride, size);
    }
    return reinterpret(buffer, to, sizes, strides);
  }
};

LogicalResult lowerAttention(AttentionOp op, ModuleOp module) {
  if (auto plan = op.getTilePlan(); plan && plan->getTarget() != Target::CPU)
    return op.emitOpError() << "attn-lower-to-cpu needs a CPU tile plan, got "
                            << stringifyTarget(plan->getTarget());
  FailureOr<KernelSpec> spec = KernelSpec::get(op);
  if (failed(spec))
    return failure();
  func::FuncOp kernel = getOrCreateCpuKernel(module, *spec);
  TypeRange argTypes = kernel.getFunctionType().getInputs();

  ImplicitLocOpBuilder b(op.getLoc(), op);
  ViewBuilder views{b};
  Layout layout = op.getEffectiveLayout();
  AttentionShape shape = op.getShape();
  Value query = views.toBuffer(op.getQuery(), true);
  // [B, Hq, Sq] of the query in the canonical order.
  int64_t seqDim = layout == Layout::BHSD ? 2 : 1;
  Value batch = views.dim(query, 0), querySeq = views.dim(query, seqDim);
  Value queryHeads = views.idx(shape.queryHeads);

  // Results: fresh buffers, handed back as tensors.
  auto outType = op.getOutput().getType();
  auto allocOutput = [&]() -> Value {
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < outType.getRank(); ++i)
      if (outType.isDynamicDim(i))
        sizes.push_back(views.dim(query, i));
    return memref::AllocOp::create(
        b, MemRefType::get(outType.getShape(), outType.getElementType()), sizes,
        b.getI64IntegerAttr(64));
  };
  auto allocLse = [&]() -> Value {
    auto lseType = cast<RankedTensorType>(op.getLse().getType());
    SmallVector<Value> sizes;
    Value full[3] = {batch, queryHeads, querySeq};
    for (int64_t i = 0; i < 3; ++i)
      if (lseType.isDynamicDim(i))
        sizes.push_back(full[i]);
    return memref::AllocOp::create(
        b, MemRefType::get(lseType.getShape(), b.getF32Type()), sizes,
        b.getI64IntegerAttr(64));
  };
  Value out, lse, outWindow;

  // One argument per kernel operand, in the ABI's order.
  SmallVector<Value> args;
  for (auto [operand, type] :
       llvm::zip(::attn::rt::kernelOperands(*spec), argTypes)) {
    auto to = cast<MemRefType>(type);
    StringRef name = operand.name;
    Value arg;
    if (name == "q")
      arg = views.canonical(query, layout, shape.queryHeads, to);
    else if (name == "k" || name == "v")
      arg = views.canonical(views.toBuffer(name == "k" ? op.getKey() : op.getValue(), true),
                            layout, shape.kvHeads, to);
    else if (name == "mask")
      arg = views.broadcastMask(views.toBuffer(op.getMask(), true),
                                {batch, queryHeads, querySeq, Value()}, to);
    else if (name == "kv_lengths" || name == "q_offsets")
      // A static [B] becomes the kernel's dynamic one.
      arg = memref::CastOp::create(
          b, to,
          views.toBuffer(name == "kv_lengths" ? op.getKvLengths() : op.getQueryOffsets(),
                         true));
    else if (name == "block_idx")
      arg = memref::CastOp::create(b, to, views.toBuffer(op.getBlockIndices(), true));
    else if (name == "out")
      arg = views.canonical(out = allocOutput(), layout, shape.queryHeads, to);
    else if (name == "out_window")
      arg = views.canonical(outWindow = allocOutput(), layout, shape.queryHeads, to);
    else
      arg = memref::CastOp::create(b, to, lse = allocLse());
    args.push_back(arg);
  }
  func::CallOp::create(b, kernel, args);

  SmallVector<Value> results = {bufferization::ToTensorOp::create(
      b, outType, out, /*restrict=*/true, /*writable=*/true)};
  if (lse)
    results.push_back(bufferization::ToTensorOp::create(
        b, op.getLse().getType(), lse, /*restrict=*/true, /*writable=*/true));
  if (outWindow)
    results.push_back(bufferization::ToTensorOp::create(
        b, outType, outWindow, /*restrict=*/true, /*writable=*/true));
  op->replaceAllUsesWith(results);
  op->erase();
  return success();
}

/// attn.merge as two element-wise linalg.generic ops: per row, the largest
/// partial lse m (0 while all are -inf), s = sum_n exp(lse_n - m),
/// lse = m + log s (-inf when s = 0), and out = sum_n exp(lse_n - lse) * o_n
/// (0 when s = 0).
void lowerMerge(MergeOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  size_t n = op.getPartials().size();
  auto outType = op.getOutput().getType();
  auto lseType = op.getLse().getType();
  MLIRContext *ctx = op.getContext();
  AffineMap full = AffineMap::getMultiDimIdentityMap(4, ctx);
  AffineMap rows = AffineMap::get(4, 0, {b.getAffineDimExpr(0), b.getAffineDimExpr(1),
                                         b.getAffineDimExpr(2)}, ctx);
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < outType.getRank(); ++i)
    if (outType.isDynamicDim(i))
      sizes.push_back(tensor::DimOp::create(b, op.getPartials()[0], i));
  Type f32 = b.getF32Type();
  // lse_n -> (m, lse, sum > 0) of the row.
  auto rowStats = [&](OpBuilder &nb, Location loc, ValueRange lses) {
    ImplicitLocOpBuilder r(loc, nb);
    Value negInf = arith::ConstantOp::create(r, r.getF32FloatAttr(-INFINITY));
    Value zero = arith::ConstantOp::create(r, r.getF32FloatAttr(0));
    Value m = negInf;
    for (Value l : lses)
      m = arith::MaximumFOp::create(r, m, l);
    Value empty = arith::CmpFOp::create(r, arith::CmpFPredicate::OEQ, m, negInf);
    m = arith::SelectOp::create(r, empty, zero, m);
    Value sum = zero;
    for (Value l : lses)
      sum = arith::AddFOp::create(r, sum, math::ExpOp::create(r, arith::SubFOp::create(r, l, m)));
    Value seen = arith::CmpFOp::create(r, arith::CmpFPredicate::OGT, sum, zero);
    Value lse = arith::SelectOp::create(
        r, seen, arith::AddFOp::create(r, m, math::LogOp::create(r, sum)), negInf);
    return std::make_tuple(lse, seen, zero);
  };
  SmallVector<Value> lseInputs(op.getPartialLses());
  SmallVector<AffineMap> lseMaps(n + 1, AffineMap::getMultiDimIdentityMap(3, ctx));
  SmallVector<utils::IteratorType> par3(3, utils::IteratorType::parallel);
  SmallVector<Value> lseSizes;
  for (int64_t i = 0; i < lseType.getRank(); ++i)
    if (lseType.isDynamicDim(i))
      lseSizes.push_back(tensor::DimOp::create(b, op.getPartialLses()[0], i));
  Value lseInit = tensor::EmptyOp::create(b, lseType, lseSizes);
  auto lseOp = linalg::GenericOp::create(
      b, TypeRange{lseType}, lseInputs, ValueRange{lseInit}, lseMaps, par3,
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        auto [lse, seen, zero] = rowStats(nb, loc, args.take_front(n));
        linalg::YieldOp::create(nb, loc, lse);
      });
  SmallVector<Value> inputs(op.getPartials());
  inputs.append(lseInputs);
  SmallVector<AffineMap> maps(n, full);
  maps.append(n, rows);
  maps.push_back(full);
  SmallVector<utils::IteratorType> par4(4, utils::IteratorType::parallel);
  Value outInit = tensor::EmptyOp::create(b, outType, sizes);
  auto outOp = linalg::GenericOp::create(
      b, TypeRange{outType}, inputs, ValueRange{outInit}, maps, par4,
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        ImplicitLocOpBuilder r(loc, nb);
        auto [lse, seen, zero] = rowStats(nb, loc, args.slice(n, n));
        Value acc = zero;
        for (size_t i = 0; i < n; ++i) {
          Value w = math::ExpOp::create(r, arith::SubFOp::create(r, args[n + i], lse));
          Value o = args[i];
          if (o.getType() != f32)
            o = o.getType().getIntOrFloatBitWidth() < 32
                    ? Value(arith::ExtFOp::create(r, f32, o))
                    : Value(arith::TruncFOp::create(r, f32, o));
          acc = math::FmaOp::create(r, w, o, acc);
        }
        acc = arith::SelectOp::create(r, seen, acc, zero);
        Type t = outType.getElementType();
        if (t != f32)
          acc = t.getIntOrFloatBitWidth() < 32 ? Value(arith::TruncFOp::create(r, t, acc))
                                               : Value(arith::ExtFOp::create(r, t, acc));
        linalg::YieldOp::create(nb, loc, acc);
      });
  op.getOutput().replaceAllUsesWith(outOp.getResult(0));
  op.getLse().replaceAllUsesWith(lseOp.getResult(0));
  op->erase();
}

struct LowerToCpu : mlir::attn::impl::AttnLowerToCpuBase<LowerToCpu> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Selections first: their scoring adds compressions.
    SmallVector<SelectBlocksOp> selects;
    module.walk([&](SelectBlocksOp op) { selects.push_back(op); });
    for (SelectBlocksOp op : selects)
      lowerSelectBlocks(op);
    SmallVector<CompressOp> compressions;
    module.walk([&](CompressOp op) { compressions.push_back(op); });
    for (CompressOp op : compressions)
      lowerCompress(op);
    // Unfused graphs run too (e.g. to compare with what attn-raise makes of
    // them): linalg.softmax into its generic ops.
    SmallVector<linalg::SoftmaxOp> softmaxes;
    module.walk([&](linalg::SoftmaxOp op) { softmaxes.push_back(op); });
    for (linalg::SoftmaxOp op : softmaxes) {
      OpBuilder b(op);
      FailureOr<SmallVector<Value>> parts =
          cast<linalg::AggregatedOpInterface>(op.getOperation()).decomposeOperation(b);
      if (failed(parts))
        return signalPassFailure();
      op->replaceAllUsesWith(*parts);
      op->erase();
    }
    SmallVector<AttentionOp> ops;
    module.walk([&](AttentionOp op) { ops.push_back(op); });
    for (AttentionOp op : ops)
      if (failed(lowerAttention(op, module)))
        return signalPassFailure();
    SmallVector<MergeOp> merges;
    module.walk([&](MergeOp op) { merges.push_back(op); });
    for (MergeOp op : merges)
      lowerMerge(op);
    // f32 -> bf16 as vector integer arithmetic: without AVX512-BF16, LLVM
    // would call __truncsfbf2 once per element.
    RewritePatternSet patterns(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
