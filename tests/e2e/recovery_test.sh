# A `tauon run` killed with SIGKILL leaves its run "running" and its step
# processes behind; the next tauon on the same data directory finds the run
# abandoned (its owner process is gone), kills the recorded process groups
# and marks the run interrupted. Runs of live tauon processes are left alone.
source "$(dirname "$0")/lib.sh"

MARK="sleep 4321.$$"
make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<EOF
jobs:
  long:
    services:
      helper: { run: "$MARK" }
    steps:
      - run: $MARK
  quick:
    steps:
      - run: echo quick
EOF
commit_all "recovery"
cd "$REPO" || die "cannot cd to $REPO"
kill_at_exit "$MARK"

# Process groups that run $MARK (evaluated at each call).
groups() { pgrep -f -- "$MARK" | xargs -r -n1 ps -o pgid= -p | sort -u | wc -l; }
at_least_groups() { (($(groups) >= $1)); }
fewer_groups() { (($(groups) < $1)); }

section "a killed run is found abandoned, its processes killed, and marked interrupted"
# Run 1 stays alive throughout: recovery must leave it alone.
start_bg survivor "$TAUON" --data-dir "$DATA" run . --job long
survivor=$BG_PID
wait_for 20 "run 1 to start its step and service" at_least_groups 2
# Run 2 is killed with SIGKILL while its step and service run.
start_bg victim "$TAUON" --data-dir "$DATA" run .
victim=$BG_PID
wait_for 20 "run 2 to start its step and service" at_least_groups 4
kill -KILL "$victim"
wait "$victim" 2>/dev/null
expect_eq 4 "$(groups)" "process groups right after the SIGKILL (run 2's outlive it)"
show_json 2
expect_json "$JSON" 'd["status"]' running

# The next tauon on the data dir recovers run 2, and only run 2.
expect_exit 0 tauon run --job quick
expect_contains "$ERR" "run 2 was interrupted"
expect_not_contains "$ERR" "run 1 was interrupted"
show_json 2
expect_json "$JSON" 'd["status"]' interrupted
expect_json "$JSON" 'd["jobs"][0]["status"]' cancelled
expect_contains "$JSON" "stopped unexpectedly"
show_json 1
expect_json "$JSON" 'd["status"]' running
wait_for 10 "run 2's processes to die" fewer_groups 3
expect_eq 2 "$(groups)" "process groups left (run 1's step and service)"
expect_true "run 1's tauon is untouched" is_alive "$survivor"

kill -TERM "$survivor"
wait_bg "$survivor" 30
expect_eq 130 "$BG_RC" "run 1 is cancelled by its own SIGTERM"
wait_for 10 "no process left" no_process "$MARK"
