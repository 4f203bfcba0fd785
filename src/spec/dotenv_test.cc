#include "spec/dotenv.h"

#include <string>
#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace tauon::spec {
namespace {

// Parses a file that must be valid.
EnvList ParseValid(std::string_view text) {
  auto env = ParseDotenv(text);
  if (!env) {
    ADD_FAILURE() << FormatDiagnostics("secrets.env", "", env.error());
    return {};
  }
  return std::move(*env);
}

// Every error as "LINE:COLUMN: message", one a line, or "valid".
std::string Errors(std::string_view text) {
  auto env = ParseDotenv(text);
  if (env) return "valid";
  std::string out;
  for (const Diagnostic& d : env.error()) {
    out += fmt::format("{}:{}: {}\n", d.location.line, d.location.column, d.message);
  }
  return out;
}

TEST(DotenvTest, KeyValueLines) {
  EXPECT_EQ(ParseValid("API_TOKEN=abc123\nDB_USER=admin\n"),
            (EnvList{{"API_TOKEN", "abc123"}, {"DB_USER", "admin"}}));
}

TEST(DotenvTest, EmptyFile) {
  EXPECT_EQ(ParseValid(""), EnvList{});
  EXPECT_EQ(ParseValid("\n\n"), EnvList{});
}

TEST(DotenvTest, CommentsAndBlankLines) {
  EXPECT_EQ(ParseValid(R"(# secrets for the staging run

   # indented comment
A=1
	
B=2)"),
            (EnvList{{"A", "1"}, {"B", "2"}}));
}

TEST(DotenvTest, ExportPrefix) {
  EXPECT_EQ(ParseValid("export DB_PASSWORD=hunter2\nexport   SPACED=1\nexport=3\n"),
            (EnvList{{"DB_PASSWORD", "hunter2"}, {"SPACED", "1"}, {"export", "3"}}));
}

TEST(DotenvTest, UnquotedValuesAreTrimmedAndEndAtAComment) {
  EXPECT_EQ(
      ParseValid("  A = spaced value  \nB=http://host/#anchor # the URL\nC=\nD=a=b\n"),
      (EnvList{{"A", "spaced value"}, {"B", "http://host/#anchor"}, {"C", ""}, {"D", "a=b"}}));
}

TEST(DotenvTest, SingleQuotesAreLiteral) {
  EXPECT_EQ(ParseValid(R"(A='p@ss word'
B='no \n escape # here'
C='' # empty
)"),
            (EnvList{{"A", "p@ss word"}, {"B", R"(no \n escape # here)"}, {"C", ""}}));
}

TEST(DotenvTest, DoubleQuoteEscapes) {
  EXPECT_EQ(ParseValid(R"(CERT="line one\nline two"
TAB="a\tb"
QUOTE="say \"hi\""
BACKSLASH="C:\\dir"
HASH="a # b" # comment
)"),
            (EnvList{{"CERT", "line one\nline two"},
                     {"TAB", "a\tb"},
                     {"QUOTE", "say \"hi\""},
                     {"BACKSLASH", "C:\\dir"},
                     {"HASH", "a # b"}}));
}

TEST(DotenvTest, OtherBackslashesAreKeptAsWritten) {
  // Only \n, \t, \" and \\ are escapes: a password such as "a\b$c" is not altered.
  EXPECT_EQ(ParseValid(R"(PASSWORD="a\b\$c\x"
)"),
            (EnvList{{"PASSWORD", R"(a\b\$c\x)"}}));
}

TEST(DotenvTest, CrLfLineEndings) {
  EXPECT_EQ(ParseValid("A=1\r\nB='two'\r\nC=\"three\"\r\n\r\n# c\r\n"),
            (EnvList{{"A", "1"}, {"B", "two"}, {"C", "three"}}));
  EXPECT_EQ(Errors("A=1\r\nB\r\n"), "2:1: expected KEY=VALUE\n");
}

TEST(DotenvTest, DuplicateKeysLastWins) {
  EXPECT_EQ(ParseValid("A=1\nB=2\nA=3\n"), (EnvList{{"A", "3"}, {"B", "2"}}));
}

TEST(DotenvTest, MissingEquals) {
  EXPECT_EQ(Errors("A=1\nNO_EQUALS\n  export B\n"),
            "2:1: expected KEY=VALUE\n"
            "3:3: expected KEY=VALUE\n");
}

TEST(DotenvTest, InvalidNames) {
  EXPECT_EQ(Errors("1ST=x\nA-B=y\n=z\n  MY KEY=w\n"),
            "1:1: invalid variable name before '=': use letters, digits and '_', not starting "
            "with a digit\n"
            "2:1: invalid variable name before '=': use letters, digits and '_', not starting "
            "with a digit\n"
            "3:1: invalid variable name before '=': use letters, digits and '_', not starting "
            "with a digit\n"
            "4:3: invalid variable name before '=': use letters, digits and '_', not starting "
            "with a digit\n");
}

TEST(DotenvTest, QuotingErrors) {
  EXPECT_EQ(Errors(R"(A="unterminated
B='also
C="x" trailing
D='it''s'
E="ends with \"
)"),
            "1:1: unterminated quoted value for 'A'\n"
            "2:1: unterminated quoted value for 'B'\n"
            "3:1: unexpected text after the quoted value of 'C'\n"
            "4:1: unexpected text after the quoted value of 'D'\n"
            "5:1: unterminated quoted value for 'E'\n");
}

TEST(DotenvTest, AllErrorsAreReported) {
  EXPECT_EQ(Errors("A=1\nbad\nB=2\nC='x\n"),
            "2:1: expected KEY=VALUE\n"
            "4:1: unterminated quoted value for 'C'\n");
}

TEST(DotenvTest, ErrorsNeverIncludeTheSecret) {
  // A multi-line certificate is not supported: its lines are errors, and no
  // part of it may appear in the messages (they are printed without the line).
  const std::string text =
      "TOKEN=\"s3cr3t-value\n"
      "MIIBzz+/s3cr3t==\n"
      "s3cr3t-tail\"\n"
      "PASSWORD='s3cr3t' s3cr3t\n"
      "export s3cr3t\n";
  auto env = ParseDotenv(text);
  ASSERT_FALSE(env);
  ASSERT_EQ(env.error().size(), 5u);
  std::string printed = FormatDiagnostics("secrets.env", "", env.error());
  EXPECT_EQ(printed.find("s3cr3t"), std::string::npos) << printed;
  EXPECT_EQ(printed,
            "secrets.env:1:1: unterminated quoted value for 'TOKEN'\n"
            "secrets.env:2:1: invalid variable name before '=': use letters, digits and '_', not "
            "starting with a digit\n"
            "secrets.env:3:1: expected KEY=VALUE\n"
            "secrets.env:4:1: unexpected text after the quoted value of 'PASSWORD'\n"
            "secrets.env:5:1: expected KEY=VALUE\n");
}

}  // namespace
}  // namespace tauon::spec
