//===- AttentionFunction.cpp ----------------------------------------------===//
#include "runtime/jit/AttentionFunction.h"

#include <cstdio>
#include <cstring>
#include <sstream>

using namespace mlir::attn;
namespace rt = ::attn::rt;

namespace {
const char *mlirType(rt::DType t) {
  switch (t) {
  case rt::DType::F16: return "f16";
  case rt::DType::BF16: return "bf16";
  case rt::DType::F32: return "f32";
  case rt::DType::F64: return "f64";
  case rt::DType::Bool: return "i1";
  case rt::DType::I32: return "i32";
  case rt::DType::I64: return "i64";
  }
  return "?";
}

/// tensor<...> with the sizes flagged in `dynamic` written as '?'.
std::string tensorType(const std::vector<int64_t> &shape,
                       const std::vector<bool> &dynamic, rt::DType t) {
  std::string s = "tensor<";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (dynamic[i] ? "?" : std::to_string(shape[i])) + "x";
  return s + mlirType(t) + ">";
}

std::string hexDouble(double v) {
  uint64_t bits;
  static_assert(sizeof(bits) == sizeof(v));
  std::memcpy(&bits, &v, sizeof(v));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%016llX", static_cast<unsigned long long>(bits));
  return buf;
}
} // namespace

std::string AttentionFunction::text() const {
  // Batch and sequence axes of q/k/v/out per layout.
  bool bhsd = params.layout == rt::Layout::BHSD;
  auto dyn = [&](size_t rank) {
    std::vector<bool> d(rank, false);
    d[0] = true;                 // batch
    d[bhsd ? 2 : 1] = true;      // sequence
    return d;
  };
  std::vector<int64_t> out = query;
  size_t headAxis = bhsd ? 1 : 2;
  if (params.layout == rt::Layout::Packed)
    out.back() = value.back() / params.numKvHeads * params.numQHeads;
  else
    out.back() = value.back();
  std::string qt = tensorType(query, dyn(query.size()), dtype);
  std::string kt = tensorType(key, dyn(key.size()), dtype);
  std::string vt = tensorType(value, dyn(value.size()), dtype);
  std::string ot = tensorType(out, dyn(out.size()), dtype);
  int64_t heads = params.layout == rt::Layout::Packed ? params.numQHeads
                                                        : query[headAxis];
  std::string lt = "tensor<?x" + std::to_string(heads) + "x?xf32>";

  std::ostringstream args, operands, attrs;
  args << "%q: " << qt << ", %k: " << kt << ", %v: " << vt;
  if (maskType) {
    std::vector<bool> d(mask.size());
    for (size_t i = 0; i < mask.size(); ++i)
      d[i] = mask[i] < 0;
    std::string mt = tensorType(mask, d, *maskType);
    args << ", %mask: " << mt;
    operands << " mask(%mask : " << mt << ")";
  }
  if (lengthType) {
    std::string t = std::string("tensor<?x") + mlirType(*lengthType) + ">";
    args << ", %lengths: " << t;
    operands << " kv_lengths(%lengths : " << t << ")";
  }
  if (offsetType) {
    std::string t = std::string("tensor<?x") + mlirType(*offsetType) + ">";
    args << ", %offsets: " << t;
    operands << " query_offsets(%offsets : " << t << ")";
  }
  if (selectionHeads > 0) {
    std::string t = "tensor<?x" + std::to_string(selectionHeads) + "x?x?xi32>";
    args << ", %blocks: " << t;
    operands << " blocks(%blocks : " << t << ")";
  }
  std::vector<std::string> a;
  // `name = array<i64: x, y>` for a set pair.
  auto pair = [&](const char *name, const std::optional<std::pair<int64_t, int64_t>> &p) {
    if (p)
      a.push_back(std::string(name) + " = array<i64: " + std::to_string(p->first) + ", " +
                  std::to_string(p->second) + ">");
  };
  pair("block_sizes", params.blocks);
  if (params.scale)
    a.push_back("scale = " + hexDouble(*params.scale) + " : f64");
  if (params.softcap != 0)
    a.push_back("softcap = " + hexDouble(params.softcap) + " : f64");
  if (params.causal)
    a.push_back("causal");
  pair("window", params.window);
  pair("branches", params.branches);
  pair("window_branch", params.windowBranch);
  if (params.queryOffset && !offsetType)
    a.push_back("query_offset = " + std::to_string(*params.queryOffset));
  else if (params.bottomRight && !offsetType)
    a.push_back("alignment = #attn.alignment<bottom_right>");
  if (params.layout == rt::Layout::BSHD)
    a.push_back("layout = #attn.layout<bshd>");
  if (params.layout == rt::Layout::Packed)
    a.push_back("layout = #attn.layout<packed>, num_heads = array<i64: " +
                std::to_string(params.numQHeads) + ", " +
                std::to_string(params.numKvHeads) + ">");
  if (!tilePlan.empty())
    a.push_back("tile_plan = " + tilePlan);
  attrs << " {";
  for (size_t i = 0; i < a.size(); ++i)
    attrs << (i ? ", " : "") << a[i];
  attrs << "}";

  // Results: out, [lse], [the window branch's out].
  std::string results = lse ? ot + ", " + lt : ot;
  std::string names = lse ? "%o, %l" : "%o";
  std::string opResults = results;
  if (params.windowBranch) {
    opResults += " window " + ot;
    results += ", " + ot;
    names += ", %w";
  }
  std::ostringstream s;
  s << "func.func @" << name << "(" << args.str() << ") -> (" << results
    << ") {\n  " << names << " = attn.attention %q, %k, %v" << operands.str()
    << attrs.str() << " : " << qt << ", " << kt << ", " << vt << " -> " << opResults
    << "\n  return " << names << " : " << results << "\n}\n";
  return s.str();
}

