#include "spec/expr.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <compare>
#include <utility>

namespace tauon::spec {

std::string Value::ToString() const {
  if (is_null()) return "null";
  if (is_bool()) return as_bool() ? "true" : "false";
  if (is_number()) {
    // fmt prints the shortest text that reads back as the same double: 0.95, 3, 1e-05.
    double d = as_number();
    return d == 0 ? "0" : fmt::format("{}", d);  // Shows -0 as 0.
  }
  std::string quoted = "'";
  for (char c : as_string()) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

const char* Value::type_name() const {
  if (is_null()) return "null";
  if (is_bool()) return "boolean";
  if (is_number()) return "number";
  return "string";
}

std::optional<Result<Value>> Scope::Call(std::string_view /*name*/,
                                         std::span<const Value> /*args*/) const {
  return std::nullopt;
}

// A node of the syntax tree. Parenthesised groups leave no node of their own.
struct Expression::Node {
  enum class Kind {
    // Leaves; a call's operands are its arguments.
    kLiteral,
    kName,
    kCall,
    // One operand.
    kNegate,
    kNot,
    // Two operands.
    kAnd,
    kOr,
    kEq,
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    kAdd,
    kSub,
    kMul,
    kDiv,
  };
  Kind kind = Kind::kLiteral;
  // Where errors about the node itself point: the literal, the (function)
  // name, or the operator.
  size_t offset = 0;
  // Where the sub-expression starts, including an opening '('; errors about
  // the node's value as an operand of its parent point here.
  size_t start = 0;
  // Height of the tree below and including this node; bounded by kMaxDepth.
  int height = 1;
  Value value;       // kLiteral only.
  std::string text;  // The token as written: a name, function, operator ("and" or "&&").
  std::vector<Node> operands;
};

namespace {

using Node = Expression::Node;
using Kind = Node::Kind;

// Bounds both parser recursion and tree height, so that hostile input cannot
// exhaust the stack while parsing, evaluating or destroying the tree.
constexpr int kMaxDepth = 100;

std::unexpected<ExprError> Error(size_t offset, std::string message) {
  return std::unexpected(ExprError{offset, std::move(message)});
}

// "null", "number 3", "string 'main'": a value as named in error messages.
std::string Describe(const Value& v) {
  return v.is_null() ? "null" : fmt::format("{} {}", v.type_name(), v.ToString());
}

// ---------------------------------------------------------------------------
// Lexer

struct Token {
  enum class Kind {
    kEnd,       // End of text; offset is the text size.
    kLiteral,   // Number, string, true, false or null; see `value`.
    kName,      // A dotted name.
    kOperator,  // Punctuation, and, or, not.
    kError,     // Text that is no token; see `error`. Always the last token.
  };
  Kind kind;
  size_t offset;
  std::string_view text;  // As written, quotes included.
  Value value;
  std::string error;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // Splits the whole text. The result ends with a kEnd token, or with a kError
  // token at the first character that starts no valid token; the parser
  // reports that error only if it gets that far without an earlier one.
  std::vector<Token> Tokenize() {
    std::vector<Token> tokens;
    do {
      while (pos_ < text_.size() && std::string_view(" \t\r\n").contains(text_[pos_])) ++pos_;
      tokens.push_back(Next());
    } while (tokens.back().kind != Token::Kind::kEnd && tokens.back().kind != Token::Kind::kError);
    return tokens;
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  Token Make(Token::Kind kind, size_t start, Value value = {}) const {
    return {kind, start, text_.substr(start, pos_ - start), std::move(value), {}};
  }
  Token Fail(size_t offset, std::string message) const {
    return {Token::Kind::kError, offset, {}, {}, std::move(message)};
  }

  Token Next() {
    if (pos_ == text_.size()) return Make(Token::Kind::kEnd, pos_);
    char c = Peek();
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return Number();
    if (IsNameStart(c)) return Word();
    if (c == '\'' || c == '"') return String();
    return Operator();
  }

  // 12, 0.5, .5, 1e-3. A number running straight into letters, digits or dots
  // (`1e`, `2x`, `1.2.3`) is an error rather than two tokens.
  Token Number() {
    size_t start = pos_;
    while (IsDigit(Peek())) ++pos_;
    if (Peek() == '.' && IsDigit(Peek(1))) {
      ++pos_;
      while (IsDigit(Peek())) ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      size_t sign = Peek(1) == '+' || Peek(1) == '-' ? 1 : 0;
      if (IsDigit(Peek(1 + sign))) {
        pos_ += 1 + sign;
        while (IsDigit(Peek())) ++pos_;
      }
    }
    if (IsNameChar(Peek()) || Peek() == '.') {
      while (IsNameChar(Peek()) || Peek() == '.') ++pos_;
      return Fail(start, fmt::format("invalid number '{}'", text_.substr(start, pos_ - start)));
    }
    std::string_view digits = text_.substr(start, pos_ - start);
    double d = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return Fail(start, fmt::format("number '{}' is out of range", digits));
    }
    return Make(Token::Kind::kLiteral, start, d);
  }

  // A keyword, or a dotted name: `branch`, `baseline.accuracy`, `f1.3`.
  // Keywords are recognised only as a whole first segment, and never continue
  // with dotted segments: `not_x` is a name, `true.x` is `true` followed by an
  // error at the dot.
  Token Word() {
    size_t start = pos_;
    while (IsNameChar(Peek())) ++pos_;
    std::string_view word = text_.substr(start, pos_ - start);
    if (word == "true" || word == "false")
      return Make(Token::Kind::kLiteral, start, word == "true");
    if (word == "null") return Make(Token::Kind::kLiteral, start);
    if (word == "and" || word == "or" || word == "not") return Make(Token::Kind::kOperator, start);
    while (Peek() == '.' && IsNameChar(Peek(1))) {
      ++pos_;
      while (IsNameChar(Peek())) ++pos_;
    }
    return Make(Token::Kind::kName, start);
  }

  // 'main' or "main"; a backslash escapes \, ' or ".
  Token String() {
    size_t start = pos_;
    char quote = text_[pos_++];
    std::string s;
    while (Peek() != quote) {
      if (pos_ == text_.size()) return Fail(start, "unterminated string");
      if (Peek() == '\\') {
        if (pos_ + 1 == text_.size()) return Fail(start, "unterminated string");
        if (!std::string_view("\\'\"").contains(Peek(1))) {
          return Fail(
              pos_,
              fmt::format("invalid escape '\\{}' (only \\\\, \\' and \\\" are allowed)", Peek(1)));
        }
        ++pos_;
      }
      s += text_[pos_++];
    }
    ++pos_;  // The closing quote.
    return Make(Token::Kind::kLiteral, start, std::move(s));
  }

  Token Operator() {
    size_t start = pos_;
    for (std::string_view op : {"==", "!=", "<=", ">=", "&&", "||"}) {
      if (text_.substr(pos_).starts_with(op)) {
        pos_ += 2;
        return Make(Token::Kind::kOperator, start);
      }
    }
    char c = Peek();
    if (std::string_view("<>+-*/(),!").contains(c)) {
      ++pos_;
      return Make(Token::Kind::kOperator, start);
    }
    const bool arrow = c == '=' && text_.substr(pos_).starts_with("=>");
    std::string_view hint = arrow      ? " (did you mean '>='?)"
                            : c == '=' ? " (did you mean '=='?)"
                            : c == '&' ? " (did you mean '&&'?)"
                            : c == '|' ? " (did you mean '||'?)"
                                       : "";
    bool printable = c >= ' ' && c <= '~';
    return Fail(start, printable ? fmt::format("unexpected character '{}'{}", c, hint)
                                 : fmt::format("unexpected byte 0x{:02x}", c & 0xff));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Parser: recursive descent over the grammar in expr.h.

using Parsed = std::expected<Node, ExprError>;

// Moves `nodes` into a vector (a braced list would copy them).
template <typename... Nodes>
std::vector<Node> Operands(Nodes&&... nodes) {
  std::vector<Node> operands;
  operands.reserve(sizeof...(nodes));
  (operands.push_back(std::forward<Nodes>(nodes)), ...);
  return operands;
}

struct BinaryOperator {
  std::string_view spelling;
  Kind kind;
};
constexpr BinaryOperator kOrOperators[] = {{"or", Kind::kOr}, {"||", Kind::kOr}};
constexpr BinaryOperator kAndOperators[] = {{"and", Kind::kAnd}, {"&&", Kind::kAnd}};
constexpr BinaryOperator kComparisonOperators[] = {{"==", Kind::kEq}, {"!=", Kind::kNe},
                                                   {"<", Kind::kLt},  {"<=", Kind::kLe},
                                                   {">", Kind::kGt},  {">=", Kind::kGe}};
constexpr BinaryOperator kAdditiveOperators[] = {{"+", Kind::kAdd}, {"-", Kind::kSub}};
constexpr BinaryOperator kTermOperators[] = {{"*", Kind::kMul}, {"/", Kind::kDiv}};

class Parser {
 public:
  // REQUIRES: `tokens` comes from Lexer::Tokenize.
  // `names` and `calls` receive the references in order of appearance.
  Parser(std::vector<Token> tokens, std::vector<Expression::Reference>& names,
         std::vector<Expression::Reference>& calls)
      : tokens_(std::move(tokens)), names_(names), calls_(calls) {}

  Parsed ParseAll() {
    if (Current().kind == Token::Kind::kEnd) return Error(0, "empty expression");
    Parsed root = ParseOr();
    if (root && Current().kind != Token::Kind::kEnd) return Unexpected("");
    return root;
  }

 private:
  const Token& Current() const { return tokens_[pos_]; }
  // Returns the current token and moves past it. Never moves past the last token.
  const Token& Take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool IsOperator(std::string_view spelling) const {
    return Current().kind == Token::Kind::kOperator && Current().text == spelling;
  }
  std::optional<Kind> Match(std::span<const BinaryOperator> ops) const {
    for (const BinaryOperator& op : ops) {
      if (IsOperator(op.spelling)) return op.kind;
    }
    return std::nullopt;
  }

  // The error for the current token: "unexpected ')', expected a value".
  std::unexpected<ExprError> Unexpected(std::string_view expected) const {
    const Token& t = Current();
    if (t.kind == Token::Kind::kError) return Error(t.offset, t.error);
    std::string what = t.kind == Token::Kind::kEnd ? "end of expression"
                       : t.kind == Token::Kind::kLiteral && t.value.is_string()
                           ? fmt::format("string {}", t.text)
                           : fmt::format("'{}'", t.text);
    std::string suffix = expected.empty() ? "" : fmt::format(", expected {}", expected);
    return Error(t.offset, fmt::format("unexpected {}{}", what, suffix));
  }

  // A node without operands located at `token`; its text is the token's.
  static Node Leaf(Kind kind, const Token& token) {
    Node node;
    node.kind = kind;
    node.offset = node.start = token.offset;
    node.text = std::string(token.text);
    return node;
  }

  // Builds an operator or call node located at `token`, starting at `start`.
  Parsed Make(Kind kind, const Token& token, size_t start, std::vector<Node> operands) {
    Node node = Leaf(kind, token);
    node.start = start;
    for (const Node& operand : operands) node.height = std::max(node.height, operand.height + 1);
    if (node.height > kMaxDepth) return Error(token.offset, "expression is nested too deeply");
    node.operands = std::move(operands);
    return node;
  }

  // Runs `parse` one recursion level deeper, failing beyond kMaxDepth levels.
  Parsed Nested(Parsed (Parser::*parse)()) {
    if (depth_ == kMaxDepth) return Error(Current().offset, "expression is nested too deeply");
    ++depth_;
    Parsed result = (this->*parse)();
    --depth_;
    return result;
  }

  // operand (op operand)*, folded to the left.
  Parsed ParseLeftAssociative(std::span<const BinaryOperator> ops, Parsed (Parser::*operand)()) {
    Parsed left = (this->*operand)();
    while (left) {
      std::optional<Kind> kind = Match(ops);
      if (!kind) break;
      const Token& op = Take();
      Parsed right = (this->*operand)();
      if (!right) return right;
      size_t start = left->start;
      left = Make(*kind, op, start, Operands(*std::move(left), *std::move(right)));
    }
    return left;
  }

  Parsed ParseOr() { return ParseLeftAssociative(kOrOperators, &Parser::ParseAnd); }
  Parsed ParseAnd() { return ParseLeftAssociative(kAndOperators, &Parser::ParseNot); }

  Parsed ParseNot() {
    if (!IsOperator("not") && !IsOperator("!")) return ParseComparison();
    const Token& op = Take();
    Parsed operand = Nested(&Parser::ParseNot);
    if (!operand) return operand;
    return Make(Kind::kNot, op, op.offset, Operands(*std::move(operand)));
  }

  // At most one comparison: `a < b < c` reads as a mistake, not as (a < b) < c.
  Parsed ParseComparison() {
    Parsed left = ParseAdditive();
    if (!left) return left;
    std::optional<Kind> kind = Match(kComparisonOperators);
    if (!kind) return left;
    const Token& op = Take();
    Parsed right = ParseAdditive();
    if (!right) return right;
    if (Match(kComparisonOperators)) {
      return Error(Current().offset, "comparisons cannot be chained; use 'and'");
    }
    size_t start = left->start;
    return Make(*kind, op, start, Operands(*std::move(left), *std::move(right)));
  }

  Parsed ParseAdditive() { return ParseLeftAssociative(kAdditiveOperators, &Parser::ParseTerm); }
  Parsed ParseTerm() { return ParseLeftAssociative(kTermOperators, &Parser::ParseUnary); }

  Parsed ParseUnary() {
    if (!IsOperator("-")) return ParsePrimary();
    const Token& op = Take();
    Parsed operand = Nested(&Parser::ParseUnary);
    if (!operand) return operand;
    return Make(Kind::kNegate, op, op.offset, Operands(*std::move(operand)));
  }

  Parsed ParsePrimary() {
    const Token& t = Current();
    if (t.kind == Token::Kind::kLiteral) {
      Take();
      Node literal = Leaf(Kind::kLiteral, t);
      literal.value = t.value;
      return literal;
    }
    if (t.kind == Token::Kind::kName) {
      Take();
      if (IsOperator("(")) return ParseCall(t);
      names_.push_back({std::string(t.text), t.offset});
      return Leaf(Kind::kName, t);
    }
    if (IsOperator("(")) {
      Take();
      Parsed inner = Nested(&Parser::ParseOr);
      if (!inner) return inner;
      if (!IsOperator(")")) return Unexpected("')'");
      Take();
      inner->start = t.offset;
      return inner;
    }
    return Unexpected("a value");
  }

  // REQUIRES: `name` was just taken and the current token is "(".
  Parsed ParseCall(const Token& name) {
    calls_.push_back({std::string(name.text), name.offset});
    Take();
    std::vector<Node> args;
    if (!IsOperator(")")) {
      while (true) {
        Parsed arg = Nested(&Parser::ParseOr);
        if (!arg) return arg;
        args.push_back(*std::move(arg));
        if (!IsOperator(",")) break;
        Take();
      }
      if (!IsOperator(")")) return Unexpected("',' or ')'");
    }
    Take();
    return Make(Kind::kCall, name, name.offset, std::move(args));
  }

  const std::vector<Token> tokens_;  // Tokens are referenced while parsing; never resized.
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<Expression::Reference>& names_;
  std::vector<Expression::Reference>& calls_;
};

// ---------------------------------------------------------------------------
// Evaluation.
//
// Error offsets: an error about one operand's value (wrong type, a zero
// divisor) points at the start of that operand; an error about the operation
// as a whole (mismatched comparison, non-finite result) points at the
// operator; lookup and call errors point at the name.

using Evaluated = std::expected<Value, ExprError>;

Evaluated Eval(const Node& node, const Scope& scope);

// Evaluates `node` and checks that it yields a boolean for `parent`.
Evaluated EvalBool(const Node& parent, const Node& node, const Scope& scope) {
  Evaluated v = Eval(node, scope);
  if (v && !v->is_bool()) {
    return Error(node.start,
                 fmt::format("'{}' needs {}, got {}", parent.text,
                             parent.operands.size() == 1 ? "a boolean" : "booleans", Describe(*v)));
  }
  return v;
}

Evaluated Compare(const Node& node, const Value& l, const Value& r) {
  bool equality = node.kind == Kind::kEq || node.kind == Kind::kNe;
  bool same_type =
      l.is_null() == r.is_null() && l.is_bool() == r.is_bool() && l.is_number() == r.is_number();
  if (equality && (same_type || l.is_null() || r.is_null())) {
    return (l == r) == (node.kind == Kind::kEq);
  }
  if (!same_type) {
    return Error(node.offset, fmt::format("cannot compare {} with {}", Describe(l), Describe(r)));
  }
  // Ordering: only numbers and strings are ordered.
  if (!l.is_number() && !l.is_string()) {
    return Error(node.offset, fmt::format("'{}' needs two numbers or two strings, got {} and {}",
                                          node.text, Describe(l), Describe(r)));
  }
  std::partial_ordering order =
      l.is_number() ? l.as_number() <=> r.as_number() : l.as_string() <=> r.as_string();
  switch (node.kind) {
    case Kind::kLt:
      return order < 0;
    case Kind::kLe:
      return order <= 0;
    case Kind::kGt:
      return order > 0;
    default:
      return order >= 0;  // kGe.
  }
}

Evaluated Arithmetic(const Node& node, const Value& l, const Value& r) {
  for (int i : {0, 1}) {
    const Value& v = i == 0 ? l : r;
    if (!v.is_number()) {
      return Error(node.operands[i].start,
                   fmt::format("'{}' needs numbers, got {}", node.text, Describe(v)));
    }
  }
  double a = l.as_number(), b = r.as_number(), result = 0;
  switch (node.kind) {
    case Kind::kAdd:
      result = a + b;
      break;
    case Kind::kSub:
      result = a - b;
      break;
    case Kind::kMul:
      result = a * b;
      break;
    default:  // kDiv.
      if (b == 0) return Error(node.operands[1].start, "division by zero");
      result = a / b;
  }
  if (!std::isfinite(result)) {
    return Error(node.offset, fmt::format("result of {} {} {} is not finite", l.ToString(),
                                          node.text, r.ToString()));
  }
  return result;
}

Evaluated Eval(const Node& node, const Scope& scope) {
  switch (node.kind) {
    case Kind::kLiteral:
      return node.value;
    case Kind::kName: {
      std::optional<Value> v = scope.Lookup(node.text);
      if (!v) return Error(node.offset, fmt::format("unknown name '{}'", node.text));
      return *std::move(v);
    }
    case Kind::kCall: {
      std::vector<Value> args;
      for (const Node& arg : node.operands) {
        Evaluated v = Eval(arg, scope);
        if (!v) return v;
        args.push_back(*std::move(v));
      }
      std::optional<Result<Value>> result = scope.Call(node.text, args);
      if (!result) return Error(node.offset, fmt::format("unknown function '{}'", node.text));
      if (!*result) return Error(node.offset, std::move(result->error().message));
      return **std::move(result);
    }
    case Kind::kNegate: {
      Evaluated v = Eval(node.operands[0], scope);
      if (!v) return v;
      if (!v->is_number()) {
        return Error(node.operands[0].start,
                     fmt::format("'{}' needs a number, got {}", node.text, Describe(*v)));
      }
      return -v->as_number();
    }
    case Kind::kNot: {
      Evaluated v = EvalBool(node, node.operands[0], scope);
      if (!v) return v;
      return !v->as_bool();
    }
    case Kind::kAnd:
    case Kind::kOr: {
      // Short-circuits: the right operand is evaluated only if it decides the result.
      Evaluated l = EvalBool(node, node.operands[0], scope);
      if (!l || l->as_bool() == (node.kind == Kind::kOr)) return l;
      return EvalBool(node, node.operands[1], scope);
    }
    default:
      break;
  }
  Evaluated l = Eval(node.operands[0], scope);
  if (!l) return l;
  Evaluated r = Eval(node.operands[1], scope);
  if (!r) return r;
  switch (node.kind) {
    case Kind::kAdd:
    case Kind::kSub:
    case Kind::kMul:
    case Kind::kDiv:
      return Arithmetic(node, *l, *r);
    default:
      return Compare(node, *l, *r);
  }
}

}  // namespace

std::expected<Expression, ExprError> Expression::Parse(std::string_view text) {
  Expression expr;
  expr.text_ = std::string(text);
  // The tokens view `text`, which outlives the parser; the tree owns copies.
  Parser parser(Lexer(text).Tokenize(), expr.names_, expr.calls_);
  Parsed root = parser.ParseAll();
  if (!root) return std::unexpected(std::move(root.error()));
  expr.root_ = std::make_shared<const Node>(*std::move(root));
  return expr;
}

std::expected<Value, ExprError> Expression::Evaluate(const Scope& scope) const {
  // Only a default-constructed Expression has no tree.
  if (!root_) return Error(0, "empty expression");
  return Eval(*root_, scope);
}

}  // namespace tauon::spec
