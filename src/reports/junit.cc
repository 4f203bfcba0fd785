#include "reports/junit.h"

#include "util/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <iterator>
#include <system_error>

#include <pugixml.hpp>

namespace tauon::reports {
namespace {

constexpr std::string_view kSpace = " \t\r\n";
constexpr size_t kMaxMessageLineBytes = 500;
// Longer durations are garbage, and would overflow int64 milliseconds.
constexpr double kMaxSeconds = 1e9;

std::string_view Trim(std::string_view s) {
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) + 1 - begin);
}

// Strips the blank lines and trailing spaces that XML indentation leaves around
// a text block, but keeps the indentation of its first line so that it lines
// up with the following ones (go test output is indented).
std::string_view StripBlankLines(std::string_view s) {
  size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  size_t newline = s.rfind('\n', first);
  size_t begin = newline == std::string_view::npos ? 0 : newline + 1;
  return s.substr(begin, s.find_last_not_of(kSpace) + 1 - begin);
}

// Cuts `s` to at most `max_bytes` without splitting a UTF-8 sequence (of a
// valid encoding: at most 3 continuation bytes are given back).
void TruncateUtf8(std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return;
  size_t end = max_bytes;
  for (int i = 0; i < 3 && end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80; ++i) {
    --end;
  }
  s.resize(end);
}

bool Is(pugi::xml_node node, std::string_view name) { return node.name() == name; }

// Seconds as JUnit writers print them ("0.001", "1.4e-05", "1,234.5") in
// whole milliseconds, rounded to nearest; 0 when absent, unparsable, negative
// or absurdly large. Commas are taken as thousands separators.
int64_t ParseDurationMs(std::string_view text) {
  std::string digits;
  std::ranges::copy_if(Trim(text), std::back_inserter(digits), [](char c) { return c != ','; });
  double seconds = 0;
  const char* end = digits.data() + digits.size();
  auto [parsed_end, error] = std::from_chars(digits.data(), end, seconds);
  if (error != std::errc() || parsed_end != end || !(seconds >= 0 && seconds < kMaxSeconds)) {
    return 0;
  }
  return std::llround(seconds * 1000);
}

// The element's own text: its PCDATA and CDATA children joined (text in
// child elements, like <system-out>, is not included).
std::string OwnText(pugi::xml_node element) {
  std::string text;
  for (pugi::xml_node child : element.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    }
  }
  return text;
}

// The text of a <failure>, <error>, <skipped> or <flakyFailure>, without the
// surrounding blank lines, at most kMaxDetailBytes. Surefire 3 puts the stack
// trace of flaky and rerun elements in a <stackTrace> child instead.
std::string Details(pugi::xml_node element) {
  std::string text = OwnText(element);
  if (Trim(text).empty()) text = OwnText(element.child("stackTrace"));
  std::string details(StripBlankLines(text));
  TruncateUtf8(details, kMaxDetailBytes);
  return details;
}

// The element's `message` attribute (at most kMaxDetailBytes), else the
// first line of `details` (which starts with a non-blank line), trimmed, at
// most kMaxMessageLineBytes.
std::string Message(pugi::xml_node element, std::string_view details) {
  std::string message = element.attribute("message").value();
  if (!Trim(message).empty()) {
    TruncateUtf8(message, kMaxDetailBytes);
    return message;
  }
  message = Trim(details.substr(0, details.find('\n')));
  TruncateUtf8(message, kMaxMessageLineBytes);
  return message;
}

// Children of a <testcase> that decide its status, by precedence: a <failure>
// beats an <error> beats a <skipped>. Surefire writes <flakyFailure>/<flakyError>
// for a test that passed on a rerun; its <rerunFailure>/<rerunError> only
// accompany a <failure>/<error>, so they never decide.
struct Outcome {
  const char* tag;
  TestStatus status;
  bool flaky;
};
constexpr Outcome kOutcomes[] = {
    {"failure", TestStatus::kFailed, false},   {"error", TestStatus::kError, false},
    {"skipped", TestStatus::kSkipped, false},  {"flakyFailure", TestStatus::kPassed, true},
    {"flakyError", TestStatus::kPassed, true},
};

