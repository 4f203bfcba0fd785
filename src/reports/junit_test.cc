#include "reports/junit.h"

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace tauon::reports {
namespace {

std::filesystem::path CorpusFile(std::string_view name) {
  return std::filesystem::path(TAUON_SHARED_DIR "/corpus/junit") / name;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Parses a corpus file; a parse error fails the test and yields an empty report.
JUnitReport ParseCorpus(std::string_view name) {
  Result<JUnitReport> report = ParseJUnitFile(CorpusFile(name));
  if (!report) ADD_FAILURE() << report.error().message;
  return report.value_or(JUnitReport{});
}

// Parses inline XML that must be valid.
JUnitReport Parse(std::string_view xml) {
  Result<JUnitReport> report = ParseJUnit(xml);
  if (!report) ADD_FAILURE() << report.error().message;
  return report.value_or(JUnitReport{});
}

std::string ParseError(std::string_view xml) {
  Result<JUnitReport> report = ParseJUnit(xml);
  return report ? "(parsed)" : report.error().message;
}

std::string FileError(const std::filesystem::path& path) {
  Result<JUnitReport> report = ParseJUnitFile(path);
  return report ? "(parsed)" : report.error().message;
}

std::string Describe(const TestCounts& c) {
  return fmt::format("total={} passed={} failed={} skipped={} flaky={}", c.total, c.passed,
                     c.failed, c.skipped, c.flaky);
}

// One line per case: "suite | name | status", plus " (flaky)".
std::vector<std::string> Summary(const JUnitReport& report) {
  std::vector<std::string> lines;
  for (const TestCase& test : report.cases) {
    lines.push_back(fmt::format("{} | {} | {}{}", test.suite, test.name,
                                TestStatusName(test.status), test.flaky ? " (flaky)" : ""));
  }
  return lines;
}

// --- The corpus: every file parses, with counts worked out by reading it. ---

struct CorpusCase {
  const char* file;
  TestCounts counts;  // total, passed, failed, skipped, flaky.
};

// Worked out from the <testcase> elements, not from the files' own tests= and
// failures= attributes, which some files contradict (surefire3-flaky-rerun says
// tests="11" for 3 cases, pytest counts subtests, go-junit-report-server-api4
// lists a rerun twice, mocha-junit-reporter and odd-multi-level-nested were cut
// down from bigger runs).
const CorpusCase kCorpus[] = {
    {"bazel-suite-logs-cdata.xml", {1, 0, 1, 0, 0}},
    {"cargo-nextest-junit.xml", {3, 2, 1, 0, 0}},
    {"catch2-junit.xml", {1, 0, 1, 0, 0}},
    {"go-junit-report-build-errors.xml", {5, 2, 3, 0, 0}},
    {"go-junit-report-no-xml-header.xml", {2, 2, 0, 0, 0}},
    {"go-junit-report-pass-fail-skip.xml", {5, 2, 1, 2, 0}},
    {"go-junit-report-server-api4.xml", {4, 2, 1, 1, 0}},
    {"go-junit-report-stdout-cdata.xml", {17, 8, 9, 0, 0}},
    {"go-junit-report-subtests.xml", {11, 6, 4, 1, 0}},
    {"googletest-all-pass.xml", {3, 3, 0, 0, 0}},
    {"googletest-failures-disabled.xml", {4, 1, 2, 1, 0}},
    {"googletest-xml-output-unittest-golden.xml", {24, 17, 4, 3, 0}},
    {"gradle-TestCase1-mojibake.xml", {5, 2, 2, 1, 0}},
    {"jest-junit-empty-testsuite.xml", {0, 0, 0, 0, 0}},
    {"jest-junit-enricomi.xml", {2, 2, 0, 0, 0}},
    {"jest-junit-failures.xml", {6, 1, 4, 1, 0}},
    {"maven-surefire-TEST-action.surefire.report.calc.StringUtilsTest.xml", {5, 2, 2, 1, 0}},
    {"maven-surefire-TEST-action.surefire.report.email.EmailAddressTest.xml", {9, 2, 7, 0, 0}},
    {"maven-surefire-flakyFailure-stackTrace.xml", {1, 1, 0, 0, 1}},
    {"maven-surefire-properties-eclipse.xml", {6, 5, 1, 0, 0}},
    {"maven-surefire3-flaky-rerun.xml", {3, 2, 1, 0, 1}},
    {"mocha-junit-reporter-root-suite.xml", {1, 1, 0, 0, 0}},
    {"mocha-xunit-reporter-latex-utensils.xml", {109, 109, 0, 0, 0}},
    {"odd-cunit-empty.xml", {0, 0, 0, 0, 0}},
    {"odd-deeply-nested-no-decl.xml", {5, 2, 3, 0, 0}},
    {"odd-empty-system-out-err.xml", {1, 1, 0, 0, 0}},
    {"odd-failure-message-only-single-line.xml", {3, 2, 1, 0, 0}},
    {"odd-minimal-attributes.xml", {4, 1, 2, 1, 0}},
    {"odd-multi-level-nested.xml", {3, 3, 0, 0, 0}},
    {"odd-no-attributes.xml", {4, 1, 2, 1, 0}},
    {"odd-no-cases-but-tests.xml", {0, 0, 0, 0, 0}},
    {"odd-testsuite-in-testsuite.xml", {5, 5, 0, 0, 0}},
    {"odd-unsupported-unicode.xml", {7, 1, 4, 2, 0}},
    {"odd-xml-entities.xml", {4, 0, 2, 2, 0}},
    {"phpunit-empty.xml", {0, 0, 0, 0, 0}},
    {"phpunit-nested-testsuites.xml", {12, 10, 2, 0, 0}},
    {"phpunit-selenium-data-sets-nested.xml", {32, 31, 1, 0, 0}},
    {"pytest-junitxml-horovod-fail.xml", {5, 3, 1, 1, 0}},
    {"pytest-junitxml-no-cases.xml", {0, 0, 0, 0, 0}},
    {"pytest-junitxml-properties-skips.xml", {10, 6, 2, 2, 0}},
    {"pytest-junitxml-single-line.xml", {3, 1, 2, 0, 0}},
    {"python-unittest-xunit.xml", {8, 4, 2, 2, 0}},
    {"scalatest-DiffOptionsSuite.xml", {5, 5, 0, 0, 0}},
    {"swift-xunit.xml", {3, 2, 1, 0, 0}},
    {"testng-junitreportreporter-TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml",
     {2, 0, 1, 1, 0}},
};

class JUnitCorpusTest : public testing::TestWithParam<CorpusCase> {};

TEST_P(JUnitCorpusTest, ParsesWithExpectedCounts) {
  EXPECT_EQ(Describe(ParseCorpus(GetParam().file).Counts()), Describe(GetParam().counts));
}

INSTANTIATE_TEST_SUITE_P(Corpus, JUnitCorpusTest, testing::ValuesIn(kCorpus),
                         [](const testing::TestParamInfo<CorpusCase>& info) {
                           std::string name = info.param.file;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(JUnitTest, CorpusTableListsEveryFile) {
  std::set<std::string> on_disk, listed;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusFile(""))) {
    on_disk.insert(entry.path().filename().string());
  }
  for (const CorpusCase& c : kCorpus) listed.insert(c.file);
  EXPECT_EQ(on_disk, listed);
}

// --- Status, message and details, on real files. ---

TEST(JUnitTest, SurefireFlakyFailureIsAPassingFlakyTest) {
  JUnitReport report = ParseCorpus("maven-surefire-flakyFailure-stackTrace.xml");
  ASSERT_EQ(report.cases.size(), 1u);
  const TestCase& test = report.cases[0];
  EXPECT_EQ(test.suite, "io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest");
  EXPECT_EQ(test.name, "createWebhook");
  EXPECT_EQ(test.status, TestStatus::kPassed);
  EXPECT_TRUE(test.flaky);
  EXPECT_EQ(test.duration_ms, 683);
  EXPECT_EQ(test.message, "\nExpected: <false>\n     but: was <true>");
  // The trace comes from the nested <stackTrace>; the <system-err> beside it is not included.
  EXPECT_TRUE(test.details.starts_with(
      "java.lang.AssertionError: \n\nExpected: <false>\n     but: was <true>\n\tat org.hamcrest"))
      << test.details;
  EXPECT_TRUE(test.details.ends_with("(ArrayList.java:1596)")) << test.details;
}

TEST(JUnitTest, SurefireRerunsKeepAFailureFailed) {
  JUnitReport report = ParseCorpus("maven-surefire3-flaky-rerun.xml");
  EXPECT_EQ(Summary(report), (std::vector<std::string>{
                                 "surefire3.FlakyTest | test1 | passed (flaky)",
                                 "surefire3.FlakyTest | test2 | passed",
                                 "surefire3.FlakyTest | test3 | failed",
                             }));
  ASSERT_EQ(report.cases.size(), 3u);
  EXPECT_EQ(report.cases[0].message, "java.lang.AssertionError");
  EXPECT_EQ(report.cases[0].details,
            "java.lang.AssertionError\n\tat surefire3.FlakyTest.test1(FlakyTest.java:14)");
  EXPECT_EQ(report.cases[2].details,
            "java.lang.AssertionError\n\tat surefire3.FlakyTest.test3(FlakyTest.java:28)");

  // Here the <rerunFailure>s come before the final <failure>.
  JUnitReport eclipse = ParseCorpus("maven-surefire-properties-eclipse.xml");
  ASSERT_EQ(eclipse.cases.size(), 6u);
  EXPECT_EQ(eclipse.cases[2].status, TestStatus::kFailed);
  EXPECT_FALSE(eclipse.cases[2].flaky);
  EXPECT_EQ(eclipse.cases[2].message, "expected:<2> but was:<3>");
}

TEST(JUnitTest, PytestSkipKeepsItsMessage) {
  JUnitReport report = ParseCorpus("pytest-junitxml-horovod-fail.xml");
  ASSERT_EQ(report.cases.size(), 5u);
  const TestCase& skip = report.cases[1];
  EXPECT_EQ(skip.suite, "pytest");
  EXPECT_EQ(skip.classname, "test.test_spark.SparkTests");
  EXPECT_EQ(skip.name, "test_get_available_devices");
  EXPECT_EQ(skip.status, TestStatus::kSkipped);
  EXPECT_EQ(skip.duration_ms, 1);
  EXPECT_EQ(skip.message, "get_available_devices only supported in Spark 3.0 and above");
  EXPECT_EQ(skip.details,
            "/horovod/test/test_spark.py:1642: get_available_devices only\n"
            "                supported in Spark 3.0 and above");

  // xfail: an empty message and no text.
  JUnitReport skips = ParseCorpus("pytest-junitxml-properties-skips.xml");
  ASSERT_EQ(skips.cases.size(), 10u);
  EXPECT_EQ(skips.cases[6].name, "test_expected_failure");
  EXPECT_EQ(skips.cases[6].status, TestStatus::kSkipped);
  EXPECT_EQ(skips.cases[6].message, "");
}

TEST(JUnitTest, GoogleTestNotRunAndSkippedResultAreSkipped) {
  JUnitReport disabled = ParseCorpus("googletest-failures-disabled.xml");
  ASSERT_EQ(disabled.cases.size(), 4u);
  EXPECT_EQ(disabled.cases[3].name, "DISABLED_Testcase");
  EXPECT_EQ(disabled.cases[3].status, TestStatus::kSkipped);
  EXPECT_EQ(disabled.cases[2].status, TestStatus::kFailed);  // A C++ exception is a <failure>.

  std::vector<std::string> skipped;
  JUnitReport golden = ParseCorpus("googletest-xml-output-unittest-golden.xml");
  for (const TestCase& test : golden.cases) {
    if (test.status == TestStatus::kSkipped) skipped.push_back(test.suite + "." + test.name);
  }
  EXPECT_EQ(skipped, (std::vector<std::string>{"MixedResultTest.DISABLED_test",
                                               "DisabledTest.DISABLED_test_not_run",
                                               "SkippedTest.Skipped"}));
  // Two <failure>s: the first one describes the test.
  ASSERT_GE(golden.cases.size(), 4u);
  EXPECT_EQ(golden.cases[3].name, "Fails");
  EXPECT_EQ(golden.cases[3].message,
            "gtest_xml_output_unittest_.cc:*\nExpected equality of these values:\n  1\n  2");
}

TEST(JUnitTest, NestedSuitesNameTheInnermostSuite) {
  EXPECT_EQ(Summary(ParseCorpus("odd-deeply-nested-no-decl.xml")), (std::vector<std::string>{
                                                                       "TestA | A | failed",
                                                                       "TestA | B | passed",
                                                                       "TestB | A | passed",
                                                                       "TestB | B | failed",
                                                                       "packet | A | failed",
                                                                   }));
  EXPECT_EQ(Summary(ParseCorpus("odd-testsuite-in-testsuite.xml")),
            (std::vector<std::string>{
                "TestSuite1 | TestCase1 | passed",
                "TestSuite1 | TestCase2 | passed",
                "TestSuite2.1 | TestCase3 | passed",
                "TestSuite2 | TestCase4 | passed",
                "Project Test Suite | TestCase5 | passed",
            }));

  JUnitReport selenium = ParseCorpus("phpunit-selenium-data-sets-nested.xml");
  ASSERT_EQ(selenium.cases.size(), 32u);
  EXPECT_EQ(selenium.cases[0].suite, "FiltersTest: chrome");
  EXPECT_EQ(selenium.cases[0].classname, "");
  EXPECT_EQ(selenium.cases[2].suite, "FiltersTest::testFilterByNull");
  EXPECT_EQ(selenium.cases[15].suite, "FiltersTest: chrome");
  const TestCase& error = selenium.cases[19];
  EXPECT_EQ(error.suite, "FiltersTest::testFilterByNull");
  EXPECT_EQ(error.name, "testFilterByNull with data set #1");
  EXPECT_EQ(error.status, TestStatus::kError);
  EXPECT_EQ(error.duration_ms, 33122);
  // No message attribute: the first line of the text, whose indentation the details keep.
  EXPECT_EQ(error.message, "FiltersTest::testFilterByNull with data set #1 ('publish_date', 1)");
  EXPECT_TRUE(error.details.starts_with("                    FiltersTest::testFilterByNull"));
  EXPECT_TRUE(error.details.ends_with("/usr/bin/phpunit:46"));
}

TEST(JUnitTest, EntitiesAreDecoded) {
  JUnitReport report = ParseCorpus("odd-xml-entities.xml");
  ASSERT_EQ(report.cases.size(), 4u);
  EXPECT_EQ(report.cases[0].suite, "");
  EXPECT_EQ(report.cases[0].name, "Test with \"quotes\" in the test name");
  EXPECT_EQ(report.cases[0].message, "A message with \"quotes\"");
  EXPECT_EQ(report.cases[0].details, "Content with \"quotes\"");
  EXPECT_EQ(report.cases[1].name, "Test with 'apostrophe' in the test name");
  EXPECT_EQ(report.cases[1].status, TestStatus::kFailed);
  EXPECT_EQ(report.cases[2].name, "Test with & in the test name");
  EXPECT_EQ(report.cases[2].status, TestStatus::kError);
  EXPECT_EQ(report.cases[2].details, "Content with &");
  EXPECT_EQ(report.cases[3].message, "A message with < and >");

  // A character reference in an attribute is a newline in the message.
  JUnitReport pytest = ParseCorpus("pytest-junitxml-single-line.xml");
  ASSERT_EQ(pytest.cases.size(), 3u);
  EXPECT_EQ(pytest.cases[1].message, "AssertionError: assert 'test' == 'xyz'\n  - xyz\n  + test");
}

TEST(JUnitTest, DetailsIncludeCdata) {
  JUnitReport go = ParseCorpus("go-junit-report-pass-fail-skip.xml");
  ASSERT_EQ(go.cases.size(), 5u);
  EXPECT_EQ(go.cases[2].name, "TestOne");
  EXPECT_EQ(go.cases[2].message, "Failed");
  EXPECT_EQ(go.cases[2].details,
            "    fail_test.go:6: Error message\n    fail_test.go:7: Longer\n        error\n"
            "        message.");
  EXPECT_EQ(go.cases[1].details, "");  // <system-out> of a passing test is not a detail.

  // CDATA between indentation; text and CDATA sections joined in order.
  JUnitReport testng = ParseCorpus(
      "testng-junitreportreporter-TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml");
  ASSERT_EQ(testng.cases.size(), 2u);
  EXPECT_TRUE(testng.cases[1].details.starts_with(
      "java.lang.AssertionError: expected [1.2.1] but found [1.2.0]\nat org.testng.Assert.fail"));
  EXPECT_TRUE(testng.cases[1].details.ends_with("at java.lang.Thread.run(Thread.java:748)"));
  JUnitReport golden = ParseCorpus("googletest-xml-output-unittest-golden.xml");
  ASSERT_GE(golden.cases.size(), 6u);
  EXPECT_EQ(golden.cases[5].details,
            "gtest_xml_output_unittest_.cc:*\nFailed\n"
            "XML output: <?xml encoding=\"utf-8\"><top><![CDATA[cdata text]]></top>%(stack)s");

  // Bazel's log is CDATA in the suite's <system-out>, not in the <error>.
  JUnitReport bazel = ParseCorpus("bazel-suite-logs-cdata.xml");
  ASSERT_EQ(bazel.cases.size(), 1u);
  EXPECT_EQ(bazel.cases[0].message, "exited with error code 1");
  EXPECT_EQ(bazel.cases[0].details, "");
}

TEST(JUnitTest, MissingAttributesGetDefaults) {
  JUnitReport report = ParseCorpus("odd-no-attributes.xml");
  EXPECT_EQ(Summary(report), (std::vector<std::string>{
                                 " | (unnamed) | passed",
                                 " | (unnamed) | skipped",
                                 " | (unnamed) | failed",
                                 " | (unnamed) | error",
                             }));
  for (const TestCase& test : report.cases) {
    EXPECT_EQ(test.classname, "");
    EXPECT_EQ(test.duration_ms, 0);
    EXPECT_EQ(test.message, "");
    EXPECT_EQ(test.details, "");
  }
  EXPECT_EQ(Parse(R"(<testsuite><testcase name=""/></testsuite>)").cases.at(0).name, "(unnamed)");
}

TEST(JUnitTest, MessageFallsBackToTheFirstLineOfText) {
  JUnitReport jest = ParseCorpus("jest-junit-failures.xml");
  ASSERT_EQ(jest.cases.size(), 6u);
  EXPECT_EQ(jest.cases[1].message, "Error: expect(received).toBeTruthy()");

  JUnitReport report = Parse("<testcase><failure>\n\n   first line  \nsecond</failure></testcase>");
  EXPECT_EQ(report.cases.at(0).message, "first line");
  EXPECT_EQ(report.cases.at(0).details, "   first line  \nsecond");

  // At most 500 bytes, not splitting the 2-byte "é" that straddles byte 500.
  std::string long_line = "a" + std::string(300, 'b');
  for (int i = 0; i < 200; ++i) long_line += "é";
  report = Parse(fmt::format("<testcase><error>{}</error></testcase>", long_line));
  EXPECT_EQ(report.cases.at(0).message, long_line.substr(0, 499));
}

TEST(JUnitTest, PrecedenceOfResultElements) {
  JUnitReport report = Parse(R"(<testsuite name="s">
      <testcase name="a"><skipped/><failure message="f"/></testcase>
      <testcase name="b"><error message="e"/><skipped/></testcase>
      <testcase name="c"><error message="e"/><failure message="f"/></testcase>
      <testcase name="d"><skipped message="s"/><flakyFailure/></testcase>
      <testcase name="e" status="notrun"><failure message="f"/></testcase>
      <testcase name="f"><flakyError message="x"/><flakyFailure message="y"/></testcase>
    </testsuite>)");
  EXPECT_EQ(Summary(report), (std::vector<std::string>{
                                 "s | a | failed",
                                 "s | b | error",
                                 "s | c | failed",
                                 "s | d | skipped",
                                 "s | e | failed",
                                 "s | f | passed (flaky)",
                             }));
  ASSERT_EQ(report.cases.size(), 6u);
  EXPECT_EQ(report.cases[0].message, "f");
  EXPECT_EQ(report.cases[5].message, "y");  // <flakyFailure> is looked for first.
}

TEST(JUnitTest, DurationInSecondsRoundsToMilliseconds) {
  auto duration_ms = [](std::string_view time) {
    return Parse(fmt::format(R"(<testcase time="{}"/>)", time)).cases.at(0).duration_ms;
  };
  EXPECT_EQ(duration_ms("0.001"), 1);
  EXPECT_EQ(duration_ms("3.320000"), 3320);
  EXPECT_EQ(duration_ms("1,234.5"), 1234500);
  EXPECT_EQ(duration_ms(" 2.5 "), 2500);
  EXPECT_EQ(duration_ms("0.0006"), 1);
  EXPECT_EQ(duration_ms("0.0004"), 0);
  EXPECT_EQ(duration_ms("1.4e-05"), 0);
  EXPECT_EQ(duration_ms("2e1"), 20000);
  for (std::string_view bad : {"", "abc", "1.5s", "-1", "nan", "inf", "1e300", "0x10"}) {
    EXPECT_EQ(duration_ms(bad), 0) << bad;
  }
  JUnitReport swift = ParseCorpus("swift-xunit.xml");
  ASSERT_EQ(swift.cases.size(), 3u);
  EXPECT_EQ(swift.cases[0].duration_ms, 36);  // 0.036386333
}

TEST(JUnitTest, BareTestCaseRoot) {
  JUnitReport report =
      Parse(R"(<testcase classname="c" name="t"><skipped>why</skipped></testcase>)");
  EXPECT_EQ(Summary(report), (std::vector<std::string>{" | t | skipped"}));
  EXPECT_EQ(report.cases.at(0).classname, "c");
  EXPECT_EQ(report.cases.at(0).message, "why");
}

TEST(JUnitTest, CountsIncludeFlakyInPassedAndErrorsInFailed) {
  JUnitReport report;
  for (TestStatus status : {TestStatus::kPassed, TestStatus::kPassed, TestStatus::kFailed,
                            TestStatus::kError, TestStatus::kSkipped}) {
    report.cases.emplace_back().status = status;
  }
  report.cases[1].flaky = true;
  EXPECT_EQ(Describe(report.Counts()), "total=5 passed=2 failed=2 skipped=1 flaky=1");
  EXPECT_EQ(Describe(JUnitReport{}.Counts()), "total=0 passed=0 failed=0 skipped=0 flaky=0");
}

TEST(JUnitTest, StatusNames) {
  EXPECT_STREQ(TestStatusName(TestStatus::kPassed), "passed");
  EXPECT_STREQ(TestStatusName(TestStatus::kFailed), "failed");
  EXPECT_STREQ(TestStatusName(TestStatus::kError), "error");
  EXPECT_STREQ(TestStatusName(TestStatus::kSkipped), "skipped");
}

// --- Errors. ---

TEST(JUnitTest, MalformedXmlReportsLineAndColumn) {
  // Column 20 of line 3 is the unquoted x.
  EXPECT_EQ(ParseError("<testsuites>\n  <testsuite>\n    <testcase name=x/>"),
            "malformed XML at line 3, column 20: Error parsing element attribute");
  EXPECT_EQ(ParseError("<testsuites>\n<testsuite name=\"a\">\n</testsuites>"),
            "malformed XML at line 3, column 3: Start-end tags mismatch");
  EXPECT_EQ(ParseError(R"(<?xml version="1.0"?>)"),
            "malformed XML at line 1, column 22: No document element found");
}

TEST(JUnitTest, RejectsOtherRootElements) {
  EXPECT_EQ(ParseError("<html><body><testsuite/></body></html>"),
            "not a JUnit report: root element is <html>");
  EXPECT_EQ(ParseError("<?xml version=\"1.0\"?>\n<!-- lint -->\n<checkstyle version=\"8\"/>\n"),
            "not a JUnit report: root element is <checkstyle>");
}

TEST(JUnitTest, RejectsEmptyInput) {
  EXPECT_EQ(ParseError(""), "empty document");
  EXPECT_EQ(ParseError(" \n\t\r\n"), "empty document");
}

TEST(JUnitTest, FileErrorsNameTheFile) {
  EXPECT_EQ(FileError("/nonexistent/out/junit.xml"),
            "cannot read /nonexistent/out/junit.xml: No such file or directory");
  std::filesystem::path dir = testing::TempDir();
  EXPECT_EQ(FileError(dir), fmt::format("cannot read {}: Is a directory", dir.string()));

  std::filesystem::path bad = dir / fmt::format("tauon_junit_test_{}.xml", ::getpid());
  std::ofstream(bad) << "<testsuites>\n<testsuite name=\"a\">\n</testsuites>";
  EXPECT_EQ(FileError(bad),
            bad.string() + ": malformed XML at line 3, column 3: Start-end tags mismatch");
  std::filesystem::remove(bad);
}

// --- Hostile input: never a crash. ---

TEST(JUnitTest, TruncatedReportsNeverCrash) {
  for (std::string_view file :
       {"maven-surefire-TEST-action.surefire.report.email.EmailAddressTest.xml",
        "go-junit-report-stdout-cdata.xml"}) {
    std::string xml = ReadText(CorpusFile(file));
    ASSERT_FALSE(xml.empty()) << file;
    size_t full = ParseCorpus(file).cases.size();
    for (size_t size = 0; size < xml.size(); ++size) {
      Result<JUnitReport> report = ParseJUnit(std::string_view(xml).substr(0, size));
      if (report) {
        EXPECT_LE(report->cases.size(), full) << file << " cut at " << size;
      } else {
        EXPECT_FALSE(report.error().message.empty());
      }
    }
  }
}

TEST(JUnitTest, DeeplyNestedSuites) {
  constexpr int kDepth = 100'000;
  std::string xml;
  for (int i = 0; i < kDepth; ++i) xml += fmt::format(R"(<testsuite name="s{}">)", i);
  xml += R"(<testcase name="deep"/>)";
  std::string unclosed = xml;
  for (int i = 0; i < kDepth; ++i) xml += "</testsuite>";

  JUnitReport report = Parse(xml);
  EXPECT_EQ(Summary(report), (std::vector<std::string>{"s99999 | deep | passed"}));
  EXPECT_FALSE(ParseJUnit(unclosed));
}

TEST(JUnitTest, HugeValuesAreKeptOrTruncated) {
  std::string name(4 << 20, 'n');
  std::string message(100'000, 'm');
  std::string text = "x";  // Then 2-byte characters, so that byte kMaxDetailBytes splits one.
  while (text.size() < 2 * kMaxDetailBytes) text += "é";
  JUnitReport report = Parse(
      fmt::format(R"(<testcase name="{}" time="{}"><failure message="{}">{}</failure></testcase>)",
                  name, std::string(10'000, '9'), message, text));
  ASSERT_EQ(report.cases.size(), 1u);
  const TestCase& test = report.cases[0];
  EXPECT_EQ(test.name, name);
  EXPECT_EQ(test.duration_ms, 0);
  EXPECT_EQ(test.message, message.substr(0, kMaxDetailBytes));
  EXPECT_EQ(test.details, text.substr(0, kMaxDetailBytes - 1));
}

}  // namespace
}  // namespace tauon::reports
