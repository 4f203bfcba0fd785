# Flaky tests through tauon serve: a known-flaky failure carries its evidence
# (runs, commits) in the run resource, GET .../tests and the test history; a
# repository lists its flaky tests (GET /api/v1/repos/NAME/flaky-tests); a
# quarantined job that `tauon rerun --failed` reuses keeps its known-flaky
# marks; the CLI's run summary shows the evidence.
source "$(dirname "$0")/lib.sh"

STATE="$E2E_TMP/flappy-count"
make_remote flakes
# test_flappy fails on odd invocations (the count lives outside the
# workspace); test_real fails while the file `broken` is in the commit; the
# lint job fails while `lint-broken` is.
write "$REPO/.tauon.yml" <<YML
jobs:
  test:
    retry: 1
    steps:
      - run: |
          n=\$(( \$(cat "$STATE" 2>/dev/null || echo 0) + 1 )); echo \$n > "$STATE"
          flappy=; real=
          [ \$((n % 2)) = 1 ] && flappy="<failure message=\\"unlucky invocation \$n\\">boom</failure>"
          [ -e broken ] && real='<failure message="really broken">bad</failure>'
          printf '<testsuite name="unit"><testcase classname="tests.test_net" name="test_flappy">%s</testcase><testcase classname="tests.test_net" name="test_real">%s</testcase></testsuite>\n' "\$flappy" "\$real" > junit.xml
          ! grep -q '<failure' junit.xml
    reports: { junit: junit.xml, quarantine: true }
  lint:
    steps:
      - run: test ! -e lint-broken
  echo:
    matrix: { n: [1, 2] }
    steps:
      - run: echo "echo \${{ matrix.n }}"
YML
commit_all "flaky tests"
push
SHA1=$(head_sha)

start_server
expect_exit 0 tauon_remote repo add flakes "$BARE" --poll 1h

section "run 1: test_flappy fails, then passes on the retry of the same commit"
expect_exit 0 tauon_remote trigger flakes --ref main
wait_run 1 30
expect_eq success "$RUN_STATUS" "run 1"
api_json /api/v1/repos/flakes/flaky-tests
expect_json "$BODY" "[(t['job'], t['id'], t['flaky']['reason'], t['flaky']['runs'], t['executions'], t['failures'], t['last_run'], t['last_status']) for t in d['tests']]" \
  '[["test", "tests.test_net::test_flappy", "passed and failed on the same commit", [1], 2, 1, 1, "passed"]]'
expect_json "$BODY" "d['tests'][0]['flaky']['commits'], d['repo']" "[[\"${SHA1:0:12}\"], \"flakes\"]"

section "run 2: the known-flaky failure is apart from the real one, with its evidence"
touch "$REPO/broken"
sed -i 's/retry: 1/retry: 0/' "$REPO/.tauon.yml"
commit_all "break test_real"
push
expect_exit 0 tauon_remote trigger flakes --ref main
wait_run 2 30
expect_eq failed "$RUN_STATUS" "run 2"
api_json /api/v1/runs/2
EVIDENCE="{\"commits\": [\"${SHA1:0:12}\"], \"reason\": \"passed and failed on the same commit\", \"runs\": [1]}"
expect_json "$BODY" "[t['name'] for t in job('test')['failed_tests']]" '["test_real"]'
expect_json "$BODY" "[(t['name'], t['flaky_reason']) for t in job('test')['flaky_failed_tests']]" \
  '[["test_flappy", "passed and failed on the same commit"]]'
expect_json "$BODY" "job('test')['flaky_failed_tests'][0]['flaky_evidence']" "$EVIDENCE"
expect_json "$BODY" "job('test')['tests']['failed'], job('test')['tests']['flaky_failed']" '[2, 1]'
api_json /api/v1/runs/2/tests
expect_json "$BODY" "{t['name']: (t['status'], t['known_flaky'], t['flaky_evidence']) for t in d['tests']}" \
  "{\"test_flappy\": [\"failed\", \"passed and failed on the same commit\", $EVIDENCE], \"test_real\": [\"failed\", null, null]}"
api_json "/api/v1/runs/2/tests/history?limit=5"
expect_json "$BODY" "{t['name']: [(v['run_id'], v['status'], v['known_flaky']) for v in t['history']] for t in d['tests']}" \
  '{"test_flappy": [[2, "failed", true], [1, "passed", false]], "test_real": [[2, "failed", false], [1, "passed", false]]}'
api_json "/api/v1/stats/runs?repo=flakes"
expect_json "$BODY" "[(r['id'], r['tests']['failed'], r['tests']['flaky_failed']) for r in d['runs']]" '[[1, 0, 0], [2, 2, 1]]'
expect_exit 0 tauon_remote show 2
expect_contains "$OUT" "✗ tests.test_net::test_real: really broken"
expect_contains "$OUT" "~ tests.test_net::test_flappy (known flaky: passed and failed on the same commit: run 1 (commit ${SHA1:0:12}))"

