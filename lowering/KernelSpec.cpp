//===- KernelSpec.cpp -----------------------------------------------------===//
#include "lowering/KernelSpec.h"
#include "lowering/CpuKernel.h"
#include "lowering/GpuTileLayout.h"

using namespace mlir;
using namespace mlir::attn;
namespace rt = ::attn::rt;

std::optional<rt::DType> mlir::attn::dtypeOf(Type t) {
  if (t.isF16())
    return rt::DType::F16;
  if (t.isBF16())
    return rt::DType::BF16;
  if (t.isF32())
    return rt::DType::F32;
  if (t.isF64())
    return rt::DType::F64;
  if (t.isInteger(1))
    return rt::DType::Bool;
  if (t.isInteger(32))
    return rt::DType::I32;
  if (t.isInteger(64))
    return rt::DType::I64;
  return std::nullopt;
}

Type mlir::attn::typeOf(MLIRContext *ctx, rt::DType dtype) {
  Builder b(ctx);
  switch (dtype) {
  case rt::DType::F16: return b.getF16Type();
  case rt::DType::BF16: return b.getBF16Type();
  case rt::DType::F32: return b.getF32Type();
  case rt::DType::F64: return b.getF64Type();
  case rt::DType::Bool: return b.getI1Type();
  case rt::DType::I32: return b.getI32Type();
  case rt::DType::I64: return b.getI64Type();
  }
  return Type();
}

rt::Target mlir::attn::targetOf(Target target) {
  switch (target) {
  case Target::CPU: return rt::Target::CPU;
  case Target::SM80: return rt::Target::SM80;
  case Target::SM90: return rt::Target::SM90;
  }
  return rt::Target::CPU;
}

rt::TilePlan mlir::attn::tilePlanOf(TilePlanAttr plan) {
  return {targetOf(plan.getTarget()), plan.getQBlock(), plan.getKvBlock(),
          plan.getWarps(), plan.getStages()};
}

std::string KernelSpec::unservable() const {
  std::string error = validate();
  if (error.empty())
    error = validateForF32();
  if (error.empty())
    error = isGpu() ? ::attn::GpuTileLayout::check(*this) : checkCpuKernel(*this);
  return error;
}

FailureOr<KernelSpec> KernelSpec::get(AttentionOp op) {
  AttentionShape s = op.getShape();
  if (!op.getTilePlan())
    return op.emitOpError() << "has no tile plan: run attn-plan-tiles first";
  if (s.queryHeads == ShapedType::kDynamic || s.kvHeads == ShapedType::kDynamic ||
      s.headDim == ShapedType::kDynamic || s.valueDim == ShapedType::kDynamic)
    return op.emitOpError()
           << "kernels are specialised on head counts and head dims, which "
              "must be static";
  KernelSpec spec;
  static_cast<rt::AttentionSemantics &>(spec) = op.getSemantics();
  spec.elementType = op.getQuery().getType().getElementType();
  spec.dtype = *dtypeOf(spec.elementType);
  if (!isa<Float16Type, BFloat16Type, Float32Type>(spec.elementType))
    return op.emitOpError()
           << "fused kernels take f16, bf16 or f32 (they accumulate in f32), "
              "got "
           << spec.elementType << "; f64 attention runs on the reference";
  spec.group = s.queryHeads / s.kvHeads;
  spec.headDim = s.headDim;
  spec.valueDim = s.valueDim;
  if (Value mask = op.getMask()) {
    spec.maskType = cast<ShapedType>(mask.getType()).getElementType();
    spec.maskDtype = dtypeOf(spec.maskType);
  }
  if (Value lengths = op.getKvLengths()) {
    spec.lengthType = cast<ShapedType>(lengths.getType()).getElementType();
    spec.lengthsDtype = dtypeOf(spec.lengthType);
  }
  if (Value offsets = op.getQueryOffsets()) {
    spec.offsetType = cast<ShapedType>(offsets.getType()).getElementType();
    spec.offsetsDtype = dtypeOf(spec.offsetType);
  }
  spec.blockHeads = op.getBlockHeads();
  spec.lse = static_cast<bool>(op.getLse());
  spec.plan = tilePlanOf(*op.getTilePlan());
  if (spec.isGpu())
    ::attn::GpuTileLayout::normalize(spec);
  if (std::string error = spec.unservable(); !error.empty())
    return op.emitOpError() << "cannot generate its " << rt::targetName(spec.plan.target)
                            << " kernel: " << error;
  return spec;
}

FailureOr<KernelSpec> KernelSpec::getSelection(SelectBlocksOp op, rt::Target target) {
  auto fail = [&](const Twine &why) {
    return op.emitOpError() << "has no " << rt::targetName(target)
                            << " selection kernel: " << why;
  };
  ::attn::rt::Selection sel = op.getSelection();
  const bool meanKey = sel.method == ::attn::rt::ScoreMethod::MeanKey;
  auto q = cast<ShapedType>(op.getQuery().getType());
  auto k = cast<ShapedType>(op.getKey().getType());
  Value values = op.getValues();
  if (q.isDynamicDim(1) || k.isDynamicDim(1) || q.isDynamicDim(3) ||
      (values && cast<ShapedType>(values.getType()).isDynamicDim(3)))
    return fail("kernels are specialised on head counts and head dims, which "
                "must be static");
  KernelSpec spec;
  spec.elementType = q.getElementType();
  spec.dtype = *dtypeOf(spec.elementType);
  if (!meanKey)
    spec.compressedKeys = std::make_pair(sel.compression.block, sel.compression.stride);
  spec.causal = !meanKey; // (mean_key: no attention, no mask)
  spec.bottomRight = true;
  spec.scale = sel.scale;
  spec.group = q.getDimSize(1) / k.getDimSize(1);
  spec.headDim = q.getDimSize(3);
  spec.valueDim = values ? cast<ShapedType>(values.getType()).getDimSize(3) : 0;
  // The original lengths are an operand of every selection kernel.
  spec.lengthType = IntegerType::get(op.getContext(), 32);
  if (Value lengths = op.getKvLengths())
    spec.lengthType = cast<ShapedType>(lengths.getType()).getElementType();
  spec.lengthsDtype = dtypeOf(spec.lengthType);
  spec.blockHeads = sel.perQueryHead ? rt::BlockHeads::QueryHead : rt::BlockHeads::KeyHead;
  spec.selection = rt::BlockSelection{sel.block, sel.topK, sel.init, sel.local, sel.method};
  // The dense plan of the attention over compressed keys, with key tiles
  // that hold whole selection blocks; fewer rows while the probabilities
  // and lists do not fit shared memory.
  int64_t stride = std::max<int64_t>(1, sel.compression.stride);
  int64_t perBlock = meanKey ? 1 : sel.block / stride;
  int64_t span = meanKey ? 1 : sel.compression.block / stride;
  int64_t keys = 32;
  while (keys < 128 && (keys % perBlock != 0 || keys < span))
    keys *= 2;
  std::string error;
  for (int64_t rows = ::attn::GpuTileLayout::densePlan(spec, target).qBlock; rows >= 16;
       rows /= 2) {
    // (mean_key reads one key tile at a time: two stages, the fewest.)
    spec.plan = {target, rows, keys, std::min<int64_t>(4, rows / 16), meanKey ? 2 : 3};
    ::attn::GpuTileLayout::fitStages(spec);
    if ((error = spec.unservable()).empty())
      return spec;
  }
  return fail(error);
}
