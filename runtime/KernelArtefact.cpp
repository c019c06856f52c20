//===- KernelArtefact.cpp - A compiled kernel's files, read and checked ---===//

#include "runtime/KernelArtefact.h"

#include "lowering/GpuTileLayout.h"
#include "runtime/Files.h"
#include "runtime/JsonFile.h"
#include "runtime/NoThrow.h"

#include <cctype>
#include <filesystem>
#include <limits>

namespace fs = std::filesystem;

namespace attn::rt {

namespace {

std::string str(int64_t x) { return std::to_string(x); }

//===-- What an attention config implies ----------------------------------===//
//
// The writer writes these and the reader compares against them: one
// definition of each field that follows from the config.

Json typeOrNull(const std::optional<DType> &t) {
  return t ? Json(elementTypeName(*t)) : Json(nullptr);
}

Json pairOrNull(const std::optional<std::pair<int64_t, int64_t>> &p) {
  return p ? Json::array({p->first, p->second}) : Json(nullptr);
}

Json blockOf(const AttentionConfig &c) {
  return Json::array({32 * c.plan.warps, 1, 1});
}

// x: blocks of positionsPerBlock query positions; y: key/value heads (the
// extent of k's axis 1, since kernels are generic in head counts), or query
// heads (q's) for per-query-head block lists; z: batch.
Json gridOf(const AttentionConfig &c) {
  Json grid = Json::object();
  grid["x"] = {{"ceil_div", Json::array({"seq_q", positionsPerBlock(c)})}};
  grid["y"] = {{"extent", Json::array({gridPerQueryHead(c) ? "q" : "k", 1})}};
  grid["z"] = {{"arg", "batch"}};
  return grid;
}

Json argsOf(const AttentionConfig &c) {
  Json args = Json::array();
  for (const KernelParam &p : kernelParams(c)) {
    Json a = Json::object();
    a["name"] = p.name;
    a["kind"] = p.isTensor ? "tensor" : "scalar";
    a["dtype"] = elementTypeName(p.dtype);
    args.push_back(std::move(a));
  }
  return args;
}

} // namespace

std::string attentionArtefactJson(const AttentionConfig &c,
                                  const PtxasFigures &figures) {
  Json plan = Json::object();
  plan["target"] = targetName(c.plan.target);
  plan["q_block"] = c.plan.qBlock;
  plan["kv_block"] = c.plan.kvBlock;
  plan["warps"] = c.plan.warps;
  plan["stages"] = c.plan.stages;

  Json attn = Json::object();
  attn["version"] = kAttentionArtefactVersion;
  attn["op"] = "attention";
  attn["dtype"] = elementTypeName(c.dtype);
  attn["group"] = c.group;
  attn["head_dim"] = c.headDim;
  attn["value_dim"] = c.valueDim;
  attn["scale"] = c.resolvedScale();
  attn["softcap"] = c.softcap;
  attn["causal"] = c.causal;
  attn["window"] = pairOrNull(c.window);
  attn["branches"] = pairOrNull(c.branches);
  attn["alignment"] = c.bottomRight ? "bottom_right" : "top_left";
  attn["query_offset"] = c.queryOffset ? Json(*c.queryOffset) : Json(nullptr);
  attn["mask_dtype"] = typeOrNull(c.maskDtype);
  attn["lengths_dtype"] = typeOrNull(c.lengthsDtype);
  attn["offsets_dtype"] = typeOrNull(c.offsetsDtype);
  attn["compressed_keys"] = pairOrNull(c.compressedKeys);
  attn["block_sizes"] = pairOrNull(c.blocks);
  attn["block_heads"] =
      c.blockHeads ? Json(blockHeadsName(*c.blockHeads)) : Json(nullptr);
  attn["lse"] = c.lse;
  if (c.selection) {
    Json sel = Json::object();
    sel["block"] = c.selection->block;
    sel["k"] = c.selection->k;
    sel["init"] = c.selection->init;
    sel["local"] = c.selection->local;
    sel["method"] = scoreMethodName(c.selection->method);
    attn["selection"] = std::move(sel);
  } else {
    attn["selection"] = nullptr;
  }
  attn["tile_plan"] = std::move(plan);
  attn["block"] = blockOf(c);
  attn["grid"] = gridOf(c);
  attn["args"] = argsOf(c);
  attn["registers"] =
      figures.registers >= 0 ? Json(figures.registers) : Json(nullptr);
  attn["spill_bytes"] = figures.spillBytes;
  attn["ptxas"] = figures.log;

  Json target = Json::object();
  target["backend"] = "cuda";
  target["arch"] = targetArch(c.plan.target);
  target["warp_size"] = 32;

  Json root = Json::object();
  root["name"] = c.name();
  root["num_warps"] = c.plan.warps;
  root["num_stages"] = c.plan.stages;
  root["num_ctas"] = 1;
  root["shared"] = GpuTileLayout(c).sharedBytes;
  root["target"] = std::move(target);
  root["attn"] = std::move(attn);
  return writeJson(root);
}

namespace {

//===-- Reading -----------------------------------------------------------===//

bool toInt64(const Json &v, int64_t &out) {
  if (!v.is_number_integer())
    return false;
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    return false;
  out = v.get<int64_t>();
  return true;
}

// Reads the members of one JSON object; messages name them by their path
// ("attn.tile_plan.q_block"). The first problem sticks, in an error shared
// by every reader of one file, so a loader reads every field and tests for
// an error once.
class Fields {
public:
  Fields(const Json &object, std::string prefix, std::string &error)
      : object_(object), prefix_(std::move(prefix)), error_(error) {}

