//===- Json.cpp - A small JSON value, parser and writer -------------------===//

#include "runtime/Json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace attn::rt {

Json Json::boolean(bool b) {
  Json j;
  j.kind_ = Kind::Bool;
  j.bool_ = b;
  return j;
}

Json Json::number(double x) {
  Json j;
  j.kind_ = Kind::Number;
  j.number_ = x;
  return j;
}

Json Json::integer(int64_t x) {
  Json j;
  j.kind_ = Kind::Number;
  j.isInt_ = true;
  j.int_ = x;
  j.number_ = double(x);
  return j;
}

Json Json::string(std::string s) {
  Json j;
  j.kind_ = Kind::String;
  j.string_ = std::move(s);
  return j;
}

Json Json::array(std::vector<Json> elements) {
  Json j;
  j.kind_ = Kind::Array;
  j.elements_ = std::move(elements);
  return j;
}

Json Json::object(Items items) {
  Json j;
  j.kind_ = Kind::Object;
  j.items_ = std::move(items);
  return j;
}

double Json::asDouble() const { return isNumber() ? number_ : 0; }

int64_t Json::asInt() const {
  if (isInt_)
    return int_;
  // Truncation toward zero, guarded: a huge or NaN double is not an int64.
  if (!isNumber() || !(std::fabs(number_) < 9.2e18))
    return 0;
  return int64_t(number_);
}

const Json *Json::get(const std::string &key) const {
  for (const auto &item : items_)
    if (item.first == key)
      return &item.second;
  return nullptr;
}

void Json::set(const std::string &key, Json value) {
  for (auto &item : items_)
    if (item.first == key) {
      item.second = std::move(value);
      return;
    }
  items_.emplace_back(key, std::move(value));
}

void Json::push(Json value) { elements_.push_back(std::move(value)); }

namespace {

class Parser {
public:
  explicit Parser(const std::string &text) : text_(text) {}

  std::string parseDocument(Json &out) {
    skipSpace();
    if (!parseValue(out, 0))
      return error_;
    skipSpace();
    if (pos_ != text_.size())
      return fail("unexpected text after the JSON value");
    return "";
  }

private:
  // Deep enough for any real file, shallow enough that a hostile one cannot
  // overflow the stack.
  static constexpr int kMaxDepth = 256;

  const std::string &text_;
  size_t pos_ = 0;
  std::string error_;

  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }

