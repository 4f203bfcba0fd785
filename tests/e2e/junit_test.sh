# reports.junit: JUnit XML written by real tools (copied from the shared
# corpus) is parsed into per-test results: `tauon show --json` has the counts
# and the failing tests, `tauon show` lists failing tests with their messages;
# a malformed, missing or directory report is a warning, never a crash.
source "$(dirname "$0")/lib.sh"

[[ -d "$JUNIT_CORPUS" ]] || die "no JUnit corpus at $JUNIT_CORPUS (set TAUON_JUNIT_CORPUS)"

make_repo "$E2E_TMP/repo"
mkdir -p "$REPO/fixtures"
cp "$JUNIT_CORPUS/maven-surefire-TEST-action.surefire.report.email.EmailAddressTest.xml" "$REPO/fixtures/surefire.xml"
cp "$JUNIT_CORPUS/pytest-junitxml-horovod-fail.xml" "$REPO/fixtures/pytest.xml"
cp "$JUNIT_CORPUS/googletest-failures-disabled.xml" "$REPO/fixtures/gtest.xml"
cp "$JUNIT_CORPUS/maven-surefire3-flaky-rerun.xml" "$REPO/fixtures/flaky.xml"
cp "$JUNIT_CORPUS/googletest-all-pass.xml" "$REPO/fixtures/allpass.xml"
head -c 700 "$REPO/fixtures/surefire.xml" >"$REPO/fixtures/truncated.xml"
# A report in Latin-1, as Java tools on a non-UTF-8 locale write it: bytes
# that are not UTF-8 in names and messages.
printf '<?xml version="1.0" encoding="ISO-8859-1"?>\n<testsuite name="Gr\xf6\xdfe" tests="2" failures="1">\n  <testcase classname="de.Stra\xdfe" name="gr\xf6\xdfer"><failure message="erwartet: \xc4pfel">\xc4pfel != Birnen</failure></testcase>\n  <testcase classname="de.Stra\xdfe" name="ok"/>\n</testsuite>\n' >"$REPO/fixtures/latin1.xml"
# A report that says UTF-8 but holds bytes that are not (a test that printed
# binary data into its failure message).
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="bytes" tests="2" failures="1">\n  <testcase classname="io" name="reads \xff\xfe"><failure message="got \xff\xfe\x80 instead of text">\xc3\x28</failure></testcase>\n  <testcase classname="io" name="ok"/>\n</testsuite>\n' >"$REPO/fixtures/binary.xml"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  java:
    steps:
      - run: mkdir -p target/surefire-reports && cp fixtures/surefire.xml target/surefire-reports/TEST-email.xml
    reports: { junit: target/surefire-reports/TEST-email.xml }
  python:
    steps:
      - run: cp fixtures/pytest.xml junit.xml
    reports: { junit: junit.xml }
  cpp:
    steps:
      - run: cp fixtures/gtest.xml gtest.xml && exit 1
    reports: { junit: gtest.xml }
  flaky:
    steps:
      - run: cp fixtures/flaky.xml flaky.xml
    reports: { junit: flaky.xml }
  matrix:
    matrix: { fixture: [allpass, pytest] }
    steps:
      - run: cp fixtures/${{ matrix.fixture }}.xml out-${{ matrix.fixture }}.xml
    reports: { junit: "out-${{ matrix.fixture }}.xml" }
  malformed:
    steps:
      - run: cp fixtures/truncated.xml report.xml
    reports: { junit: report.xml }
  empty:
    steps:
      - run: ": > report.xml"
    reports: { junit: report.xml }
  garbage:
    steps:
      - run: printf '\x00\x01 not xml at all <<<' > report.xml
    reports: { junit: report.xml }
  missing:
    steps:
      - run: echo "the tests did not write a report"
    reports: { junit: nowhere/report.xml }
  directory:
    steps:
      - run: mkdir -p reports && cp fixtures/pytest.xml fixtures/gtest.xml reports/
    reports: { junit: reports }
  latin1:
    steps:
      - run: cp fixtures/latin1.xml report.xml
    reports: { junit: report.xml }
  after:
    needs: [malformed, empty, garbage, missing, directory]
    steps:
      - run: echo the run went on
EOF
commit_all "jobs with test reports"
cd "$REPO" || die "cannot cd to $REPO"

section "reports of real tools"
expect_exit 1 tauon run -j 2
LIVE=$OUT
expect_match "$LIVE" '^java +\| tests: 2 passed, 7 failed, 0 skipped$' "java test summary"
expect_match "$LIVE" '^after +\| the run went on$' "the run went on after bad reports"
show_json last
RUN=$(jget "$JSON" 'd["id"]')
expect_json "$JSON" 'job("java")["tests"]' '{"failed": 7, "flaky": 0, "flaky_failed": 0, "passed": 2, "skipped": 0, "total": 9}'
expect_json "$JSON" 'len(job("java")["failed_tests"])' 7
expect_json "$JSON" 'sorted(t["name"] for t in job("java")["failed_tests"])' \
  '["shouldBeStricterThanRfc2821", "shouldBeStricterThanRfc2822", "shouldNotAllowDotsInWeirdPlaces", "shouldNotBeBlank", "shouldNotContainInternationalizedHostNames", "shouldNotContainLocalHosts", "shouldNotMissComponents"]'