  bool ok() const { return error_.empty(); }
  void fail(const std::string &message) {
    if (error_.empty())
      error_ = message;
  }
  std::string path(const char *key) const { return prefix_ + key; }

  // nullptr when absent (or this is no object).
  const Json *find(const char *key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  // nullptr (and an error) when absent; `kind` says what was expected.
  const Json *required(const char *key, const char *kind) {
    const Json *v = find(key);
    if (!v)
      fail("missing field \"" + path(key) + "\" (" + kind + ")");
    return v;
  }

  int64_t integer(const char *key, int64_t min) {
    const Json *v = required(key, "an integer");
    return v ? checkInteger(*v, key, min) : min;
  }
  std::optional<int64_t> optionalInteger(const char *key, int64_t min) {
    const Json *v = find(key);
    return v ? std::optional<int64_t>(checkInteger(*v, key, min))
             : std::nullopt;
  }
  std::optional<int64_t> nullOrInteger(const char *key) {
    const Json *v = required(key, "null or an integer");
    int64_t x = 0;
    if (!v || v->is_null())
      return std::nullopt;
    if (!toInt64(*v, x))
      fail(expected(key, "null or an integer", *v));
    return x;
  }
  double number(const char *key) {
    const Json *v = required(key, "a number");
    if (v && !v->is_number())
      fail(expected(key, "a number", *v));
    return v && v->is_number() ? v->get<double>() : 0;
  }
  bool boolean(const char *key) {
    const Json *v = required(key, "true or false");
    if (v && !v->is_boolean())
      fail(expected(key, "true or false", *v));
    return v && v->is_boolean() && v->get<bool>();
  }
  std::string string(const char *key) {
    const Json *v = required(key, "a string");
    if (v && !v->is_string())
      fail(expected(key, "a string", *v));
    return v && v->is_string() ? v->get<std::string>() : "";
  }
  const Json *object(const char *key) {
    const Json *v = required(key, "an object");
    if (v && !v->is_object()) {
      fail(expected(key, "an object", *v));
      return nullptr;
    }
    return v;
  }
  DType type(const char *key) {
    const Json *v = required(key, "an element type");
    return v ? checkType(*v, key) : DType::F32;
  }
  std::optional<DType> nullOrType(const char *key) {
    const Json *v = required(key, "null or an element type");
    if (!v || v->is_null())
      return std::nullopt;
    return checkType(*v, key);
  }
  std::optional<std::pair<int64_t, int64_t>> nullOrPair(const char *key) {
    const Json *v = required(key, "null or [a, b]");
    if (!v || v->is_null())
      return std::nullopt;
    int64_t a = 0, b = 0;
    if (!v->is_array() || v->size() != 2 || !toInt64((*v)[0], a) ||
        !toInt64((*v)[1], b)) {
      fail(expected(key, "null or two integers", *v));
      return std::nullopt;
    }
    return std::make_pair(a, b);
  }

  std::string expected(const char *key, const std::string &what,
                       const Json &got) const {
    return "\"" + path(key) + "\" must be " + what + ", got " + shown(got);
  }
  static std::string shown(const Json &v) {
    std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
    return s.size() > 80 ? s.substr(0, 77) + "..." : s;
  }

private:
  int64_t checkInteger(const Json &v, const char *key, int64_t min) {
    int64_t x = 0;
    if (!toInt64(v, x) || x < min) {
      fail(expected(key, "an integer >= " + str(min), v));
      return min;
    }
    return x;
  }
  DType checkType(const Json &v, const char *key) {
    DType t = DType::F32;
    if (!v.is_string() || !parseElementType(v.get<std::string>(), t))
      fail(expected(key, "one of f16, bf16, f32, f64, bool, i32, i64", v));
    return t;
  }

  const Json &object_;
  std::string prefix_;
  std::string &error_;
};

int ptxTypeSize(const std::string &token) {
  static const std::pair<const char *, int> sizes[] = {
      {".b8", 1},   {".u8", 1},  {".s8", 1},  {".b16", 2},  {".u16", 2},
      {".s16", 2},  {".f16", 2}, {".bf16", 2}, {".b32", 4}, {".u32", 4},
      {".s32", 4},  {".f32", 4}, {".b64", 8},  {".u64", 8}, {".s64", 8},
      {".f64", 8},
  };
  for (const auto &[name, size] : sizes)
    if (token == name)
      return size;
  return 0;
}

// One parameter declaration, ".param .u64 .ptr .global .align 1 p0".
std::string ptxParamSize(const std::string &decl, int &size) {
  std::vector<std::string> tokens;
  for (size_t i = 0; i < decl.size();) {
    if (std::isspace(static_cast<unsigned char>(decl[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < decl.size() && !std::isspace(static_cast<unsigned char>(decl[j])))
      ++j;
    tokens.push_back(decl.substr(i, j - i));
    i = j;
  }
  if (tokens.size() < 3 || tokens[0] != ".param")
    return "cannot read the parameter \"" + decl + "\"";
  size = 0;
  for (const std::string &t : tokens)
    if (int s = ptxTypeSize(t))
      size = s;
  if (size == 0)
    return "no type in the parameter \"" + decl + "\"";
  const std::string &id = tokens.back(); // name, or name[N] for a byte array
  if (size_t open = id.find('['); open != std::string::npos) {
    int count = std::atoi(id.c_str() + open + 1);
    if (count <= 0)
      return "bad array size in the parameter \"" + decl + "\"";
    size *= count;
  }
  return "";
}

} // namespace

std::string ptxEntryParamSizes(const std::string &ptx, const std::string &name,
                               std::vector<int> &sizes) {
  sizes.clear();
  for (size_t at = ptx.find(".entry"); at != std::string::npos;
       at = ptx.find(".entry", at + 6)) {
    size_t i = at + 6;
    while (i < ptx.size() && std::isspace(static_cast<unsigned char>(ptx[i])))
      ++i;
    if (ptx.compare(i, name.size(), name) != 0)
      continue;
    i += name.size();
    while (i < ptx.size() && std::isspace(static_cast<unsigned char>(ptx[i])))
      ++i;
    if (i >= ptx.size() || ptx[i] != '(')
      continue; // a longer name that starts with `name`
    size_t close = ptx.find(')', i);
    if (close == std::string::npos)
      return "the parameter list of .entry " + name + " is not closed";
    // Drop line comments, then split at commas.
    std::string list;
    for (size_t j = i + 1; j < close; ++j) {
      if (ptx.compare(j, 2, "//") == 0) {
        j = ptx.find('\n', j);
        if (j == std::string::npos || j > close)
          break;
      }
      list += ptx[j];
    }
    size_t start = 0;
    while (list.find_first_not_of(" \t\r\n", start) != std::string::npos) {
      size_t comma = list.find(',', start);
      std::string decl = list.substr(
          start, comma == std::string::npos ? std::string::npos : comma - start);
      int size = 0;
      if (std::string e = ptxParamSize(decl, size); !e.empty())
        return ".entry " + name + ": " + e;
      sizes.push_back(size);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    return "";
  }
  return "no \".entry " + name + "(\" in the PTX";
}

namespace {

std::string describe(const KernelParam &p) {
  return "'" + p.name + "' (" + (p.isTensor ? "tensor " : "scalar ") +
         elementTypeName(p.dtype) + ")";
}

// The "args" list must be the ABI's, in its order: the runtime fills the
// parameters from the ABI, so any difference is a compiler/runtime mismatch.
void checkArgs(const Json *args, const std::vector<KernelParam> &abi,
               Fields &f) {
  if (!args)
    return;
  if (!args->is_array())
    return f.fail(f.expected("args", "a list", *args));
  for (size_t i = 0; i < args->size() || i < abi.size(); ++i) {
    std::string where = "attn.args[" + str(int64_t(i)) + "] ";
    if (i >= args->size())
      return f.fail("attn.args ends after " + str(int64_t(args->size())) +
                    " entries, the ABI continues with " + describe(abi[i]) +
                    "; the compiler and runtime disagree (docs/artefacts.md)");
    if (i >= abi.size())
      return f.fail(where + "is one more than the ABI's " +
                    str(int64_t(abi.size())) + " parameters");
    std::string error;
    Fields entry((*args)[i], where, error);
    KernelParam got;
    got.name = entry.string("name");
    std::string kind = entry.string("kind");
    got.isTensor = kind == "tensor";
    got.dtype = entry.type("dtype");
    if (entry.ok() && kind != "tensor" && kind != "scalar")
      entry.fail(where + "has kind \"" + kind +
                 "\", expected \"tensor\" or \"scalar\"");
    if (!entry.ok())
      return f.fail(error);
    const KernelParam &want = abi[i];
    if (got.name != want.name || got.isTensor != want.isTensor ||
        got.dtype != want.dtype)
      return f.fail(where + "is " + describe(got) + ", the ABI expects " +
                    describe(want) +
                    " here; the compiler and runtime disagree "
                    "(docs/artefacts.md)");
  }
}

// The member at `path` of `root`, null when any step is missing.
const Json &memberAt(const Json &root, std::initializer_list<const char *> path) {
  static const Json null;
  const Json *v = &root;
  for (const char *key : path) {
    auto it = v->find(key);
    if (it == v->end())
      return null;
    v = &*it;
  }
  return *v;
}

// "the section says "_causal", the name "_q128k32"": the first "_"-separated
// part where two kernel names part.
std::string whereNamesPart(const std::string &want, const std::string &got) {
  size_t at = 0;
  while (at < want.size() && at < got.size() && want[at] == got[at])
    ++at;
  size_t start = want.rfind('_', at == 0 ? 0 : at - 1);
  start = start == std::string::npos ? 0 : start;
  auto part = [&](const std::string &s) {
    size_t end = s.find('_', start + 1);
    return start >= s.size() ? std::string("(nothing)")
                             : "\"" + s.substr(start, end - start) + "\"";
  };
  return "the section says " + part(want) + ", the name " + part(got);
}

AttentionConfig readConfig(const Json &section, Fields &top,
                           std::string &error) {
  AttentionConfig c;
  if (!section.is_object()) {
    top.fail(top.expected("attn", "an object", section));
    return c;
  }
  Fields a(section, "attn.", error);
  int64_t version = a.integer("version", 1);
  if (a.ok() && version != kAttentionArtefactVersion)
    a.fail("attn.version: expected " + str(kAttentionArtefactVersion) +
           ", got " + str(version) +
           "; recompile the kernel with this checkout's attn-compile");
  std::string op = a.string("op");
  if (a.ok() && op != "attention")
    a.fail("attn.op: expected \"attention\", got \"" + op +
           "\"; this runtime launches attention kernels only");
  c.dtype = a.type("dtype");
  c.group = a.integer("group", 1);
  c.headDim = a.integer("head_dim", 1);
  c.valueDim = a.integer("value_dim", 0);
  c.scale = a.number("scale");
  c.softcap = a.number("softcap");
  c.causal = a.boolean("causal");
  c.window = a.nullOrPair("window");
  c.branches = a.nullOrPair("branches");
  std::string alignment = a.string("alignment");
  if (a.ok() && alignment != "bottom_right" && alignment != "top_left")
    a.fail("attn.alignment: expected \"bottom_right\" or \"top_left\", got \"" +
           alignment + "\"");
  c.bottomRight = alignment == "bottom_right";
  c.queryOffset = a.nullOrInteger("query_offset");
  c.maskDtype = a.nullOrType("mask_dtype");
  c.lengthsDtype = a.nullOrType("lengths_dtype");
  c.offsetsDtype = a.nullOrType("offsets_dtype");
  c.compressedKeys = a.nullOrPair("compressed_keys");
  c.blocks = a.nullOrPair("block_sizes");
  if (const Json *v = a.required("block_heads", "null, \"shared\", \"kv\" or \"q\"");
      v && !v->is_null()) {
    BlockHeads h;
    if (v->is_string() && parseBlockHeads(v->get<std::string>(), h))
      c.blockHeads = h;
    else
      a.fail(a.expected("block_heads", "null, \"shared\", \"kv\" or \"q\"", *v));
  }
  c.lse = a.boolean("lse");
  if (const Json *v = a.required("selection", "null or an object"); v && !v->is_null()) {
    if (!v->is_object()) {
      a.fail(a.expected("selection", "null or an object", *v));
    } else {
      Fields s(*v, "attn.selection.", error);
      BlockSelection sel;
      sel.block = s.integer("block", 1);
      sel.k = s.integer("k", 1);
      sel.init = s.integer("init", 0);
      sel.local = s.integer("local", 0);
      std::string method = s.string("method");
      if (s.ok() && !parseKernelScoreMethod(method, sel.method))
        s.fail("attn.selection.method: expected \"softmax_prob\", "
               "\"softmax_prob_max\" or \"mean_key\", got \"" + method + "\"");
      c.selection = sel;
    }
  }
  if (a.ok() && c.blocks.has_value() + c.selection.has_value() !=
                    int(c.blockHeads.has_value()))
    a.fail("attn.block_heads: set exactly when attn.block_sizes or "
           "attn.selection is");
  if (const Json *plan = a.object("tile_plan")) {
    Fields p(*plan, "attn.tile_plan.", error);
    std::string target = p.string("target");
    if (p.ok() && !parseTarget(target, c.plan.target))
      p.fail("attn.tile_plan.target: expected \"sm_80\" or \"sm_90\", got \"" +
             target + "\"");
    c.plan.qBlock = p.integer("q_block", 1);
    c.plan.kvBlock = p.integer("kv_block", 1);
    c.plan.warps = p.integer("warps", 1);
    c.plan.stages = p.integer("stages", 1);
  }
  if (const Json *v = a.find("registers"); v && !v->is_null())
    (void)a.integer("registers", 0);
  if (a.find("spill_bytes"))
    (void)a.integer("spill_bytes", 0);
  if (const Json *v = a.find("ptxas"); v && !v->is_string())
    a.fail(a.expected("ptxas", "a string", *v));
  return c;
}

// Reads the "attn" section and checks that every field that follows from
// the config (the name, warps, stages, shared memory, arch, block, grid and
// parameter list) says what the config implies.
void readAttention(const Json &root, KernelArtefact &out, Fields &top,
                   std::string &error) {
  const Json &section = memberAt(root, {"attn"});
  AttentionConfig c = readConfig(section, top, error);
  if (!top.ok())
    return;
  for (const std::string &e :
       {c.validate(), c.validateForF32(), GpuTileLayout::check(c)})
    if (!e.empty())
      return top.fail("attn: " + e +
                      "; the section describes no kernel this runtime can "
                      "launch (docs/artefacts.md)");

  const std::string name = c.name();
  if (out.name != name)
    return top.fail("name: expected \"" + name +
                    "\" (the kernel the attn section describes), got \"" +
                    out.name + "\"; " + whereNamesPart(name, out.name));
  auto expect = [&](const std::string &field, const Json &got,
                    const Json &want, const std::string &why) {
    if (top.ok() && got != want)
      top.fail(field + ": expected " + Fields::shown(want) + " (" + why +
               "), got " + Fields::shown(got));
  };
  const std::string plan = "attn.tile_plan";
  expect("num_warps", memberAt(root, {"num_warps"}), c.plan.warps,
         plan + ".warps");
  expect("num_stages", memberAt(root, {"num_stages"}), c.plan.stages,
         plan + ".stages");
  expect("shared", memberAt(root, {"shared"}), GpuTileLayout(c).sharedBytes,
         "the shared memory of " + plan);
  expect("target.arch", memberAt(root, {"target", "arch"}),
         targetArch(c.plan.target),
         plan + ".target " + targetName(c.plan.target));
  expect("attn.block", memberAt(section, {"block"}), blockOf(c),
         "32 * " + plan + ".warps threads");
  expect("attn.grid", memberAt(section, {"grid"}), gridOf(c),
         "blocks of " + str(positionsPerBlock(c)) +
             " query positions, k's heads, batch");
  Fields a(section, "attn.", error);
  checkArgs(a.required("args", "a list"), kernelParams(c), a);
  if (!top.ok())
    return;

  out.ptxas = PtxasFigures();
  if (const Json *v = a.find("registers"); v && !v->is_null())
    out.ptxas.registers = v->get<int64_t>();
  if (const Json *v = a.find("spill_bytes"))
    out.ptxas.spillBytes = v->get<int64_t>();
  if (const Json *v = a.find("ptxas"))
    out.ptxas.log = v->get<std::string>();
  out.attn = c;
}

std::string readImages(const std::string &jsonPath, KernelArtefact &out) {
  // The cubin is preferred: it needs no JIT. The PTX, when present, also
  // gives the parameter list.
  fs::path base(jsonPath);
  fs::path cubin = fs::path(base).replace_extension(".cubin");
  fs::path ptx = fs::path(base).replace_extension(".ptx");
  std::error_code ec;
  bool haveCubin = fs::exists(cubin, ec), havePtx = fs::exists(ptx, ec);
  if (!haveCubin && !havePtx)
    return jsonPath + ": neither " + cubin.filename().string() + " nor " +
           ptx.filename().string() +
           " is next to it; keep the kernel's .cubin or .ptx beside its .json";
  auto readImage = [](const fs::path &path, std::string &bytes) {
    std::string e = readFileBytes(path.string(), kMaxImageBytes, bytes);
    if (e.empty() && bytes.empty())
      e = path.string() + ": the file is empty; recompile the kernel";
    return e;
  };
  std::string ptxText;
  if (havePtx) {
    if (std::string e = readImage(ptx, ptxText); !e.empty())
      return e;
    if (std::string e = ptxEntryParamSizes(ptxText, out.name, out.ptxParamSizes);
        !e.empty())
      return ptx.string() + ": " + e +
             "; the .json's \"name\" must be the kernel's entry point";
    out.ptxParamsKnown = true;
  }
  if (haveCubin) {
    out.imagePath = cubin.string();
    if (std::string e = readImage(cubin, out.image); !e.empty())
      return e;
  } else {
    out.imagePath = ptx.string();
    out.image = ptxText + '\0'; // cuModuleLoadData reads PTX up to a NUL
    out.imageIsPtx = true;
  }

  if (out.attn && out.ptxParamsKnown) {
    const std::vector<KernelParam> abi = kernelParams(*out.attn);
    const std::vector<int> &got = out.ptxParamSizes;
    if (got.size() != abi.size())
      return ptx.string() + ": .entry " + out.name + " has " +
             str(int64_t(got.size())) + " parameters, the attention ABI " +
             str(int64_t(abi.size())) +
             "; the compiler and runtime disagree (docs/artefacts.md)";
    for (size_t i = 0; i < abi.size(); ++i)
      if (got[i] != abi[i].bytes())
        return ptx.string() + ": parameter " + str(int64_t(i)) +
               " of .entry " + out.name + " has " + str(got[i]) +
               " bytes, the ABI's " + describe(abi[i]) + " has " +
               str(abi[i].bytes());
  }
  return "";
}

std::string readArtefact(const std::string &jsonPath, KernelArtefact &out) {
  out = KernelArtefact();
  out.jsonPath = jsonPath;
  Json json;
  if (std::string e = readJsonFile(jsonPath, json); !e.empty())
    return e;
  if (!json.is_object())
    return jsonPath + ": not a JSON object; expected kernel metadata "
                      "(docs/artefacts.md)";
  std::string error;
  Fields f(json, "", error);
  out.name = f.string("name");
  out.numWarps = f.integer("num_warps", 1);
  out.shared = f.integer("shared", 0);
  out.numCtas = f.optionalInteger("num_ctas", 1).value_or(1);
  out.globalScratchSize = f.optionalInteger("global_scratch_size", 0).value_or(0);
  out.profileScratchSize =
      f.optionalInteger("profile_scratch_size", 0).value_or(0);
  out.declaresScratch =
      f.find("global_scratch_size") && f.find("profile_scratch_size");
  if (const Json *target = f.find("target")) {
    if (!target->is_object())
      f.fail(f.expected("target", "an object", *target));
    else
      out.arch = Fields(*target, "target.", error)
                     .optionalInteger("arch", 1)
                     .value_or(0);
  }
  if (f.ok() && out.numCtas != 1)
    f.fail("num_ctas: expected 1, got " + str(out.numCtas) +
           "; the runtime launches single-CTA kernels only (no clusters)");
  if (f.ok() && out.numWarps > 32)
    f.fail("num_warps " + str(out.numWarps) +
           " exceeds 32 (1024 threads per block)");
  // A compute capability as Triton writes it, major * 10 + minor.
  if (f.ok() && out.arch != 0 && (out.arch < 30 || out.arch > 999))
    f.fail("target.arch: expected a compute capability such as 80 or 90 "
           "(major * 10 + minor), got " + str(out.arch));
  if (f.ok() && f.find("attn"))
    readAttention(json, out, f, error);
  if (!error.empty())
    return jsonPath + ": " + error;
  return readImages(jsonPath, out);
}

} // namespace

std::string loadKernelArtefact(const std::string &jsonPath,
                               KernelArtefact &out) {
  return withoutExceptions(jsonPath, [&] { return readArtefact(jsonPath, out); });
}

} // namespace attn::rt
