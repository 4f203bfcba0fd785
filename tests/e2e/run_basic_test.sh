# `tauon run` on a pipeline that succeeds: exit code, live output, the state
# it records (show/runs/logs), continue_on_error, step `if:` on success, and a
# job `if:` on the branch.
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/hello"
write "$REPO/.tauon.yml" <<'EOF'
name: basic
env: { GREETING: hello }
jobs:
  lint:
    steps:
      - name: say hello
        run: echo "$GREETING from lint"
  test:
    steps:
      - run: echo "no name given"
      - name: multi line
        run: |
          echo line one
          echo line two >&2
          printf 'no newline at the end'
  build:
    needs: [lint, test]
    steps:
      - name: ok
        run: echo building
      - name: flaky but tolerated
        run: echo about to fail; exit 4
        continue_on_error: true
      - name: after tolerated failure
        run: echo still running
      - name: only on failure
        if: failure()
        run: echo SHOULD-NOT-RUN
      - name: always
        if: always()
        run: echo always runs
  deploy:
    needs: [build]
    if: branch == 'main'
    steps:
      - run: echo deploying from $TAUON_BRANCH
EOF
commit_all "first pipeline"
SHA=$(git -C "$REPO" rev-parse HEAD)

section "a successful run"
cd "$REPO" || die "cannot cd to $REPO"
expect_exit 0 tauon run
LIVE=$OUT
expect_match "$LIVE" "^tauon: run 1 of hello / basic @ main ${SHA:0:12} \(4 jobs, -j [0-9]+\)$" "run header"
expect_match "$LIVE" '^lint +\| hello from lint$' "live output of lint"
expect_match "$LIVE" '^test +\| no newline at the end$' "last line without newline"
expect_match "$LIVE" '^test +\| line two$' "stderr of a step"
expect_match "$LIVE" '^build +\| \$ ok$' "step start line"
expect_match "$LIVE" '^build +\| still running$' "step after a continue_on_error failure"
expect_match "$LIVE" '^build +\| always runs$' "always() step"
expect_not_contains "$LIVE" "SHOULD-NOT-RUN" "live output"
expect_match "$LIVE" '^deploy +\| deploying from main$' "deploy on main"
# Steps run in order within a job.
expect_true "build's steps print in order" \
  awk '/build +\| building/{a=NR} /build +\| still running/{b=NR} /build +\| always runs/{c=NR} END{exit !(a && a<b && b<c)}' "$LIVE"
# The summary table.
expect_match "$LIVE" '^JOB +STATUS +ATTEMPT +DURATION' "summary header"
expect_match "$LIVE" '^deploy +success +1 ' "summary row"
expect_match "$LIVE" '^run 1 success in ' "final line"
expect_eq "" "$(cat "$ERR")" "stderr of a successful run"

section "tauon show --json"
show_json 1
expect_json "$JSON" 'd["id"]' 1
expect_json "$JSON" 'd["status"]' success
expect_json "$JSON" 'd["commit"]' "$SHA"
expect_json "$JSON" 'd["branch"]' main
expect_json "$JSON" 'd["event"]' push
expect_json "$JSON" 'd["repo"]' hello
expect_json "$JSON" 'd["message"]' "first pipeline"
expect_json "$JSON" '[j["name"] for j in d["jobs"]]' '["lint", "test", "build", "deploy"]'
expect_json "$JSON" '[j["status"] for j in d["jobs"]]' '["success", "success", "success", "success"]'
expect_json "$JSON" 'job("build")["needs"]' '["lint", "test"]'
expect_json "$JSON" 'all(j["attempt"] == 1 for j in d["jobs"])' true
expect_json "$JSON" '[s["status"] for s in job("build")["steps"]]' \
  '["success", "failed", "success", "skipped", "success"]'
expect_json "$JSON" '[s["exit_code"] for s in job("build")["steps"]]' '[0, 4, 0, null, 0]'
expect_json "$JSON" 'step("test", 0)["name"]' 'echo "no name given"'
expect_json "$JSON" 'job("build")["error"]' ""
# Times are RFC 3339 UTC; durations are milliseconds.
expect_json "$JSON" 'all(t.endswith("Z") and t[10] == "T" for t in [d["created_at"], d["started_at"], d["finished_at"]])' true
expect_json "$JSON" 'isinstance(d["duration_ms"], int) and d["duration_ms"] >= 0' true
expect_json "$JSON" 'all(isinstance(j["duration_ms"], int) and j["started_at"] and j["finished_at"] for j in d["jobs"])' true
expect_json "$JSON" 'all(isinstance(s["duration_ms"], int) for j in d["jobs"] for s in j["steps"] if s["status"] != "skipped")' true
# build started only after both its needs finished.
expect_json "$JSON" 'job("build")["started_at"] >= max(job("lint")["finished_at"], job("test")["finished_at"])' true

