# Failing tests first: a real pytest suite in a git repository, run twice
# through `tauon run`. The job's tests are ordered by the file named in
# $TAUON_TEST_ORDER through the shipped pytest plugin (share/pytest); the
# test that failed in the first run runs first in the second. `tauon tests
# rank` shows the ranking with its reasons. The second run also gets an
# expected duration from the first; in the third, the test whose file the
# commit changed runs first.
source "$(dirname "$0")/lib.sh"

"$PY" -c "import pytest" 2>/dev/null || die "pytest is not installed for $PY (scripts/install-deps.sh installs python3-pytest)"

make_repo "$E2E_TMP/suite"
write "$REPO/tests/test_suite.py" <<'PYEOF'
import os

def test_alpha():
    pass

def test_beta():
    pass

def test_gamma():
    assert not os.path.exists("broken"), "gamma is broken"

class TestDelta:
    def test_delta(self):
        pass
PYEOF
write "$REPO/tests/test_other.py" <<'PYEOF'
def test_epsilon():
    pass
PYEOF
write "$REPO/.tauon.yml" <<YML
jobs:
  test:
    steps:
      - run: echo "order=\$TAUON_TEST_ORDER"; $PY -m pytest -v -p tauon_order -p no:cacheprovider --junitxml=junit.xml tests
    reports: { junit: junit.xml }
YML
touch "$REPO/broken"
commit_all "gamma broken"
plugin_env=(--env "PYTHONPATH=$TAUON_SOURCE_DIR/share/pytest")

# The order of the tests in a run's log: their names, as pytest -v prints them.
test_order() { grep -oE 'tests/test_[a-z]+.py::[A-Za-z:_]+ (PASSED|FAILED)' "$1" | sed 's/.*:://; s/ .*//' | xargs; }

section "first run: no history, pytest's own order; gamma fails"
expect_exit 1 tauon run "$REPO" "${plugin_env[@]}"
expect_not_contains "$OUT" "expected to take"
expect_exit 0 tauon logs last test
expect_eq "test_epsilon test_alpha test_beta test_gamma test_delta" "$(test_order "$OUT")" "first run's order"
expect_match "$OUT" "order=/.*/runs/1/tests/0-test\.1\.order"

section "second run: the test that failed last run runs first"
rm "$REPO/broken"
commit_all "gamma fixed"
expect_exit 0 tauon run "$REPO" "${plugin_env[@]}"
# The first run's job duration gives the second an expected duration.
expect_match "$OUT" "^note: expected to take about [0-9.]+(ms|s) \(earlier runs\)$"
order_file="$DATA/runs/2/tests/0-test.1.order"
expect_true "the order file exists" test -f "$order_file"
expect_eq "tests.test_suite::test_gamma" "$(head -n 1 "$order_file")" "first line of the order file"
expect_eq 5 "$(wc -l <"$order_file" | tr -d ' ')" "tests in the order file"
expect_contains "$order_file" "tests.test_suite.TestDelta::test_delta"
expect_exit 0 tauon logs last test
expect_eq "test_gamma" "$(test_order "$OUT" | awk '{print $1}')" "second run's first test"
expect_contains "$OUT" "tauon: 5 known tests ordered most-likely-to-fail first (0 new)"

section "tauon tests rank"
expect_exit 0 tauon tests rank suite
expect_contains "$OUT" "test: 5 tests, from 2 runs"
expect_match "$OUT" "^ +1  tests.test_suite::test_gamma +-?[0-9.]+  last failed 2 runs ago; failure rate 1/2"
expect_exit 0 tauon tests rank "$REPO" --json
expect_json "$OUT" "d['repo']" suite
expect_json "$OUT" "[t['id'] for t in d['jobs'][0]['tests']][0]" "tests.test_suite::test_gamma"
expect_json "$OUT" "d['jobs'][0]['tests'][0]['failures'], d['jobs'][0]['tests'][0]['runs']" "[1, 2]"
expect_json "$OUT" "d['jobs'][0]['tests'][1]['reasons']" '["never failed in 2 runs"]'
expect_exit 1 tauon tests rank nosuchrepo
expect_contains "$ERR" "no test results recorded for repository 'nosuchrepo'"
expect_exit 1 tauon tests rank suite --job tset
expect_contains "$ERR" "no test results for job 'tset' of 'suite' (did you mean 'test'?) (jobs with tests: test)"

section "third run: a test whose file the commit changed runs first"
printf 'def test_epsilon():\n    assert 1 + 1 == 2\n' >"$REPO/tests/test_other.py"
commit_all "change test_other.py"
expect_exit 0 tauon run "$REPO" "${plugin_env[@]}"
expect_eq "tests.test_other::test_epsilon tests.test_suite::test_gamma" \
  "$(head -n 2 "$DATA/runs/3/tests/0-test.1.order" | xargs)" "first two lines of run 3's order file"
expect_exit 0 tauon logs last test
expect_eq "test_epsilon test_gamma" "$(test_order "$OUT" | awk '{print $1, $2}')" "third run's first tests"
# Ranking for a directory counts the files its HEAD commit changed.
expect_exit 0 tauon tests rank "$REPO"
expect_match "$OUT" "^ +1  tests.test_other::test_epsilon +-?[0-9.]+  its file changed in this commit; never failed in 3 runs"
# A name (not a directory here) has no HEAD: nothing counts as changed.
cd "$E2E_TMP/data" || die "cannot cd"
expect_exit 0 tauon tests rank suite
expect_not_contains "$OUT" "its file changed"
