//===- UnitTest.h - the runtime's tiny test harness -------------*- C++ -*-===//
//
// What both runtime unit tests share: checks that count failures per test,
// a scratch folder removed at the end, and a main loop that prints one line
// per test and "N passed, N failed".
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_UNITTESTS_UNITTEST_H
#define ATTN_RUNTIME_UNITTESTS_UNITTEST_H

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace attn::test {

inline int checkFailures = 0; // failed checks in the current test

inline void check(bool ok, const std::string &what, int line) {
  if (ok)
    return;
  ++checkFailures;
  std::printf("  check failed (line %d): %s\n", line, what.c_str());
}
#define CHECK(cond) ::attn::test::check((cond), #cond, __LINE__)

inline bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

/// A scratch folder for file tests, named after the test program and the
/// process, removed by runTests.
inline std::string scratch() {
  static std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("attn-unit-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

inline void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

using TestList = std::vector<std::pair<const char *, std::function<void()>>>;

/// Runs every test, prints "PASS name" / "FAIL name" and "N passed, N
/// failed"; the exit status is nonzero when a test failed.
inline int runTests(const TestList &tests) {
  int passed = 0, failed = 0;
  for (const auto &[name, run] : tests) {
    checkFailures = 0;
    run();
    std::printf("%s %s\n", checkFailures ? "FAIL" : "PASS", name);
    (checkFailures ? failed : passed)++;
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch(), ec);
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

} // namespace attn::test

#endif // ATTN_RUNTIME_UNITTESTS_UNITTEST_H
