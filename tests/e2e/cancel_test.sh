# Cancelling a run by signal: SIGINT (Ctrl-C) and SIGTERM stop every process
# group the run started (steps, their children, services), pending jobs become
# cancelled, the run is recorded as cancelled and tauon exits 130. A step that
# ignores SIGTERM is killed after the grace period, or at once on a second
# SIGINT.
source "$(dirname "$0")/lib.sh"

# Unique `sleep` arguments, so pgrep finds exactly this test's processes.
MARK="$((1000 + RANDOM % 8000)).$$"
STEP_SLEEP="31$MARK"
CHILD_SLEEP="32$MARK"
OTHER_SLEEP="33$MARK"
SERVICE_SLEEP="34$MARK"
PROBE_SLEEP="36$MARK"
STUBBORN_SLEEP="35$MARK"
kill_at_exit "sleep 3[1-6]$MARK"
PIDS="$E2E_TMP/pids"
mkdir -p "$PIDS"

make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<EOF
jobs:
  long:
    steps:
      - name: long sleep
        run: |
          echo \$\$ > "\$PIDS/long.pid"
          sleep $CHILD_SLEEP &
          echo \$! > "\$PIDS/long-child.pid"
          echo step is running
          sleep $STEP_SLEEP
      - name: next
        run: echo SHOULD-NOT-RUN
  other:
    steps:
      - run: echo \$\$ > "\$PIDS/other.pid"; sleep $OTHER_SLEEP
  svc:
    services:
      sleeper:
        run: echo \$\$ > "\$PIDS/service.pid"; exec sleep $SERVICE_SLEEP
    steps:
      - run: echo svc step running; sleep $OTHER_SLEEP
  queued:
    steps:
      - run: echo SHOULD-NOT-RUN-QUEUED
  after:
    needs: [long]
    steps:
      - run: echo SHOULD-NOT-RUN-AFTER
  not-ready:
    services:
      db:
        run: echo \$\$ > "\$PIDS/db.pid"; exec sleep $SERVICE_SLEEP
        readiness: echo probing > "\$PIDS/probing"; sleep $PROBE_SLEEP
        readiness_timeout: 10m
        readiness_interval: 50ms
    steps:
      - run: echo SHOULD-NOT-RUN-NOT-READY
  stubborn:
    steps:
      - name: ignores TERM
        run: |
          trap '' TERM
          echo stubborn is running
          sleep $STUBBORN_SLEEP
EOF
commit_all "long running jobs"
cd "$REPO" || die "cannot cd to $REPO"

