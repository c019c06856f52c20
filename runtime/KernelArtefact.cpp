//===- KernelArtefact.cpp - A compiled kernel's files, read and checked ---===//

#include "runtime/KernelArtefact.h"

#include "runtime/Json.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

namespace attn::rt {

std::vector<KernelArg> attentionAbiArgs(DType dtype,
                                        std::optional<DType> maskDtype,
                                        std::optional<DType> lengthsDtype,
                                        bool lse) {
  std::vector<KernelArg> args;
  auto tensor = [&](const char *name, DType t) {
    args.push_back({name, true, t});
  };
  auto scalar = [&](std::string name, DType t) {
    args.push_back({std::move(name), false, t});
  };
  auto strides = [&](const std::string &operand) {
    for (const char *axis : {"b", "h", "s"})
      scalar(operand + "_stride_" + axis, DType::I64);
  };
  tensor("q", dtype);
  tensor("k", dtype);
  tensor("v", dtype);
  if (maskDtype)
    tensor("mask", *maskDtype);
  if (lengthsDtype)
    tensor("kv_lengths", *lengthsDtype);
  tensor("out", dtype);
  if (lse)
    tensor("lse", DType::F32);
  scalar("batch", DType::I32);
  scalar("seq_q", DType::I32);
  scalar("seq_kv", DType::I32);
  if (maskDtype)
    scalar("mask_keys", DType::I32);
  for (const char *operand : {"q", "k", "v", "out"})
    strides(operand);
  if (maskDtype)
    strides("mask");
  if (lse)
    strides("lse");
  return args;
}

namespace {

// Reads the members of one JSON object; the first problem sticks, so a
// loader can read every field and test for an error once.
class Fields {
public:
  Fields(const Json &object, std::string where)
      : object_(object), where_(std::move(where)) {}

  const std::string &error() const { return error_; }
  void fail(const std::string &message) {
    if (error_.empty())
      error_ = where_ + message;
  }

  // nullptr (and an error) when absent; `kind` says what was expected.
  const Json *required(const char *key, const char *kind) {
    const Json *v = object_.get(key);
    if (!v)
      fail(std::string("missing field \"") + key + "\" (" + kind + ")");
    return v;
  }

  int64_t integer(const char *key, int64_t min) {
    const Json *v = required(key, "an integer");
    return v ? checkInteger(*v, key, min) : min;
  }
  int64_t optionalInteger(const char *key, int64_t fallback, int64_t min) {
    const Json *v = object_.get(key);
    return v ? checkInteger(*v, key, min) : fallback;
  }
  double number(const char *key) {
    const Json *v = required(key, "a number");
    if (v && !v->isNumber())
      fail(std::string("\"") + key + "\" must be a number");
    return v ? v->asDouble() : 0;
  }
  bool boolean(const char *key) {
    const Json *v = required(key, "true or false");
    if (v && !v->isBool())
      fail(std::string("\"") + key + "\" must be true or false");
    return v && v->asBool();
  }
  std::string string(const char *key) {
    const Json *v = required(key, "a string");
    if (v && !v->isString())
      fail(std::string("\"") + key + "\" must be a string");
    return v ? v->asString() : "";
  }
  // null or an element type name.
  std::optional<DType> optionalType(const char *key) {
    const Json *v = required(key, "null or an element type");
    if (!v || v->isNull())
      return std::nullopt;
    return type(*v, key);
  }
  DType type(const Json &v, const std::string &what) {
    DType t = DType::F32;
    if (!v.isString() || !parseElementType(v.asString(), t))
      fail("\"" + what + "\" must be one of f16, bf16, f32, bool, i32, i64");
    return t;
  }
  // null or [a, b].
  std::optional<std::pair<int64_t, int64_t>> optionalPair(const char *key) {
    const Json *v = required(key, "null or [a, b]");
    if (!v || v->isNull())
      return std::nullopt;
    const std::vector<Json> &e = v->elements();
    if (!v->isArray() || e.size() != 2 || !e[0].isInteger() ||
        !e[1].isInteger()) {
      fail(std::string("\"") + key + "\" must be null or two integers");
      return std::nullopt;
    }
    return std::make_pair(e[0].asInt(), e[1].asInt());
  }

private:
  int64_t checkInteger(const Json &v, const char *key, int64_t min) {
    if (!v.isInteger() || v.asInt() < min) {
      fail(std::string("\"") + key + "\" must be an integer >= " +
           std::to_string(min));
      return min;
    }
    return v.asInt();
  }

