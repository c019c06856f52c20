//===- AttnDialect.h - the attn dialect -------------------------*- C++ -*-===//
#ifndef ATTN_DIALECTS_ATTNDIALECT_H
#define ATTN_DIALECTS_ATTNDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/AttnDialect.h.inc"
#include "dialects/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/AttnAttrs.h.inc"

#endif // ATTN_DIALECTS_ATTNDIALECT_H