# start_run NAME ARGS...: tauon run in the background (BG_PID is tauon itself).
start_run() {
  local name=$1
  shift
  rm -f "$PIDS"/*
  start_bg "$name" "$TAUON" --data-dir "$DATA" run --env "PIDS=$PIDS" "$@"
}

# output_has LINE_REGEX: the background run printed a matching line.
output_has() { grep -qE -- "$1" "$BG_OUT"; }

# all_gone: none of this test's sleeps is alive.
all_gone() { no_process "sleep 3[1-6]$MARK"; }

# expect_pids_dead: every pid a step or service wrote down has exited.
expect_pids_dead() {
  local f pid
  for f in "$PIDS"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    E2E_CHECKS=$((E2E_CHECKS + 1))
    if is_alive "$pid"; then
      fail "process $pid ($(basename "$f")) survived the cancelled run: $(ps -o pid,pgid,stat,args -p "$pid" | tail -1)"
    fi
  done
}

section "SIGINT cancels running and pending jobs and stops every process"
start_run sigint --job long --job other --job svc --job queued --job after -j 3
RUN_PID=$BG_PID
wait_for 10 "the long step to run" output_has '^long +\| step is running$'
wait_for 10 "the service and the other step to start" \
  test -f "$PIDS/service.pid" -a -f "$PIDS/other.pid" -a -f "$PIDS/long-child.pid"
# The run is recorded as running while it runs.
expect_exit 0 tauon runs --json
expect_json "$OUT" 'd[0]["status"]' running
T0=$(now_ms)
kill -INT "$RUN_PID"
wait_bg "$RUN_PID" 20
ELAPSED=$(($(now_ms) - T0))
expect_eq 130 "$BG_RC" "exit code after SIGINT"
expect_le "$ELAPSED" 4000 "time from SIGINT to exit (ms)"
wait_for 2 "every step, child and service process to be gone" all_gone
expect_pids_dead
expect_match "$BG_OUT" '^run 1 cancelled in ' "final line"
expect_not_contains "$BG_OUT" "SHOULD-NOT-RUN" "live output"
show_json 1
expect_json "$JSON" 'd["status"]' cancelled
expect_json "$JSON" '{j["name"]: j["status"] for j in d["jobs"]}' \
  '{"after": "cancelled", "long": "cancelled", "other": "cancelled", "queued": "cancelled", "svc": "cancelled"}'
expect_json "$JSON" 'job("queued")["started_at"], job("after")["started_at"]' '[null, null]'
expect_json "$JSON" 'step("long", 0)["status"]' cancelled
expect_json "$JSON" '[s["name"] for s in job("long")["steps"] if s["status"] not in ("cancelled", "skipped")]' '[]'
expect_json "$JSON" 'isinstance(d["finished_at"], str)' true
expect_exit 0 tauon runs --json --status cancelled
expect_json "$OUT" '[r["id"] for r in d]' '[1]'
# What was printed before the cancel is in the logs.
expect_exit 0 tauon logs 1 long/1
expect_contains "$OUT" "step is running"

section "SIGINT while a service's readiness probe runs"
start_run not-ready --job not-ready
RUN_PID=$BG_PID
wait_for 10 "the readiness probe to run" test -f "$PIDS/probing"
kill -INT "$RUN_PID"
wait_bg "$RUN_PID" 20
expect_eq 130 "$BG_RC" "exit code"
wait_for 2 "the service and its probe to be gone" all_gone
expect_pids_dead
expect_not_contains "$BG_OUT" "SHOULD-NOT-RUN" "live output"
show_json last
expect_json "$JSON" 'd["status"], job("not-ready")["status"]' '["cancelled", "cancelled"]'

section "SIGTERM cancels the run the same way"
start_run sigterm --job long --job after -j 2
RUN_PID=$BG_PID
wait_for 10 "the long step to run" output_has '^long +\| step is running$'
T0=$(now_ms)
kill -TERM "$RUN_PID"
wait_bg "$RUN_PID" 20
ELAPSED=$(($(now_ms) - T0))
expect_eq 130 "$BG_RC" "exit code after SIGTERM"
expect_le "$ELAPSED" 4000 "time from SIGTERM to exit (ms)"
wait_for 2 "every step process to be gone" all_gone
expect_pids_dead
show_json last
expect_json "$JSON" 'd["status"]' cancelled
expect_json "$JSON" '[j["status"] for j in d["jobs"]]' '["cancelled", "cancelled"]'

section "a step that ignores SIGTERM is killed after the grace period"
start_run stubborn --job stubborn
RUN_PID=$BG_PID
wait_for 10 "the stubborn step to run" output_has '^stubborn +\| stubborn is running$'
T0=$(now_ms)
kill -INT "$RUN_PID"
wait_bg "$RUN_PID" 20
ELAPSED=$(($(now_ms) - T0))
expect_eq 130 "$BG_RC" "exit code"
expect_le "$ELAPSED" 9000 "time to kill a step that ignores SIGTERM (ms)"
wait_for 2 "the stubborn sleep to be gone" all_gone
show_json last
expect_json "$JSON" 'd["status"], job("stubborn")["status"]' '["cancelled", "cancelled"]'

section "a second SIGINT kills at once"
start_run stubborn2 --job stubborn
RUN_PID=$BG_PID
wait_for 10 "the stubborn step to run" output_has '^stubborn +\| stubborn is running$'
T0=$(now_ms)
kill -INT "$RUN_PID"
sleep 0.3
kill -INT "$RUN_PID"
wait_bg "$RUN_PID" 20
ELAPSED=$(($(now_ms) - T0))
expect_eq 130 "$BG_RC" "exit code"
expect_le "$ELAPSED" 3000 "time to exit after a second SIGINT (ms)"
wait_for 2 "the stubborn sleep to be gone" all_gone
show_json last
expect_json "$JSON" 'd["status"]' cancelled
