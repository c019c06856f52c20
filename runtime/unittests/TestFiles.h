//===- TestFiles.h - What the runtime's unit tests share --------*- C++ -*-===//
//
// A scratch folder for file tests (removed at exit), writing and reading
// whole files, and a substring assertion that shows both strings.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_UNITTESTS_TESTFILES_H
#define ATTN_RUNTIME_UNITTESTS_TESTFILES_H

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

namespace attn::test {

/// A folder named after the process, removed when the program exits.
inline const std::string &scratch() {
  struct Folder {
    std::string path;
    Folder() {
      auto d = std::filesystem::temp_directory_path() /
               ("attn-unit-" + std::to_string(getpid()));
      std::filesystem::create_directories(d);
      path = d.string();
    }
    ~Folder() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Folder folder;
  return folder.path;
}

inline void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// EXPECT_TRUE(contains(message, "part")) prints both on failure.
inline ::testing::AssertionResult contains(const std::string &s,
                                           const std::string &part) {
  if (s.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << s << "\" does not contain \"" << part << "\"";
}

} // namespace attn::test

#endif // ATTN_RUNTIME_UNITTESTS_TESTFILES_H
