//===- AttentionConfig.cpp - One attention kernel, without MLIR -----------===//

#include "runtime/AttentionConfig.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace attn::rt {

namespace {
std::string str(int64_t x) { return std::to_string(x); }

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

std::string pairString(const std::pair<int64_t, int64_t> &p) {
  return "(" + str(p.first) + ", " + str(p.second) + ")";
}

std::string hexBits(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(bits));
  return buf;
}

/// Sets `out` to the value of `all` whose nameOf is `name`.
template <typename E, size_t N>
bool parseByName(const std::string &name, const E (&all)[N], const char *(*nameOf)(E),
                 E &out) {
  for (E c : all)
    if (name == nameOf(c)) {
      out = c;
      return true;
    }
  return false;
}

bool inF32Range(double x) {
  double a = std::fabs(x);
  return a == 0 || (a >= kF32ComputeMin && a <= kF32ComputeMax);
}
} // namespace

const char *targetName(Target t) {
  switch (t) {
  case Target::CPU: return "cpu";
  case Target::SM80: return "sm_80";
  case Target::SM90: return "sm_90";
  }
  return "?";
}

bool parseTarget(const std::string &name, Target &t) {
  const Target all[] = {Target::CPU, Target::SM80, Target::SM90};
  return parseByName(name, all, targetName, t);
}

int targetArch(Target t) {
  return t == Target::SM80 ? 80 : t == Target::SM90 ? 90 : 0;
}

//===-- AttentionSemantics ------------------------------------------------===//

double AttentionSemantics::effectiveScale(int64_t headDim) const {
  if (scale)
    return *scale;
  return headDim > 0 ? 1.0 / std::sqrt(double(headDim)) : 1.0;
}

int64_t AttentionSemantics::offset(int64_t seqQ, int64_t validKeys,
                                   std::optional<int64_t> batchOffset) const {
  if (batchOffset)
    return *batchOffset;
  if (queryOffset)
    return *queryOffset;
  return bottomRight ? validKeys - seqQ : 0;
}

int64_t AttentionSemantics::position(int64_t i, int64_t off) const {
  int64_t p = i + off;
  if (!compressedKeys)
    return p;
  auto [l, d] = *compressedKeys;
  int64_t x = p - (l - 1); // floor division, also for x < 0
  return x >= 0 ? x / d : -((-x + d - 1) / d);
}

bool AttentionSemantics::visible(int64_t pos, int64_t key) const {
  // Differences of two positions never overflow; sums with a side could.
  int64_t ahead = key - pos; // > 0: the key lies after the query
  if ((causal || branches) && ahead > 0)
    return false;
  if (branches) {
    const auto [P, N] = *branches;
    // Past the shared prefix, each branch sees its own residue class only.
    if (pos >= P && key >= P && (key - P) % N != (pos - P) % N)
      return false;
  }
  if (window) {
    const auto [left, right] = *window;
    if (left >= 0 && -ahead > left)
      return false;
    if (right >= 0 && ahead > right)
      return false;
  }
  return true;
}

std::string AttentionSemantics::validate() const {
  if (scale && !std::isfinite(*scale))
    return "scale must be finite, got " + num(*scale);
  if (!(softcap >= 0) || !std::isfinite(softcap))
    return "softcap must be 0 (off) or positive and finite, got " +
           num(softcap);
  if (window && (window->first < -1 || window->second < -1))
    return "window sides must be >= 0 or -1 (unbounded), got " +
           pairString(*window);
  if (branches && (branches->first < 0 || branches->second < 1))
    return "branches need a prefix P >= 0 and N >= 1 branches, got " +
           pairString(*branches);
  if (compressedKeys &&
      (compressedKeys->first < 1 || compressedKeys->second < 1 || !causal ||
       window || branches))
    return "compressed keys need a block l >= 1, a stride d >= 1 and the "
           "causal mask alone, got (l, d) = " + pairString(*compressedKeys);
  if (blocks && (blocks->first < 1 || blocks->second < 1))
    return "block sizes [q_block, kv_block] must be positive, got " +
           pairString(*blocks);
  if (windowBranch && (!blocks || window || branches || compressedKeys))
    return "a window branch is the block-sparse attention's second output: it "
           "needs block sizes and no window, branches or compressed keys of "
           "its own";
  if (windowBranch && (windowBranch->first < -1 || windowBranch->second < -1))
    return "window branch sides must be >= 0 or -1 (unbounded), got " +
           pairString(*windowBranch);
  return "";
}

