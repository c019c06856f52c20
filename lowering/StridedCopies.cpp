//===- StridedCopies.cpp - attn-strided-copies-to-linalg ------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSTRIDEDCOPIESTOLINALG
#include "lowering/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct StridedCopiesToLinalg
    : mlir::attn::impl::AttnStridedCopiesToLinalgBase<StridedCopiesToLinalg> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto identity = [](Type t) {
        auto m = dyn_cast<MemRefType>(t);
        return m && m.getLayout().isIdentity();
      };
      if (!identity(copy.getSource().getType()) || !identity(copy.getTarget().getType()))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
