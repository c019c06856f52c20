//===- Files.h - Reading whole files, with limits ----------------*- C++ -*-===//
//
// Every reader of the runtime (.npy, NAME.json, case.json, .cubin, .ptx)
// takes its bytes from readFileBytes, so that a directory, a device such as
// /dev/zero, a pipe or an absurdly large file is refused with one line
// instead of hanging, exhausting memory or throwing.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_FILES_H
#define ATTN_RUNTIME_FILES_H

#include <cstddef>
#include <string>

namespace attn::rt {

/// Size limits per kind of file: far above anything the project writes, far
/// below what would exhaust a machine's memory.
constexpr size_t kMaxJsonBytes = size_t(64) << 20;  // NAME.json, case.json
constexpr size_t kMaxImageBytes = size_t(1) << 30;  // .cubin, .ptx
constexpr size_t kMaxNpyBytes = size_t(16) << 30;   // one .npy tensor

/// Reads the whole regular file `path` into `bytes`. Returns "" or one line
/// that starts with the path: missing or unreadable, "is a directory", "not
/// a regular file", or larger than `maxBytes`. Never throws.
std::string readFileBytes(const std::string &path, size_t maxBytes,
                          std::string &bytes);

} // namespace attn::rt

#endif // ATTN_RUNTIME_FILES_H