section "run 3 and its rerun --failed: the reused quarantined job keeps its known-flaky failure"
rm "$REPO/broken"
touch "$REPO/lint-broken"
commit_all "break lint"
push
echo 0 >"$STATE"  # The next invocation is odd: test_flappy fails, quarantined.
expect_exit 0 tauon_remote trigger flakes --ref main
wait_run 3 30
expect_eq failed "$RUN_STATUS" "run 3"
api_json /api/v1/runs/3
expect_json "$BODY" "job('test')['status'], job('lint')['status'], job('test')['tests']['flaky_failed']" '["success", "failed", 1]'
expect_exit 0 tauon_remote rerun 3 --failed
wait_run 4 30
expect_eq failed "$RUN_STATUS" "run 4"
api_json /api/v1/runs/4
expect_json "$BODY" "job('test')['status'], job('test')['reused_from'] is not None" '["success", true]'
expect_json "$BODY" "job('test')['tests']['failed'], job('test')['tests']['flaky_failed'], job('test')['failed_tests']" '[1, 1, []]'
expect_json "$BODY" "job('test')['flaky_failed_tests'][0]['flaky_evidence']" "$EVIDENCE"
api_json /api/v1/runs/4/tests
expect_json "$BODY" "{t['name']: t['known_flaky'] for t in d['tests']}" \
  '{"test_flappy": "passed and failed on the same commit", "test_real": null}'
expect_exit 0 tauon_remote show 4
expect_contains "$OUT" "1 failed (1 known flaky)"
expect_contains "$OUT" "~ tests.test_net::test_flappy (known flaky: passed and failed on the same commit: run 1"
# The reused copy does not count twice in the history.
api_json /api/v1/repos/flakes/flaky-tests
expect_json "$BODY" "[(t['id'], t['executions'], t['failures'], t['last_run']) for t in d['tests']]" \
  '[["tests.test_net::test_flappy", 4, 3, 3]]'

section "tauon tests flaky|rank --server: the server's history, as the local store shows it"
expect_exit 0 tauon_remote tests flaky flakes
expect_contains "$OUT" "flakes: 1 flaky test"
expect_contains "$OUT" "test  tests.test_net::test_flappy  failed 3 of 4; last failed in run 3"
expect_contains "$OUT" "passed and failed on the same commit: run 1 (commit ${SHA1:0:12})"
expect_exit 0 tauon_remote tests flaky flakes --json
api_json /api/v1/repos/flakes/flaky-tests
expect_json "$OUT" d "$(jget "$BODY" d)"
expect_json "$OUT" "d['jobs']" '["test"]'
expect_exit 0 tauon tests flaky flakes --json
expect_json "$OUT" d "$(jget "$BODY" d)"
expect_exit 0 tauon_remote tests rank flakes
expect_contains "$OUT" "test: 2 tests, from 4 runs (attempts counted apart)"
expect_match "$OUT" "^ +1  tests.test_net::test_flappy +-?[0-9.]+  failed last run; failure rate 3/4"
api_json /api/v1/repos/flakes/test-ranking
expect_json "$BODY" "[(t['rank'], t['id'], t['runs'], t['failures'], t['flaky']['reason'] if t['flaky'] else None) for t in d['jobs'][0]['tests']]" \
  '[[1, "tests.test_net::test_flappy", 4, 3, "passed and failed on the same commit"], [2, "tests.test_net::test_real", 4, 1, null]]'
expect_exit 0 tauon_remote tests rank flakes --job test --json
expect_json "$OUT" d "$(jget "$BODY" d)"
expect_exit 0 tauon tests rank flakes --json
expect_json "$OUT" d "$(jget "$BODY" d)"
# $TAUON_SERVER alone sends it to the server (which knows no 'nope').
TAUON_SERVER="$SERVER_URL" expect_exit 1 tauon tests rank nope
expect_contains "$ERR" "no repository named 'nope' (HTTP 404)"
expect_exit 1 tauon_remote tests rank flakes --job tset
expect_contains "$ERR" "no test results for job 'tset' of 'flakes' (did you mean 'test'?) (jobs with tests: test) (HTTP 404)"
# A job name with spaces, parentheses and '=' (a matrix job's) goes through intact.
expect_exit 1 tauon_remote tests rank flakes --job 'unit (python=3.11)'
expect_contains "$ERR" "no test results for job 'unit (python=3.11)' of 'flakes'"
# A repository without test results: an empty list, and an error from the CLI.
expect_exit 0 tauon_remote repo add quiet "$BARE" --poll 1h
api_json /api/v1/repos/quiet/test-ranking
expect_json "$BODY" d '{"jobs": [], "repo": "quiet"}'
api_json /api/v1/repos/quiet/flaky-tests
expect_json "$BODY" d '{"jobs": [], "repo": "quiet", "tests": []}'
expect_exit 1 tauon_remote tests rank quiet
expect_contains "$ERR" "no test results recorded for repository 'quiet' (a job with 'reports: junit:' records them)"
expect_exit 1 tauon_remote tests flaky quiet
expect_contains "$ERR" "no test results recorded for repository 'quiet'"
expect_exit 1 tauon_remote tests rank nope
expect_contains "$ERR" "no repository named 'nope' (HTTP 404)"
expect_exit 1 tauon_remote tests flaky nope
expect_contains "$ERR" "no repository named 'nope' (HTTP 404)"

section "tauon logs RUN JOB --server: a base name stands for its matrix expansions, as locally"
expect_exit 0 tauon_remote logs 1 echo
expect_contains "$OUT" "echo 1"
expect_contains "$OUT" "echo 2"
expect_not_contains "$OUT" "lint"
expect_exit 0 tauon logs 1 echo
expect_contains "$OUT" "echo 2"

section "errors"
api GET /api/v1/repos/nope/flaky-tests
expect_http 404
expect_json "$BODY" "d['error']" "no repository named 'nope'"
http GET /api/v1/repos/flakes/flaky-tests
expect_http 401
http GET /api/v1/repos/flakes/test-ranking
expect_http 401
api GET "/api/v1/repos/flakes/test-ranking?job=nope"
expect_http 404
expect_json "$BODY" "d['error']" "no test results for job 'nope' of 'flakes' (jobs with tests: test)"

stop_server
