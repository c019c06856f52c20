//===- HostModule.h - run attn functions on the host ------------*- C++ -*-===//
//
// The host side of the compiler (it needs MLIR, unlike the runtime core):
// a module JIT-compiled through the fused CPU pipeline (attn-to-cpu), and the
// float64 reference interpreter of the same functions. Both take and return
// runtime tensors, so tools and tests compare them directly.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_JIT_HOSTMODULE_H
#define ATTN_RUNTIME_JIT_HOSTMODULE_H

#include "runtime/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
} // namespace mlir
namespace llvm {
class TargetMachine;
} // namespace llvm

namespace mlir::attn {

/// dtype and shape (-1 for a dynamic size) of a function argument or result.
struct TensorSignature {
  ::attn::rt::DType dtype;
  std::vector<int64_t> shape;
};

/// Maps a ranked tensor type to a signature; false for unsupported types.
bool signatureOf(Type type, TensorSignature &sig);

/// "" when `inputs` fit the function's argument types (count, dtype, rank,
/// static sizes) and every attention op fed directly by arguments is
/// consistent with the actual shapes (the op verifier, run on them) and its
/// valid lengths lie in [0, Skv]; otherwise a one-line error.
std::string checkInputs(func::FuncOp func,
                        const std::vector<::attn::rt::Tensor> &inputs);

/// Runs `func` op by op in float64 (attn.attention, attn.merge, constants);
/// outputs have the result types' dtypes.
std::string interpret(func::FuncOp func,
                      const std::vector<::attn::rt::Tensor> &inputs,
                      std::vector<::attn::rt::Tensor> &outputs);

/// A module compiled for this host by the attn-to-cpu pipeline and the LLVM
/// JIT (with the host's vector extensions); its attention kernels run on all
/// cores through OpenMP.
class HostModule {
public:
  /// Compiles a clone of `source`. Returns null and sets `error` on failure.
  static std::unique_ptr<HostModule> compile(ModuleOp source,
                                             std::string &error);
  ~HostModule();

  /// Runs public function `name`. Inputs must already satisfy checkInputs.
  std::string run(StringRef name, const std::vector<::attn::rt::Tensor> &inputs,
                  std::vector<::attn::rt::Tensor> &outputs);

private:
  HostModule() = default;
  struct Signature {
    std::vector<TensorSignature> args, results;
  };
  llvm::StringMap<Signature> signatures;
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  std::unique_ptr<ExecutionEngine> engine;
};

} // namespace mlir::attn

#endif // ATTN_RUNTIME_JIT_HOSTMODULE_H