void mlir::attn::functionForCase(const rt::OnnxCase &c, AttentionFunction &f,
                                 std::vector<rt::Tensor> &inputs) {
  f = AttentionFunction();
  f.dtype = c.dtype;
  f.params = c.params;
  f.query = c.q.shape;
  f.key = c.k.shape;
  f.value = c.v.shape;
  inputs = {c.q, c.k, c.v};
  if (c.mask) {
    f.maskType = c.mask->dtype;
    for (int64_t d : c.mask->shape)
      f.mask.push_back(d == 1 ? 1 : -1);
    inputs.push_back(*c.mask);
  }
  if (c.kvLengths) {
    f.lengthType = c.kvLengths->dtype;
    inputs.push_back(*c.kvLengths);
  }
  if (c.blockIdx) {
    f.selectionHeads = c.blockIdx->shape[1];
    inputs.push_back(*c.blockIdx);
  }
}

std::string mlir::attn::compositeFunctionText(const rt::OnnxCase &c,
                                              std::vector<rt::Tensor> &inputs) {
  const std::string elt = mlirType(c.dtype);
  auto type = [&](int64_t heads, int64_t last, const std::string &e) {
    return "tensor<?x" + std::to_string(heads) + "x?x" + std::to_string(last) + "x" + e + ">";
  };
  const int64_t hq = c.q.shape[1], hkv = c.k.shape[1], d = c.q.shape[3],
                dv = c.v.shape[3];
  const rt::Selection selection = rt::compositeSelection(c);
  const bool perHead = selection.perQueryHead;
  const int64_t topK = selection.topK;
  const std::string qt = type(hq, d, elt), kt = type(hkv, d, elt),
                    vt = type(hkv, dv, elt), ot = type(hq, dv, elt),
                    it = type(perHead ? hq : hkv, topK, "i32");
  std::string scale = c.params.scale ? "scale = " + hexDouble(*c.params.scale) + " : f64"
                                     : std::string();
  auto attrs = [&](std::string a) {
    if (!scale.empty())
      a += (a.empty() ? "" : ", ") + scale;
    return "{" + a + "}";
  };
  std::ostringstream os;
  inputs = {c.q, c.k, c.v};
  os << "func.func @attention(%q: " << qt << ", %k: " << kt << ", %v: " << vt;
  if (c.composite == "NSA") { // the gates: loadOnnxCase requires them for NSA
    os << ", %g: " << type(hq, 3, elt);
    inputs.push_back(*c.gates);
  }
  // Per-batch valid key lengths, read by every op that takes them.
  std::string lengths;
  if (c.kvLengths) {
    std::string lt = std::string("tensor<?x") + mlirType(c.kvLengths->dtype) + ">";
    os << ", %lengths: " << lt;
    inputs.push_back(*c.kvLengths);
    lengths = " kv_lengths(%lengths : " + lt + ")";
  }
  os << ") -> (" << ot << ", " << it << ") {\n";
  auto sparse = [&](int64_t block, const std::string &indent) {
    os << indent << "%o = attn.attention %q, %k, %v" << lengths << " blocks(%idx : " << it
       << ") "
       << attrs("block_sizes = array<i64: 1, " + std::to_string(block) +
                ">, causal, alignment = #attn.alignment<bottom_right>")
       << " : " << qt << ", " << kt << ", " << vt << " -> " << ot << "\n";
  };
  auto select = [&](const rt::Selection &s, const char *method, bool perHead,
                    const std::string &indent) {
    std::string a = std::string("method = #attn.score<") + method +
                    ">, block = " + std::to_string(s.block) +
                    ", top_k = " + std::to_string(s.topK) +
                    ", init = " + std::to_string(s.init) +
                    ", local = " + std::to_string(s.local);
    if (perHead)
      a += ", per_query_head";
    if (std::string(method).rfind("softmax", 0) == 0)
      a += ", compress = array<i64: " + std::to_string(s.compression.block) + ", " +
           std::to_string(s.compression.stride) + ">";
    os << indent << "%idx = attn.select_blocks %q, %k" << lengths << " " << attrs(a) << " : " << qt
       << ", " << kt << " -> " << it << "\n";
  };
  if (c.composite == "NSA") {
    const rt::NsaParams &p = c.nsa;
    os << "  %o, %idx = attn.nsa %q, %k, %v, %g" << lengths << " "
       << attrs("compress_block = " + std::to_string(p.compression.block) +
                ", compress_stride = " + std::to_string(p.compression.stride) +
                ", pool = #attn.pool<" + rt::poolName(p.compression.pool) + ">" +
                ", select_block = " + std::to_string(p.selection.block) +
                ", top_k = " + std::to_string(p.selection.topK) +
                ", init_blocks = " + std::to_string(p.selection.init) +
                ", local_blocks = " + std::to_string(p.selection.local) +
                ", window = " + std::to_string(p.window))
       << " : " << qt << ", " << kt << ", " << vt << ", " << type(hq, 3, elt) << " -> "
       << ot << ", " << it << "\n";
  } else if (c.composite == "MoBA") {
    os << "  %o, %idx = attn.moba %q, %k, %v" << lengths << " "
       << attrs("block = " + std::to_string(c.mobaBlock) +
                ", top_k = " + std::to_string(c.mobaTopK))
       << " : " << qt << ", " << kt << ", " << vt << " -> " << ot << ", " << it << "\n";
  } else if (c.composite == "Quest") {
    select(selection, rt::scoreMethodName(selection.method), true, "  ");
    sparse(selection.block, "  ");
  } else {
    const rt::InfLlmV2Params &p = c.infLlmV2;
    os << "  %o, %idx = attn.switch %k" << lengths << " dense_len(" << p.denseLen
       << ") : " << kt << " -> " << ot << ", " << it << " {\n"
       << "    %o = attn.attention %q, %k, %v" << lengths << " "
       << attrs("causal, alignment = #attn.alignment<bottom_right>") << " : " << qt << ", "
       << kt << ", " << vt << " -> " << ot << "\n"
       << "    %c0 = arith.constant 0 : index\n"
       << "    %c2 = arith.constant 2 : index\n"
       << "    %b = tensor.dim %q, %c0 : " << qt << "\n"
       << "    %s = tensor.dim %q, %c2 : " << qt << "\n"
       << "    %none = arith.constant -1 : i32\n"
       << "    %e = tensor.empty(%b, %s) : " << it << "\n"
       << "    %idx = linalg.fill ins(%none : i32) outs(%e : " << it << ") -> " << it << "\n"
       << "    attn.yield %o, %idx : " << ot << ", " << it << "\n"
       << "  } else {\n";
    select(p.selection, "softmax_prob_max", false, "    ");
    sparse(p.selection.block, "    ");
    os << "    attn.yield %o, %idx : " << ot << ", " << it << "\n  }\n";
  }
  os << "  return %o, %idx : " << ot << ", " << it << "\n}\n";
  return os.str();
}