  const Json &object_;
  std::string where_;
  std::string error_;
};

std::string readFile(const fs::path &path, std::string &bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return path.string() + ": cannot open the file";
  bytes.assign(std::istreambuf_iterator<char>(in), {});
  if (bytes.empty())
    return path.string() + ": the file is empty; recompile the kernel";
  return "";
}

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

int abiSize(const KernelArg &a) {
  return a.isTensor ? 8 : int(dtypeSize(a.dtype));
}

std::string describe(const KernelArg &a) {
  return "'" + a.name + "' (" + (a.isTensor ? "tensor " : "scalar ") +
         elementTypeName(a.dtype) + ")";
}

void readGrid(const Json *grid, const std::vector<KernelArg> &args,
              GridAxis axes[3], Fields &f) {
  if (!grid)
    return;
  if (!grid->isObject())
    return f.fail("\"grid\" must be an object with \"x\", \"y\", \"z\"");
  const char *names[3] = {"x", "y", "z"};
  for (int i = 0; i < 3; ++i) {
    const Json *axis = grid->get(names[i]);
    std::string where = std::string("grid.") + names[i];
    if (!axis || !axis->isObject() || axis->items().size() != 1)
      return f.fail(where + " must be one of {\"value\": N}, {\"arg\": NAME}, "
                            "{\"ceil_div\": [NAME, N]}");
    const auto &[kind, v] = axis->items()[0];
    GridAxis &g = axes[i];
    if (kind == "value" && v.isInteger() && v.asInt() >= 1) {
      g.kind = GridAxis::Kind::Value;
      g.value = v.asInt();
      continue;
    }
    const std::vector<Json> &e = v.elements();
    if (kind == "arg" && v.isString()) {
      g.kind = GridAxis::Kind::Arg;
      g.arg = v.asString();
    } else if (kind == "ceil_div" && v.isArray() && e.size() == 2 &&
               e[0].isString() && e[1].isInteger() && e[1].asInt() >= 1) {
      g.kind = GridAxis::Kind::CeilDiv;
      g.arg = e[0].asString();
      g.value = e[1].asInt();
    } else {
      return f.fail(where + " must be one of {\"value\": N >= 1}, "
                            "{\"arg\": NAME}, {\"ceil_div\": [NAME, N >= 1]}");
    }
    bool known = false;
    for (const KernelArg &a : args)
      known |= !a.isTensor && a.name == g.arg;
    if (!known)
      return f.fail(where + " uses \"" + g.arg +
                    "\", which is not a scalar argument of the kernel");
  }
}

// The "args" list must be the ABI's, in its order: the runtime fills the
// parameters from the ABI, so any difference is a compiler/runtime mismatch.
void checkArgs(const Json *args, const std::vector<KernelArg> &abi, Fields &f) {
  if (!args)
    return;
  if (!args->isArray())
    return f.fail("\"args\" must be a list");
  const std::vector<Json> &e = args->elements();
  for (size_t i = 0; i < e.size() || i < abi.size(); ++i) {
    std::string where = "args[" + std::to_string(i) + "] ";
    if (i >= e.size())
      return f.fail("\"args\" ends after " + std::to_string(e.size()) +
                    " entries, the ABI continues with " + describe(abi[i]) +
                    "; the compiler and runtime disagree (docs/artefacts.md)");
    if (i >= abi.size())
      return f.fail(where + "is one more than the ABI's " +
                    std::to_string(abi.size()) + " parameters");
    Fields entry(e[i], "");
    KernelArg got;
    got.name = entry.string("name");
    std::string kind = entry.string("kind");
    got.isTensor = kind == "tensor";
    const Json *dtype = entry.required("dtype", "an element type");
    if (dtype)
      got.dtype = entry.type(*dtype, "dtype");
    if (!entry.error().empty())
      return f.fail(where + entry.error());
    if (kind != "tensor" && kind != "scalar")
      return f.fail(where + "has kind \"" + kind +
                    "\", expected \"tensor\" or \"scalar\"");
    const KernelArg &want = abi[i];
    if (got.name != want.name || got.isTensor != want.isTensor ||
        got.dtype != want.dtype)
      return f.fail(where + "is " + describe(got) + ", the ABI expects " +
                    describe(want) +
                    " here; the compiler and runtime disagree "
                    "(docs/artefacts.md)");
  }
}

void readAttention(const Json &section, int64_t numWarps, AttentionSpec &a,
                   Fields &top) {
  Fields f(section, "attn: ");
  if (f.integer("version", 1) != 1)
    f.fail("\"version\" must be 1; this runtime reads version 1 only");
  if (std::string op = f.string("op"); f.error().empty() && op != "attention")
    f.fail("\"op\" is \"" + op + "\", this runtime launches \"attention\"");
  if (const Json *t = f.required("dtype", "f16, bf16 or f32"))
    a.dtype = f.type(*t, "dtype");
  a.qHeads = f.integer("q_heads", 1);
  a.kvHeads = f.integer("kv_heads", 1);
  a.headDim = f.integer("head_dim", 1);
  a.valueDim = f.integer("value_dim", 1);
  a.scale = f.number("scale");
  a.softcap = f.number("softcap");
  a.causal = f.boolean("causal");
  a.window = f.optionalPair("window");
  a.branches = f.optionalPair("branches");
  std::string alignment = f.string("alignment");
  a.bottomRight = alignment == "bottom_right";
  if (f.error().empty() && !a.bottomRight && alignment != "top_left")
    f.fail("\"alignment\" must be \"bottom_right\" or \"top_left\"");
  a.maskDtype = f.optionalType("mask_dtype");
  a.lengthsDtype = f.optionalType("lengths_dtype");
  a.lse = f.boolean("lse");
  if (f.error().empty() && a.qHeads % a.kvHeads != 0)
    f.fail("q_heads " + std::to_string(a.qHeads) +
           " is not a multiple of kv_heads " + std::to_string(a.kvHeads));
  if (int64_t group = f.optionalInteger("group", 0, 0);
      f.error().empty() && group != 0 && group * a.kvHeads != a.qHeads)
    f.fail("\"group\" " + std::to_string(group) +
           " is not q_heads / kv_heads");
  a.block[0] = unsigned(32 * numWarps);
  if (const Json *block = section.get("block")) {
    const std::vector<Json> &e = block->elements();
    int64_t threads = 1;
    for (size_t i = 0; i < e.size() && i < 3; ++i)
      threads *= e[i].isInteger() && e[i].asInt() >= 1 ? e[i].asInt() : 0;
    if (e.size() != 3 || threads != 32 * numWarps)
      f.fail("\"block\" must be three positive integers whose product is 32 * "
             "num_warps = " + std::to_string(32 * numWarps));
    for (size_t i = 0; i < e.size() && i < 3; ++i)
      a.block[i] = unsigned(e[i].asInt());
  }
  if (f.error().empty())
    a.args = attentionAbiArgs(a.dtype, a.maskDtype, a.lengthsDtype, a.lse);
  readGrid(f.required("grid", "an object"), a.args, a.grid, f);
  checkArgs(f.required("args", "a list"), a.args, f);
  if (!f.error().empty())
    top.fail(f.error());
}

} // namespace

std::string loadKernelArtefact(const std::string &jsonPath,
                               KernelArtefact &out) {
  out = KernelArtefact();
  out.jsonPath = jsonPath;
  Json json;
  if (std::string e = readJsonFile(jsonPath, json); !e.empty())
    return e;
  if (!json.isObject())
    return jsonPath + ": not a JSON object; expected kernel metadata "
                      "(docs/artefacts.md)";
  Fields f(json, jsonPath + ": ");
  out.name = f.string("name");
  out.numWarps = f.integer("num_warps", 1);
  out.shared = f.integer("shared", 0);
  out.numCtas = f.optionalInteger("num_ctas", 1, 1);
  out.globalScratchSize = f.optionalInteger("global_scratch_size", 0, 0);
  out.profileScratchSize = f.optionalInteger("profile_scratch_size", 0, 0);
  out.declaresScratch =
      json.get("global_scratch_size") && json.get("profile_scratch_size");
  if (const Json *target = json.get("target"))
    out.arch = Fields(*target, "").optionalInteger("arch", 0, 0);
  if (f.error().empty() && out.numCtas != 1)
    f.fail("num_ctas is " + std::to_string(out.numCtas) +
           "; the runtime launches single-CTA kernels only (no clusters)");
  if (f.error().empty() && out.numWarps > 32)
    f.fail("num_warps " + std::to_string(out.numWarps) +
           " exceeds 32 (1024 threads per block)");
  if (!f.error().empty())
    return f.error();
  if (const Json *section = json.get("attn")) {
    out.attn.emplace();
    readAttention(*section, out.numWarps, *out.attn, f);
    if (!f.error().empty())
      return f.error();
  }

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
  std::string ptxText;
  if (havePtx) {
    if (std::string e = readFile(ptx, ptxText); !e.empty())
      return e;
    if (std::string e = ptxEntryParamSizes(ptxText, out.name, out.ptxParamSizes);
        !e.empty())
      return ptx.string() + ": " + e +
             "; the .json's \"name\" must be the kernel's entry point";
    out.ptxParamsKnown = true;
  }
  if (haveCubin) {
    out.imagePath = cubin.string();
    if (std::string e = readFile(cubin, out.image); !e.empty())
      return e;
  } else {
    out.imagePath = ptx.string();
    out.image = ptxText + '\0'; // cuModuleLoadData reads PTX up to a NUL
    out.imageIsPtx = true;
  }

  if (out.attn && out.ptxParamsKnown) {
    const std::vector<KernelArg> &abi = out.attn->args;
    const std::vector<int> &got = out.ptxParamSizes;
    if (got.size() != abi.size())
      return ptx.string() + ": .entry " + out.name + " has " +
             std::to_string(got.size()) + " parameters, the attention ABI " +
             std::to_string(abi.size()) + "; the compiler and runtime "
                                          "disagree (docs/artefacts.md)";
    for (size_t i = 0; i < abi.size(); ++i)
      if (got[i] != abiSize(abi[i]))
        return ptx.string() + ": parameter " + std::to_string(i) + " of .entry " +
               out.name + " has " + std::to_string(got[i]) +
               " bytes, the ABI's " + describe(abi[i]) + " has " +
               std::to_string(abiSize(abi[i]));
  }
  return "";
}

} // namespace attn::rt
