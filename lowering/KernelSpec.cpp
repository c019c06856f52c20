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
  std::string error = spec.validate();
  if (error.empty())
    error = spec.validateForF32();
  if (error.empty())
    error = spec.isGpu() ? ::attn::GpuTileLayout::check(spec)
                         : checkCpuKernel(spec);
  if (!error.empty())
    return op.emitOpError() << "cannot generate its " << rt::targetName(spec.plan.target)
                            << " kernel: " << error;
  return spec;
}
