//===- Raise.cpp - attn-raise ---------------------------------------------===//
//
// Unfused attention in linalg into attn.attention (see Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Tosa/Utils/ConversionUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNRAISE
#include "passes/Passes.h.inc"

namespace {
/// What the chain below one softmax holds. The contractions see [N, S, D];
/// when the graph says how N splits into [B, Hq] (heads collapsed into the
/// batch, or K/V heads copied for grouped-query attention), `key4`/`value4`
/// are the [B, Hkv, S, D] tensors, `group` the copies per K/V head (0 for
/// none), and `batch`/`heads` the query's B and Hq; otherwise N = batch and
/// heads = 1.
struct Chain {
  Value query, key, value, mask;
  std::optional<double> scale, softcap;
  bool causal = false, bottomRight = false;
  std::optional<int64_t> queryOffset; // causal with j <= i + offset
  std::optional<int64_t> windowLeft;  // and j >= i + offset - left
  std::optional<std::pair<int64_t, int64_t>> branches; // parallel (P, N)
  Value key4, value4;
  int64_t group = 0, batch = 0, heads = 1;
  Value kvLengths; // a padding mask: keys at or past lengths[b] masked
};

/// x3 = collapse_shape(x4 [B, H, S, D]) to [B*H, S, D] with static B and H
/// (heads folded into the batch, as torch-mlir writes a 4-D matmul): x4.
Value splitFrom(Value x3) {
  auto collapse = x3.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || collapse.getSrcType().getRank() != 4 ||
      collapse.getReassociationIndices()[0] != ReassociationIndices{0, 1})
    return Value();
  auto shape = collapse.getSrcType().getShape();
  return ShapedType::isDynamic(shape[0]) || ShapedType::isDynamic(shape[1])
             ? Value()
             : collapse.getSrc();
}

/// x3 = collapse_shape(broadcast(x4 [B, Hkv, S, D] -> [B, Hkv, G, S, D]))
/// to [B*Hkv*G, S, D]: returns x4 and G (else null).
Value unexpandHeads(Value x3, int64_t &group) {
  auto collapse = x3.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse)
    return Value();
  SmallVector<ReassociationIndices, 4> groups = collapse.getReassociationIndices();
  if (groups.size() != 3 || groups[0] != ReassociationIndices{0, 1, 2})
    return Value();
  auto broadcast = collapse.getSrc().getDefiningOp<linalg::BroadcastOp>();
  if (!broadcast || broadcast.getDimensions() != ArrayRef<int64_t>{2})
    return Value();
  auto shape = cast<RankedTensorType>(broadcast.getInit().getType()).getShape();
  if (ShapedType::isDynamic(shape[2]))
    return Value();
  group = shape[2];
  return broadcast.getInput();
}

/// An element-wise linalg.generic over rank-3 tensors with identity maps.
bool isElementwise(linalg::GenericOp g, unsigned inputs) {
  return g && g.getNumDpsInputs() == inputs && g.getNumDpsInits() == 1 &&
         g.getNumLoops() == 3 && g.getNumParallelLoops() == 3 &&
         llvm::all_of(g.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); });
}

/// The single arith op a generic's body yields, with the block arguments.
Operation *bodyOp(linalg::GenericOp g) {
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  return &body.front();
}

/// The op defining the one value a linalg.generic's body yields.
Operation *yielded(linalg::GenericOp g) {
  if (!g)
    return nullptr;
  auto yield = cast<linalg::YieldOp>(g.getRegion().front().getTerminator());
  return yield.getNumOperands() == 1 ? yield.getOperand(0).getDefiningOp() : nullptr;
}

bool isArg(linalg::GenericOp g, Value v, unsigned n) {
  return v == g.getRegion().front().getArgument(n);
}

/// The value of a scalar float constant.
std::optional<double> floatConstant(Value v) {
  FloatAttr f;
  if (!matchPattern(v, m_Constant(&f)))
    return std::nullopt;
  return f.getValueAsDouble();
}

/// Rank-3 generic: all parallel, or parallel x2 + a reduction over the last
/// axis into [N, S] (`reduce`).
bool shaped(linalg::GenericOp g, bool reduce) {
  if (!g || g.getNumLoops() != 3 || g.getNumDpsInits() != 1)
    return false;
  auto iters = g.getIteratorTypesArray();
  for (int i = 0; i < 3; ++i)
    if ((iters[i] == utils::IteratorType::reduction) != (reduce && i == 2))
      return false;
  return true;
}

/// Scale: s * c or s / c with a scalar constant c defined outside, or a
/// second input that is a constant splat tensor (TOSA's [1, 1, 1] constant).
std::optional<double> matchScale(linalg::GenericOp g, Value &input) {
  if (!g || g.getNumDpsInits() != 1 || g.getNumLoops() != 3 ||
      g.getNumParallelLoops() != 3 || g.getNumDpsInputs() > 2 ||
      !g.getIndexingMapsArray()[0].isIdentity())
    return std::nullopt;
  Operation *op = bodyOp(g);
  if (!op || !isa<arith::MulFOp, arith::DivFOp>(op))
    return std::nullopt;
  Value arg = g.getRegion().front().getArgument(0);
  Value other = op->getOperand(0) == arg ? op->getOperand(1) : op->getOperand(0);
  if (isa<arith::DivFOp>(op) && op->getOperand(0) != arg)
    return std::nullopt; // c / s is not a scale
  FloatAttr c;
  DenseElementsAttr splat;
  if (g.getNumDpsInputs() == 2) {
    if (!isArg(g, other, 1) || !matchPattern(g.getDpsInputs()[1], m_Constant(&splat)) ||
        !splat.isSplat() || !isa<FloatType>(splat.getElementType()))
      return std::nullopt;
    c = FloatAttr::get(splat.getElementType(), splat.getSplatValue<APFloat>());
  } else if (!matchPattern(other, m_Constant(&c))) {
    return std::nullopt;
  }
  input = g.getDpsInputs()[0];
  double x = c.getValueAsDouble();
  return isa<arith::DivFOp>(op) ? 1.0 / x : x;
}

/// A structured mask read off the values of a materialised one: causal at
/// query offset `off` (key j visible from row i iff j <= i + off), with a
/// window `left` (and j >= i + off - left) or parallel `branches` (P, N) on
/// top (attention-semantics.md section 1.4).
struct MaskForm {
  int64_t off = 0;
  std::optional<int64_t> left;
  std::optional<std::pair<int64_t, int64_t>> branches;
};

