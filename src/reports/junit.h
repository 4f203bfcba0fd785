// JUnit XML test reports, as real tools write them: Maven Surefire, pytest,
// GoogleTest, jest-junit, ctest, go-junit-report, PHPUnit, and the odd ones
// (nested suites, missing attributes, no XML declaration, CDATA, entities).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace tauon::reports {

enum class TestStatus { kPassed, kFailed, kError, kSkipped };
// "passed", "failed", "error", "skipped".
const char* TestStatusName(TestStatus status);

struct TestCase {
  std::string suite;      // Innermost enclosing <testsuite name>, "" if none.
  std::string classname;  // <testcase classname>, "" if absent.
  std::string name;       // <testcase name>; "(unnamed)" if absent.
  TestStatus status = TestStatus::kPassed;
  // True when the test passed only after failing: Surefire's <flakyFailure> or
  // <flakyError> inside a passing test case.
  bool flaky = false;
  int64_t duration_ms = 0;  // From the `time` attribute in seconds; 0 if absent or bad.
  std::string message;      // The failure/error/skipped `message` attribute (or first line of text).
  std::string details;      // The element's text (stack trace), truncated to kMaxDetailBytes.
};

struct TestCounts {
  int total = 0;
  int passed = 0;   // Includes flaky tests.
  int failed = 0;   // Failures and errors.
  int skipped = 0;
  int flaky = 0;
};

struct JUnitReport {
  std::vector<TestCase> cases;  // In document order.
  TestCounts Counts() const;
};

inline constexpr size_t kMaxDetailBytes = 16 * 1024;

// Parses a JUnit XML document. Fails, with the parser's message and the line
// and column, on malformed XML or when the root is neither <testsuites> nor
// <testsuite> (nor a bare <testcase>). Never throws.
Result<JUnitReport> ParseJUnit(std::string_view xml);
// Reads and parses a file; the error names the file.
Result<JUnitReport> ParseJUnitFile(const std::filesystem::path& path);

}  // namespace tauon::reports
