//===- OutlineLoops.cpp - attn-outline-loops ------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNOUTLINELOOPS
#include "lowering/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct OutlineLoops : mlir::attn::impl::AttnOutlineLoopsBase<OutlineLoops> {
  using AttnOutlineLoopsBase::AttnOutlineLoopsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      if (func.isExternal())
        continue;
      SmallVector<Operation *> loops;
      for (Operation &op : func.getBody().front())
        if (isa<scf::ForOp, scf::ParallelOp>(op) && op.getNumResults() == 0)
          loops.push_back(&op);
      if (loops.size() <= threshold)
        continue;
      for (Operation *loop : loops)
        outline(symbols, func, loop);
    }
  }

  /// Outlined functions by their text (with a placeholder name): the same
  /// loop nest in every layer of a model becomes one function.
  llvm::StringMap<func::FuncOp> outlined;

  /// `loop` as a call of a function @<func>_loop<n>, new or an identical
  /// one outlined before.
  void outline(SymbolTable &symbols, func::FuncOp parent, Operation *loop) {
    SetVector<Value> above;
    getUsedValuesDefinedAbove(loop->getRegions(), above);
    SmallVector<Value> args;
    SmallVector<Operation *> constants;
    for (Value v : above) {
      if (Operation *def = v.getDefiningOp(); def && matchPattern(def, m_Constant()))
        constants.push_back(def);
      else
        args.push_back(v);
    }
    for (Value operand : loop->getOperands()) // bounds and steps
      if (Operation *def = operand.getDefiningOp(); def && matchPattern(def, m_Constant()))
        constants.push_back(def);
      else if (!llvm::is_contained(args, operand))
        args.push_back(operand);
    OpBuilder b(parent);
    Location loc = loop->getLoc();
    auto type = b.getFunctionType(ValueRange(args).getTypes(), {});
    auto callee = func::FuncOp::create(b, loc, "outlined", type);
    callee.setPrivate();
    callee->setAttr("passthrough", b.getArrayAttr({b.getStringAttr("noinline")}));
    Block *body = callee.addEntryBlock();
    b.setInsertionPointToStart(body);
    IRMapping map;
    for (auto [v, arg] : llvm::zip(args, body->getArguments()))
      map.map(v, arg);
    for (Operation *c : constants)
      if (!map.contains(c->getResult(0)))
        b.clone(*c, map);
    b.clone(*loop, map);
    func::ReturnOp::create(b, loc);
    std::string text;
    llvm::raw_string_ostream os(text);
    callee.print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
    func::FuncOp &same = outlined[text];
    if (same) {
      callee.erase();
      callee = same;
    } else {
      callee.setSymName((parent.getSymName() + "_loop" + Twine(outlined.size() - 1)).str());
      symbols.insert(callee);
      same = callee;
    }
    b.setInsertionPoint(loop);
    func::CallOp::create(b, loc, callee, args);
    loop->erase();
  }
};
} // namespace