std::string AttentionSemantics::validateForF32() const {
  auto range = [](const char *what, double x) {
    return std::string(what) + " " + num(x) +
           " is outside the range f32 kernels compute in (0 or a magnitude "
           "in [2^-60, 2^60]); fold part of it into the inputs";
  };
  if (scale && !inF32Range(*scale))
    return range("scale", *scale);
  if (!inF32Range(softcap))
    return range("softcap", softcap);
  return "";
}

void AttentionSemantics::normalize() {
  for (auto *w : {&window, &windowBranch})
    if (*w)
      for (int64_t *side : {&(*w)->first, &(*w)->second})
        if (*side > kMaxWindowSide)
          *side = -1;
}

AttentionSemantics AttentionSemantics::windowBranchSemantics() const {
  AttentionSemantics s = *this;
  s.window = windowBranch;
  s.windowBranch.reset();
  s.blocks.reset();
  return s;
}

//===-- AttentionConfig ---------------------------------------------------===//

const char *scoreMethodName(ScoreMethod m) {
  switch (m) {
  case ScoreMethod::SoftmaxProb: return "softmax_prob";
  case ScoreMethod::SoftmaxProbMax: return "softmax_prob_max";
  case ScoreMethod::MeanKey: return "mean_key";
  case ScoreMethod::KeyBound: return "key_bound";
  }
  return "?";
}

bool parseKernelScoreMethod(const std::string &name, ScoreMethod &m) {
  const ScoreMethod all[] = {ScoreMethod::SoftmaxProb, ScoreMethod::SoftmaxProbMax,
                             ScoreMethod::MeanKey};
  return parseByName(name, all, scoreMethodName, m);
}

const char *blockHeadsName(BlockHeads h) {
  switch (h) {
  case BlockHeads::Shared: return "shared";
  case BlockHeads::KeyHead: return "kv";
  case BlockHeads::QueryHead: return "q";
  }
  return "?";
}

bool parseBlockHeads(const std::string &name, BlockHeads &h) {
  const BlockHeads all[] = {BlockHeads::Shared, BlockHeads::KeyHead, BlockHeads::QueryHead};
  return parseByName(name, all, blockHeadsName, h);
}

std::optional<BlockHeads> blockHeadsFor(int64_t hsel, int64_t hq, int64_t hkv) {
  if (hsel == hkv)
    return BlockHeads::KeyHead;
  if (hsel == hq)
    return BlockHeads::QueryHead;
  if (hsel == 1)
    return BlockHeads::Shared;
  return std::nullopt;
}

std::string AttentionConfig::validate() const {
  if (std::string e = AttentionSemantics::validate(); !e.empty())
    return e;
  if (!isFloat(dtype))
    return std::string("element type must be a float type, got ") +
           dtypeName(dtype);
  if (group < 1)
    return "group (query heads per key head) must be >= 1, got " + str(group);
  if (headDim < 1 || valueDim < (selection ? 0 : 1))
    return "head dims must be positive (Dv may be 0 for a selection without "
           "values), got Dqk = " + str(headDim) + ", Dv = " + str(valueDim);
  if (maskDtype && *maskDtype != DType::Bool && !isFloat(*maskDtype))
    return std::string("mask element type must be bool or a float type, got ") +
           dtypeName(*maskDtype);
  for (auto [what, t] : {std::pair{"kv_lengths", lengthsDtype},
                         std::pair{"q_offsets", offsetsDtype}})
    if (t && *t != DType::I32 && *t != DType::I64)
      return std::string(what) + " element type must be int32 or int64, got " +
             dtypeName(*t);
  if (selection) {
    if (std::string e = validateSelection(); !e.empty())
      return e;
  } else if (bool(blocks) != bool(blockHeads)) {
    return "a block-sparse kernel needs both block sizes and the block_idx "
           "operand";
  }
  if (plan.qBlock < 1 || plan.kvBlock < 1 || plan.warps < 1 || plan.stages < 1)
    return "tile plan sizes must be positive, got q_block = " +
           str(plan.qBlock) + ", kv_block = " + str(plan.kvBlock) +
           ", warps = " + str(plan.warps) + ", stages = " + str(plan.stages);
  return "";
}