/// Which of causal, causal + window or causal + branches a [Sq, Skv] slice
/// of 0 (visible) and very negative (masked) values is, if any: the
/// parameters are read off the rows, then every entry is checked.
std::optional<MaskForm> classifyMask(ArrayRef<double> m, int64_t sq, int64_t skv) {
  auto at = [&](int64_t i, int64_t j) { return m[i * skv + j]; };
  for (double x : m)
    if (x != 0.0 && !(x <= -1e30))
      return std::nullopt;
  // The offset: from a row whose last visible key is not the last key.
  MaskForm form;
  bool found = false;
  for (int64_t i = 0; i < sq && !found; ++i)
    for (int64_t j = skv - 2; j >= 0; --j)
      if (at(i, j) == 0.0) {
        if (at(i, skv - 1) != 0.0)
          form.off = j - i, found = true;
        break;
      }
  if (!found)
    return std::nullopt;
  auto last = [&](int64_t i) { return std::min(i + form.off, skv - 1); };
  // A masked key before the diagonal: a window or parallel branches.
  std::optional<int64_t> firstHole;
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = 0; j <= last(i); ++j)
      if (at(i, j) != 0.0 && (!firstHole || j < *firstHole))
        firstHole = j;
  auto visible = [&](const MaskForm &f, int64_t i, int64_t j) {
    int64_t p = i + f.off;
    if (j > p || (f.left && j < p - *f.left))
      return false;
    if (!f.branches)
      return true;
    auto [prefix, n] = *f.branches;
    return p < prefix || j < prefix || (j - prefix) % n == (p - prefix) % n;
  };
  auto matches = [&](const MaskForm &f) {
    for (int64_t i = 0; i < sq; ++i)
      for (int64_t j = 0; j < skv; ++j)
        if (visible(f, i, j) != (at(i, j) == 0.0))
          return false;
    return true;
  };
  if (!firstHole)
    return matches(form) ? std::optional(form) : std::nullopt;
  // Window: the reach back from a row whose first visible key is cut.
  for (int64_t i = 0; i < sq; ++i) {
    int64_t j = 0;
    while (j <= last(i) && at(i, j) != 0.0)
      ++j;
    if (j > 0 && j <= last(i) && i + form.off < skv) {
      MaskForm window = form;
      window.left = i + form.off - j;
      if (matches(window))
        return window;
      break;
    }
  }
  // Branches from P = the first hole: N = the shortest step back from a
  // query to a visible key of its own branch.
  int64_t prefix = *firstHole, n = std::max<int64_t>(1, last(sq - 1) - prefix + 1);
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = last(i) - 1; j >= prefix && i + form.off < skv; --j)
      if (at(i, j) == 0.0) {
        n = std::min(n, i + form.off - j);
        break;
      }
  MaskForm branched = form;
  branched.branches = {prefix, n};
  return matches(branched) ? std::optional(branched) : std::nullopt;
}

/// A linalg.generic without inputs whose body computes the mask from
/// linalg.index and constants with integer arithmetic, comparisons and
/// selects: its body as a flat program over registers, run per element.
class IndexProgram {
public:
  static std::optional<IndexProgram> compile(linalg::GenericOp g) {
    if (!g || g.getNumDpsInputs() != 0 || g.getNumDpsInits() != 1)
      return std::nullopt;
    IndexProgram prog;
    Block &body = g.getRegion().front();
    if (!body.getArgument(0).use_empty())
      return std::nullopt;
    auto reg = [&](Value v) -> std::optional<int> {
      auto it = prog.slot.find(v);
      if (it != prog.slot.end())
        return it->second;
      // A constant, in the body or defined above.
      Attribute attr;
      if (!matchPattern(v, m_Constant(&attr)))
        return std::nullopt;
      Reg r{};
      if (auto i = dyn_cast<IntegerAttr>(attr))
        r.i = i.getType().isInteger(1) ? i.getValue().getZExtValue() : i.getInt();
      else if (auto f = dyn_cast<FloatAttr>(attr))
        r.f = f.getValueAsDouble();
      else
        return std::nullopt;
      prog.init.push_back(r);
      return prog.slot[v] = prog.init.size() - 1;
    };
    for (Operation &op : body.without_terminator()) {
      if (matchPattern(&op, m_Constant()))
        continue;
      Step step{kindOf(&op), {}, 0, 0};
      if (step.kind == Kind::Unsupported)
        return std::nullopt;
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        step.extra = index.getDim();
        prog.usesBatch |= index.getDim() == 0;
      }
      if (auto cmp = dyn_cast<arith::CmpIOp>(op))
        step.extra = int64_t(cmp.getPredicate());
      for (Value operand : op.getOperands()) {
        std::optional<int> r = reg(operand);
        if (!r)
          return std::nullopt;
        step.in.push_back(*r);
      }
      prog.init.push_back(Reg{});
      step.out = prog.init.size() - 1;
      prog.slot[op.getResult(0)] = step.out;
      prog.steps.push_back(step);
    }
    std::optional<int> result = reg(body.getTerminator()->getOperand(0));
    if (!result)
      return std::nullopt;
    prog.result = *result;
    return prog;
  }

  /// The value at (b, i, j), or nothing (division by zero).
  std::optional<double> run(int64_t b, int64_t i, int64_t j) {
    regs = init;
    for (const Step &s : steps) {
      Reg &out = regs[s.out];
      auto x = [&](int k) { return regs[s.in[k]].i; };
      switch (s.kind) {
      case Kind::Index: out.i = s.extra == 0 ? b : s.extra == 1 ? i : j; break;
      case Kind::Copy: out = regs[s.in[0]]; break;
      case Kind::Add: out.i = x(0) + x(1); break;
      case Kind::Sub: out.i = x(0) - x(1); break;
      case Kind::Mul: out.i = x(0) * x(1); break;
      case Kind::Div:
      case Kind::Rem:
      case Kind::FloorDiv:
        if (x(1) == 0)
          return std::nullopt;
        out.i = s.kind == Kind::Div ? x(0) / x(1)
                : s.kind == Kind::Rem ? x(0) % x(1)
                                      : llvm::divideFloorSigned(x(0), x(1));
        break;
      case Kind::Min: out.i = std::min(x(0), x(1)); break;
      case Kind::Max: out.i = std::max(x(0), x(1)); break;
      case Kind::And: out.i = x(0) & x(1); break;
      case Kind::Or: out.i = x(0) | x(1); break;
      case Kind::Xor: out.i = x(0) ^ x(1); break;
      case Kind::Cmp: out.i = compare(arith::CmpIPredicate(s.extra), x(0), x(1)); break;
      case Kind::Select: out = x(0) ? regs[s.in[1]] : regs[s.in[2]]; break;
      case Kind::AddF: out.f = regs[s.in[0]].f + regs[s.in[1]].f; break;
      case Kind::Unsupported: return std::nullopt;
      }
    }
    return regs[result].f;
  }

  bool usesBatch = false;

