//===- JsonFile.h - JSON files through nlohmann-json -------------*- C++ -*-===//
//
// The runtime's JSON (kernel artefacts, conformance case.json) is
// nlohmann-json; this adds the file reading and messages the runtime's
// readers share, and never throws. For the runtime's own .cpp files and its
// tests only: the MLIR tools are built with -fno-exceptions, which
// nlohmann's header does not compile under, so they reach JSON through
// functions such as readCaseOp (runtime/reference/OnnxCase.h).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_JSONFILE_H
#define ATTN_RUNTIME_JSONFILE_H

#include <nlohmann/json.hpp>

#include <string>

namespace attn::rt {

/// Objects keep their keys in the order written, so a written file reads in
/// a sensible order (Triton's fields first, then "attn").
using Json = nlohmann::ordered_json;

/// Returns "" or "line L, column C: problem". Never throws.
std::string parseJson(const std::string &text, Json &out);
/// Reads (at most kMaxJsonBytes) and parses a file; errors start with the
/// path.
std::string readJsonFile(const std::string &path, Json &out);
/// Two-space indents and a final newline; bytes that are not UTF-8 (a
/// ptxas log may have some) are replaced rather than thrown over.
std::string writeJson(const Json &value);

} // namespace attn::rt

#endif // ATTN_RUNTIME_JSONFILE_H
