//===- Interpreter.cpp - float64 reference runs and input checks ----------===//
#include "runtime/jit/HostModule.h"

#include "dialects/AttnOps.h"
#include "runtime/reference/Reference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <functional>

using namespace mlir;
using namespace mlir::attn;
namespace rt = ::attn::rt;

namespace {
rt::AttentionParams paramsOf(AttentionOp op) {
  rt::AttentionParams p;
  static_cast<rt::AttentionSemantics &>(p) = op.getSemantics();
  switch (op.getEffectiveLayout()) {
  case Layout::BHSD:
    p.layout = rt::Layout::BHSD;
    break;
  case Layout::BSHD:
    p.layout = rt::Layout::BSHD;
    break;
  case Layout::Packed:
    p.layout = rt::Layout::Packed;
    p.numQHeads = (*op.getNumHeads())[0];
    p.numKvHeads = (*op.getNumHeads())[1];
    break;
  }
  return p;
}

rt::DType dtypeOf(Type type) {
  TensorSignature sig;
  signatureOf(type, sig);
  return sig.dtype;
}
} // namespace

std::string mlir::attn::checkInputs(func::FuncOp func,
                                    const std::vector<rt::Tensor> &inputs) {
  if (inputs.size() != func.getNumArguments())
    return "@" + func.getName().str() + " takes " +
           std::to_string(func.getNumArguments()) + " inputs, got " +
           std::to_string(inputs.size());
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    TensorSignature sig;
    if (!signatureOf(type, sig))
      return "argument #" + std::to_string(i) + " has unsupported type";
    const rt::Tensor &t = inputs[i];
    bool shapeOk = t.shape.size() == sig.shape.size();
    for (size_t d = 0; shapeOk && d < sig.shape.size(); ++d)
      shapeOk = sig.shape[d] < 0 || sig.shape[d] == t.shape[d];
    if (t.dtype != sig.dtype || !shapeOk)
      return "input #" + std::to_string(i) + " is " + rt::dtypeName(t.dtype) +
             " " + rt::shapeString(t.shape) + ", but @" +
             func.getName().str() + " expects " + rt::dtypeName(sig.dtype) +
             " " + rt::shapeString(sig.shape) + " (-1: any size)";
  }

  // Attention ops fed by arguments: run their verifier on the actual shapes.
  std::string error;
  ScopedDiagnosticHandler handler(func.getContext(), [&](Diagnostic &d) {
    if (error.empty())
      error = d.str();
    return success();
  });
  auto clone = cast<func::FuncOp>(func->clone());
  for (auto [arg, t] : llvm::zip(clone.getArguments(), inputs)) {
    auto type = cast<RankedTensorType>(arg.getType());
    arg.setType(RankedTensorType::get(t.shape, type.getElementType()));
  }
  // Casts of arguments to static shapes must hold for the actual shapes.
  clone.walk([&](tensor::CastOp op) {
    if (!isa<BlockArgument>(op.getSource()) ||
        tensor::CastOp::areCastCompatible(op.getSource().getType(), op.getType()))
      return WalkResult::advance();
    op.emitOpError() << "cannot cast argument #"
                     << cast<BlockArgument>(op.getSource()).getArgNumber()
                     << " of type " << op.getSource().getType() << " to "
                     << op.getType();
    return WalkResult::interrupt();
  });
  // Operands fed by arguments (through any tensor.cast): valid lengths
  // lie in [0, Skv], query offsets within +-2^62 (positions stay far from
  // overflow; a GPU kernel's runtime allows +-2^29), block numbers within
  // the keys.
  auto argumentOf = [&](Value v) -> const rt::Tensor * {
    while (auto cast = v ? v.getDefiningOp<tensor::CastOp>() : nullptr)
      v = cast.getSource();
    auto arg = dyn_cast_or_null<BlockArgument>(v);
    return arg ? &inputs[arg.getArgNumber()] : nullptr;
  };
  auto check = [&](const rt::Tensor *t, const char *name, int64_t lo,
                   int64_t hi, const std::string &what) {
    for (size_t b = 0; t && error.empty() && b < t->numel(); ++b)
      if (t->get(b) < lo || t->get(b) > hi)
        error = std::string(name) + "[" + std::to_string(b) + "] = " +
                std::to_string(static_cast<int64_t>(t->get(b))) +
                " is outside [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]" + what;
  };
  clone.walk([&](AttentionOp op) {
    if (!error.empty() || failed(op.verify()))
      return WalkResult::interrupt();
    if (int64_t keys = op.getShape().kvSeq; keys != ShapedType::kDynamic)
      check(argumentOf(op.getKvLengths()), "kv_lengths", 0, keys, " (the keys)");
    check(argumentOf(op.getQueryOffsets()), "q_offsets", -rt::kMaxWindowSide,
          rt::kMaxWindowSide, "");
    // Block-sparse selections name key blocks: [-1, ceil(Skv / kv_block)).
    if (int64_t keys = op.getShape().kvSeq;
        op.getBlockIndices() && keys != ShapedType::kDynamic) {
      int64_t kvBlock = (*op.getBlockSizes())[1];
      int64_t blocks = (keys + kvBlock - 1) / kvBlock;
      check(argumentOf(op.getBlockIndices()), "block_idx", -1, blocks - 1,
            " (-1 pads; " + std::to_string(keys) + " keys form " +
                std::to_string(blocks) + " blocks of " + std::to_string(kvBlock) + ")");
    }
    if (!error.empty())
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  // The sparse ops' valid lengths, in [0, Skv] likewise; a selection's
  // compressed keys and values verified on the actual shapes.
  clone.walk([&](Operation *op) {
    if (auto select = dyn_cast<SelectBlocksOp>(op); select && failed(select.verify()))
      return WalkResult::interrupt();
    if (auto nsa = dyn_cast<NsaOp>(op); nsa && failed(nsa.verify()))
      return WalkResult::interrupt();
    auto [lengths, key] =
        llvm::TypeSwitch<Operation *, std::pair<Value, Value>>(op)
            .Case<SelectBlocksOp, NsaOp, MobaOp, SwitchOp>([](auto x) {
              return std::pair<Value, Value>(x.getKvLengths(), x.getKey());
            })
            .Case([](CompressOp x) {
              return std::pair<Value, Value>(x.getKvLengths(), x.getInput());
            })
            .Default([](Operation *) { return std::pair<Value, Value>(); });
    int64_t keys = key ? cast<RankedTensorType>(key.getType()).getDimSize(2) : 0;
    if (error.empty() && lengths && keys != ShapedType::kDynamic)
      check(argumentOf(lengths), "kv_lengths", 0, keys, " (the keys)");
    return error.empty() ? WalkResult::advance() : WalkResult::interrupt();
  });
  clone.erase();
  return error;
}

std::string mlir::attn::interpret(func::FuncOp func,
                                  const std::vector<rt::Tensor> &inputs,
                                  std::vector<rt::Tensor> &outputs) {
  llvm::DenseMap<Value, rt::Tensor> env;
  for (auto [arg, t] : llvm::zip(func.getArguments(), inputs))
    env[arg] = t;
  auto get = [&](Value v) -> const rt::Tensor * {
    auto it = env.find(v);
    return it == env.end() ? nullptr : &it->second;
  };
  // Evaluates a block up to its terminator (func.return or attn.yield),
  // whose operands become `results`.
  std::function<std::string(Block &, std::vector<rt::Tensor> &)> run =
      [&](Block &block, std::vector<rt::Tensor> &results) -> std::string {
  for (Operation &op : block) {
    std::string error;
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      rt::Tensor out, lse;
      error = rt::referenceAttention(
          *get(attention.getQuery()), *get(attention.getKey()),
          *get(attention.getValue()),
          attention.getMask() ? get(attention.getMask()) : nullptr,
          attention.getKvLengths() ? get(attention.getKvLengths()) : nullptr,
          attention.getQueryOffsets() ? get(attention.getQueryOffsets()) : nullptr,
          attention.getBlockIndices() ? get(attention.getBlockIndices()) : nullptr,
          paramsOf(attention), out, lse);
      if (error.empty()) {
        env[attention.getOutput()] =
            rt::cast(out, dtypeOf(attention.getOutput().getType()));
        if (attention.getLse())
          env[attention.getLse()] = rt::cast(lse, rt::DType::F32);
      }
      // The window branch: the same attention, its window for the list.
      if (error.empty() && attention.getWindowOutput()) {
        rt::AttentionParams p = paramsOf(attention);
        static_cast<rt::AttentionSemantics &>(p) = p.windowBranchSemantics();
        error = rt::referenceAttention(
            *get(attention.getQuery()), *get(attention.getKey()),
            *get(attention.getValue()),
            attention.getMask() ? get(attention.getMask()) : nullptr,
            attention.getKvLengths() ? get(attention.getKvLengths()) : nullptr,
            attention.getQueryOffsets() ? get(attention.getQueryOffsets()) : nullptr,
            nullptr, p, out, lse);
        if (error.empty())
          env[attention.getWindowOutput()] =
              rt::cast(out, dtypeOf(attention.getWindowOutput().getType()));
      }
    } else if (auto merge = dyn_cast<MergeOp>(op)) {
      std::vector<rt::Tensor> outs, lses;
      for (Value v : merge.getPartials())
        outs.push_back(*get(v));
      for (Value v : merge.getPartialLses())
        lses.push_back(*get(v));
      rt::Tensor out, lse;
      error = rt::referenceMerge(outs, lses, out, lse);
      if (error.empty()) {
        env[merge.getOutput()] = rt::cast(out, dtypeOf(merge.getOutput().getType()));
        env[merge.getLse()] = rt::cast(lse, rt::DType::F32);
      }
    } else if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      TensorSignature sig;
      if (!dense || !signatureOf(constant.getType(), sig))
        error = "the reference handles tensor constants only";
      else {
        rt::Tensor t = rt::Tensor::zeros(sig.dtype, sig.shape);
        size_t i = 0;
        if (isa<FloatType>(dense.getElementType()))
          for (APFloat v : dense.getValues<APFloat>())
            t.set(i++, v.convertToDouble());
        else
          for (APInt v : dense.getValues<APInt>())
            t.set(i++, dense.getElementType().isInteger(1)
                           ? static_cast<double>(v.getBoolValue())
                           : static_cast<double>(v.getSExtValue()));
        env[constant.getResult()] = std::move(t);
      }
    } else if (auto compress = dyn_cast<CompressOp>(op)) {
      rt::Compression c = compress.getCompression();
      if (Value w = compress.getWeights())
        for (size_t i = 0; i < get(w)->numel(); ++i)
          c.weights.push_back(get(w)->get(i));
      rt::Tensor out;
      error = rt::referenceCompress(*get(compress.getInput()), c, out,
                                    compress.getKvLengths() ? get(compress.getKvLengths())
                                                            : nullptr);
      if (error.empty())
        env[compress.getOutput()] = rt::cast(out, dtypeOf(compress.getOutput().getType()));
    } else if (auto select = dyn_cast<SelectBlocksOp>(op)) {
      rt::Tensor idx, out;
      Value vc = select.getValues(), kc = select.getCompressedKeys();
      error = rt::referenceSelect(*get(select.getQuery()), *get(select.getKey()),
                                  select.getSelection(), idx,
                                  select.getKvLengths() ? get(select.getKvLengths()) : nullptr,
                                  vc ? get(vc) : nullptr, &out, kc ? get(kc) : nullptr);
      if (error.empty()) {
        env[select.getIndices()] = std::move(idx);
        if (vc)
          env[select.getOutput()] = rt::cast(out, dtypeOf(select.getOutput().getType()));
      }
    } else if (auto nsa = dyn_cast<NsaOp>(op)) {
      rt::Tensor out, idx;
      error = rt::referenceNsa(*get(nsa.getQuery()), *get(nsa.getKey()),
                               *get(nsa.getValue()), *get(nsa.getGates()),
                               nsa.getParams(), out, idx, nullptr,
                               nsa.getKvLengths() ? get(nsa.getKvLengths()) : nullptr,
                               nsa.getCompressedKeys() ? get(nsa.getCompressedKeys()) : nullptr,
                               nsa.getCompressedValues() ? get(nsa.getCompressedValues())
                                                         : nullptr);
      if (error.empty()) {
        env[nsa.getOutput()] = rt::cast(out, dtypeOf(nsa.getOutput().getType()));
        env[nsa.getIndices()] = std::move(idx);
      }
    } else if (auto moba = dyn_cast<MobaOp>(op)) {
      rt::Tensor out, idx;
      std::optional<double> scale;
      if (auto x = moba.getScale())
        scale = x->convertToDouble();
      error = rt::referenceMoba(*get(moba.getQuery()), *get(moba.getKey()),
                                *get(moba.getValue()), moba.getBlock(), moba.getTopK(),
                                scale, out, idx, nullptr,
                                moba.getKvLengths() ? get(moba.getKvLengths()) : nullptr);
      if (error.empty()) {
        env[moba.getOutput()] = rt::cast(out, dtypeOf(moba.getOutput().getType()));
        env[moba.getIndices()] = std::move(idx);
      }
    } else if (auto cast = dyn_cast<tensor::CastOp>(op)) {
      env[cast.getResult()] = *get(cast.getSource()); // checkInputs: shapes agree
    } else if (isa<func::ReturnOp, YieldOp>(op)) {
      results.clear();
      for (Value v : op.getOperands())
        results.push_back(*get(v));
      return "";
    } else if (auto choice = dyn_cast<SwitchOp>(op)) {
      // The side the key length picks, as the compiled scf.if does; with
      // kv_lengths, per batch element (each side's rows of element b depend
      // on element b only, so rows are taken from the side it picks).
      int64_t keys = get(choice.getKey())->shape[2], denseLen = choice.getDenseLen();
      std::vector<bool> dense(size_t(get(choice.getKey())->shape[0]), keys < denseLen);
      if (Value lengths = choice.getKvLengths())
        for (size_t b = 0; b < dense.size(); ++b)
          dense[b] = get(lengths)->get(b) < double(denseLen);
      std::vector<rt::Tensor> values, other;
      bool first = dense.empty() || dense[0];
      error = run((first ? choice.getDense() : choice.getSparse()).front(), values);
      for (size_t b = 0; error.empty() && b < dense.size(); ++b) {
        if (dense[b] == first)
          continue;
        if (other.empty())
          error = run((first ? choice.getSparse() : choice.getDense()).front(), other);
        for (size_t n = 0; error.empty() && n < values.size(); ++n) {
          size_t row = values[n].numel() / dense.size();
          for (size_t i = b * row; i < (b + 1) * row; ++i)
            values[n].set(i, other[n].get(i));
        }
      }
      for (auto [result, t] : llvm::zip(choice.getResults(), values))
        env[result] = t;
    } else {
      error = "the float64 reference does not evaluate '" +
              op.getName().getStringRef().str() +
              "'; run this function with --pipeline=fused";
    }
    if (!error.empty())
      return op.getName().getStringRef().str() + ": " + error;
  }
  return "a block of @" + func.getName().str() + " has no terminator";
  };
  return run(func.getBody().front(), outputs);
}
