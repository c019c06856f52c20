//===- Json.h - A small JSON value, parser and writer -------------*- C++ -*-===//
//
// Enough JSON for conformance case files and kernel metadata: objects keep
// their keys in file order (so a rewritten file diffs cleanly), numbers keep
// an exact int64 when they were written as integers.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_JSON_H
#define ATTN_RUNTIME_JSON_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attn::rt {

class Json {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Items = std::vector<std::pair<std::string, Json>>;

  Json() = default; // null
  static Json boolean(bool b);
  static Json number(double x);
  static Json integer(int64_t x);
  static Json string(std::string s);
  static Json array(std::vector<Json> elements = {});
  static Json object(Items items = {});

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isBool() const { return kind_ == Kind::Bool; }
  bool isNumber() const { return kind_ == Kind::Number; }
  /// A number written without fraction or exponent that fits in int64.
  bool isInteger() const { return kind_ == Kind::Number && isInt_; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  // The accessors return a neutral value (false, 0, "", empty) for a value of
  // another kind; check the kind first where that matters.
  bool asBool() const { return isBool() && bool_; }
  double asDouble() const;
  int64_t asInt() const;
  const std::string &asString() const { return string_; }
  const std::vector<Json> &elements() const { return elements_; }
  const Items &items() const { return items_; }
  /// The member `key` of an object, nullptr when absent or not an object.
  const Json *get(const std::string &key) const;

  /// Object member assignment (replaces an existing key) and array append.
  void set(const std::string &key, Json value);
  void push(Json value);

private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  bool isInt_ = false;
  double number_ = 0;
  int64_t int_ = 0;
  std::string string_;
  std::vector<Json> elements_;
  Items items_;
};

/// Returns "" on success, else "line L, column C: problem".
std::string parseJson(const std::string &text, Json &out);
/// Reads and parses a file; errors start with the path.
std::string readJsonFile(const std::string &path, Json &out);
/// Pretty-printed with two-space indents and a final newline. Non-finite
/// numbers, which JSON cannot spell, are written as null.
std::string writeJson(const Json &value);

} // namespace attn::rt

#endif // ATTN_RUNTIME_JSON_H