private:
  enum class Kind { Index, Copy, Add, Sub, Mul, Div, Rem, FloorDiv, Min, Max,
                    And, Or, Xor, Cmp, Select, AddF, Unsupported };
  struct Reg {
    int64_t i;
    double f;
  };
  struct Step {
    Kind kind;
    SmallVector<int, 3> in;
    int out;
    int64_t extra;
  };

  static Kind kindOf(Operation *op) {
    return llvm::TypeSwitch<Operation *, Kind>(op)
        .Case([](linalg::IndexOp) { return Kind::Index; })
        .Case<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp, arith::ExtUIOp>(
            [](auto) { return Kind::Copy; })
        .Case([](arith::AddIOp) { return Kind::Add; })
        .Case([](arith::SubIOp) { return Kind::Sub; })
        .Case([](arith::MulIOp) { return Kind::Mul; })
        .Case<arith::DivSIOp, arith::DivUIOp>([](auto) { return Kind::Div; })
        .Case<arith::RemSIOp, arith::RemUIOp>([](auto) { return Kind::Rem; })
        .Case([](arith::FloorDivSIOp) { return Kind::FloorDiv; })
        .Case([](arith::MinSIOp) { return Kind::Min; })
        .Case([](arith::MaxSIOp) { return Kind::Max; })
        .Case([](arith::AndIOp) { return Kind::And; })
        .Case([](arith::OrIOp) { return Kind::Or; })
        .Case([](arith::XOrIOp) { return Kind::Xor; })
        .Case([](arith::CmpIOp) { return Kind::Cmp; })
        .Case([](arith::SelectOp) { return Kind::Select; })
        .Case([](arith::AddFOp) { return Kind::AddF; })
        .Default([](Operation *) { return Kind::Unsupported; });
  }

  static bool compare(arith::CmpIPredicate p, int64_t a, int64_t b) {
    using P = arith::CmpIPredicate;
    switch (p) {
    case P::eq: return a == b;
    case P::ne: return a != b;
    case P::slt: case P::ult: return a < b;
    case P::sle: case P::ule: return a <= b;
    case P::sgt: case P::ugt: return a > b;
    case P::sge: case P::uge: return a >= b;
    }
    return false;
  }

  DenseMap<Value, int> slot;
  SmallVector<Reg> init, regs;
  SmallVector<Step> steps;
  int result = 0;
};

/// The structure of a materialised [N, Sq, Skv] mask with a static shape:
/// a constant tensor, or an index-computed linalg.generic (evaluated; up to
/// 2^24 entries per [Sq, Skv] slice), the same in every slice.
std::optional<MaskForm> knownMaskForm(Value mask) {
  auto type = cast<RankedTensorType>(mask.getType());
  if (!type.hasStaticShape() || !isa<FloatType>(type.getElementType()))
    return std::nullopt;
  int64_t n = type.getDimSize(0), sq = type.getDimSize(1), skv = type.getDimSize(2);
  if (sq * skv > (int64_t(1) << 24) || sq * skv == 0)
    return std::nullopt;
  std::vector<double> slice(sq * skv);
  std::optional<MaskForm> form;
  DenseElementsAttr values;
  if (matchPattern(mask, m_Constant(&values))) {
    auto data = values.getValues<APFloat>();
    for (int64_t b = 0; b < (values.isSplat() ? 1 : n); ++b) {
      for (int64_t e = 0; e < sq * skv; ++e)
        slice[e] = data[values.isSplat() ? 0 : b * sq * skv + e].convertToDouble();
      std::optional<MaskForm> f = classifyMask(slice, sq, skv);
      if (!f || (form && (f->off != form->off || f->left != form->left ||
                          f->branches != form->branches)))
        return std::nullopt;
      form = f;
    }
    return form;
  }
  std::optional<IndexProgram> prog =
      IndexProgram::compile(mask.getDefiningOp<linalg::GenericOp>());
  if (!prog || prog->usesBatch) // a mask per batch or head is no structure
    return std::nullopt;
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = 0; j < skv; ++j) {
      std::optional<double> x = prog->run(0, i, j);
      if (!x)
        return std::nullopt;
      slice[i * skv + j] = *x;
    }
  return classifyMask(slice, sq, skv);
}

/// The input of a reduction over the last axis whose body is `Kind`: a
/// linalg.generic into [N, S], or a linalg.reduce (dimensions [2]), either
/// one possibly expanded back to [N, S, 1] (TOSA's keep-dims form).
template <typename... Kind>
Value reducedFrom(Value v) {
  if (auto expand = v.getDefiningOp<tensor::ExpandShapeOp>())
    if (expand.getReassociationIndices().size() == 2)
      v = expand.getSrc();
  if (auto reduce = v.getDefiningOp<linalg::ReduceOp>()) {
    auto yield = cast<linalg::YieldOp>(reduce.getCombiner().front().getTerminator());
    Operation *body = yield.getNumOperands() == 1 ? yield.getOperand(0).getDefiningOp() : nullptr;
    if (reduce.getDimensions() == ArrayRef<int64_t>{2} && reduce.getInputs().size() == 1 &&
        body && isa<Kind...>(body))
      return reduce.getInputs()[0];
    return Value();
  }
  auto g = v.getDefiningOp<linalg::GenericOp>();
  Operation *body = yielded(g);
  if (shaped(g, true) && body && isa<Kind...>(body) && g.getNumDpsInputs() == 1)
    return g.getDpsInputs()[0];
  return Value();
}

/// softmax over the last axis written out, as torch-mlir, ONNX importers and
/// tosa-to-linalg decompose it: m = max_j x; e = exp(x - m) (one generic or
/// two); s = sum_j e; p = e / s or e * (1 / s). Returns x, or null.
Value decomposedSoftmax(Value p) {
  auto div = p.getDefiningOp<linalg::GenericOp>();
  Operation *d = yielded(div);
  if (!shaped(div, false) || !d || div.getNumDpsInputs() != 2 ||
      !isArg(div, d->getOperand(0), 0) || !isArg(div, d->getOperand(1), 1))
    return Value();
  Value e = div.getDpsInputs()[0], sum = div.getDpsInputs()[1];
  if (isa<arith::MulFOp>(d)) { // e * reciprocal(s)
    auto rcp = sum.getDefiningOp<linalg::GenericOp>();
    Operation *r = yielded(rcp);
    if (!rcp || !r || !isa<arith::DivFOp>(r) || rcp.getNumDpsInputs() != 1 ||
        floatConstant(r->getOperand(0)) != 1.0 || !isArg(rcp, r->getOperand(1), 0))
      return Value();
    sum = rcp.getDpsInputs()[0];
  } else if (!isa<arith::DivFOp>(d)) {
    return Value();
  }
  if (reducedFrom<arith::AddFOp>(sum) != e)
    return Value();
  // e = exp(x - m): exp(sub) in one generic, or exp of a sub generic.
  auto expG = e.getDefiningOp<linalg::GenericOp>();
  Operation *exp = yielded(expG);
  if (!shaped(expG, false) || !exp || !isa<math::ExpOp>(exp))
    return Value();
  Value x, m;
  if (auto fused = exp->getOperand(0).getDefiningOp<arith::SubFOp>()) {
    if (expG.getNumDpsInputs() != 2 || !isArg(expG, fused.getLhs(), 0) ||
        !isArg(expG, fused.getRhs(), 1))
      return Value();
    x = expG.getDpsInputs()[0], m = expG.getDpsInputs()[1];
  } else {
    auto subG = expG.getDpsInputs()[0].getDefiningOp<linalg::GenericOp>();
    Operation *sub = yielded(subG);
    if (!isArg(expG, exp->getOperand(0), 0) || !shaped(subG, false) || !sub ||
        !isa<arith::SubFOp>(sub) || subG.getNumDpsInputs() != 2 ||
        !isArg(subG, sub->getOperand(0), 0) || !isArg(subG, sub->getOperand(1), 1))
      return Value();
    x = subG.getDpsInputs()[0], m = subG.getDpsInputs()[1];
  }
  if (reducedFrom<arith::MaximumFOp, arith::MaxNumFOp>(m) != x)
    return Value();
  return x;
}

