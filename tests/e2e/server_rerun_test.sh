# tauon serve, reruns: `tauon rerun RUN` runs every job of the run's commit
# again as a new run; `tauon rerun RUN --failed` executes only what did not
# succeed and reuses the succeeded jobs (their steps are not executed again:
# every step appends to a file outside the workspace; the reused job shows
# success with its original data and its artifacts reach the jobs that need
# it). Reruns of unfinished runs are refused.
source "$(dirname "$0")/lib.sh"

COUNTS="$E2E_TMP/counts"
FLAG="$E2E_TMP/flaky-ok"
mkdir -p "$COUNTS"
MARK="$((1000 + RANDOM % 8000)).$$"
kill_at_exit "sleep 61$MARK"

make_remote rr
write "$REPO/.tauon.yml" <<EOF
jobs:
  build:
    steps:
      - run: |
          echo "\$TAUON_RUN_ID" >> "$COUNTS/build"
          mkdir -p out && echo "built by run \$TAUON_RUN_ID" > out/build.txt
          echo "build log of run \$TAUON_RUN_ID"
    artifacts: [out/build.txt]
  test:
    needs: [build]
    steps:
      - run: |
          echo "\$TAUON_RUN_ID" >> "$COUNTS/test"
          cat out/build.txt
  package:
    needs: [build]
    steps:
      - run: |
          echo "\$TAUON_RUN_ID" >> "$COUNTS/package"
          echo "package sees: \$(cat out/build.txt)"
          test -e "$FLAG"
  flaky:
    steps:
      - run: |
          echo "\$TAUON_RUN_ID" >> "$COUNTS/flaky"
          test -e "$FLAG"
  report:
    needs: [flaky, package]
    steps:
      - run: echo "\$TAUON_RUN_ID" >> "$COUNTS/report"
  slow:
    if: branch == 'slow'
    steps:
      - run: sleep 61$MARK
EOF
commit_all "rerun me"
push
SHA=$(head_sha)
git -C "$REPO" push -q origin HEAD:refs/heads/slow

# executions JOB: the run ids that executed JOB's step, space-separated.
executions() { [[ -f $COUNTS/$1 ]] && tr '\n' ' ' <"$COUNTS/$1" | sed 's/ $//'; }
statuses() { run_field "$1" '{j["name"]: j["status"] for j in d["jobs"]}'; }

start_server --max-jobs 3
expect_exit 0 tauon_remote repo add rr "$BARE" --poll 1h

section "the first run: flaky and package fail"
expect_exit 0 tauon_remote trigger rr --ref main
wait_run 1 30
expect_eq failed "$RUN_STATUS" "run 1"
expect_eq '{"build": "success", "flaky": "failed", "package": "failed", "report": "skipped", "slow": "skipped", "test": "success"}' \
  "$(statuses 1)" "run 1's jobs"
expect_exit 0 tauon_remote show 1 --json
cp "$OUT" "$E2E_TMP/run1.json"

section "tauon rerun: every job runs again, a new run of the same commit"
expect_exit 0 tauon_remote rerun 1
expect_contains "$OUT" "queued run 2: all jobs of run 1"
wait_run 2 30
expect_eq failed "$RUN_STATUS" "run 2"
expect_eq "$(statuses 1)" "$(statuses 2)" "run 2's jobs"
expect_eq "$SHA main" "$(run_field 2 'd["commit"] + " " + d["branch"]')" "run 2's commit and branch"
expect_eq "1 2" "$(executions build)" "runs that executed build"
expect_eq "1 2" "$(executions test)" "runs that executed test"
expect_eq "1 2" "$(executions package)" "runs that executed package"
expect_eq "1 2" "$(executions flaky)" "runs that executed flaky"
expect_eq "" "$(executions report)" "runs that executed report"
expect_exit 0 tauon_remote logs 2 build
expect_contains "$OUT" "build log of run 2"
api GET /api/v1/runs/2/artifacts/out/build.txt
expect_http 200
expect_eq "built by run 2" "$(cat "$BODY")" "run 2's build artifact"

section "tauon rerun --failed: succeeded jobs are reused, not executed"
touch "$FLAG"
expect_exit 0 tauon_remote rerun 2 --failed
expect_contains "$OUT" "queued run 3: the failed jobs of run 2 (succeeded jobs reused)"
wait_run 3 30
expect_eq success "$RUN_STATUS" "run 3"
expect_eq '{"build": "success", "flaky": "success", "package": "success", "report": "success", "slow": "skipped", "test": "success"}' \
  "$(statuses 3)" "run 3's jobs"
