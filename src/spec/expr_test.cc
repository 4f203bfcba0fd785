#include "spec/expr.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tauon::spec {
namespace {

// Names from a map; functions success(), failure(), max(a, b) and broken(),
// which fails. Records every lookup and call so tests can check short-circuiting.
class TestScope : public Scope {
 public:
  std::optional<Value> Lookup(std::string_view name) const override {
    lookups.emplace_back(name);
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }

  std::optional<Result<Value>> Call(std::string_view name,
                                    std::span<const Value> args) const override {
    calls.emplace_back(name);
    if (name == "success" || name == "failure") {
      if (!args.empty()) return Fail("{}() takes no arguments", name);
      return Value(name == "success");
    }
    if (name == "max") {
      if (args.size() != 2 || !args[0].is_number() || !args[1].is_number()) {
        return Fail("max() takes two numbers");
      }
      return Value(std::max(args[0].as_number(), args[1].as_number()));
    }
    if (name == "broken") return Fail("artifact store unreachable");
    return std::nullopt;
  }

  std::map<std::string, Value, std::less<>> values = {
      {"accuracy", 0.96},
      {"baseline.accuracy", 0.962},
      {"canary.latency_p99_ms", 118.0},
      {"stable.latency_p99_ms", 100.0},
      {"latency.p95_ms", 80.0},
      {"f1.3", 0.5},
      {"branch", "main"},
      {"event", "push"},
      {"yes", true},
      {"no", false},
      {"nothing", Value()},
      {"not_x", true},
      {"nullable", "n"},
      {"orange", 1.0},
  };
  mutable std::vector<std::string> lookups;
  mutable std::vector<std::string> calls;
};

// The value as Value::ToString shows it, or "at OFFSET: MESSAGE" for a parse
// or evaluation error.
std::string Eval(std::string_view text, const Scope& scope) {
  auto expr = Expression::Parse(text);
  std::expected<Value, ExprError> result =
      expr ? expr->Evaluate(scope) : std::unexpected(expr.error());
  if (!result) return fmt::format("at {}: {}", result.error().offset, result.error().message);
  return result->ToString();
}

std::string Eval(std::string_view text) { return Eval(text, TestScope()); }

// "at OFFSET: MESSAGE" for a parse error, or "parsed".
std::string ParseError(std::string_view text) {
  auto expr = Expression::Parse(text);
  if (expr) return "parsed";
  return fmt::format("at {}: {}", expr.error().offset, expr.error().message);
}

// References as "name@offset".
std::vector<std::string> Show(const std::vector<Expression::Reference>& refs) {
  std::vector<std::string> shown;
  for (const auto& ref : refs) shown.push_back(fmt::format("{}@{}", ref.name, ref.offset));
  return shown;
}

using Strings = std::vector<std::string>;

TEST(ExprTest, ValueToString) {
  EXPECT_EQ(Value().ToString(), "null");
  EXPECT_EQ(Value(true).ToString(), "true");
  EXPECT_EQ(Value(false).ToString(), "false");
  EXPECT_EQ(Value(0.95).ToString(), "0.95");
  EXPECT_EQ(Value(3.0).ToString(), "3");
  EXPECT_EQ(Value(-2.5).ToString(), "-2.5");
  EXPECT_EQ(Value(1e-05).ToString(), "1e-05");
  EXPECT_EQ(Value(0.1 + 0.2).ToString(), "0.30000000000000004");
  EXPECT_EQ(Value(-0.0).ToString(), "0");
  EXPECT_EQ(Value("main").ToString(), "'main'");
  EXPECT_EQ(Value("it's a \\").ToString(), R"('it\'s a \\')");
}

TEST(ExprTest, ValueTypeNames) {
  EXPECT_STREQ(Value().type_name(), "null");
  EXPECT_STREQ(Value(true).type_name(), "boolean");
  EXPECT_STREQ(Value(1.0).type_name(), "number");
  EXPECT_STREQ(Value("x").type_name(), "string");
}

TEST(ExprTest, DefaultScopeHasNoFunctions) {
  struct NamesOnly : Scope {
    std::optional<Value> Lookup(std::string_view) const override { return Value(1.0); }
  } scope;
  EXPECT_FALSE(scope.Call("success", {}).has_value());
  EXPECT_EQ(Eval("x + 1", scope), "2");
  EXPECT_EQ(Eval("x and success()", scope), "at 0: 'and' needs booleans, got number 1");
  EXPECT_EQ(Eval("x == 1 and success()", scope), "at 11: unknown function 'success'");
}

TEST(ExprTest, ParsesNumbers) {
  EXPECT_EQ(Eval("12"), "12");
  EXPECT_EQ(Eval("0.5"), "0.5");
  EXPECT_EQ(Eval(".5"), "0.5");
  EXPECT_EQ(Eval("1e-3"), "0.001");
  EXPECT_EQ(Eval("2E+2"), "200");
  EXPECT_EQ(Eval("1.5e2"), "150");
  EXPECT_EQ(Eval("007"), "7");
}

TEST(ExprTest, RejectsMalformedNumbers) {
  EXPECT_EQ(ParseError("1e"), "at 0: invalid number '1e'");
  EXPECT_EQ(ParseError("x > 2x"), "at 4: invalid number '2x'");
  EXPECT_EQ(ParseError("1.2.3"), "at 0: invalid number '1.2.3'");
  EXPECT_EQ(ParseError("1."), "at 0: invalid number '1.'");
  EXPECT_EQ(ParseError("1e999"), "at 0: number '1e999' is out of range");
}

TEST(ExprTest, ParsesStrings) {
  EXPECT_EQ(Eval("'main'"), "'main'");
  EXPECT_EQ(Eval("\"main\""), "'main'");
  EXPECT_EQ(Eval("''"), "''");
  EXPECT_EQ(Eval(R"("it's")"), R"('it\'s')");
  EXPECT_EQ(Eval(R"('it\'s' == "it's")"), "true");
  EXPECT_EQ(Eval(R"("say \"hi\"" == 'say "hi"')"), "true");
  EXPECT_EQ(Eval(R"('a\\b' == "a\\b")"), "true");
  EXPECT_EQ(Eval(R"('a \' and \" and \\')"), R"('a \' and " and \\')");
  EXPECT_EQ(Eval("'a b' == 'a  b'"), "false");
}

TEST(ExprTest, RejectsBadStrings) {
  EXPECT_EQ(ParseError("'main"), "at 0: unterminated string");
  EXPECT_EQ(ParseError("branch == \"main"), "at 10: unterminated string");
  EXPECT_EQ(ParseError(R"('main\')"), "at 0: unterminated string");
  EXPECT_EQ(ParseError(R"('main\)"), "at 0: unterminated string");
  EXPECT_EQ(ParseError(R"(x == 'a\n')"),
            R"(at 7: invalid escape '\n' (only \\, \' and \" are allowed))");
}

TEST(ExprTest, ParsesKeywords) {
  EXPECT_EQ(Eval("true"), "true");
  EXPECT_EQ(Eval("false"), "false");
  EXPECT_EQ(Eval("null"), "null");
  // Keywords are whole first segments only; these are names.
  EXPECT_EQ(Eval("not_x"), "true");
  EXPECT_EQ(Eval("nullable"), "'n'");
  EXPECT_EQ(Eval("orange"), "1");
  EXPECT_EQ(Eval("nothing"), "null");
  // Keywords never take dotted segments.
  EXPECT_EQ(ParseError("true.x"), "at 4: unexpected character '.'");
}

TEST(ExprTest, ParsesDottedNames) {
  EXPECT_EQ(Eval("f1.3"), "0.5");
  EXPECT_EQ(Eval("latency.p95_ms"), "80");
  EXPECT_EQ(Eval("baseline.accuracy - 0.005"), "0.957");
  EXPECT_EQ(Eval("f1.3*2"), "1");
  EXPECT_EQ(ParseError("a."), "at 1: unexpected character '.'");
  EXPECT_EQ(ParseError("a..b"), "at 1: unexpected character '.'");
  auto expr = Expression::Parse("f1.3 > baseline.accuracy - 0.005");
  ASSERT_TRUE(expr.has_value());
  EXPECT_EQ(Show(expr->names()), (Strings{"f1.3@0", "baseline.accuracy@7"}));
}

TEST(ExprTest, ParsesPrecedence) {
  EXPECT_EQ(Eval("1 + 2 * 3 == 7"), "true");
  EXPECT_EQ(Eval("(1 + 2) * 3"), "9");
  EXPECT_EQ(Eval("10 - 4 - 3"), "3");
  EXPECT_EQ(Eval("8 / 4 / 2"), "1");
  EXPECT_EQ(Eval("-2 * 3"), "-6");
  EXPECT_EQ(Eval("2 * -3"), "-6");
  EXPECT_EQ(Eval("- -2"), "2");
  EXPECT_EQ(Eval("1 - -1"), "2");
  // `not` binds tighter than `and`, `and` tighter than `or`.
  EXPECT_EQ(Eval("not no and no"), "false");
  EXPECT_EQ(Eval("not (no and no)"), "true");
  EXPECT_EQ(Eval("yes or no and no"), "true");
  EXPECT_EQ(Eval("(yes or no) and no"), "false");
  // Comparisons bind tighter than `not`.
  EXPECT_EQ(Eval("not 1 == 2"), "true");
  EXPECT_EQ(Eval("! yes == no"), "true");
  EXPECT_EQ(Eval("1 + 1 < 3 and 2 * 2 >= 4"), "true");
}

TEST(ExprTest, SymbolicAndWordOperatorsAgree) {
  EXPECT_EQ(Eval("yes && no"), "false");
  EXPECT_EQ(Eval("yes || no"), "true");
  EXPECT_EQ(Eval("!no"), "true");
  EXPECT_EQ(Eval("!!yes"), "true");
  EXPECT_EQ(Eval("not not yes"), "true");
  EXPECT_EQ(Eval("yes and!no"), "true");
}

TEST(ExprTest, ChainedComparisonIsAnError) {
  EXPECT_EQ(ParseError("a < b < c"), "at 6: comparisons cannot be chained; use 'and'");
  EXPECT_EQ(ParseError("1 == 1 == true"), "at 7: comparisons cannot be chained; use 'and'");
  EXPECT_EQ(Eval("(1 < 2) == true"), "true");
  EXPECT_EQ(Eval("1 < 2 and 2 < 3"), "true");
}

TEST(ExprTest, ReportsParseErrors) {
  EXPECT_EQ(ParseError(""), "at 0: empty expression");
  EXPECT_EQ(ParseError(" \t\n"), "at 0: empty expression");
  EXPECT_EQ(ParseError("1 +"), "at 3: unexpected end of expression, expected a value");
  EXPECT_EQ(ParseError("1 + "), "at 4: unexpected end of expression, expected a value");
  EXPECT_EQ(ParseError("(1 + 2"), "at 6: unexpected end of expression, expected ')'");
  EXPECT_EQ(ParseError("not"), "at 3: unexpected end of expression, expected a value");
  EXPECT_EQ(ParseError("1 + )"), "at 4: unexpected ')', expected a value");
  EXPECT_EQ(ParseError("()"), "at 1: unexpected ')', expected a value");
  EXPECT_EQ(ParseError("+1"), "at 0: unexpected '+', expected a value");
  EXPECT_EQ(ParseError("a == and"), "at 5: unexpected 'and', expected a value");
  EXPECT_EQ(ParseError("a b"), "at 2: unexpected 'b'");
  EXPECT_EQ(ParseError("(a))"), "at 3: unexpected ')'");
  EXPECT_EQ(ParseError("a 'b'"), "at 2: unexpected string 'b'");
  EXPECT_EQ(ParseError("(1 2)"), "at 3: unexpected '2', expected ')'");
  EXPECT_EQ(ParseError("f(1 2)"), "at 4: unexpected '2', expected ',' or ')'");
  EXPECT_EQ(ParseError("f(1,"), "at 4: unexpected end of expression, expected a value");
  EXPECT_EQ(ParseError("f(,)"), "at 2: unexpected ',', expected a value");
  EXPECT_EQ(ParseError("a = 1"), "at 2: unexpected character '=' (did you mean '=='?)");
  EXPECT_EQ(ParseError("a & b"), "at 2: unexpected character '&' (did you mean '&&'?)");
  EXPECT_EQ(ParseError("a | b"), "at 2: unexpected character '|' (did you mean '||'?)");
  EXPECT_EQ(ParseError("a @ b"), "at 2: unexpected character '@'");
  EXPECT_EQ(ParseError("a \xe2\x88\x88 b"), "at 2: unexpected byte 0xe2");
}

TEST(ExprTest, ReportsTheFirstErrorInTheText) {
  // A parse error before a lexical one wins, and vice versa.
  EXPECT_EQ(ParseError(") @"), "at 0: unexpected ')', expected a value");
  EXPECT_EQ(ParseError("1 + @ )"), "at 4: unexpected character '@'");
  EXPECT_EQ(ParseError("a < b < 'c"), "at 6: comparisons cannot be chained; use 'and'");
}

TEST(ExprTest, LimitsNesting) {
  EXPECT_EQ(Eval(std::string(100, '(') + "1" + std::string(100, ')')), "1");
  EXPECT_EQ(ParseError(std::string(101, '(') + "1" + std::string(101, ')')),
            "at 101: expression is nested too deeply");
  // Hostile input fails cleanly instead of exhausting the stack.
  EXPECT_EQ(ParseError(std::string(100000, '(')), "at 101: expression is nested too deeply");
  EXPECT_EQ(ParseError(std::string(100000, '!') + "yes"),
            "at 101: expression is nested too deeply");
  EXPECT_EQ(ParseError(std::string(100000, '-') + "1"), "at 101: expression is nested too deeply");
  std::string sum = "1";
  for (int i = 0; i < 99; ++i) sum += "+1";
  EXPECT_EQ(Eval(sum), "100");
  EXPECT_EQ(ParseError(sum + "+1"), "at 199: expression is nested too deeply");
}

TEST(ExprTest, ListsNamesAndCalls) {
  auto expr = Expression::Parse("success() and (baseline.accuracy > x or max(x, y.z) > x)");
  ASSERT_TRUE(expr.has_value());
  EXPECT_EQ(Show(expr->names()),
            (Strings{"baseline.accuracy@15", "x@35", "x@44", "y.z@47", "x@54"}));
  EXPECT_EQ(Show(expr->calls()), (Strings{"success@0", "max@40"}));
  EXPECT_EQ(expr->text(), "success() and (baseline.accuracy > x or max(x, y.z) > x)");

  auto literals = Expression::Parse("true and 'name' == \"x\"");
  ASSERT_TRUE(literals.has_value());
  EXPECT_TRUE(literals->names().empty());
  EXPECT_TRUE(literals->calls().empty());
}

TEST(ExprTest, EvaluatesModelGates) {
  TestScope scope;
  EXPECT_EQ(Eval("accuracy >= 0.95", scope), "true");
  EXPECT_EQ(Eval("accuracy >= baseline.accuracy - 0.005", scope), "true");
  scope.values["accuracy"] = 0.94;
  EXPECT_EQ(Eval("accuracy >= 0.95", scope), "false");
  EXPECT_EQ(Eval("accuracy >= baseline.accuracy - 0.005", scope), "false");
}

TEST(ExprTest, EvaluatesCanaryChecks) {
  TestScope scope;
  const char* check = "canary.latency_p99_ms <= stable.latency_p99_ms * 1.2";
  EXPECT_EQ(Eval(check, scope), "true");
  scope.values["canary.latency_p99_ms"] = 121.0;
  EXPECT_EQ(Eval(check, scope), "false");
}

TEST(ExprTest, EvaluatesJobConditions) {
  TestScope scope;
  EXPECT_EQ(Eval("branch == 'main' and event == 'push'", scope), "true");
  scope.values["event"] = "pull_request";
  EXPECT_EQ(Eval("branch == 'main' and event == 'push'", scope), "false");
  EXPECT_EQ(Eval("branch == \"main\" && event != 'push'", scope), "true");
}

TEST(ExprTest, CallsFunctions) {
  TestScope scope;
  EXPECT_EQ(Eval("success()", scope), "true");
  EXPECT_EQ(Eval("failure()", scope), "false");
  EXPECT_EQ(Eval("failure() or success()", scope), "true");
  EXPECT_EQ(Eval("max(1, 2 + 3)", scope), "5");
  EXPECT_EQ(Eval("max(accuracy, 0.5) * 2", scope), "1.92");
  EXPECT_EQ(scope.calls, (Strings{"success", "failure", "failure", "success", "max", "max"}));
  // Errors from the function point at its name.
  EXPECT_EQ(Eval("yes and broken()", scope), "at 8: artifact store unreachable");
  EXPECT_EQ(Eval("success(1)", scope), "at 0: success() takes no arguments");
  EXPECT_EQ(Eval("1 + nope(2)", scope), "at 4: unknown function 'nope'");
  // Arguments are evaluated, left to right, before the call.
  EXPECT_EQ(Eval("max(missing, 1 / 0)", scope), "at 4: unknown name 'missing'");
  EXPECT_EQ(Eval("max(1, 1 / 0)", scope), "at 11: division by zero");
}

TEST(ExprTest, ShortCircuits) {
  TestScope scope;
  EXPECT_EQ(Eval("false and missing", scope), "false");
  EXPECT_EQ(Eval("true or missing", scope), "true");
  EXPECT_EQ(Eval("no and 1", scope), "false");
  EXPECT_EQ(Eval("failure() and success()", scope), "false");
  EXPECT_EQ(Eval("success() or broken()", scope), "true");
  EXPECT_EQ(scope.lookups, (Strings{"no"}));
  EXPECT_EQ(scope.calls, (Strings{"failure", "success"}));
  EXPECT_EQ(Eval("true and missing", scope), "at 9: unknown name 'missing'");
}

TEST(ExprTest, LogicNeedsBooleans) {
  EXPECT_EQ(Eval("true and 1"), "at 9: 'and' needs booleans, got number 1");
  EXPECT_EQ(Eval("1 and true"), "at 0: 'and' needs booleans, got number 1");
  EXPECT_EQ(Eval("no || branch"), "at 6: '||' needs booleans, got string 'main'");
  EXPECT_EQ(Eval("nothing or yes"), "at 0: 'or' needs booleans, got null");
  EXPECT_EQ(Eval("not 1"), "at 4: 'not' needs a boolean, got number 1");
  EXPECT_EQ(Eval("!(branch)"), "at 1: '!' needs a boolean, got string 'main'");
}

TEST(ExprTest, ArithmeticNeedsNumbers) {
  // Type errors point at the offending operand, including its '('.
  EXPECT_EQ(Eval("branch - 1"), "at 0: '-' needs numbers, got string 'main'");
  EXPECT_EQ(Eval("1 - branch"), "at 4: '-' needs numbers, got string 'main'");
  EXPECT_EQ(Eval("2 * (1 < 2)"), "at 4: '*' needs numbers, got boolean true");
  EXPECT_EQ(Eval("'a' + 'b'"), "at 0: '+' needs numbers, got string 'a'");
  EXPECT_EQ(Eval("nothing / 2"), "at 0: '/' needs numbers, got null");
  EXPECT_EQ(Eval("-branch"), "at 1: '-' needs a number, got string 'main'");
  EXPECT_EQ(Eval("1 + missing"), "at 4: unknown name 'missing'");
}

TEST(ExprTest, ArithmeticFailsInsteadOfOverflowing) {
  EXPECT_EQ(Eval("1 / 0"), "at 4: division by zero");
  EXPECT_EQ(Eval("1 / (2 - 2)"), "at 4: division by zero");
  EXPECT_EQ(Eval("0 / 0"), "at 4: division by zero");
  EXPECT_EQ(Eval("1e308 * 10"), "at 6: result of 1e+308 * 10 is not finite");
  EXPECT_EQ(Eval("-1e308 - 1e308"), "at 7: result of -1e+308 - 1e+308 is not finite");
  EXPECT_EQ(Eval("1e308 / 1e-308"), "at 6: result of 1e+308 / 1e-308 is not finite");
  EXPECT_EQ(Eval("1 / 3"), "0.3333333333333333");
}

TEST(ExprTest, ComparesNumbersAndStrings) {
  EXPECT_EQ(Eval("1 < 2"), "true");
  EXPECT_EQ(Eval("2 <= 2"), "true");
  EXPECT_EQ(Eval("1 > 2"), "false");
  EXPECT_EQ(Eval("2 >= 3"), "false");
  EXPECT_EQ(Eval("0.1 + 0.2 == 0.3"), "false");
  EXPECT_EQ(Eval("1 != 2"), "true");
  EXPECT_EQ(Eval("'abc' < 'abd'"), "true");
  EXPECT_EQ(Eval("'B' < 'a'"), "true");
  EXPECT_EQ(Eval("'ab' > 'a'"), "true");
  EXPECT_EQ(Eval("'a' >= 'a'"), "true");
  EXPECT_EQ(Eval("'a' <= ''"), "false");
  EXPECT_EQ(Eval("'main' != 'main'"), "false");
}

TEST(ExprTest, ComparesBooleansAndNullsForEquality) {
  EXPECT_EQ(Eval("true == true"), "true");
  EXPECT_EQ(Eval("yes != no"), "true");
  EXPECT_EQ(Eval("null == null"), "true");
  EXPECT_EQ(Eval("null != nothing"), "false");
  // null is comparable for (in)equality with anything.
  EXPECT_EQ(Eval("null == 3"), "false");
  EXPECT_EQ(Eval("null != 3"), "true");
  EXPECT_EQ(Eval("'x' == null"), "false");
  EXPECT_EQ(Eval("false != nothing"), "true");
}

TEST(ExprTest, RejectsMismatchedComparisons) {
  // Comparison errors point at the operator.
  EXPECT_EQ(Eval("3 == 'x'"), "at 2: cannot compare number 3 with string 'x'");
  EXPECT_EQ(Eval("true != 1"), "at 5: cannot compare boolean true with number 1");
  EXPECT_EQ(Eval("branch < 1"), "at 7: cannot compare string 'main' with number 1");
  EXPECT_EQ(Eval("null < 1"), "at 5: cannot compare null with number 1");
  EXPECT_EQ(Eval("true < false"),
            "at 5: '<' needs two numbers or two strings, got boolean true and boolean false");
  EXPECT_EQ(Eval("null >= null"), "at 5: '>=' needs two numbers or two strings, got null and null");
}

TEST(ExprTest, ReportsUnknownNames) {
  EXPECT_EQ(Eval("accuracy >= 0.9 and x"), "at 20: unknown name 'x'");
  EXPECT_EQ(Eval("baseline.loss < 1"), "at 0: unknown name 'baseline.loss'");
}

TEST(ExprTest, CopiesShareTheParsedTree) {
  auto parsed = Expression::Parse("accuracy * 2");
  ASSERT_TRUE(parsed.has_value());
  Expression copy = *parsed;
  parsed = Expression::Parse("1");
  EXPECT_EQ(copy.text(), "accuracy * 2");
  auto value = copy.Evaluate(TestScope());
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, Value(1.92));
}

TEST(ExprTest, DefaultConstructedExpressionFailsToEvaluate) {
  auto value = Expression().Evaluate(TestScope());
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().message, "empty expression");
}

TEST(ExprTest, IgnoresWhitespace) {
  EXPECT_EQ(Eval("\t1\n+\r\n2 "), "3");
  EXPECT_EQ(Eval("max( 1 ,2 )"), "2");
  EXPECT_EQ(Eval("accuracy>=0.95&&branch=='main'"), "true");
}

}  // namespace
}  // namespace tauon::spec