section "tauon show (text) and tauon runs"
expect_exit 0 tauon show last
expect_contains "$OUT" "run 1  success"
expect_contains "$OUT" "commit   ${SHA:0:12} on main  first pipeline"
expect_match "$OUT" 'failed +flaky but tolerated \(exit 4\)' "show lists a failed step"
expect_exit 0 tauon runs --json
expect_json "$OUT" 'len(d)' 1
expect_json "$OUT" 'd[0]["id"], d[0]["status"], d[0]["branch"], d[0]["commit"]' "[1, \"success\", \"main\", \"$SHA\"]"
expect_exit 0 tauon runs
expect_match "$OUT" "^1 +success +hello +main +${SHA:0:12}" "tauon runs row"

section "tauon logs"
expect_exit 0 tauon logs 1 lint
expect_contains "$OUT" "==> lint / say hello (success) <=="
expect_contains "$OUT" "hello from lint"
expect_not_contains "$OUT" "building" "logs of lint only"
expect_exit 0 tauon logs last test/2
expect_eq "==> test / multi line (success) <==
line one
line two
no newline at the end" "$(cat "$OUT")" "tauon logs last test/2"
expect_exit 0 tauon logs 1 "build/flaky but tolerated"
expect_contains "$OUT" "about to fail"
expect_exit 0 tauon logs 1 build/1 --timestamps
expect_match "$OUT" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z building$' "timestamped log line"
expect_exit 0 tauon logs 1
expect_contains "$OUT" "deploying from main"
expect_exit 2 tauon logs 1 nosuchjob
expect_contains "$ERR" "run 1 has no job 'nosuchjob'"
expect_exit 2 tauon logs 1 build/9
expect_contains "$ERR" "job 'build' has no step '9'"
# Step logs are files, one timestamped line per output line.
LOG=$(jget "$JSON" 'step("lint", 0)["log"]')
expect_true "the step log file exists" test -f "$DATA/$LOG"
expect_match "$DATA/$LOG" '^20[0-9-]+T[0-9:.]+Z hello from lint$' "step log file"

section "job if: branch == 'main' on another branch"
git -C "$REPO" checkout -q -b feature
expect_exit 0 tauon run
expect_match "$OUT" "^deploy +\| - skipped: condition 'branch == 'main'' is false" "live skip line"
expect_not_contains "$OUT" "deploying from" "live output on feature"
show_json last
expect_json "$JSON" 'd["branch"]' feature
expect_json "$JSON" 'job("deploy")["status"]' skipped
expect_json "$JSON" 'job("deploy")["steps"]' '[]'
expect_json "$JSON" 'job("deploy")["started_at"]' null
expect_json "$JSON" 'd["status"]' success

section "job if: on the event"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  nightly:
    if: event == 'schedule'
    steps:
      - run: echo nightly job
  on-push:
    if: event == 'push' && branch != 'main'
    steps:
      - run: echo push job
EOF
commit_all "event conditions"
expect_exit 0 tauon run --event schedule
expect_match "$OUT" '^nightly +\| nightly job$' "job for the schedule event"
expect_match "$OUT" "^on-push +\\| - skipped: condition " "job for the push event"
expect_exit 0 tauon run
show_json last
expect_json "$JSON" '{j["name"]: j["status"] for j in d["jobs"]}' '{"nightly": "skipped", "on-push": "success"}'
git -C "$REPO" reset -q --hard HEAD~1

section "a run of only --job lint"
expect_exit 0 tauon run --job lint
expect_match "$OUT" '\(1 job, -j' "header counts one job"
show_json last
expect_json "$JSON" '[j["name"] for j in d["jobs"]]' '["lint"]'
expect_exit 2 tauon run --job lnit
expect_contains "$ERR" "no job named 'lnit' in the pipeline"
expect_exit 2 tauon run --job buid
expect_contains "$ERR" "(did you mean 'build'?)"

section "--json prints the run on stdout, progress on stderr"
expect_exit 0 tauon run --job lint --json
expect_json "$OUT" 'd["status"], [j["name"] for j in d["jobs"]]' '["success", ["lint"]]'
expect_contains "$ERR" "hello from lint" "stderr of --json"