std::string AttentionConfig::validateSelection() const {
  const BlockSelection &s = *selection;
  if (s.method == ScoreMethod::KeyBound)
    return "selection kernels score by softmax_prob, softmax_prob_max or "
           "mean_key, not key_bound";
  if (s.meanKey() &&
      (compressedKeys || valueDim != 0 || lse || !bottomRight || queryOffset ||
       offsetsDtype || maskDtype || blocks || window || branches || windowBranch))
    return "a mean_key selection takes block means and queries aligned "
           "bottom-right, and nothing else: no compressed keys, values, lse, "
           "query offsets, masks or block lists";
  if (!s.meanKey() && (!compressedKeys || !bottomRight || queryOffset || offsetsDtype ||
                       maskDtype || blocks || softcap != 0 || windowBranch))
    return "a block selection comes out of causal attention over compressed "
           "keys, aligned bottom-right, without query offsets, an explicit "
           "mask, block lists or softcap";
  if (!lengthsDtype)
    return "a block selection needs the kv_lengths operand (the valid key "
           "lengths; with compressed keys the original ones, which the "
           "compressed keys do not tell)";
  if (blockHeads != BlockHeads::KeyHead && blockHeads != BlockHeads::QueryHead)
    return "a block selection's lists are per key head (\"kv\") or per "
           "query head (\"q\")";
  if (s.block < 1 || s.init < 0 || s.local < 0 || s.k < 1 || s.k < s.init + s.local)
    return "a block selection needs a positive block, k >= init + local >= 0 "
           "and k >= 1, got block = " + str(s.block) + ", k = " + str(s.k) +
           ", init = " + str(s.init) + ", local = " + str(s.local);
  if (compressedKeys && (s.block % compressedKeys->second != 0 ||
                         compressedKeys->first % compressedKeys->second != 0))
    return "a block selection needs the stride d to divide l and the block "
           "of " + str(s.block) + " keys, got (l, d) = " +
           pairString(*compressedKeys);
  return "";
}

std::string AttentionConfig::name() const {
  std::ostringstream os;
  os << "attn_" << targetName(plan.target) << "_" << mlirTypeName(dtype)
     << "_d" << headDim;
  if (valueDim != headDim)
    os << "v" << valueDim;
  os << "_g" << group;
  if (causal)
    os << "_causal";
  if (window)
    os << "_win" << window->first << "x" << window->second;
  if (branches)
    os << "_branch" << branches->first << "x" << branches->second;
  if (offsetsDtype)
    os << "_offs" << mlirTypeName(*offsetsDtype);
  else if (queryOffset)
    os << "_off" << *queryOffset;
  else if (bottomRight && hasStructuredMask())
    os << "_bottom";
  if (softcap != 0.0)
    os << "_cap";
  if (maskDtype)
    os << "_mask" << mlirTypeName(*maskDtype);
  if (lengthsDtype)
    os << "_len" << mlirTypeName(*lengthsDtype);
  if (compressedKeys)
    os << "_cmp" << compressedKeys->first << "x" << compressedKeys->second;
  if (blocks)
    os << "_sparse" << blocks->first << "x" << blocks->second
       << blockHeadsName(*blockHeads);
  if (windowBranch)
    os << "_andwin" << windowBranch->first << "x" << windowBranch->second;
  if (lse)
    os << "_lse";
  if (selection)
    os << "_select" << selection->block << "k" << selection->k << "i"
       << selection->init << "l" << selection->local
       << (selection->method == ScoreMethod::SoftmaxProbMax ? "max"
           : selection->meanKey()                             ? "mean"
                                                              : "")
       << blockHeadsName(*blockHeads);
  os << "_q" << plan.qBlock << "k" << plan.kvBlock;
  if (plan.target != Target::CPU && plan.warps != 4)
    os << "w" << plan.warps;
  if (plan.target != Target::CPU && plan.stages > 2)
    os << "s" << plan.stages;
  // Scale and softcap are baked in: name them by their exact bits.
  os << "_s" << hexBits(resolvedScale());
  if (softcap != 0.0)
    os << "c" << hexBits(softcap);
  // Keep it a valid symbol: "-1" windows become "m1".
  std::string out = os.str();
  for (char &c : out)
    if (c == '-')
      c = 'm';
  return out;
}