/// Softcap: c * tanh(s / c) (or s * (1 / c)) in one element-wise generic.
std::optional<double> matchSoftcap(linalg::GenericOp g, Value &input) {
  if (!isElementwise(g, 1))
    return std::nullopt;
  auto outer = dyn_cast_or_null<arith::MulFOp>(yielded(g));
  if (!outer)
    return std::nullopt;
  auto tanh = outer.getLhs().getDefiningOp<math::TanhOp>();
  std::optional<double> c = floatConstant(outer.getRhs());
  if (!tanh) {
    tanh = outer.getRhs().getDefiningOp<math::TanhOp>();
    c = floatConstant(outer.getLhs());
  }
  if (!tanh || !c || !(*c > 0))
    return std::nullopt;
  Operation *inner = tanh.getOperand().getDefiningOp();
  if (!inner || !isArg(g, inner->getOperand(0), 0))
    return std::nullopt;
  std::optional<double> k = floatConstant(inner->getOperand(1));
  bool ok = k && ((isa<arith::DivFOp>(inner) && *k == *c) ||
                  (isa<arith::MulFOp>(inner) && std::abs(*k * *c - 1.0) < 1e-6));
  if (!ok)
    return std::nullopt;
  input = g.getDpsInputs()[0];
  return c;
}

/// A float cast (extf or truncf) as an element-wise generic: its input
/// (the fused op computes the softmax in f32 whatever the element type, so
/// casts around it are redundant), else `v`.
Value peelCast(Value v) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  Operation *op = yielded(g);
  if (isElementwise(g, 1) && op && isa<arith::ExtFOp, arith::TruncFOp>(op) &&
      isArg(g, op->getOperand(0), 0))
    return g.getDpsInputs()[0];
  return v;
}

/// A batched contraction out[b, i, j] = sum_r x * y with its loops in any
/// order: a linalg.batch_matmul (plain, or with indexing maps that
/// transpose an operand) or a linalg.generic whose body is acc + x * y.
/// x is read as [b, i, r] or, with xT, [b, r, i]; y as [b, r, j] or, with
/// yT, [b, j, r].
struct Contraction {
  Value x, y, init;
  bool xT = false, yT = false;
};

std::optional<Contraction> contractionOf(Operation *op) {
  auto l = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (!l || l.getNumDpsInputs() != 2 || l.getNumDpsInits() != 1 || l.getNumLoops() != 4 ||
      l.getNumReductionLoops() != 1)
    return std::nullopt;
  if (auto g = dyn_cast<linalg::GenericOp>(op)) {
    auto add = dyn_cast_or_null<arith::AddFOp>(yielded(g));
    if (!add)
      return std::nullopt;
    Value acc = add.getLhs(), prod = add.getRhs();
    if (!isArg(g, acc, 2))
      std::swap(acc, prod);
    auto mul = prod.getDefiningOp<arith::MulFOp>();
    if (!isArg(g, acc, 2) || !mul ||
        !((isArg(g, mul.getLhs(), 0) && isArg(g, mul.getRhs(), 1)) ||
          (isArg(g, mul.getLhs(), 1) && isArg(g, mul.getRhs(), 0))))
      return std::nullopt;
  } else if (!isa<linalg::BatchMatmulOp>(op)) {
    return std::nullopt;
  }
  // Each map: three loop dims.
  auto dims = [](AffineMap m) -> std::optional<std::array<unsigned, 3>> {
    if (m.getNumResults() != 3 || !m.isProjectedPermutation())
      return std::nullopt;
    return std::array<unsigned, 3>{m.getDimPosition(0), m.getDimPosition(1),
                                   m.getDimPosition(2)};
  };
  SmallVector<AffineMap> maps = l.getIndexingMapsArray();
  auto x = dims(maps[0]), y = dims(maps[1]), out = dims(maps[2]);
  if (!x || !y || !out)
    return std::nullopt;
  unsigned b = (*out)[0], i = (*out)[1], j = (*out)[2], r = 0;
  while (r < 4 && (r == b || r == i || r == j))
    ++r;
  if (l.getIteratorTypesArray()[r] != utils::IteratorType::reduction || (*x)[0] != b ||
      (*y)[0] != b)
    return std::nullopt;
  Contraction c{l.getDpsInputOperand(0)->get(), l.getDpsInputOperand(1)->get(),
                l.getDpsInitOperand(0)->get()};
  if ((*x)[1] == r && (*x)[2] == i)
    c.xT = true;
  else if ((*x)[1] != i || (*x)[2] != r)
    return std::nullopt;
  if ((*y)[1] == j && (*y)[2] == r)
    c.yT = true;
  else if ((*y)[1] != r || (*y)[2] != j)
    return std::nullopt;
  return c;
}

/// t = linalg.transpose(x) with permutation [0, 2, 1]: x, else null.
Value untransposed(Value t) {
  auto transpose = t.getDefiningOp<linalg::TransposeOp>();
  return transpose && transpose.getPermutation() == ArrayRef<int64_t>{0, 2, 1}
             ? transpose.getInput()
             : Value();
}

/// A contraction's init is zero-filled.
bool zeroFilled(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && floatConstant(fill.getInputs()[0]) == 0.0;
}


/// A mask built from index arithmetic: a linalg.generic without inputs
/// whose body selects 0 or -inf (or the lowest float) from comparisons of
/// j = linalg.index 2 with i = linalg.index 1 plus a constant: one, or two
/// joined by `and` (visible when true) or `or` (masked when true). Returns
/// the bounds of "visible iff i + lo <= j <= i + hi" (hi required: causal;
/// lo: a sliding window).
struct IndexBounds {
  int64_t hi;
  std::optional<int64_t> lo;
};

/// The predicate p' with (y p' x) == (x p y).
arith::CmpIPredicate swapped(arith::CmpIPredicate p) {
  using P = arith::CmpIPredicate;
  switch (p) {
  case P::slt: return P::sgt;
  case P::sle: return P::sge;
  case P::sgt: return P::slt;
  case P::sge: return P::sle;
  case P::ult: return P::ugt;
  case P::ule: return P::uge;
  case P::ugt: return P::ult;
  case P::uge: return P::ule;
  default: return p;
  }
}

