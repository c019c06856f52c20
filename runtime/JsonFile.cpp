//===- JsonFile.cpp - JSON files through nlohmann-json --------------------===//

#include "runtime/JsonFile.h"

#include "runtime/Files.h"

namespace attn::rt {

std::string parseJson(const std::string &text, Json &out) {
  try {
    out = Json::parse(text);
    return "";
  } catch (const Json::parse_error &e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2:
    // ..." -> "line 1, column 2: ...".
    std::string what = e.what();
    size_t at = what.find("at line ");
    return at == std::string::npos ? what : what.substr(at + 3);
  } catch (const std::exception &e) {
    return e.what();
  }
}

std::string readJsonFile(const std::string &path, Json &out) {
  std::string text;
  if (std::string e = readFileBytes(path, kMaxJsonBytes, text); !e.empty())
    return e;
  if (std::string e = parseJson(text, out); !e.empty())
    return path + ": " + e;
  return "";
}

std::string writeJson(const Json &value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace attn::rt
