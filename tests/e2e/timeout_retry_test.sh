# Step and job timeouts kill the step's process group and fail the job with a
# "timed out" error, quickly; `retry: N` re-runs a failed job in a fresh
# workspace, and every attempt is recorded.
source "$(dirname "$0")/lib.sh"

MARK="$$$RANDOM"
STEP_SLEEP="30.1$MARK"
JOB_SLEEP="30.2$MARK"
CHILD_SLEEP="30.3$MARK"
kill_at_exit "sleep 30.[1-3]$MARK"
no_sleeps() { no_process "sleep 30.[1-3]$MARK"; }

make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<EOF
jobs:
  step-timeout:
    steps:
      - name: too slow
        timeout: 1s
        run: |
          sleep $CHILD_SLEEP &
          sleep $STEP_SLEEP
      - name: never
        run: echo SHOULD-NOT-RUN
  job-timeout:
    timeout: 1s
    steps:
      - run: echo first step
      - run: sleep $JOB_SLEEP
  tolerated-timeout:
    steps:
      - name: slow but tolerated
        timeout: 200ms
        continue_on_error: true
        run: sleep $STEP_SLEEP
      - run: echo went on after the timeout
  flaky:
    retry: 2
    steps:
      - name: count
        run: |
          n=\$(cat "\$COUNTER" 2>/dev/null || echo 0)
          n=\$((n + 1))
          echo \$n > "\$COUNTER"
          echo "attempt \$TAUON_ATTEMPT, try \$n"
          test ! -e leftover || { echo "leftover from an earlier attempt"; exit 9; }
          touch leftover
          test \$n -ge 3 || exit 7
          echo finally passing
  always-failing:
    retry: 1
    steps:
      - run: echo failing attempt \$TAUON_ATTEMPT; exit 3
  slow-first-attempt:
    retry: 1
    timeout: 1s
    steps:
      - run: if [ "\$TAUON_ATTEMPT" = 1 ]; then sleep $JOB_SLEEP; fi; echo attempt \$TAUON_ATTEMPT done
EOF
commit_all "timeouts and retries"
cd "$REPO" || die "cannot cd to $REPO"

section "a step timeout kills the step and fails the job quickly"
T0=$(now_ms)
expect_exit 1 tauon run --job step-timeout
ELAPSED=$(($(now_ms) - T0))
expect_le "$ELAPSED" 5000 "run duration with a 1s step timeout (ms)"
expect_true "no step process survives the timeout" no_sleeps
expect_match "$OUT" "^step-timeout +\\| step 'too slow' timed out after 1(\\.0)?s" "live timeout message"
show_json last
expect_json "$JSON" 'job("step-timeout")["status"]' failed
expect_json "$JSON" 'step("step-timeout", 0)["status"], step("step-timeout", 1)["status"]' '["failed", "skipped"]'
expect_json "$JSON" '"timed out after 1" in step("step-timeout", 0)["error"]' true
expect_json "$JSON" '"timed out" in job("step-timeout")["error"]' true
expect_json "$JSON" '900 <= step("step-timeout", 0)["duration_ms"] < 4000' true

section "a job timeout stops the running step"
T0=$(now_ms)
expect_exit 1 tauon run --job job-timeout
ELAPSED=$(($(now_ms) - T0))
expect_le "$ELAPSED" 5000 "run duration with a 1s job timeout (ms)"
expect_true "no step process survives the job timeout" no_sleeps
show_json last
expect_json "$JSON" 'job("job-timeout")["status"]' failed
expect_json "$JSON" 'job("job-timeout")["error"] in ("the job timed out after 1s", "the job timed out after 1.0s")' true
expect_json "$JSON" 'step("job-timeout", 0)["status"], step("job-timeout", 1)["status"]' '["success", "failed"]'
# Why, in the job's notes too: `tauon logs` says it, not only `tauon show`.
expect_exit 0 tauon logs last job-timeout
expect_match "$OUT" "^failed: the job timed out after 1(\\.0)?s$" "the job's notes"

section "a timed out step with continue_on_error"
expect_exit 0 tauon run --job tolerated-timeout
expect_match "$OUT" '^tolerated-timeout +\| went on after the timeout$' "the next step ran"
show_json last
expect_json "$JSON" 'job("tolerated-timeout")["status"], step("tolerated-timeout", 0)["status"]' '["success", "failed"]'
expect_true "no step process survives" no_sleeps

section "retry: 2 succeeds on the third attempt"
COUNTER="$E2E_TMP/counter"
expect_exit 0 tauon run --job flaky --env "COUNTER=$COUNTER"
expect_eq 3 "$(cat "$COUNTER")" "attempts counted outside the workspace"
expect_match "$OUT" '^flaky +\| attempt 1 failed in [^:]+: step .count. failed: exit code 7; retrying$' "first retry line"
expect_match "$OUT" '^flaky +\| attempt 3 of 3$' "attempt line"
expect_match "$OUT" '^flaky +\| finally passing$' "output of attempt 3"
expect_not_contains "$OUT" "leftover from an earlier attempt" "live output (each attempt has a fresh workspace)"
expect_match "$OUT" '^flaky +success +3 ' "summary shows attempt 3"
show_json last
RUN=$(jget "$JSON" 'd["id"]')
expect_json "$JSON" 'job("flaky")["status"], job("flaky")["attempt"]' '["success", 3]'
expect_json "$JSON" '[(a["attempt"], a["status"]) for a in job("flaky")["attempts"]]' '[[1, "failed"], [2, "failed"]]'
expect_json "$JSON" 'all("exit code 7" in a["error"] for a in job("flaky")["attempts"])' true
expect_json "$JSON" '[s["status"] for s in job("flaky")["steps"]]' '["success"]'
expect_exit 0 tauon logs "$RUN" flaky
expect_contains "$OUT" "attempt 3, try 3" "logs of the last attempt"
# Every attempt's log is kept.
for attempt in 1 2 3; do
  expect_true "log of attempt $attempt kept" \
    grep -q "attempt $attempt, try $attempt" "$DATA/runs/$RUN/logs/0-flaky/$attempt/0.log"
done

section "retry: 1 that keeps failing"
expect_exit 1 tauon run --job always-failing
show_json last
expect_json "$JSON" 'job("always-failing")["status"], job("always-failing")["attempt"]' '["failed", 2]'
expect_json "$JSON" '[(a["attempt"], a["status"]) for a in job("always-failing")["attempts"]]' '[[1, "failed"]]'
expect_match "$OUT" '^always-failing +\| ✗ failed in [^:]+: step .* failed: exit code 3$' "final failure line"

section "a retry after a job timeout"
T0=$(now_ms)
expect_exit 0 tauon run --job slow-first-attempt
ELAPSED=$(($(now_ms) - T0))
expect_le "$ELAPSED" 5000 "run duration (ms)"
show_json last
expect_json "$JSON" 'job("slow-first-attempt")["attempt"], job("slow-first-attempt")["status"]' '[2, "success"]'
expect_json "$JSON" 'job("slow-first-attempt")["attempts"][0]["error"].startswith("the job timed out after 1")' true
expect_true "no step process survives" no_sleeps