std::optional<IndexBounds> indexMaskBounds(Value mask) {
  using P = arith::CmpIPredicate;
  auto g = mask.getDefiningOp<linalg::GenericOp>();
  if (!shaped(g, false) || g.getNumDpsInputs() != 0)
    return std::nullopt;
  auto select = dyn_cast_or_null<arith::SelectOp>(yielded(g));
  if (!select)
    return std::nullopt;
  std::optional<double> t = floatConstant(select.getTrueValue()),
                        f = floatConstant(select.getFalseValue());
  if (!t || !f)
    return std::nullopt;
  bool visibleWhenTrue = *t == 0.0 && *f <= -1e30;
  bool maskedWhenTrue = *f == 0.0 && *t <= -1e30;
  if (!visibleWhenTrue && !maskedWhenTrue)
    return std::nullopt;
  // The comparisons: `and` of visibility tests, or `or` of masking tests.
  SmallVector<arith::CmpIOp, 2> tests;
  Value cond = select.getCondition();
  Operation *join = cond.getDefiningOp();
  if (join && ((visibleWhenTrue && isa<arith::AndIOp>(join)) ||
               (maskedWhenTrue && isa<arith::OrIOp>(join)))) {
    for (Value x : join->getOperands())
      tests.push_back(x.getDefiningOp<arith::CmpIOp>());
  } else {
    tests.push_back(cond.getDefiningOp<arith::CmpIOp>());
  }
  auto indexPlus = [](Value v) -> std::optional<std::pair<int64_t, int64_t>> {
    int64_t c = 0;
    if (auto add = v.getDefiningOp<arith::AddIOp>()) {
      IntegerAttr k;
      if (!matchPattern(add.getRhs(), m_Constant(&k)))
        return std::nullopt;
      c = k.getInt();
      v = add.getLhs();
    } else if (auto sub = v.getDefiningOp<arith::SubIOp>()) {
      IntegerAttr k;
      if (!matchPattern(sub.getRhs(), m_Constant(&k)))
        return std::nullopt;
      c = -k.getInt();
      v = sub.getLhs();
    }
    auto index = v.getDefiningOp<linalg::IndexOp>();
    if (!index)
      return std::nullopt;
    return std::make_pair(int64_t(index.getDim()), c);
  };
  std::optional<int64_t> hi, lo;
  for (arith::CmpIOp cmp : tests) {
    if (!cmp)
      return std::nullopt;
    auto lhs = indexPlus(cmp.getLhs()), rhs = indexPlus(cmp.getRhs());
    if (!lhs || !rhs)
      return std::nullopt;
    P pred = cmp.getPredicate();
    if (lhs->first == 1 && rhs->first == 2) { // i + c ? j  ->  j ?' i + c
      std::swap(lhs, rhs);
      pred = swapped(pred);
    }
    if (lhs->first != 2 || rhs->first != 1 || lhs->second != 0)
      return std::nullopt;
    if (maskedWhenTrue) // masked when the test holds: visible when it fails
      pred = arith::invertPredicate(pred);
    int64_t c = rhs->second;
    switch (pred) {
    case P::sle: case P::ule: hi = c; break;     // j <= i + c
    case P::slt: case P::ult: hi = c - 1; break; // j < i + c
    case P::sge: case P::uge: lo = c; break;     // j >= i + c
    case P::sgt: case P::ugt: lo = c + 1; break; // j > i + c
    default: return std::nullopt;
    }
  }
  if (!hi || (lo && *lo > *hi))
    return std::nullopt;
  return IndexBounds{*hi, lo};
}

/// A key-padding mask built from per-batch lengths: a linalg.generic over
/// the scores [N, Sq, Skv] whose one input is lengths [B] (read at d0, or
/// d0 floordiv H when N = B * H heads) and whose body selects 0 or -inf
/// from j < len (or j >= len, masked when true), j = linalg.index 2. Returns
/// lengths, or null.
Value lengthsMask(Value mask, int64_t heads) {
  using P = arith::CmpIPredicate;
  auto g = mask.getDefiningOp<linalg::GenericOp>();
  if (!shaped(g, false) || g.getNumDpsInputs() != 1)
    return Value();
  Value lengths = g.getDpsInputs()[0];
  auto type = dyn_cast<RankedTensorType>(lengths.getType());
  int64_t n = cast<RankedTensorType>(mask.getType()).getDimSize(0);
  if (!type || type.getRank() != 1 || !type.getElementType().isSignlessInteger() ||
      (!ShapedType::isDynamic(n) && !type.isDynamicDim(0) && type.getDimSize(0) * heads != n) ||
      (type.getElementType().getIntOrFloatBitWidth() != 32 &&
       type.getElementType().getIntOrFloatBitWidth() != 64))
    return Value();
  MLIRContext *ctx = g.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx);
  AffineMap expected = AffineMap::get(3, 0, heads == 1 ? d0 : d0.floorDiv(heads));
  if (g.getIndexingMapsArray()[0] != expected)
    return Value();
  auto select = dyn_cast_or_null<arith::SelectOp>(yielded(g));
  if (!select)
    return Value();
  std::optional<double> t = floatConstant(select.getTrueValue()),
                        f = floatConstant(select.getFalseValue());
  if (!t || !f)
    return Value();
  bool visibleWhenTrue = *t == 0.0 && *f <= -1e30;
  bool maskedWhenTrue = *f == 0.0 && *t <= -1e30;
  auto cmp = select.getCondition().getDefiningOp<arith::CmpIOp>();
  if ((!visibleWhenTrue && !maskedWhenTrue) || !cmp)
    return Value();
  // Through integer casts: the key index and the block argument of lengths.
  auto peel = [](Value v) {
    while (Operation *op = v.getDefiningOp()) {
      if (!isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp>(op))
        break;
      v = op->getOperand(0);
    }
    return v;
  };
  auto isKey = [](Value v) {
    auto index = v.getDefiningOp<linalg::IndexOp>();
    return index && index.getDim() == 2;
  };
  Value lhs = peel(cmp.getLhs()), rhs = peel(cmp.getRhs());
  P pred = cmp.getPredicate();
  if (isKey(rhs) && isArg(g, lhs, 0)) { // len ? j  ->  j ?' len
    std::swap(lhs, rhs);
    pred = swapped(pred);
  }
  if (!isKey(lhs) || !isArg(g, rhs, 0))
    return Value();
  if (maskedWhenTrue)
    pred = arith::invertPredicate(pred);
  return pred == P::slt || pred == P::ult ? lengths : Value();
}

