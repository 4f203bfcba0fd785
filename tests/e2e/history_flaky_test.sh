# Flaky tests: a pytest test that fails every other time fails then passes on
# a retry of one commit, so it is flagged flaky with its evidence. With
# `reports.quarantine: true`, its next failure does not fail the job but is
# still reported, apart from real failures; a real failure still fails it.
source "$(dirname "$0")/lib.sh"

"$PY" -c "import pytest" 2>/dev/null || die "pytest is not installed for $PY (scripts/install-deps.sh installs python3-pytest)"

make_repo "$E2E_TMP/flakes"
write "$REPO/tests/test_flakes.py" <<'PYEOF'
import os

def test_stable():
    assert not os.path.exists("broken"), "stable is broken"

def test_flappy():
    # Fails on odd invocations: the count lives outside the workspace.
    path = os.environ["FLAKE_STATE"]
    count = int(open(path).read()) + 1 if os.path.exists(path) else 1
    open(path, "w").write(str(count))
    assert count % 2 == 0, f"unlucky invocation {count}"
PYEOF
write "$REPO/.tauon.yml" <<YML
jobs:
  test:
    retry: 1
    steps:
      - run: $PY -m pytest -v -p no:cacheprovider --junitxml=junit.xml tests
    reports: { junit: junit.xml, quarantine: true }
YML
commit_all "tests"
SHA1=$(git -C "$REPO" rev-parse HEAD)
state=(--env "FLAKE_STATE=$E2E_TMP/flake-count")

section "run 1: fails, then passes on the retry of the same commit"
expect_exit 0 tauon run "$REPO" "${state[@]}"
show_json 1
expect_json "$JSON" "job('test')['attempt'], job('test')['status']" '[2, "success"]'
expect_exit 0 tauon tests rank flakes --json
expect_json "$OUT" "{t['id']: t['flaky'] and t['flaky']['reason'] for t in d['jobs'][0]['tests']}" \
  '{"tests.test_flakes::test_flappy": "passed and failed on the same commit", "tests.test_flakes::test_stable": null}'
expect_json "$OUT" "[t['flaky'] for t in d['jobs'][0]['tests'] if t['flaky']][0]['runs']" '[1]'
expect_json "$OUT" "len([t['flaky'] for t in d['jobs'][0]['tests'] if t['flaky']][0]['commits'][0])" 12
expect_exit 0 tauon tests rank flakes
expect_contains "$OUT" "flaky: passed and failed on the same commit"
# tauon tests flaky: the repository's flaky tests, with the evidence.
expect_exit 0 tauon tests flaky flakes
expect_contains "$OUT" "flakes: 1 flaky test"
expect_contains "$OUT" "  test  tests.test_flakes::test_flappy  failed 1 of 2; last passed in run 1"
expect_contains "$OUT" "    passed and failed on the same commit: run 1 (commit ${SHA1:0:12})"
expect_exit 0 tauon tests flaky "$REPO" --json
expect_json "$OUT" "d['repo'], [(t['id'], t['flaky'], t['executions'], t['failures']) for t in d['tests']]" \
  "[\"flakes\", [[\"tests.test_flakes::test_flappy\", {\"commits\": [\"${SHA1:0:12}\"], \"reason\": \"passed and failed on the same commit\", \"runs\": [1]}, 2, 1]]]"
expect_exit 1 tauon tests flaky nope
expect_contains "$ERR" "tauon: error: no test results recorded for repository 'nope'"

section "run 2: a known-flaky failure is quarantined"
commit_all "again"
expect_exit 0 tauon run "$REPO" "${state[@]}"
expect_contains "$OUT" "1 failed (1 known flaky)"
expect_contains "$OUT" "~ tests.test_flakes::test_flappy (known flaky: passed and failed on the same commit: run 1 (commit ${SHA1:0:12}))"
show_json 2
expect_json "$JSON" "job('test')['attempt'], job('test')['status'], job('test')['error']" '[1, "success", ""]'
expect_json "$JSON" "job('test')['tests']['failed'], job('test')['tests']['flaky_failed']" '[1, 1]'
expect_json "$JSON" "job('test')['failed_tests']" '[]'
expect_json "$JSON" "[(t['name'], t['flaky_reason']) for t in job('test')['flaky_failed_tests']]" \
  '[["test_flappy", "passed and failed on the same commit"]]'
expect_json "$JSON" "job('test')['flaky_failed_tests'][0]['flaky_evidence']" \
  "{\"commits\": [\"${SHA1:0:12}\"], \"reason\": \"passed and failed on the same commit\", \"runs\": [1]}"
expect_exit 0 tauon logs 2 test
expect_contains "$OUT" "quarantine: 1 known-flaky failure does not fail the job"
expect_contains "$OUT" "flaky: tests.test_flakes::test_flappy (passed and failed on the same commit: run 1 (commit ${SHA1:0:12}))"

section "run 3: a real failure still fails the job, the flaky one is shown apart"
touch "$REPO/broken"
commit_all "break stable"
expect_exit 1 tauon run "$REPO" "${state[@]}"
show_json 3
expect_json "$JSON" "job('test')['status']" failed
expect_json "$JSON" "[t['name'] for t in job('test')['failed_tests']]" '["test_stable"]'
# Attempt 1: only the real failure (invocation 4 of test_flappy is even);
# attempt 2: both, the flaky one told apart; no quarantine either time.
expect_json "$JSON" "[a['status'] for a in job('test')['attempts']], job('test')['attempt']" '[["failed"], 2]'
expect_json "$JSON" "[t['name'] for t in job('test')['flaky_failed_tests']]" '["test_flappy"]'
expect_exit 0 tauon logs 3 test
expect_contains "$OUT" "1 of the failures is known flaky"
expect_not_contains "$OUT" "quarantine:"

section "without quarantine a known-flaky failure fails the job"
sed -i 's/, quarantine: true//; s/retry: 1/retry: 0/' "$REPO/.tauon.yml"
rm "$REPO/broken"
commit_all "no quarantine"
echo 0 >"$E2E_TMP/flake-count"  # The next invocation is odd: test_flappy fails.
expect_exit 1 tauon run "$REPO" "${state[@]}"
show_json 4
expect_json "$JSON" "job('test')['status'], job('test')['tests']['flaky_failed']" '["failed", 1]'
