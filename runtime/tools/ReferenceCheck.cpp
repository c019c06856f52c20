//===- ReferenceCheck.cpp - attn-reference-check --------------------------===//
//
// attn-reference-check DIR...
// Runs the float64 reference on every ONNX Attention case under the given
// folders (a case folder, or a folder of case folders) and compares each
// stored output with the conformance tolerances. One line per case, then
// "N passed, N failed"; exits 0 only if every case passed.
//
//===----------------------------------------------------------------------===//

#include "runtime/reference/Compare.h"
#include "runtime/reference/OnnxCase.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace attn::rt;

namespace {

bool isCase(const fs::path &dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "case.json", ec);
}

// The case folders a command-line argument names, sorted for stable output.
std::vector<fs::path> caseFolders(const fs::path &arg) {
  if (isCase(arg))
    return {arg};
  std::vector<fs::path> cases;
  std::error_code ec;
  for (fs::directory_iterator it(arg, ec), end; !ec && it != end;
       it.increment(ec))
    if (isCase(it->path()))
      cases.push_back(it->path());
  std::sort(cases.begin(), cases.end());
  return cases;
}

// "" when the case passed (with `summary` set), else the reason it failed.
std::string checkCase(const fs::path &dir, std::string &name,
                      std::string &summary) {
  OnnxCase c;
  if (std::string e = loadOnnxCase(dir.string(), c); !e.empty())
    return e;
  name = c.name;
  std::map<std::string, Tensor> actual;
  if (std::string e = runOnnxCase(c, actual); !e.empty())
    return e;
  Tolerance tol = toleranceFor(c.dtype);
  double worstRel = 0, worstAbs = 0;
  for (const auto &[slot, ref] : c.expected) {
    if (!actual.count(slot))
      return slot + ": not computed";
    Comparison cmp = compareTensors(actual[slot], ref, tol);
    if (!cmp.problem.empty())
      return slot + ": " + cmp.problem;
    worstRel = std::max(worstRel, cmp.rel);
    worstAbs = std::max(worstAbs, cmp.maxAbs);
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "rel=%.2e maxabs=%.2e", worstRel, worstAbs);
  summary = buf;
  return "";
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: attn-reference-check DIR...\n"
                         "  DIR: an ONNX case folder or a folder of them\n");
    return 2;
  }
  int passed = 0, failed = 0;
  for (int a = 1; a < argc; ++a) {
    std::vector<fs::path> cases = caseFolders(argv[a]);
    if (cases.empty()) {
      std::printf("FAIL %s: no case folder (with a case.json) found there\n",
                  argv[a]);
      ++failed;
    }
    for (const fs::path &dir : cases) {
      std::string name = dir.filename().string();
      // A case it cannot read is loaded anyway, to report why.
      std::string op;
      if (readCaseOp(dir.string(), op).empty() && op != "Attention") {
        std::printf("SKIP %s (op %s)\n", name.c_str(), op.c_str());
        continue;
      }
      std::string summary;
      std::string error = checkCase(dir, name, summary);
      if (error.empty()) {
        std::printf("PASS %s  %s\n", name.c_str(), summary.c_str());
        ++passed;
      } else {
        std::printf("FAIL %s: %s\n", name.c_str(), error.c_str());
        ++failed;
      }
      std::fflush(stdout);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