/// How N = B * Hq splits, from how the graph made Q, K and V [N, S, D]:
/// K/V heads copied for grouped-query attention (`unexpand` gives
/// [B, Hkv, S, D] and the copies), or heads collapsed into the batch
/// (`split` gives [B, H, S, D]). Sets batch, heads, key4/value4, group; a
/// near-miss message, else "".
std::string findHeads(Chain &chain, function_ref<Value(Value, int64_t &)> unexpand,
                      function_ref<Value(Value)> split) {
  // Grouped-query attention written as copies of the K/V heads: attend to
  // the heads themselves.
  int64_t gk = 0, gv = 0;
  Value k4 = unexpand(chain.key, gk), v4 = unexpand(chain.value, gv);
  if (bool(k4) != bool(v4) || gk != gv)
    return "keys and values are expanded to different head counts";
  chain.batch = cast<RankedTensorType>(chain.query.getType()).getDimSize(0);
  if (k4) {
    auto q = cast<RankedTensorType>(chain.query.getType());
    auto k = cast<RankedTensorType>(k4.getType()).getShape();
    if (!q.hasStaticShape() || ShapedType::isDynamic(k[0]) || ShapedType::isDynamic(k[1]) ||
        q.getDimSize(0) != k[0] * k[1] * gk)
      return "the query batch does not match the expanded key heads";
    chain.key4 = k4, chain.value4 = v4, chain.group = gk;
    chain.batch = k[0], chain.heads = k[1] * gk;
  } else if (Value q4 = split(chain.query), k4 = split(chain.key),
             v4 = split(chain.value);
             q4 && k4 && v4) {
    // Heads collapsed into the batch: [B, H, S, D] for all three.
    auto bh = [](Value x) { return cast<RankedTensorType>(x.getType()).getShape().take_front(2); };
    if (bh(k4) == bh(q4) && bh(v4) == bh(q4)) {
      chain.key4 = k4, chain.value4 = v4;
      chain.batch = bh(q4)[0], chain.heads = bh(q4)[1];
    }
  }
  return "";
}

/// Matches softmax(...) . V ending in `pv`; on a near-miss returns the
/// step that failed (for a remark), else "" with `chain` filled.
std::string match(Contraction pv, Chain &chain) {
  Value probs = peelCast(pv.x);
  auto softmax = probs.getDefiningOp<linalg::SoftmaxOp>();
  Value scores;
  if (softmax) {
    if (softmax.getDimension() != 2)
      return "softmax is over axis " + std::to_string(softmax.getDimension()) +
             ", not the key axis 2";
    scores = softmax.getInput();
  } else if (Value x = decomposedSoftmax(probs)) {
    scores = x;
  } else {
    auto g = pv.x.getDefiningOp<linalg::GenericOp>();
    if (g && llvm::any_of(g.getDpsInputs(), [](Value x) {
          return x.getDefiningOp<linalg::SoftmaxOp>();
        }))
      return "the probabilities pass through a linalg.generic after the softmax";
    return "not-attention";
  }
  if (pv.xT)
    return "P V reads the probabilities transposed";
  if (!zeroFilled(pv.init))
    return "P V accumulates into a tensor that is not zero-filled";
  chain.value = pv.yT ? untransposed(pv.y) : pv.y;
  if (!chain.value)
    return "P V reads V transposed ([N, Dv, Skv]) from a tensor that is not a "
           "linalg.transpose of V with permutation [0, 2, 1]";
  // Optional additive mask, then optional scale, in either order of
  // appearance the graph uses: s -> (scale) -> (+ mask) -> softmax.
  if (auto add = scores.getDefiningOp<linalg::GenericOp>();
      add && isElementwise(add, 2) && bodyOp(add) && isa<arith::AddFOp>(bodyOp(add))) {
    chain.mask = add.getDpsInputs()[1];
    scores = add.getDpsInputs()[0];
  }
  // Softcap (before any mask, after the scale).
  if (auto cap = scores.getDefiningOp<linalg::GenericOp>()) {
    Value input;
    if (std::optional<double> c = matchSoftcap(cap, input)) {
      chain.softcap = c;
      scores = input;
    }
  }
  if (auto mul = scores.getDefiningOp<linalg::GenericOp>(); mul && !contractionOf(mul)) {
    Value input;
    std::optional<double> scale = matchScale(mul, input);
    if (!scale)
      return "the scores pass through a linalg.generic that is neither a scale "
             "by a constant, a softcap nor an additive mask";
    chain.scale = scale;
    scores = input;
  }
  scores = peelCast(scores);
  // A scale on Q or K (before or after K's transpose) multiplies the op's.
  auto peelScale = [&](Value &x) {
    Value input;
    if (std::optional<double> c = matchScale(x.getDefiningOp<linalg::GenericOp>(), input)) {
      chain.scale = chain.scale.value_or(1.0) * *c;
      x = input;
    }
  };
  // Q K^T in any loop order: K read as it is ([N, Skv, D], the transpose
  // folded into the maps) or as K^T, a linalg.transpose of K.
  std::optional<Contraction> qk = contractionOf(scores.getDefiningOp());
  if (!qk || qk->xT)
    return "the softmax input is not Q K^T (a linalg.batch_matmul or a "
           "contraction generic reading Q as [N, Sq, D])";
  if (!zeroFilled(qk->init))
    return "Q K^T accumulates into a tensor that is not zero-filled";
  chain.query = qk->x;
  chain.key = qk->y;
  if (!qk->yT) {
    peelScale(chain.key);
    chain.key = untransposed(chain.key);
    if (!chain.key)
      return "K^T is not a linalg.transpose of K with permutation [0, 2, 1]";
  }
  peelScale(chain.query);
  peelScale(chain.key);
  if (std::string e = findHeads(chain, unexpandHeads, splitFrom); !e.empty())
    return e;
  if (chain.mask) {
    auto type = cast<RankedTensorType>(chain.mask.getType());
    // Causal at offset c: bottom-right when c = Skv - Sq, else an offset.
    auto place = [&](int64_t c) {
      chain.causal = true;
      if (type.hasStaticShape() && c == type.getDimSize(2) - type.getDimSize(1))
        chain.bottomRight = true;
      else if (c != 0)
        chain.queryOffset = c;
      chain.mask = Value();
    };
    if (std::optional<IndexBounds> bounds = indexMaskBounds(chain.mask)) {
      if (bounds->lo)
        chain.windowLeft = bounds->hi - *bounds->lo;
      place(bounds->hi);
    } else if (std::optional<MaskForm> form = knownMaskForm(chain.mask)) {
      chain.windowLeft = form->left;
      chain.branches = form->branches;
      place(form->off);
    } else if (Value lengths = lengthsMask(chain.mask, chain.heads)) {
      chain.kvLengths = lengths;
      chain.mask = Value();
    } else if (!chain.group && chain.heads > 1 && (lengths = lengthsMask(chain.mask, 1))) {
      // Lengths per [B*H] entry: keep the heads in the batch.
      chain.kvLengths = lengths;
      chain.mask = Value();
      chain.key4 = chain.value4 = Value();
      chain.batch = cast<RankedTensorType>(chain.query.getType()).getDimSize(0);
      chain.heads = 1;
    }
  }
  return "";
}

//===----------------------------------------------------------------------===//
// TOSA: the same chain in tosa ops, matched without converting the graph.
//===----------------------------------------------------------------------===//

/// The value of a float splat constant (tosa.const or arith.constant).
std::optional<double> splatValue(Value v) {
  DenseElementsAttr values;
  if (!matchPattern(v, m_Constant(&values)) || !values.isSplat() ||
      !isa<FloatType>(values.getElementType()))
    return std::nullopt;
  return values.getSplatValue<APFloat>().convertToDouble();
}

