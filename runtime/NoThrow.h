//===- NoThrow.h - Errors instead of exceptions ------------------*- C++ -*-===//
//
// The runtime's functions report failures as one line ("" on success) and
// never throw: the MLIR tools that call them are built with -fno-exceptions
// and the C API's callers cannot take one. An exception that can still
// arise inside (out of memory for an absurd shape, a library's own) is
// turned into such a line here. For the runtime's .cpp files only: a
// header with try/catch does not compile under -fno-exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_NOTHROW_H
#define ATTN_RUNTIME_NOTHROW_H

#include <exception>
#include <new>
#include <string>

namespace attn::rt {

/// body() returns "" or an error line; an exception becomes
/// "PREFIX: what happened".
template <typename Body>
std::string withoutExceptions(const std::string &prefix, Body body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return prefix + ": not enough memory";
  } catch (const std::exception &e) {
    return prefix + ": " + e.what();
  } catch (...) {
    return prefix + ": an unexpected failure";
  }
}

} // namespace attn::rt

#endif // ATTN_RUNTIME_NOTHROW_H
