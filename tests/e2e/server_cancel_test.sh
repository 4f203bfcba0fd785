# tauon serve, cancellation and the shared executor limit: `tauon cancel` of a
# running run stops its processes and records it cancelled; `tauon cancel` of
# a queued run (behind a long run with --max-jobs 1) cancels it before it
# starts; `concurrency: { cancel_in_progress: true }` cancels the older running
# run of the same branch when a newer commit is pushed, and only of that
# branch; runs share --max-jobs (never exceeded, observed from the steps
# themselves) and start in the order they were queued.
source "$(dirname "$0")/lib.sh"

MARK="$((1000 + RANDOM % 8000)).$$"
kill_at_exit "sleep 5[1-4]$MARK"
PIDS="$E2E_TMP/pids"
EVENTS="$E2E_TMP/events"
mkdir -p "$PIDS"

make_remote slow
write "$REPO/.tauon.yml" <<EOF
jobs:
  long:
    steps:
      - name: long sleep
        run: |
          echo \$\$ > "$PIDS/long.\$TAUON_RUN_ID.pid"
          sleep 51$MARK &
          echo \$! > "$PIDS/long-child.\$TAUON_RUN_ID.pid"
          echo long is running
          sleep 52$MARK
      - run: echo SHOULD-NOT-RUN
  after:
    needs: [long]
    steps:
      - run: echo SHOULD-NOT-RUN-AFTER
EOF
commit_all "slow"
push
SLOW_BARE=$BARE