//===-- The ABI -----------------------------------------------------------===//

std::vector<KernelOperand> kernelOperands(const AttentionConfig &c) {
  std::vector<KernelOperand> ops = {{"q", c.dtype, 4, false},
                                    {"k", c.dtype, 4, false}};
  if (c.hasValues())
    ops.push_back({"v", c.dtype, 4, false});
  if (c.maskDtype)
    ops.push_back({"mask", *c.maskDtype, 4, false});
  if (c.lengthsDtype)
    ops.push_back({"kv_lengths", *c.lengthsDtype, 1, false});
  if (c.offsetsDtype)
    ops.push_back({"q_offsets", *c.offsetsDtype, 1, false});
  if (c.blocks)
    ops.push_back({"block_idx", DType::I32, 4, false});
  if (c.hasValues())
    ops.push_back({"out", c.dtype, 4, true});
  if (c.lse)
    ops.push_back({"lse", DType::F32, 3, true});
  if (c.windowBranch)
    ops.push_back({"out_window", c.dtype, 4, true});
  if (c.selection)
    ops.push_back({"select_idx", DType::I32, 4, true});
  return ops;
}

std::vector<KernelParam> kernelParams(const AttentionConfig &c) {
  std::vector<KernelOperand> ops = kernelOperands(c);
  std::vector<KernelParam> params;
  for (const KernelOperand &op : ops)
    params.push_back({op.name, true, op.dtype});
  for (const char *n : {"batch", "seq_q", "seq_kv"})
    params.push_back({n, false, DType::I32});
  if (c.maskDtype)
    params.push_back({"mask_keys", false, DType::I32});
  if (c.blocks)
    params.push_back({"block_k", false, DType::I32});
  for (const KernelOperand &op : ops)
    if (op.rank >= 3)
      for (const char *axis : {"b", "h", "s"})
        params.push_back({op.name + "_stride_" + axis, false, DType::I64});
  return params;
}

int64_t positionsPerBlock(const AttentionConfig &c) {
  int64_t positions = std::max<int64_t>(1, c.plan.qBlock / c.tileGroup());
  // A GPU tile walks one list: its positions lie in one query block of the
  // selection, so they are a divisor of q_block. (CPU tiles walk the union
  // of their lists.)
  if (c.blocks && c.plan.target != Target::CPU) {
    positions = std::min(positions, c.blocks->first);
    while (c.blocks->first % positions != 0)
      --positions;
  }
  return positions;
}

bool gridPerQueryHead(const AttentionConfig &c) {
  return c.tileGroup() != c.group;
}

std::string kernelHeader(const AttentionConfig &c, int64_t sharedBytes) {
  std::string name = c.name();
  int64_t positions = positionsPerBlock(c);
  std::ostringstream os;
  os << "// Generated by attn-compile: launch parameters of " << name << ".\n"
     << "#pragma once\n#include <stdint.h>\n\n"
     << "struct " << name << "_params {\n";
  for (const KernelParam &p : kernelParams(c))
    os << "  "
       << (p.isTensor ? "void *" : p.dtype == DType::I32 ? "int32_t " : "int64_t ")
       << p.name << ";\n";
  os << "};\n\n"
     << "// Grid (x, y, z) and block for a batch, key/value head count and "
        "query length.\n"
     << "static inline void " << name
     << "_grid(int32_t batch, int32_t kv_heads, int32_t seq_q, unsigned grid[3], "
        "unsigned block[3]) {\n"
     << "  grid[0] = (unsigned)((seq_q + " << positions - 1 << ") / " << positions
     << ");\n"
     << "  grid[1] = (unsigned)kv_heads"
     << (gridPerQueryHead(c) ? " * " + std::to_string(c.group) : "")
     << ";\n  grid[2] = (unsigned)batch;\n"
     << "  block[0] = " << 32 * c.plan.warps << "; block[1] = 1; block[2] = 1;\n}\n"
     << "enum { " << name << "_shared_bytes = " << sharedBytes << " };\n";
  return os.str();
}

} // namespace attn::rt