  std::string fail(const std::string &what) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    error_ = "line " + std::to_string(line) + ", column " +
             std::to_string(column) + ": " + what;
    return error_;
  }
  bool failed(const std::string &what) {
    fail(what);
    return false;
  }

  void skipSpace() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' ||
                        peek() == '\r'))
      ++pos_;
  }

  bool literal(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (text_.compare(pos_, n, word) != 0)
      return false;
    pos_ += n;
    return true;
  }

  bool parseValue(Json &out, int depth) {
    if (depth > kMaxDepth)
      return failed("nesting deeper than " + std::to_string(kMaxDepth));
    char c = peek();
    if (c == '{')
      return parseObject(out, depth);
    if (c == '[')
      return parseArray(out, depth);
    if (c == '"') {
      std::string s;
      if (!parseString(s))
        return false;
      out = Json::string(std::move(s));
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
      return parseNumber(out);
    if (literal("true")) {
      out = Json::boolean(true);
      return true;
    }
    if (literal("false")) {
      out = Json::boolean(false);
      return true;
    }
    if (literal("null")) {
      out = Json();
      return true;
    }
    return failed(atEnd() ? "unexpected end of input, expected a value"
                          : std::string("unexpected character '") + c +
                                "', expected a value");
  }

  bool parseObject(Json &out, int depth) {
    ++pos_; // '{'
    out = Json::object();
    skipSpace();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skipSpace();
      if (peek() != '"')
        return failed("expected a string key in the object");
      std::string key;
      if (!parseString(key))
        return false;
      skipSpace();
      if (peek() != ':')
        return failed("expected ':' after the key \"" + key + "\"");
      ++pos_;
      skipSpace();
      Json value;
      if (!parseValue(value, depth + 1))
        return false;
      out.set(key, std::move(value));
      skipSpace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return failed("expected ',' or '}' in the object");
    }
  }

  bool parseArray(Json &out, int depth) {
    ++pos_; // '['
    out = Json::array();
    skipSpace();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skipSpace();
      Json value;
      if (!parseValue(value, depth + 1))
        return false;
      out.push(std::move(value));
      skipSpace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return failed("expected ',' or ']' in the array");
    }
  }

  bool hex4(uint32_t &code) {
    code = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      char c = peek();
      int v = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (v < 0)
        return failed("expected four hex digits after \\u");
      code = code * 16 + uint32_t(v);
    }
    return true;
  }

  static void appendUtf8(std::string &s, uint32_t code) {
    if (code < 0x80) {
      s += char(code);
    } else if (code < 0x800) {
      s += char(0xC0 | (code >> 6));
      s += char(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      s += char(0xE0 | (code >> 12));
      s += char(0x80 | ((code >> 6) & 0x3F));
      s += char(0x80 | (code & 0x3F));
    } else {
      s += char(0xF0 | (code >> 18));
      s += char(0x80 | ((code >> 12) & 0x3F));
      s += char(0x80 | ((code >> 6) & 0x3F));
      s += char(0x80 | (code & 0x3F));
    }
  }

  bool parseString(std::string &out) {
    ++pos_; // opening quote
    while (true) {
      if (atEnd())
        return failed("unterminated string");
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return failed("control character in a string (escape it)");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (atEnd())
        return failed("unterminated string");
      char e = text_[pos_++];
      switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t code;
        if (!hex4(code))
          return false;
        // A high surrogate followed by \u low surrogate is one code point.
        if (code >= 0xD800 && code < 0xDC00 && literal("\\u")) {
          uint32_t low;
          if (!hex4(low))
            return false;
          if (low < 0xDC00 || low >= 0xE000)
            return failed("unpaired surrogate in \\u escape");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        appendUtf8(out, code);
        break;
      }
      default:
        --pos_;
        return failed(std::string("invalid escape '\\") + e + "'");
      }
    }
  }

  bool digits() {
    size_t start = pos_;
    while (peek() >= '0' && peek() <= '9')
      ++pos_;
    return pos_ > start;
  }

  bool parseNumber(Json &out) {
    size_t start = pos_;
    bool integral = true;
    if (peek() == '-')
      ++pos_;
    if (peek() == '0')
      ++pos_;
    else if (!digits())
      return failed("expected a digit");
    if (peek() == '.') {
      integral = false;
      ++pos_;
      if (!digits())
        return failed("expected a digit after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++pos_;
      if (peek() == '+' || peek() == '-')
        ++pos_;
      if (!digits())
        return failed("expected a digit in the exponent");
    }
    std::string token = text_.substr(start, pos_ - start);
    if (integral) {
      errno = 0;
      long long v = std::strtoll(token.c_str(), nullptr, 10);
      if (errno == 0) {
        out = Json::integer(v);
        return true;
      }
    }
    // The grammar was checked above; the C locale reads '.' as the point.
    out = Json::number(std::strtod(token.c_str(), nullptr));
    return true;
  }
};

void writeString(std::string &out, const std::string &s) {
  out += '"';
  for (char c : s) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
        out += buf;
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

// The shortest %g form that reads back to the same double.
std::string formatDouble(double x) {
  char buf[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x)
      break;
  }
  return buf;
}

void writeValue(std::string &out, const Json &v, int indent) {
  std::string pad(2 * (indent + 1), ' ');
  switch (v.kind()) {
  case Json::Kind::Null: out += "null"; return;
  case Json::Kind::Bool: out += v.asBool() ? "true" : "false"; return;
  case Json::Kind::Number:
    if (v.isInteger())
      out += std::to_string(v.asInt());
    else if (std::isfinite(v.asDouble()))
      out += formatDouble(v.asDouble());
    else
      out += "null";
    return;
  case Json::Kind::String: writeString(out, v.asString()); return;
  case Json::Kind::Array:
    if (v.elements().empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < v.elements().size(); ++i) {
      out += pad;
      writeValue(out, v.elements()[i], indent + 1);
      out += i + 1 < v.elements().size() ? ",\n" : "\n";
    }
    out += std::string(2 * indent, ' ') + "]";
    return;
  case Json::Kind::Object:
    if (v.items().empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    for (size_t i = 0; i < v.items().size(); ++i) {
      out += pad;
      writeString(out, v.items()[i].first);
      out += ": ";
      writeValue(out, v.items()[i].second, indent + 1);
      out += i + 1 < v.items().size() ? ",\n" : "\n";
    }
    out += std::string(2 * indent, ' ') + "}";
    return;
  }
}

} // namespace

std::string parseJson(const std::string &text, Json &out) {
  return Parser(text).parseDocument(out);
}

std::string readJsonFile(const std::string &path, Json &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return path + ": cannot open the file (check the path)";
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string error = parseJson(buffer.str(), out);
  return error.empty() ? "" : path + ": " + error;
}

std::string writeJson(const Json &value) {
  std::string out;
  writeValue(out, value, 0);
  return out + "\n";
}

} // namespace attn::rt
