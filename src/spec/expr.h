// The expression language shared by `if:` conditions, model gates and
// deployment analysis checks.
//
//   expr       := or
//   or         := and (("or" | "||") and)*
//   and        := not (("and" | "&&") not)*
//   not        := ("not" | "!") not | comparison
//   comparison := additive (("==" | "!=" | "<" | "<=" | ">" | ">=") additive)?
//   additive   := term (("+" | "-") term)*
//   term       := unary (("*" | "/") unary)*
//   unary      := "-" unary | primary
//   primary    := NUMBER | STRING | "true" | "false" | "null"
//               | NAME "(" [expr ("," expr)*] ")" | NAME | "(" expr ")"
//
// NAME is a dotted name: `branch`, `accuracy`, `baseline.accuracy`,
// `latency.p95_ms`, `f1.3` (segments after a dot may start with a digit).
// STRING is single- or double-quoted. Types are strict: arithmetic needs
// numbers, `and`/`or`/`not` need booleans, comparisons need two values of the
// same type (null compares equal only to null); anything else is an error
// that names the offending operand, never a silent coercion.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/error.h"

namespace tauon::spec {

// A value of the expression language.
class Value {
 public:
  Value() = default;  // null
  Value(bool b) : v_(b) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_number() const { return std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  // REQUIRES: the matching is_*() is true.
  bool as_bool() const { return std::get<bool>(v_); }
  double as_number() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }

  // "null", "true", "0.95", "'main'": how the value is shown in messages and tables.
  std::string ToString() const;
  // "null", "boolean", "number" or "string".
  const char* type_name() const;

  bool operator==(const Value&) const = default;

 private:
  std::variant<std::monostate, bool, double, std::string> v_;
};

// An error located in the expression text; offset is a byte offset into it.
struct ExprError {
  size_t offset = 0;
  std::string message;
};

// Resolves names and functions during evaluation.
class Scope {
 public:
  virtual ~Scope() = default;
  // The value of a dotted name, or nullopt if the name is unknown (evaluation
  // then fails with "unknown name 'x'").
  virtual std::optional<Value> Lookup(std::string_view name) const = 0;
  // Calls a function; nullopt if there is no such function. The default has none.
  virtual std::optional<Result<Value>> Call(std::string_view name,
                                            std::span<const Value> args) const;
};

class Expression {
 public:
  // Parses `text`. On failure the error's offset points at the offending token
  // (or at the end of the text for a premature end).
  static std::expected<Expression, ExprError> Parse(std::string_view text);

  // A name or function call as written in the text.
  struct Reference {
    std::string name;
    size_t offset = 0;
  };
  // Every dotted name the expression reads, in order of appearance (duplicates kept).
  const std::vector<Reference>& names() const { return names_; }
  // Every function it calls, in order of appearance.
  const std::vector<Reference>& calls() const { return calls_; }
  const std::string& text() const { return text_; }

  // Evaluates against `scope`. Errors (unknown name, type mismatch, division by
  // zero, unknown function) carry the offset of the offending sub-expression.
  std::expected<Value, ExprError> Evaluate(const Scope& scope) const;

  struct Node;  // Defined in expr.cc.

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;  // Immutable after Parse; shared by copies.
  std::vector<Reference> names_;
  std::vector<Reference> calls_;
};

}  // namespace tauon::spec