expect_eq "$SHA" "$(run_field 3 'd["commit"]')" "run 3's commit"
expect_eq "1 2" "$(executions build)" "runs that executed build (reused in run 3)"
expect_eq "1 2" "$(executions test)" "runs that executed test (reused in run 3)"
expect_eq "1 2 3" "$(executions package)" "runs that executed package"
expect_eq "1 2 3" "$(executions flaky)" "runs that executed flaky"
expect_eq "3" "$(executions report)" "runs that executed report"
# The reused job keeps run 2's data: times, steps, artifacts, logs.
expect_exit 0 tauon_remote show 2 --json
cp "$OUT" "$E2E_TMP/run2.json"
expect_exit 0 tauon_remote show 3 --json
cp "$OUT" "$E2E_TMP/run3.json"
for field in status started_at finished_at duration_ms steps artifacts; do
  expect_eq "$(jget "$E2E_TMP/run2.json" "job('build')['$field']")" \
    "$(jget "$E2E_TMP/run3.json" "job('build')['$field']")" "build's $field in run 3 (reused) and run 2"
done
expect_eq "$(jget "$E2E_TMP/run2.json" "job('test')['started_at']")" \
  "$(jget "$E2E_TMP/run3.json" "job('test')['started_at']")" "test's started_at in run 3 (reused) and run 2"
# package ran in run 3 on the reused build's artifact.
expect_exit 0 tauon_remote logs 3 package
expect_contains "$OUT" "package sees: built by run 2"
api_json /api/v1/runs/3/logs
expect_json "$BODY" '[e["data"]["text"] for e in d["events"] if e["type"] == "line" and e["data"]["job"] == "build"]' \
  '["build log of run 2"]'
expect_exit 0 tauon_remote logs 3 build
expect_contains "$OUT" "build log of run 2" "tauon logs 3 build (build reused from run 2)"
api GET /api/v1/runs/3/artifacts/out/build.txt
expect_http 200 "the reused job's artifact, downloaded from run 3"
expect_eq "built by run 2" "$(cat "$BODY")" "run 3's build artifact"
# The API says where the run and its reused jobs come from.
api_json /api/v1/runs/3
expect_json "$BODY" 'd["rerun_of"], d["trigger"]' '[2, "rerun"]'
expect_json "$BODY" 'sorted(j["name"] for j in d["jobs"] if j["reused_from"] is not None)' '["build", "test"]'
api_json /api/v1/runs/2
expect_json "$BODY" 'd["rerun_of"], d["trigger"], [j["reused_from"] for j in d["jobs"]]' \
  '[1, "rerun", [null, null, null, null, null, null]]'

section "rerun --failed of a successful run executes nothing"
expect_exit 0 tauon_remote rerun 3 --failed --json
RUN4=$(jget "$OUT" 'd["id"]')
expect_eq 4 "$RUN4" "the new run's id"
wait_run 4 30
expect_eq success "$RUN_STATUS" "run 4"
expect_eq "1 2 3" "$(executions flaky)" "runs that executed flaky"
expect_eq "3" "$(executions report)" "runs that executed report"
expect_eq "1 2" "$(executions build)" "runs that executed build"

section "rerun of the original run, all jobs, after the fix"
expect_exit 0 tauon_remote rerun 1
wait_run 5 30
expect_eq success "$RUN_STATUS" "run 5"
expect_eq "1 2 5" "$(executions build)" "runs that executed build"
expect_eq "3 5" "$(executions report)" "runs that executed report"

section "reruns of unfinished runs are refused"
expect_exit 0 tauon_remote trigger rr --ref slow
wait_for 10 "the slow run to run" run_is 6 running
expect_exit 1 tauon_remote rerun 6
expect_contains "$ERR" "run 6 is still running"
api POST /api/v1/runs/6/rerun -H "Content-Type: application/json" --data '{"failed": true}'
expect_http 409 "rerun --failed of a running run"
expect_exit 0 tauon_remote cancel 6
wait_run 6 15
expect_eq cancelled "$RUN_STATUS" "run 6"
expect_exit 0 tauon_remote rerun 6 --failed
wait_for 10 "the rerun of the cancelled run to run its slow job" run_is 7 running
expect_eq '{"build": "success", "flaky": "success", "package": "success", "report": "success", "test": "success"}' \
  "$(run_field 7 '{j["name"]: j["status"] for j in d["jobs"] if j["name"] != "slow"}')" "run 7's other jobs"
expect_eq "1 2 5 6" "$(executions build)" "build was reused from run 6 (it had succeeded)"
expect_exit 0 tauon_remote cancel 7
wait_run 7 15
expect_exit 1 tauon_remote rerun 999
expect_contains "$ERR" "no run 999"

stop_server
wait_for 5 "no slow step left" no_process "sleep 61$MARK"