// Message and details come from the first child of the deciding kind; those
// of a flaky test describe a failed run.
TestCase ParseCase(pugi::xml_node testcase, const char* suite) {
  TestCase test;
  test.suite = suite;
  test.classname = testcase.attribute("classname").value();
  test.name = testcase.attribute("name").value();
  if (test.name.empty()) test.name = "(unnamed)";
  test.duration_ms = ParseDurationMs(testcase.attribute("time").value());
  for (const Outcome& outcome : kOutcomes) {
    pugi::xml_node element = testcase.child(outcome.tag);
    if (!element) continue;
    test.status = outcome.status;
    test.flaky = outcome.flaky;
    test.details = Details(element);
    test.message = Message(element, test.details);
    return test;
  }
  // GoogleTest marks disabled tests status="notrun" and GTEST_SKIP() ones
  // result="skipped", without a <skipped> child in older versions.
  if (std::string_view(testcase.attribute("status").value()) == "notrun" ||
      std::string_view(testcase.attribute("result").value()) == "skipped") {
    test.status = TestStatus::kSkipped;
  }
  return test;
}

// Appends every <testcase> at or below `root` in document order, without
// looking inside test cases. Iterative: hostile input can nest as deep as it
// is long.
void CollectCases(pugi::xml_node root, std::vector<TestCase>& cases) {
  std::vector<const char*> suites;  // Names of the enclosing <testsuite>s, innermost last.
  pugi::xml_node node = root;
  while (true) {
    pugi::xml_node child;
    if (Is(node, "testcase")) {
      cases.push_back(ParseCase(node, suites.empty() ? "" : suites.back()));
    } else {
      child = node.first_child();
    }
    if (child) {
      if (Is(node, "testsuite")) suites.push_back(node.attribute("name").value());
      node = child;
      continue;
    }
    // Climb to the next node in document order, leaving the suites passed.
    while (node != root && !node.next_sibling()) {
      node = node.parent();
      if (Is(node, "testsuite")) suites.pop_back();
    }
    if (node == root) return;
    node = node.next_sibling();
  }
}

// 1-based line and byte column of `offset` in `text`.
std::pair<size_t, size_t> LineColumn(std::string_view text, size_t offset) {
  std::string_view before = text.substr(0, offset);
  size_t line_start = before.rfind('\n') + 1;  // npos + 1 == 0.
  return {std::ranges::count(before, '\n') + 1, before.size() - line_start + 1};
}

}  // namespace

const char* TestStatusName(TestStatus status) {
  switch (status) {
    case TestStatus::kPassed:
      return "passed";
    case TestStatus::kFailed:
      return "failed";
    case TestStatus::kError:
      return "error";
    case TestStatus::kSkipped:
      return "skipped";
  }
  return "unknown";
}

TestCounts JUnitReport::Counts() const {
  TestCounts counts;
  counts.total = static_cast<int>(cases.size());
  for (const TestCase& test : cases) {
    switch (test.status) {
      case TestStatus::kPassed:
        ++counts.passed;
        break;
      case TestStatus::kFailed:
      case TestStatus::kError:
        ++counts.failed;
        break;
      case TestStatus::kSkipped:
        ++counts.skipped;
        break;
    }
    if (test.flaky) ++counts.flaky;
  }
  return counts;
}

Result<JUnitReport> ParseJUnit(std::string_view xml) {
  if (Trim(xml).empty()) return Fail("empty document");
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    // The offset is into pugixml's UTF-8 copy, which differs from `xml` only
    // for UTF-16/32 or Latin-1 input.
    auto [line, column] = LineColumn(xml, std::clamp<ptrdiff_t>(parsed.offset, 0, xml.size()));
    return Fail("malformed XML at line {}, column {}: {}", line, column, parsed.description());
  }
  pugi::xml_node root = doc.document_element();
  if (!Is(root, "testsuites") && !Is(root, "testsuite") && !Is(root, "testcase")) {
    return Fail("not a JUnit report: root element is <{}>", root.name());
  }
  JUnitReport report;
  CollectCases(root, report.cases);
  return report;
}

Result<JUnitReport> ParseJUnitFile(const std::filesystem::path& path) {
  Result<std::string> xml = ReadFileToString(path);
  if (!xml) return std::unexpected(xml.error());
  Result<JUnitReport> report = ParseJUnit(*xml);
  if (!report) return Fail("{}: {}", path.string(), report.error().message);
  return report;
}

}  // namespace tauon::reports