/// x * c or x * reciprocal(c) by tosa.mul (either operand order) with a
/// splat constant c: returns the factor, with x.
std::optional<double> tosaScale(Value v, Value &x) {
  auto mul = v.getDefiningOp<tosa::MulOp>();
  if (!mul)
    return std::nullopt;
  for (auto [a, c] : {std::pair<Value, Value>{mul.getInput1(), mul.getInput2()},
                      {mul.getInput2(), mul.getInput1()}}) {
    if (std::optional<double> f = splatValue(c)) {
      x = a;
      return f;
    }
    if (auto rcp = c.getDefiningOp<tosa::ReciprocalOp>())
      if (std::optional<double> f = splatValue(rcp.getInput1()); f && *f != 0.0) {
        x = a;
        return 1.0 / *f;
      }
  }
  return std::nullopt;
}

/// A float-to-float tosa.cast: its input, else `v`.
Value tosaPeelCast(Value v) {
  auto cast = v.getDefiningOp<tosa::CastOp>();
  if (cast && isa<FloatType>(getElementTypeOrSelf(cast.getInput().getType())) &&
      isa<FloatType>(getElementTypeOrSelf(cast.getType())))
    return cast.getInput();
  return v;
}

/// softmax over axis 2 as TOSA writes it: e * reciprocal(reduce_sum(e)),
/// e = exp(x - reduce_max(x)) or exp(x). Returns x, or null.
Value tosaSoftmax(Value p) {
  auto mul = p.getDefiningOp<tosa::MulOp>();
  if (!mul)
    return Value();
  Value e = mul.getInput1();
  auto rcp = mul.getInput2().getDefiningOp<tosa::ReciprocalOp>();
  if (!rcp) {
    e = mul.getInput2();
    rcp = mul.getInput1().getDefiningOp<tosa::ReciprocalOp>();
  }
  auto sum = rcp ? rcp.getInput1().getDefiningOp<tosa::ReduceSumOp>() : nullptr;
  auto exp = e.getDefiningOp<tosa::ExpOp>();
  if (!sum || sum.getAxis() != 2 || sum.getInput() != e || !exp)
    return Value();
  Value x = exp.getInput1();
  if (auto sub = x.getDefiningOp<tosa::SubOp>()) {
    auto max = sub.getInput2().getDefiningOp<tosa::ReduceMaxOp>();
    if (!max || max.getAxis() != 2 || max.getInput() != sub.getInput1())
      return Value();
    x = sub.getInput1();
  }
  return x;
}

/// A tosa.matmul whose zero points are 0.
bool plainMatmul(tosa::MatMulOp mm) {
  return splatValue(mm.getAZp()) == 0.0 && splatValue(mm.getBZp()) == 0.0;
}

/// x3 = tosa.reshape(x4 [B, H, S, D]) to [B*H, S, D] (heads folded into
/// the batch) with static B and H: x4.
Value tosaSplitFrom(Value x3) {
  auto reshape = x3.getDefiningOp<tosa::ReshapeOp>();
  if (!reshape)
    return Value();
  auto from = dyn_cast<RankedTensorType>(reshape.getInput1().getType());
  auto to = cast<ShapedType>(x3.getType());
  if (!from || from.getRank() != 4 || !to.hasRank() || to.getRank() != 3 ||
      ShapedType::isDynamic(from.getDimSize(0)) || ShapedType::isDynamic(from.getDimSize(1)) ||
      from.getShape().drop_front(2) != to.getShape().drop_front(1) ||
      to.getDimSize(0) != from.getDimSize(0) * from.getDimSize(1))
    return Value();
  return reshape.getInput1();
}

/// x3 = reshape(tile(reshape(x4 [B, Hkv, S, D]) to [B, Hkv, 1, S, D],
/// multiples [1, 1, G, 1, 1])) to [B*Hkv*G, S, D], possibly through a
/// [B, Hkv*G, S, D] reshape (K/V heads copied for grouped-query attention,
/// as repeat_interleave lowers to TOSA): x4 and G.
Value tosaUnexpandHeads(Value x3, int64_t &group) {
  auto reshape = x3.getDefiningOp<tosa::ReshapeOp>();
  if (!reshape)
    return Value();
  Value x = reshape.getInput1();
  if (auto inner = x.getDefiningOp<tosa::ReshapeOp>())
    x = inner.getInput1();
  auto tile = x.getDefiningOp<tosa::TileOp>();
  SmallVector<int64_t> multiples;
  if (!tile || !tosa::getConstShapeValues(tile.getMultiples().getDefiningOp(), multiples) ||
      multiples.size() != 5 || multiples[0] != 1 || multiples[1] != 1 || multiples[3] != 1 ||
      multiples[4] != 1)
    return Value();
  auto unit = tile.getInput1().getDefiningOp<tosa::ReshapeOp>();
  if (!unit)
    return Value();
  auto five = cast<ShapedType>(unit.getType());
  auto from = dyn_cast<RankedTensorType>(unit.getInput1().getType());
  if (!from || from.getRank() != 4 || !five.hasRank() || five.getRank() != 5 ||
      five.getDimSize(2) != 1 || five.getShape().take_front(2) != from.getShape().take_front(2) ||
      five.getShape().drop_front(3) != from.getShape().drop_front(2))
    return Value();
  auto to = cast<ShapedType>(x3.getType());
  if (!to.hasRank() || to.getRank() != 3 || from.isDynamicDim(0) || from.isDynamicDim(1) ||
      to.getDimSize(0) != from.getDimSize(0) * from.getDimSize(1) * multiples[2])
    return Value();
  group = multiples[2];
  return unit.getInput1();
}

