//===- AttnDialect.cpp - the attn dialect ---------------------------------===//
#include "dialects/AttnDialect.h"
#include "dialects/AttnOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

#include "dialects/AttnDialect.cpp.inc"
#include "dialects/AttnEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/AttnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/AttnAttrs.cpp.inc"
      >();
}

LogicalResult AttnDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  if (attr.getName() == getKernelAttrHelper().getName()) {
    if (!isa<UnitAttr>(attr.getValue()) || !isa<FunctionOpInterface>(op))
      return op->emitError() << attr.getName()
                             << " must be a unit attribute on a function";
    return success();
  }
  if (attr.getName() == getGpuKernelAttrHelper().getName()) {
    if (!isa<SymbolRefAttr>(attr.getValue()))
      return op->emitError() << attr.getName()
                             << " must name a kernel (@module::@kernel)";
    return success();
  }
  return op->emitError() << "unknown attn attribute " << attr.getName();
}

LogicalResult
TilePlanAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     Target target, int64_t qBlock, int64_t kvBlock,
                     int64_t warps, int64_t stages) {
  if (qBlock <= 0 || kvBlock <= 0)
    return emitError() << "tile_plan: q_block and kv_block must be positive, "
                          "got q_block = "
                       << qBlock << ", kv_block = " << kvBlock;
  if (warps <= 0 || stages <= 0)
    return emitError() << "tile_plan: warps and stages must be positive, got "
                          "warps = "
                       << warps << ", stages = " << stages;
  return success();
}