expect_json "$JSON" '[t["message"] for t in job("java")["failed_tests"] if t["name"] == "shouldNotBeBlank"]' \
  '["Email address must not be null, empty, or blanks"]'
expect_json "$JSON" '[t["message"] for t in job("java")["failed_tests"] if t["name"] == "shouldNotContainInternationalizedHostNames"]' \
  "[\"Invalid email address 'user@ñandú.com.ar'\"]"
expect_json "$JSON" '[t["classname"] for t in job("java")["failed_tests"]][0]' "action.surefire.report.email.EmailAddressTest"
expect_json "$JSON" 'job("java")["status"]' success
expect_json "$JSON" 'job("python")["tests"]' '{"failed": 1, "flaky": 0, "flaky_failed": 0, "passed": 3, "skipped": 1, "total": 5}'
expect_json "$JSON" '[t["name"] for t in job("python")["failed_tests"]]' '["test_rsh_events"]'
# A failed job's report is still read.
expect_json "$JSON" 'job("cpp")["status"]' failed
expect_json "$JSON" 'job("cpp")["tests"]' '{"failed": 2, "flaky": 0, "flaky_failed": 0, "passed": 1, "skipped": 1, "total": 4}'
expect_json "$JSON" 'sorted(t["name"] for t in job("cpp")["failed_tests"])' '["Error_Testcase", "Failing_Testcase"]'
expect_json "$JSON" 'job("flaky")["tests"]' '{"failed": 1, "flaky": 1, "flaky_failed": 0, "passed": 2, "skipped": 0, "total": 3}'
expect_json "$JSON" 'job("matrix (fixture=allpass)")["tests"]["total"], job("matrix (fixture=pytest)")["tests"]["total"]' '[3, 5]'
expect_json "$JSON" 'job("after")["tests"]' null

section "tauon show lists failing tests with their messages"
expect_exit 0 tauon show "$RUN"
SHOW=$OUT
expect_match "$SHOW" '^java +success +1 +[^ ]+ +2 passed, 7 failed$' "java row"
expect_match "$SHOW" '^python +success +1 +[^ ]+ +3 passed, 1 failed, 1 skipped$' "python row"
expect_contains "$SHOW" "✗ action.surefire.report.email.EmailAddressTest::shouldNotBeBlank: Email address must not be null, empty, or blanks"
expect_contains "$SHOW" "✗ action.surefire.report.email.EmailAddressTest::shouldBeStricterThanRfc2822: Address aba@bab.com should have thrown InvalidEmailAddressException"
expect_contains "$SHOW" "✗ TestSuite::Failing_Testcase: Value of: false"
expect_contains "$SHOW" "✗ TestSuite::Error_Testcase: Unknown C++ exception thrown in the test body."
expect_contains "$SHOW" "✗ test.test_spark.SparkTests::test_rsh_events"
expect_match "$SHOW" '^flaky +success +1 +[^ ]+ +2 passed, 1 failed, 1 flaky$' "flaky row"

section "bad reports are warnings, never crashes"
expect_json "$JSON" '[j["status"] for j in d["jobs"] if j["name"] in ("malformed", "empty", "garbage", "missing", "directory", "after")]' \
  '["success", "success", "success", "success", "success", "success"]'
for name in malformed empty garbage missing directory; do
  expect_json "$JSON" "len(job('$name')['warnings']) == 1 and job('$name')['tests'] is None" true
done
expect_json "$JSON" 'job("malformed")["warnings"][0].startswith("test report report.xml: ")' true
expect_json "$JSON" '"no such file" in job("missing")["warnings"][0]' true
expect_json "$JSON" '"directory" in job("directory")["warnings"][0]' true
expect_match "$LIVE" '^malformed +\| warning: test report report.xml: ' "live warning"
expect_match "$SHOW" '^    warning: test report nowhere/report.xml: no such file' "show lists warnings"
expect_json "$JSON" 'd["status"]' failed

section "reports that are not UTF-8 never break show --json"
expect_json "$JSON" 'job("latin1")["status"]' success
expect_json "$JSON" 'job("latin1")["tests"]["total"], job("latin1")["tests"]["failed"]' '[2, 1]'
expect_json "$JSON" 'job("latin1")["failed_tests"][0]["message"]' "erwartet: Äpfel"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  binary:
    steps:
      - run: cp fixtures/binary.xml report.xml
    reports: { junit: report.xml }
EOF
commit_all "a report with bytes that are not UTF-8"
expect_exit 0 tauon run
expect_exit 0 tauon show last --json
expect_json "$OUT" 'job("binary")["status"]' success
expect_json "$OUT" '(job("binary")["tests"] or {}).get("total") == 2 or len(job("binary")["warnings"]) == 1' true
expect_exit 0 tauon run --json
expect_json "$OUT" 'd["status"]' success