# all_dead RUN: every process whose pid run RUN's steps wrote down is gone.
all_dead() {
  local f
  for f in "$PIDS"/*."$1".pid; do
    [[ -f $f ]] || continue
    is_alive "$(cat "$f")" && return 1
  done
  return 0
}
expect_pids_dead() {
  local f pid
  for f in "$PIDS"/*."$1".pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    E2E_CHECKS=$((E2E_CHECKS + 1))
    if is_alive "$pid"; then
      fail "process $pid ($(basename "$f")) survived the cancelled run $1: $(ps -o pid,pgid,stat,args -p "$pid" | tail -1)"
    fi
  done
}

start_server --max-jobs 1
expect_exit 0 tauon_remote repo add slow "$SLOW_BARE" --poll 1h

section "tauon cancel of a running run"
expect_exit 0 tauon_remote trigger slow
expect_contains "$OUT" "queued run 1"
wait_for 10 "run 1's step to run" test -f "$PIDS/long-child.1.pid"
expect_eq running "$(run_field 1 'd["status"]')" "run 1 while its step sleeps"
T0=$(now_ms)
expect_exit 0 tauon_remote cancel 1
expect_contains "$OUT" "cancelling run 1"
wait_run 1 15
ELAPSED=$(($(now_ms) - T0))
expect_eq cancelled "$RUN_STATUS" "run 1 after tauon cancel"
expect_le "$ELAPSED" 6000 "ms from cancel to a finished run"
wait_for 3 "run 1's processes to be gone" all_dead 1
expect_pids_dead 1
expect_exit 0 tauon_remote show 1 --json
expect_json "$OUT" '[(j["name"], j["status"]) for j in d["jobs"]]' '[["long", "cancelled"], ["after", "cancelled"]]'
expect_json "$OUT" 'isinstance(d["finished_at"], str)' true
expect_exit 0 tauon_remote logs 1
expect_contains "$OUT" "long is running"
expect_not_contains "$OUT" "SHOULD-NOT-RUN"
expect_exit 1 tauon_remote cancel 1
expect_contains "$ERR" "only queued and running runs can be cancelled"

section "tauon cancel of a queued run (--max-jobs 1, a long run in front)"
expect_exit 0 tauon_remote trigger slow
wait_for 10 "run 2's step to run" test -f "$PIDS/long-child.2.pid"
expect_exit 0 tauon_remote trigger slow
expect_contains "$OUT" "queued run 3"
settle 1
expect_eq queued "$(run_field 3 'd["status"]')" "run 3 behind run 2 with --max-jobs 1"
api_json /metrics
expect_contains "$BODY" "tauon_run_queue_length 1"
expect_contains "$BODY" 'tauon_runs{status="running"} 1'
expect_exit 0 tauon_remote cancel 3
wait_run 3 5
expect_eq cancelled "$RUN_STATUS" "run 3 after tauon cancel"
expect_eq '[null, []]' "$(run_field 3 '[d["started_at"], [j["status"] for j in d["jobs"] if j["status"] != "cancelled"]]')" "run 3 never started"
expect_eq running "$(run_field 2 'd["status"]')" "run 2 goes on"
expect_true "run 3 ran nothing" test ! -e "$PIDS/long.3.pid"
expect_exit 1 tauon_remote cancel last  # 'last' is the newest run: 3.
expect_contains "$ERR" "run 3 is cancelled"
expect_exit 0 tauon_remote cancel 2
wait_run 2 15
expect_eq cancelled "$RUN_STATUS" "run 2"
wait_for 3 "run 2's processes to be gone" all_dead 2
expect_pids_dead 2
settle 1
expect_true "run 3 still ran nothing" test ! -e "$PIDS/long.3.pid"
expect_eq cancelled "$(run_field 3 'd["status"]')" "run 3 stays cancelled"
api POST /api/v1/runs/3/cancel
expect_http 409 "cancel a cancelled run"

stop_server

section "cancel_in_progress: a newer push of the same branch cancels the older run"
make_remote cip
write "$REPO/.tauon.yml" <<EOF
on:
  push: { branches: [main, "other*"] }
concurrency: { cancel_in_progress: true }
jobs:
  work:
    steps:
      - run: |
          echo \$\$ > "$PIDS/cip.\$TAUON_RUN_ID.pid"
          echo "work on \$(cat mode.txt)"
          if [ "\$(cat mode.txt)" = long ]; then sleep 53$MARK; fi
EOF
echo long >"$REPO/mode.txt"
commit_all "cip base"
push
git -C "$REPO" push -q origin HEAD:refs/heads/other
git -C "$REPO" push -q origin HEAD:refs/heads/other2
CIP_BARE=$BARE

start_server --max-jobs 2
expect_exit 0 tauon_remote repo add cip "$CIP_BARE" --poll 1s
newest_id() { runs_json "repo=cip"; jget "$BODY" 'd["runs"][0]["id"] if d["runs"] else 0'; }
# A long run on branch other, which pushes to main must leave alone.
git -C "$REPO" checkout -q -b other origin/other
echo long >"$REPO/mode.txt"
commit_all "other: long"
push
wait_for 10 "a run of other" at_least_runs 1 "repo=cip&branch=other"
OTHER_RUN=$(newest_id)
wait_for 10 "the run of other to start its step" test -f "$PIDS/cip.$OTHER_RUN.pid"
git -C "$REPO" checkout -q main
commit_all "main: long"
push
wait_for 10 "the first run of main" at_least_runs 1 "repo=cip&branch=main"
OLD_RUN=$(newest_id)
wait_for 10 "the first run of main to start its step" test -f "$PIDS/cip.$OLD_RUN.pid"
echo short >"$REPO/mode.txt"
commit_all "main: short"
NEW_SHA=$(head_sha)
push
wait_for 10 "the second run of main" at_least_runs 2 "repo=cip&branch=main"
NEW_RUN=$(newest_id)
wait_run "$OLD_RUN" 15
expect_eq cancelled "$RUN_STATUS" "the older run of main (run $OLD_RUN)"
wait_for 3 "the older run's processes to be gone" all_dead "$OLD_RUN"
wait_run "$NEW_RUN" 20
expect_eq success "$RUN_STATUS" "the newer run of main (run $NEW_RUN)"
expect_eq "$NEW_SHA" "$(run_field "$NEW_RUN" 'd["commit"]')" "the newer run's commit"
expect_eq running "$(run_field "$OTHER_RUN" 'd["status"]')" "the run of branch other (run $OTHER_RUN)"
expect_contains "$SERVER_LOG" "run $OLD_RUN superseded by run $NEW_RUN"

section "cancel_in_progress also cancels an older queued run"
# Both slots busy with long runs of other and other2: a push of main queues a
# run, and the next push of main supersedes that queued run.
git -C "$REPO" checkout -q -b other2 origin/other2
echo long >"$REPO/mode.txt"
commit_all "other2: long"
push
wait_for 10 "a run of other2" at_least_runs 1 "repo=cip&branch=other2"
OTHER2_RUN=$(newest_id)
wait_for 10 "the run of other2 to start its step" test -f "$PIDS/cip.$OTHER2_RUN.pid"
git -C "$REPO" checkout -q main
echo x >"$REPO/x.txt"
commit_all "main: short 2"
push
wait_for 10 "a third run of main" at_least_runs 3 "repo=cip&branch=main"
QUEUED_RUN=$(newest_id)
settle 0.5
expect_eq queued "$(run_field "$QUEUED_RUN" 'd["status"]')" "run $QUEUED_RUN with both slots busy"
echo y >"$REPO/x.txt"
commit_all "main: short 3"
LAST_SHA=$(head_sha)
push
wait_for 10 "a fourth run of main" at_least_runs 4 "repo=cip&branch=main"
LAST_RUN=$(newest_id)
wait_run "$QUEUED_RUN" 5
expect_eq cancelled "$RUN_STATUS" "the superseded queued run of main (run $QUEUED_RUN)"
expect_true "the superseded run never ran" test ! -e "$PIDS/cip.$QUEUED_RUN.pid"
expect_eq queued "$(run_field "$LAST_RUN" 'd["status"]')" "the newest run of main waits for a slot"
expect_exit 0 tauon_remote cancel "$OTHER2_RUN"
wait_run "$LAST_RUN" 20
expect_eq success "$RUN_STATUS" "the newest run of main (run $LAST_RUN)"
expect_eq "$LAST_SHA" "$(run_field "$LAST_RUN" 'd["commit"]')" "the newest run's commit"
expect_eq cancelled "$(run_field "$OTHER2_RUN" 'd["status"]')" "the run of other2 after tauon cancel"
expect_eq running "$(run_field "$OTHER_RUN" 'd["status"]')" "the run of branch other"
expect_exit 0 tauon_remote cancel "$OTHER_RUN"
wait_run "$OTHER_RUN" 15
expect_eq cancelled "$RUN_STATUS" "the run of other after tauon cancel"
wait_for 5 "every sleep of this test to be gone" no_process "sleep 5[1-4]$MARK"

section "--max-jobs 2 is never exceeded and runs start in queue order"
make_remote par
write "$REPO/.tauon.yml" <<EOF
jobs:
  a:
    steps:
      - run: |
          echo "start \$(date +%s%N) \$TAUON_RUN_ID \$TAUON_JOB" >> "$EVENTS"
          sleep 0.3
          echo "end \$(date +%s%N) \$TAUON_RUN_ID \$TAUON_JOB" >> "$EVENTS"
  b:
    steps:
      - run: |
          echo "start \$(date +%s%N) \$TAUON_RUN_ID \$TAUON_JOB" >> "$EVENTS"
          sleep 0.2
          echo "end \$(date +%s%N) \$TAUON_RUN_ID \$TAUON_JOB" >> "$EVENTS"
  c:
    needs: [a]
    steps:
      - run: |
          echo "start \$(date +%s%N) \$TAUON_RUN_ID \$TAUON_JOB" >> "$EVENTS"
          sleep 0.1
          echo "end \$(date +%s%N) \$TAUON_RUN_ID \$TAUON_JOB" >> "$EVENTS"
EOF
commit_all "par"
push
expect_exit 0 tauon_remote repo add par "$BARE" --poll 1h
: >"$EVENTS"
FIRST=
for i in 1 2 3 4 5 6 7 8; do
  api POST /api/v1/runs -H "Content-Type: application/json" --data '{"repo": "par"}'
  expect_http 201 "queue run $i of par"
  [[ -n $FIRST ]] || FIRST=$(jget "$BODY" 'd["id"]')
done
LAST=$((FIRST + 7))
MAX_BUSY=0
MAX_RUNNING=0
sample_metrics() {
  api GET /metrics
  local busy running
  busy=$(sed -n 's/^tauon_job_slots_busy //p' "$BODY")
  running=$(sed -n 's/^tauon_runs{status="running"} //p' "$BODY")
  ((busy > MAX_BUSY)) && MAX_BUSY=$busy
  ((running > MAX_RUNNING)) && MAX_RUNNING=$running
  run_finished "$LAST"
}
wait_for 60 "the last run of par to finish" sample_metrics
for ((id = FIRST; id <= LAST; id++)); do
  expect_eq success "$(run_field "$id" 'd["status"]')" "run $id of par"
done
expect_le "$MAX_BUSY" 2 "job slots busy (sampled from /metrics)"
expect_le "$MAX_RUNNING" 2 "runs running at once (sampled from /metrics)"
expect_eq 48 "$(wc -l <"$EVENTS")" "step start and end lines (8 runs x 3 jobs x 2)"
"$PY" - "$EVENTS" "$FIRST" >"$E2E_TMP/overlap" <<'PYEOF'
import sys
events, first = sys.argv[1], int(sys.argv[2])
points, starts = [], {}
for line in open(events):
    kind, t, run, job = line.split()
    points.append((int(t), 0 if kind == "end" else 1))
    if kind == "start":
        starts.setdefault(int(run), int(t))
        starts[int(run)] = min(starts[int(run)], int(t))
points.sort()
now = peak = 0
for _, delta in points:
    now += 1 if delta else -1
    peak = max(peak, now)
print(peak)
order = [run for run, _ in sorted(starts.items(), key=lambda kv: kv[1])]
print(" ".join(map(str, order)))
PYEOF
PEAK=$(sed -n 1p "$E2E_TMP/overlap")
ORDER=$(sed -n 2p "$E2E_TMP/overlap")
expect_le "$PEAK" 2 "steps running at once (from the steps' own timestamps)"
expect_eq 2 "$PEAK" "the limit is used (two steps at once at some point)"
expect_eq "$(seq -s ' ' "$FIRST" "$LAST")" "$ORDER" "runs in the order their first step started"
runs_json "repo=par"
expect_json "$BODY" 'all(a["started_at"] <= b["started_at"] for a, b in zip(sorted(d["runs"], key=lambda r: r["id"]), sorted(d["runs"], key=lambda r: r["id"])[1:]))' true

stop_server
wait_for 5 "no step process left" no_process "sleep 5[1-4]$MARK"
