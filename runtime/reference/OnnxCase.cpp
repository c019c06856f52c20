//===- OnnxCase.cpp - ONNX Attention conformance cases --------------------===//

#include "runtime/reference/OnnxCase.h"

#include "runtime/JsonFile.h"
#include "runtime/NoThrow.h"
#include "runtime/Npy.h"

#include <algorithm>
#include <vector>

namespace attn::rt {

namespace {

const std::vector<std::string> kInputSlots = {
    "Q", "K", "V", "attn_mask", "past_key", "past_value", "nonpad_kv_seqlen"};
const std::vector<std::string> kOutputSlots = {"Y", "present_key",
                                               "present_value",
                                               "qk_matmul_output"};
const std::vector<std::string> kAttributes = {
    "is_causal",         "scale",           "softcap",
    "q_num_heads",       "kv_num_heads",    "qk_matmul_output_mode",
    "softmax_precision", "left_window_size", "right_window_size"};

std::string joined(const std::vector<std::string> &names) {
  std::string s;
  for (const std::string &n : names)
    s += (s.empty() ? "" : " ") + n;
  return s;
}

// A member of a case.json object: nullptr when absent or of another kind.
const Json *member(const Json &object, const char *key,
                   bool (Json::*is)() const noexcept) {
  if (!object.is_object())
    return nullptr;
  auto it = object.find(key);
  return it != object.end() && ((*it).*is)() ? &*it : nullptr;
}

// Reads the tensors a case.json list ("inputs" or "outputs") names, checking
// each file against the dtype and shape the list declares. Errors name the
// case folder, or the .npy file at fault.
std::string loadTensors(const Json &spec, const std::string &list,
                        const std::vector<std::string> &slots,
                        const std::string &dir,
                        std::map<std::string, Tensor> &into) {
  auto fail = [&](const std::string &what) { return dir + ": " + what; };
  const Json *entries = member(spec, list.c_str(), &Json::is_array);
  if (!entries)
    return fail("case.json has no '" + list + "' list");
  for (const Json &entry : *entries) {
    const Json *slot = member(entry, "slot", &Json::is_string);
    const Json *file = member(entry, "file", &Json::is_string);
    const Json *dtype = member(entry, "dtype", &Json::is_string);
    const Json *shape = member(entry, "shape", &Json::is_array);
    if (!slot || !file || !dtype || !shape)
      return fail("an entry of '" + list + "' lacks slot, file, dtype or shape");
    const std::string &name = slot->get_ref<const std::string &>();
    const std::string &fileName = file->get_ref<const std::string &>();
    const std::string &dtypeName_ = dtype->get_ref<const std::string &>();
    if (std::find(slots.begin(), slots.end(), name) == slots.end())
      return fail("unknown " + list.substr(0, list.size() - 1) + " slot '" +
                  name + "' (known: " + joined(slots) + ")");
    if (into.count(name))
      return fail("slot '" + name + "' appears twice");
    std::vector<int64_t> declared;
    for (const Json &d : *shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        return fail("slot '" + name + "': shape " + d.dump() +
                    " entry is not a non-negative integer");
      declared.push_back(d.get<int64_t>());
    }
    Tensor t;
    if (std::string e = readNpy(dir + "/" + fileName, t); !e.empty())
      return e;
    if (dtypeName_ != dtypeName(t.dtype) || declared != t.shape)
      return fail("slot '" + name + "': case.json declares " + dtypeName_ +
                  " " + shapeString(declared) + " but " + fileName +
                  " holds " + dtypeName(t.dtype) + " " + shapeString(t.shape));
    into[name] = std::move(t);
  }
  return "";
}

// present = concat(past, now) along the sequence axis of [B, H, S, D].
std::string concatSequence(const Tensor &past, const Tensor &now,
                           const std::string &what, Tensor &out) {
  if (past.rank() != 4 || now.rank() != 4 || past.dtype != now.dtype ||
      past.shape[0] != now.shape[0] || past.shape[1] != now.shape[1] ||
      past.shape[3] != now.shape[3])
    return what + ": past " + dtypeName(past.dtype) + " " +
           shapeString(past.shape) + " and new " + dtypeName(now.dtype) + " " +
           shapeString(now.shape) +
           " do not concatenate along S of [B, H, S, D]";
  const int64_t B = past.shape[0], H = past.shape[1], D = past.shape[3];
  const int64_t sPast = past.shape[2], sNow = now.shape[2];
  out = Tensor::zeros(past.dtype, {B, H, sPast + sNow, D});
  const size_t row = size_t(D) * dtypeSize(past.dtype);
  auto to = out.bytes.begin();
  for (int64_t bh = 0; bh < B * H; ++bh) {
    to = std::copy_n(past.bytes.begin() + bh * sPast * row, sPast * row, to);
    to = std::copy_n(now.bytes.begin() + bh * sNow * row, sNow * row, to);
  }
  return "";
}

} // namespace

namespace {

std::string readOp(const std::string &dir, std::string &op) {
  Json spec;
  if (std::string e = readJsonFile(dir + "/case.json", spec); !e.empty())
    return e;
  const Json *value = member(spec, "op", &Json::is_string);
  if (!value)
    return dir + "/case.json: needs a string 'op'";
  op = value->get<std::string>();
  return "";
}

const std::vector<std::string> kSparseInputSlots = {"Q", "K", "V", "select_idx",
                                                    "gates"};
const std::vector<std::string> kSparseOutputSlots = {"Y", "select_idx"};

// The input and output lists of a case, with Q, K, V and Y required.
std::string loadSlots(const Json &spec, const std::string &dir,
                      const std::vector<std::string> &inputSlots,
                      const std::vector<std::string> &outputSlots,
                      std::map<std::string, Tensor> &inputs,
                      std::map<std::string, Tensor> &expected) {
  if (std::string e = loadTensors(spec, "inputs", inputSlots, dir, inputs); !e.empty())
    return e;
  if (std::string e = loadTensors(spec, "outputs", outputSlots, dir, expected);
      !e.empty())
    return e;
  for (const char *slot : {"Q", "K", "V"})
    if (!inputs.count(slot))
      return dir + ": input '" + slot + "' is missing";
  if (!expected.count("Y"))
    return dir + ": output 'Y' is missing";
  return "";
}

// BlockSparseAttention and ParallelBranchesAttention cases: 4-D [B, H, S, D]
// inputs, causal masks aligned bottom-right (the sparse README).
std::string loadSparseCase(const Json &spec, const std::string &op,
                           const std::string &dir, OnnxCase &c) {
  auto fail = [&](const std::string &what) { return dir + ": " + what; };
  const bool blockSparse = op == "BlockSparseAttention";
  std::map<std::string, Tensor> inputs;
  if (std::string e = loadSlots(spec, dir, kSparseInputSlots, kSparseOutputSlots,
                                inputs, c.expected);
      !e.empty())
    return e;
  const bool composite = isCompositeCaseOp(op);
  if (!composite && blockSparse != bool(inputs.count("select_idx")))
    return fail(blockSparse ? "input 'select_idx' is missing"
                            : "input 'select_idx' belongs to BlockSparseAttention");
  c.q = inputs["Q"], c.k = inputs["K"], c.v = inputs["V"];
  c.dtype = c.q.dtype;
  if (!isFloat(c.dtype) || c.q.rank() != 4 || c.k.rank() != 4 || c.v.rank() != 4)
    return fail("Q, K, V must be 4-D float tensors [B, H, S, D], got " +
                std::string(dtypeName(c.dtype)) + " " + shapeString(c.q.shape));

  const std::map<std::string, std::vector<std::string>> attributesOf = {
      {"BlockSparseAttention",
       {"kv_block", "q_block", "select_heads", "causal", "scale", "alignment"}},
      {"ParallelBranchesAttention",
       {"branch_begin", "num_branches", "scale", "alignment"}},
      {"NSA",
       {"compress_block", "compress_stride", "compress_pool", "select_block", "top_k",
        "init_blocks", "local_blocks", "window", "scale", "alignment"}},
      {"MoBA", {"block", "top_k", "scale", "alignment"}},
      {"InfLLMV2",
       {"dense_len", "compress_block", "compress_stride", "select_block", "top_k",
        "init_blocks", "window", "scale", "alignment"}}};
  const std::vector<std::string> &known = attributesOf.at(op);
  std::map<std::string, Json> attrs;
  if (auto it = spec.find("attributes"); it != spec.end() && it->is_object())
    for (const auto &[key, value] : it->items()) {
      if (std::find(known.begin(), known.end(), key) == known.end())
        return fail("unknown attribute '" + key + "' of " + op + " (known: " +
                    joined(known) + ")");
      attrs[key] = value;
    }
  auto number = [&](const char *key, std::optional<double> fallback,
                    double &out) -> std::string {
    if (!attrs.count(key)) {
      if (!fallback)
        return fail(std::string("attribute '") + key + "' is missing");
      out = *fallback;
      return "";
    }
    if (!attrs[key].is_number())
      return fail(std::string("attribute '") + key + "' is not a number");
    out = attrs[key].get<double>();
    return "";
  };
  AttentionParams &p = c.params;
  p.layout = Layout::BHSD;
  c.outputLayout = Layout::BHSD;
  if (attrs.count("scale")) {
    double scale;
    if (std::string e = number("scale", std::nullopt, scale); !e.empty())
      return e;
    p.scale = scale;
  }
  std::string alignment = "top_left";
  if (attrs.count("alignment") && attrs["alignment"].is_string())
    alignment = attrs["alignment"].get<std::string>();
  if (alignment != "top_left" && alignment != "bottom_right")
    return fail("alignment must be \"top_left\" or \"bottom_right\"");
  p.bottomRight = alignment == "bottom_right";

  if (composite) {
    if (alignment != "bottom_right")
      return fail(op + " cases place the queries bottom-right");
    c.composite = op;
    auto integer = [&](const char *key, int64_t &out) -> std::string {
      double x;
      if (std::string e = number(key, std::nullopt, x); !e.empty())
        return e;
      out = int64_t(x);
      return "";
    };
    std::vector<std::pair<const char *, int64_t *>> ints;
    Selection *sel = op == "NSA" ? &c.nsa.selection : &c.infLlmV2.selection;
    Compression &comp = op == "NSA" ? c.nsa.compression : sel->compression;
    int64_t window = 0;
    if (op == "MoBA")
      ints = {{"block", &c.mobaBlock}, {"top_k", &c.mobaTopK}};
    else
      ints = {{"compress_block", &comp.block}, {"compress_stride", &comp.stride},
              {"select_block", &sel->block},   {"top_k", &sel->topK},
              {"init_blocks", &sel->init},     {"window", &window}};
    if (op == "NSA")
      ints.push_back({"local_blocks", &sel->local});
    if (op == "InfLLMV2")
      ints.push_back({"dense_len", &c.infLlmV2.denseLen});
    for (auto [key, out] : ints)
      if (std::string e = integer(key, *out); !e.empty())
        return e;
    c.nsa.window = window;
    c.nsa.scale = c.infLlmV2.scale = p.scale;
    if (op == "InfLLMV2") {
      if (sel->block < 1 || window % sel->block != 0)
        return fail("window " + std::to_string(window) +
                    " must be a multiple of select_block " + std::to_string(sel->block));
      sel->local = window / sel->block;
    }
    if (op == "NSA") {
      std::string pool = attrs.count("compress_pool") && attrs["compress_pool"].is_string()
                             ? attrs["compress_pool"].get<std::string>()
                             : "mean";
      if (pool != "mean" && pool != "max")
        return fail("compress_pool must be \"mean\" or \"max\", got \"" + pool + "\"");
      comp.pool = pool == "max" ? Pool::Max : Pool::Mean;
      if (!inputs.count("gates"))
        return fail("input 'gates' is missing");
      c.gates = inputs["gates"];
    }
    return "";
  }

  if (!blockSparse) {
    double begin, n;
    if (std::string e = number("branch_begin", std::nullopt, begin); !e.empty())
      return e;
    if (std::string e = number("num_branches", std::nullopt, n); !e.empty())
      return e;
    p.branches = std::make_pair(int64_t(begin), int64_t(n));
    return "";
  }
  double qBlock, kvBlock, causal;
  for (auto [key, fallback, out] :
       {std::tuple<const char *, std::optional<double>, double *>{"q_block", std::nullopt, &qBlock},
        {"kv_block", std::nullopt, &kvBlock},
        {"causal", 0.0, &causal}})
    if (std::string e = number(key, fallback, *out); !e.empty())
      return e;
  p.causal = causal != 0;
  p.blocks = std::make_pair(int64_t(qBlock), int64_t(kvBlock));
  c.blockIdx = inputs["select_idx"];
  std::string heads = "kv";
  if (attrs.count("select_heads") && attrs["select_heads"].is_string())
    heads = attrs["select_heads"].get<std::string>();
  const int64_t hsel = c.blockIdx->rank() == 4 ? c.blockIdx->shape[1] : -1;
  const int64_t want = heads == "kv" ? c.k.shape[1] : heads == "q" ? c.q.shape[1]
                       : heads == "shared"                        ? 1
                                                                  : -2;
  if (want == -2)
    return fail("select_heads must be \"kv\", \"q\" or \"shared\", got \"" + heads + "\"");
  if (hsel != want)
    return fail("select_heads \"" + heads + "\" needs select_idx with " +
                std::to_string(want) + " heads, got " + shapeString(c.blockIdx->shape));
  return "";
}

std::string loadCase(const std::string &dir, OnnxCase &c) {
  c = OnnxCase();
  c.dir = dir;
  auto fail = [&](const std::string &what) { return dir + ": " + what; };
  Json spec;
  if (std::string e = readJsonFile(dir + "/case.json", spec); !e.empty())
    return e;
  const Json *name = member(spec, "name", &Json::is_string);
  const Json *op = member(spec, "op", &Json::is_string);
  if (!name || !op)
    return fail("case.json needs string 'name' and 'op'");
  c.name = name->get<std::string>();
  if (op->get<std::string>() != "Attention") {
    if (!isLoadableCaseOp(op->get<std::string>()))
      return fail("op is '" + op->get<std::string>() +
                  "', not one this loader takes");
    return loadSparseCase(spec, op->get<std::string>(), dir, c);
  }

  std::map<std::string, Tensor> inputs;
  if (std::string e =
          loadSlots(spec, dir, kInputSlots, kOutputSlots, inputs, c.expected);
      !e.empty())
    return e;

  // Attributes: an absent one takes the ONNX default.
  std::map<std::string, double> attrs;
  if (auto it = spec.find("attributes"); it != spec.end()) {
    const Json &list = *it;
    if (!list.is_object())
      return fail("case.json's 'attributes' is not an object");
    for (const auto &[key, value] : list.items()) {
      if (std::find(kAttributes.begin(), kAttributes.end(), key) ==
          kAttributes.end())
        return fail("unknown attribute '" + key + "' (known: " +
                    joined(kAttributes) + ")");
      if (!value.is_number())
        return fail("attribute '" + key + "' is not a number");
      attrs[key] = value.get<double>();
    }
  }
  auto attr = [&](const char *key, double fallback) {
    return attrs.count(key) ? attrs[key] : fallback;
  };

  Tensor q = inputs["Q"], k = inputs["K"], v = inputs["V"];
  c.dtype = q.dtype;
  if (!isFloat(q.dtype))
    return fail(std::string("Q is ") + dtypeName(q.dtype) + ", not a float");
  if (q.rank() != k.rank() || q.rank() != v.rank() ||
      (q.rank() != 3 && q.rank() != 4))
    return fail("Q, K, V must all be 3-D or all 4-D, got " +
                shapeString(q.shape) + ", " + shapeString(k.shape) + ", " +
                shapeString(v.shape));
  AttentionParams &p = c.params;
  p.numQHeads = int64_t(attr("q_num_heads", 0));
  p.numKvHeads = int64_t(attr("kv_num_heads", 0));
  c.outputLayout = q.rank() == 3 ? Layout::Packed : Layout::BHSD;
  if (c.outputLayout == Layout::Packed && (p.numQHeads <= 0 || p.numKvHeads <= 0))
    return fail("3-D inputs need positive q_num_heads and kv_num_heads");

  // The cache is kept [B, Hkv, S, D], so with past_key the new keys and the
  // queries move to BHSD too; without it, 3-D inputs are used in place.
  const bool hasPast = inputs.count("past_key") || inputs.count("past_value");
  if (hasPast || c.expected.count("present_key") ||
      c.expected.count("present_value")) {
    if (c.outputLayout == Layout::Packed) {
      auto toBhsd = [](Tensor &t, int64_t heads) {
        Tensor r;
        std::string e =
            convertLayout(t, Layout::Packed, Layout::BHSD, heads, r);
        t = std::move(r);
        return e;
      };
      std::string e = toBhsd(q, p.numQHeads);
      if (e.empty())
        e = toBhsd(k, p.numKvHeads);
      if (e.empty())
        e = toBhsd(v, p.numKvHeads);
      if (!e.empty())
        return fail(e);
    }
    p.layout = Layout::BHSD;
    if (hasPast) {
      if (!inputs.count("past_key") || !inputs.count("past_value"))
        return fail("past_key and past_value must be given together");
      Tensor presentK, presentV;
      if (std::string e =
              concatSequence(inputs["past_key"], k, "past_key", presentK);
          !e.empty())
        return fail(e);
      if (std::string e =
              concatSequence(inputs["past_value"], v, "past_value", presentV);
          !e.empty())
        return fail(e);
      // ONNX aligns the queries right after the past keys: off = past
      // length even when more new keys than queries follow it (Skv_new >
      // Sq), where bottom-right alignment (L - Sq) would differ;
      // test_attention_4d_with_past_and_present_qk_matmul_bias_3d_mask_causal
      // (past 12, new keys 6, queries 4) tells the two apart.
      p.queryOffset = inputs["past_key"].shape[2];
      k = std::move(presentK), v = std::move(presentV);
    }
    c.presentKey = k, c.presentValue = v;
  } else {
    p.layout = c.outputLayout;
  }
  c.q = std::move(q), c.k = std::move(k), c.v = std::move(v);

  if (inputs.count("attn_mask"))
    c.mask = inputs["attn_mask"];
  if (inputs.count("nonpad_kv_seqlen")) {
    c.kvLengths = inputs["nonpad_kv_seqlen"];
    // An external (static) cache: the queries are the last of the valid
    // keys of their batch element (past_key, if also given, takes priority
    // through queryOffset).
    p.bottomRight = true;
  }

  if (attrs.count("scale"))
    p.scale = attrs["scale"];
  p.softcap = attr("softcap", 0);
  p.causal = attr("is_causal", 0) != 0;
  // An absent side is -1, unbounded, like an explicit -1
  // (test_attention_local_window_default); the window is aligned like the
  // causal mask (bottom-right with nonpad_kv_seqlen, see the ext_cache cases).
  int64_t left = int64_t(attr("left_window_size", -1));
  int64_t right = int64_t(attr("right_window_size", -1));
  if (left != -1 || right != -1)
    p.window = std::make_pair(left, right);
  if (c.expected.count("qk_matmul_output")) {
    c.qkMode = int(attr("qk_matmul_output_mode", 0));
    if (c.qkMode < 0 || c.qkMode > 3)
      return fail("qk_matmul_output_mode must be 0 to 3, got " +
                  std::to_string(c.qkMode));
  }
  // softmax_precision is accepted and ignored: the reference computes in
  // float64, above any precision it can ask for.
  return "";
}

std::string runComposite(const OnnxCase &c, std::map<std::string, Tensor> &actual) {
  Tensor out, idx;
  std::string e = runCompositeCase(c, nullptr, out, idx);
  if (!e.empty())
    return c.dir + ": " + e;
  actual.clear();
  actual["Y"] = out;
  if (idx.rank() > 0)
    actual["select_idx"] = idx;
  return "";
}

std::string runCase(const OnnxCase &c, std::map<std::string, Tensor> &actual) {
  if (!c.composite.empty())
    return runComposite(c, actual);
  Tensor out, lse, qk;
  std::string e = referenceAttention(
      c.q, c.k, c.v, c.mask ? &*c.mask : nullptr,
      c.kvLengths ? &*c.kvLengths : nullptr, nullptr,
      c.blockIdx ? &*c.blockIdx : nullptr, c.params, out, lse, c.qkMode,
      c.qkMode >= 0 ? &qk : nullptr);
  if (!e.empty())
    return c.dir + ": " + e;
  if (c.outputLayout != c.params.layout) {
    Tensor y;
    if (e = convertLayout(out, c.params.layout, c.outputLayout,
                          c.params.numQHeads, y);
        !e.empty())
      return c.dir + ": " + e;
    out = std::move(y);
  }
  actual.clear();
  for (const auto &slot : c.expected) {
    const std::string &name = slot.first;
    if (name == "Y")
      actual[name] = out;
    else if (name == "present_key" && c.presentKey)
      actual[name] = *c.presentKey;
    else if (name == "present_value" && c.presentValue)
      actual[name] = *c.presentValue;
    else if (name == "qk_matmul_output")
      actual[name] = qk;
  }
  return "";
}

} // namespace

Selection compositeSelection(const OnnxCase &c) {
  Selection s;
  if (c.composite == "NSA") {
    s = c.nsa.selection;
    s.method = ScoreMethod::SoftmaxProb;
    s.compression = c.nsa.compression;
    s.scale = c.nsa.scale;
  } else if (c.composite == "MoBA") {
    s.method = ScoreMethod::MeanKey;
    s.block = c.mobaBlock, s.topK = c.mobaTopK, s.init = 0, s.local = 1;
    s.perQueryHead = true;
  } else if (c.composite == "Quest") {
    s = c.quest;
  } else {
    s = c.infLlmV2.selection;
    s.method = ScoreMethod::SoftmaxProbMax;
    s.scale = c.infLlmV2.scale;
  }
  return s;
}

std::string runCompositeCase(const OnnxCase &c, const Tensor *selection, Tensor &y,
                             Tensor &idx) {
  return withoutExceptions(c.dir, [&]() -> std::string {
    const Tensor *lengths = c.kvLengths ? &*c.kvLengths : nullptr;
    if (c.composite == "NSA")
      return referenceNsa(c.q, c.k, c.v, *c.gates, c.nsa, y, idx, selection, lengths);
    if (c.composite == "MoBA")
      return referenceMoba(c.q, c.k, c.v, c.mobaBlock, c.mobaTopK, c.params.scale, y,
                           idx, selection, lengths);
    if (c.composite == "InfLLMV2")
      return referenceInfLlmV2(c.q, c.k, c.v, c.infLlmV2, y, idx, selection, lengths);
    if (selection)
      idx = *selection;
    else if (std::string e = referenceSelect(c.q, c.k, c.quest, idx, lengths); !e.empty())
      return e;
    AttentionParams p;
    p.scale = c.params.scale;
    p.causal = p.bottomRight = true;
    p.blocks = std::make_pair(int64_t(1), c.quest.block);
    Tensor lse;
    return referenceAttention(c.q, c.k, c.v, nullptr, lengths, nullptr, &idx, p, y, lse);
  });
}

bool isCompositeCaseOp(const std::string &op) {
  return op == "NSA" || op == "MoBA" || op == "InfLLMV2";
}

bool isLoadableCaseOp(const std::string &op) {
  return op == "Attention" || op == "BlockSparseAttention" ||
         op == "ParallelBranchesAttention" || isCompositeCaseOp(op);
}

std::string readCaseOp(const std::string &dir, std::string &op) {
  return withoutExceptions(dir, [&] { return readOp(dir, op); });
}

std::string loadOnnxCase(const std::string &dir, OnnxCase &c) {
  return withoutExceptions(dir, [&] { return loadCase(dir, c); });
}

std::string runOnnxCase(const OnnxCase &c,
                        std::map<std::string, Tensor> &actual) {
  return withoutExceptions(c.dir, [&] { return runCase(c, actual); });
}

} // namespace attn::rt