/// Matches softmax(...) . V ending in the tosa.matmul `pv` (as `match`).
std::string matchTosa(tosa::MatMulOp pv, Chain &chain) {
  Value scores = tosaSoftmax(tosaPeelCast(pv.getA()));
  if (!scores) {
    // x * reciprocal(reduce_sum(...)) over another axis: a near miss.
    if (auto mul = tosaPeelCast(pv.getA()).getDefiningOp<tosa::MulOp>())
      for (Value x : {mul.getInput1(), mul.getInput2()})
        if (auto rcp = x.getDefiningOp<tosa::ReciprocalOp>())
          if (auto sum = rcp.getInput1().getDefiningOp<tosa::ReduceSumOp>(); sum && sum.getAxis() != 2)
            return "softmax is over axis " + std::to_string(sum.getAxis()) + ", not the key axis 2";
    return "not-attention";
  }
  if (!plainMatmul(pv))
    return "P V has nonzero zero points";
  chain.value = pv.getB();
  scores = tosaPeelCast(scores);
  if (auto add = scores.getDefiningOp<tosa::AddOp>()) {
    chain.mask = add.getInput2();
    scores = add.getInput1();
  }
  // Softcap: c * tanh(s * (1 / c)).
  Value inner;
  if (std::optional<double> c = tosaScale(scores, inner))
    if (auto tanh = inner.getDefiningOp<tosa::TanhOp>()) {
      Value s;
      std::optional<double> k = tosaScale(tanh.getInput(), s);
      if (!k || !(*c > 0) || std::abs(*k * *c - 1.0) > 1e-6)
        return "the scores pass through a tanh that is not a softcap c * tanh(s / c)";
      chain.softcap = c;
      scores = s;
    }
  Value input;
  if (std::optional<double> c = tosaScale(scores, input)) {
    chain.scale = c;
    scores = input;
  }
  scores = tosaPeelCast(scores);
  auto qk = scores.getDefiningOp<tosa::MatMulOp>();
  if (!qk || !plainMatmul(qk))
    return "the softmax input is not Q K^T (a tosa.matmul with zero points 0)";
  auto peelScale = [&](Value &x) {
    Value in;
    if (std::optional<double> c = tosaScale(x, in)) {
      chain.scale = chain.scale.value_or(1.0) * *c;
      x = in;
    }
  };
  Value kt = qk.getB();
  peelScale(kt);
  auto transpose = kt.getDefiningOp<tosa::TransposeOp>();
  if (!transpose || transpose.getPerms() != ArrayRef<int32_t>{0, 2, 1})
    return "K^T is not a tosa.transpose of K with perms [0, 2, 1]";
  chain.query = qk.getA();
  chain.key = transpose.getInput1();
  peelScale(chain.query);
  peelScale(chain.key);
  for (Value x : {chain.query, chain.key, chain.value})
    if (!cast<ShapedType>(x.getType()).hasRank())
      return "Q, K or V is unranked";
  if (std::string e = findHeads(chain, tosaUnexpandHeads, tosaSplitFrom); !e.empty())
    return e;
  if (chain.mask) {
    int64_t n = cast<ShapedType>(chain.query.getType()).getDimSize(0);
    auto type = dyn_cast<RankedTensorType>(chain.mask.getType());
    if (!type || type.getRank() != 3 || (type.getDimSize(0) != 1 && type.getDimSize(0) != n))
      return "the additive mask is not [N or 1, Sq, Skv]";
    if (std::optional<MaskForm> form = knownMaskForm(chain.mask)) {
      chain.causal = true;
      chain.windowLeft = form->left;
      chain.branches = form->branches;
      if (form->off == type.getDimSize(2) - type.getDimSize(1))
        chain.bottomRight = true;
      else if (form->off != 0)
        chain.queryOffset = form->off;
      chain.mask = Value();
    }
  }
  return "";
}

/// [N, S, D] -> [N, 1, S, D].
Value addHeadDim(ImplicitLocOpBuilder &b, Value x) {
  auto t = cast<RankedTensorType>(x.getType());
  auto shape = t.getShape();
  auto to = RankedTensorType::get({shape[0], 1, shape[1], shape[2]}, t.getElementType());
  SmallVector<ReassociationIndices> groups = {{0, 1}, {2}, {3}};
  return tensor::ExpandShapeOp::create(b, to, x, groups);
}

/// [B*H, S, D] -> [B, H, S, D].
Value splitHeads(ImplicitLocOpBuilder &b, Value x, int64_t batch, int64_t heads) {
  auto t = cast<RankedTensorType>(x.getType());
  auto shape = t.getShape();
  auto to = RankedTensorType::get({batch, heads, shape[1], shape[2]}, t.getElementType());
  SmallVector<ReassociationIndices> groups = {{0, 1}, {2}, {3}};
  return tensor::ExpandShapeOp::create(b, to, x, groups);
}

void raise(Operation *pv, const Chain &chain) {
  ImplicitLocOpBuilder b(pv->getLoc(), pv);
  // [N, S, D] as [B, Hq, S, D] (a reshape that cancels against the graph's
  // head split, if any) over [B, Hkv, S, D] K/V, or as [N, 1, S, D].
  int64_t batch = chain.batch, heads = chain.heads;
  Value q = splitHeads(b, chain.query, batch, heads);
  Value k = chain.key4 ? chain.key4 : addHeadDim(b, chain.key);
  Value v = chain.value4 ? chain.value4 : addHeadDim(b, chain.value);
  // A mask over [N, Sq, Skv], or broadcast from [1, Sq, Skv].
  Value mask;
  if (chain.mask)
    mask = cast<RankedTensorType>(chain.mask.getType()).getDimSize(0) == 1 && batch * heads != 1
               ? addHeadDim(b, chain.mask)
               : splitHeads(b, chain.mask, batch, heads);
  auto resultType = cast<RankedTensorType>(pv->getResult(0).getType());
  auto shape = resultType.getShape();
  auto outType = RankedTensorType::get({batch, heads, shape[1], shape[2]},
                                       resultType.getElementType());
  FloatAttr scale = chain.scale ? b.getF64FloatAttr(*chain.scale) : FloatAttr();
  FloatAttr softcap = chain.softcap ? b.getF64FloatAttr(*chain.softcap) : FloatAttr();
  auto op = AttentionOp::create(
      b, outType, Type(), Type(), q, k, v, mask, chain.kvLengths, Value(), Value(), scale, softcap,
      chain.causal ? b.getUnitAttr() : UnitAttr(),
      chain.windowLeft ? b.getDenseI64ArrayAttr({*chain.windowLeft, 0}) : DenseI64ArrayAttr(),
      chain.branches ? b.getDenseI64ArrayAttr({chain.branches->first, chain.branches->second})
                     : DenseI64ArrayAttr(),
      chain.bottomRight ? AlignmentAttr::get(b.getContext(), Alignment::BottomRight)
                        : AlignmentAttr(),
      chain.queryOffset ? b.getI64IntegerAttr(*chain.queryOffset) : IntegerAttr(),
      DenseI64ArrayAttr(), DenseI64ArrayAttr(), LayoutAttr(), DenseI64ArrayAttr(),
      TilePlanAttr(), DenseI64ArrayAttr());
  if (!chain.scale) // batch_matmul has no scale: the op's default would add one
    op.setScaleAttr(b.getF64FloatAttr(1.0));
  SmallVector<ReassociationIndices> groups = {{0, 1}, {2}, {3}};
  Value out = tensor::CollapseShapeOp::create(b, resultType, op.getOutput(), groups);
  pv->getResult(0).replaceAllUsesWith(out);
  pv->erase();
}

struct Raise : impl::AttnRaiseBase<Raise> {
  void runOnOperation() override {
    // P V: a batch_matmul, the same contraction written as a generic, or a
    // tosa.matmul.
    SmallVector<std::pair<Operation *, std::optional<Contraction>>> candidates;
    getOperation()->walk([&](Operation *op) {
      std::optional<Contraction> c = contractionOf(op);
      if (c || isa<tosa::MatMulOp>(op))
        candidates.push_back({op, c});
    });
    for (auto [pv, contraction] : candidates) {
      Chain chain;
      std::string failure = contraction ? match(*contraction, chain)
                                        : matchTosa(cast<tosa::MatMulOp>(pv), chain);
      if (failure == "not-attention")
        continue;
      if (!failure.empty()) {
        pv->emitRemark() << "attn-raise: not raised: " << failure;
        continue;
      }
      raise(pv, chain);
    }
  }
};
} // namespace
} // namespace mlir::attn
