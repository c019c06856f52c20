//===- KernelSpec.cpp -----------------------------------------------------===//
#include "lowering/KernelSpec.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::attn;

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
  spec.elementType = op.getQuery().getType().getElementType();
  if (!isa<Float16Type, BFloat16Type, Float32Type>(spec.elementType))
    return op.emitOpError()
           << "fused kernels take f16, bf16 or f32 (they accumulate in f32), "
              "got "
           << spec.elementType << "; f64 attention runs on the reference";
  spec.group = s.queryHeads / s.kvHeads;
  spec.headDim = s.headDim;
  spec.valueDim = s.valueDim;
  spec.scale = op.getEffectiveScale();
  spec.softcap = op.getEffectiveSoftcap();
  spec.causal = op.getCausal();
  spec.bottomRight = op.getEffectiveAlignment() == Alignment::BottomRight;
  if (auto w = op.getWindow())
    spec.window = std::make_pair((*w)[0], (*w)[1]);
  if (auto b = op.getBranches())
    spec.branches = std::make_pair((*b)[0], (*b)[1]);
  if (op.getMask())
    spec.maskType = op.getMask().getType().getElementType();
  if (op.getKvLengths())
    spec.lengthType = op.getKvLengths().getType().getElementType();
  spec.hasLse = static_cast<bool>(op.getLse());
  spec.plan = *op.getTilePlan();
  return spec;
}

std::string KernelSpec::name(StringRef prefix) const {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << prefix << "_" << elementType << "_d" << headDim;
  if (valueDim != headDim)
    os << "v" << valueDim;
  os << "_g" << group;
  if (causal)
    os << "_causal";
  if (window)
    os << "_win" << window->first << "x" << window->second;
  if (branches)
    os << "_branch" << branches->first << "x" << branches->second;
  if (bottomRight && hasStructuredMask())
    os << "_bottom";
  if (softcap != 0.0)
    os << "_cap";
  if (maskType)
    os << "_mask" << maskType;
  if (lengthType)
    os << "_len" << lengthType;
  if (hasLse)
    os << "_lse";
  os << "_q" << plan.getQBlock() << "k" << plan.getKvBlock();
  if (plan.getTarget() != Target::CPU && plan.getWarps() != 4)
    os << "w" << plan.getWarps();
  if (plan.getTarget() != Target::CPU && plan.getStages() > 2)
    os << "s" << plan.getStages();
  // Scale and softcap are baked in: name them by their exact bits.
  os << "_s" << llvm::format_hex_no_prefix(llvm::bit_cast<uint64_t>(scale), 16);
  if (softcap != 0.0)
    os << "c" << llvm::format_hex_no_prefix(llvm::bit_cast<uint64_t>(softcap), 16);
  // Keep it a valid symbol: "-1" windows become "m1".
  for (char &c : out)
    if (c == '-')
      c = 'm';
  return out;
}
