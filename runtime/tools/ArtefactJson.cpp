//===- ArtefactJson.cpp - attn-artefact-json ------------------------------===//
//
// attn-artefact-json --dtype=T --group=G --head-dim=D [OPTION...]
// Prints the NAME.json of the GPU attention kernel the options describe,
// through the runtime's one writer (attentionArtefactJson), so that kernels
// built elsewhere (the naive nvcc kernels of test/Runtime, a hand-written
// kernel) get metadata the runtime accepts. With --name-only, prints the
// kernel's name (its entry point) alone. Exits 1 with one line when the
// options describe no kernel the runtime can launch, 2 on a usage error.
//
// Options: --dtype=f16|bf16  --group=G  --head-dim=D  --value-dim=DV (= D)
//   --scale=X (1/sqrt(D))  --softcap=X  --causal  --bottom-right
//   --window=L,R  --branches=P,N  --query-offset=N  --mask=bool|f16|bf16|f32
//   --lengths=i32|i64  --offsets=i32|i64  --lse
//   --blocks=Q_BLOCK,KV_BLOCK,shared|kv|q (block-sparse lists)
//   --compressed=L,D (compressed keys)
//   --plan=TARGET,Q_BLOCK,KV_BLOCK,WARPS,STAGES (sm_80,64,64,4,2)
//
//===----------------------------------------------------------------------===//

#include "lowering/GpuTileLayout.h"
#include "runtime/KernelArtefact.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace attn::rt;

namespace {

int usage(const std::string &why) {
  std::fprintf(stderr,
               "attn-artefact-json: %s\nusage: attn-artefact-json --dtype=T "
               "--group=G --head-dim=D [--value-dim=DV] [--scale=X] "
               "[--softcap=X] [--causal] [--bottom-right] [--window=L,R] "
               "[--branches=P,N] [--query-offset=N] [--mask=T] "
               "[--lengths=T] [--offsets=T] [--lse] [--blocks=Q,KV,HEADS] [--compressed=L,D] "
               "[--plan=TARGET,Q,KV,WARPS,STAGES] [--name-only]\n",
               why.c_str());
  return 2;
}

// Comma-separated integers, exactly `count` of them.
bool integers(const std::string &text, size_t count,
              std::vector<int64_t> &out) {
  out.clear();
  const char *p = text.c_str();
  while (*p) {
    char *end = nullptr;
    out.push_back(std::strtoll(p, &end, 10));
    if (end == p || (*end && *end != ','))
      return false;
    p = *end ? end + 1 : end;
  }
  return out.size() == count;
}

bool number(const std::string &text, double &out) {
  char *end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == 0;
}

// Applies one --key=value option to `c`; "" or what is wrong with it.
std::string apply(AttentionConfig &c, const std::string &key,
                  const std::string &value) {
  const std::string bad = "bad value in '" + key + "=" + value + "'";
  std::vector<int64_t> ints;
  double x = 0;
  DType t;
  if (key == "--dtype")
    return parseElementType(value, c.dtype) ? "" : bad;
  if (key == "--group" || key == "--head-dim" || key == "--value-dim" ||
      key == "--query-offset") {
    if (!integers(value, 1, ints))
      return bad;
    if (key == "--group")
      c.group = ints[0];
    else if (key == "--head-dim")
      c.headDim = ints[0];
    else if (key == "--value-dim")
      c.valueDim = ints[0];
    else
      c.queryOffset = ints[0];
    return "";
  }
  if (key == "--scale" || key == "--softcap") {
    if (!number(value, x))
      return bad;
    if (key == "--scale")
      c.scale = x;
    else
      c.softcap = x;
    return "";
  }
  if (key == "--window" || key == "--branches" || key == "--compressed") {
    if (!integers(value, 2, ints))
      return bad;
    (key == "--window"     ? c.window
     : key == "--branches" ? c.branches
                           : c.compressedKeys) = std::make_pair(ints[0], ints[1]);
    return "";
  }
  if (key == "--mask" || key == "--lengths" || key == "--offsets") {
    if (!parseElementType(value, t))
      return bad;
    (key == "--mask"      ? c.maskDtype
     : key == "--lengths" ? c.lengthsDtype
                          : c.offsetsDtype) = t;
    return "";
  }
  if (key == "--blocks") {
    size_t comma = value.rfind(',');
    if (comma == std::string::npos || !integers(value.substr(0, comma), 2, ints))
      return bad;
    c.blocks = std::make_pair(ints[0], ints[1]);
    BlockHeads h;
    if (!parseBlockHeads(value.substr(comma + 1), h))
      return bad;
    c.blockHeads = h;
    return "";
  }
  if (key == "--plan") {
    size_t comma = value.find(',');
    if (comma == std::string::npos ||
        !parseTarget(value.substr(0, comma), c.plan.target) ||
        !integers(value.substr(comma + 1), 4, ints))
      return bad;
    c.plan = {c.plan.target, ints[0], ints[1], ints[2], ints[3]};
    return "";
  }
  bool *flag = key == "--causal"         ? &c.causal
               : key == "--bottom-right" ? &c.bottomRight
               : key == "--lse"          ? &c.lse
                                         : nullptr;
  if (!flag)
    return "unknown option '" + key + "'";
  *flag = true;
  return "";
}

} // namespace

int main(int argc, char **argv) {
  AttentionConfig c;
  c.plan = {Target::SM80, 64, 64, 4, 2};
  bool nameOnly = false, haveDtype = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--name-only") {
      nameOnly = true;
      continue;
    }
    size_t eq = arg.find('=');
    std::string key = arg.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    haveDtype |= key == "--dtype";
    if (std::string e = apply(c, key, value); !e.empty())
      return usage(e);
  }
  if (!haveDtype || c.headDim == 0)
    return usage("--dtype and --head-dim are required");
  if (c.valueDim == 0)
    c.valueDim = c.headDim;
  for (const std::string &e :
       {c.validate(), c.validateForF32(), attn::GpuTileLayout::check(c)})
    if (!e.empty()) {
      std::fprintf(stderr, "attn-artefact-json: %s\n", e.c_str());
      return 1;
    }
  if (nameOnly)
    std::printf("%s\n", c.name().c_str());
  else
    std::fputs(attentionArtefactJson(c, {}).c_str(), stdout);
  return 0;
}
