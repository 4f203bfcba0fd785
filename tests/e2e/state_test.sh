# The state a run leaves: step logs written line by line as output arrives (a
# crash of tauon loses nothing already printed), the SQLite store in WAL mode,
# several runs at once on one data dir, large outputs, and a tidy data dir.
source "$(dirname "$0")/lib.sh"

MARK="$$$RANDOM"
CRASH_SLEEP="60.$MARK"
kill_at_exit "sleep $CRASH_SLEEP"

make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<EOF
jobs:
  crash:
    steps:
      - name: slow printer
        run: |
          echo "first line"
          printf 'second line\n' >&2
          sleep $CRASH_SLEEP
          echo "never printed"
  big:
    steps:
      - run: seq 1 100000
  a:
    steps:
      - run: for i in \$(seq 1 300); do echo "a \$i"; done
  b:
    steps:
      - run: for i in \$(seq 1 300); do echo "b \$i"; done
  c:
    needs: [a, b]
    steps:
      - run: echo c done
EOF
commit_all "state"
cd "$REPO" || die "cannot cd to $REPO"

section "step logs are written as output arrives; a crash loses nothing printed"
start_bg crash "$TAUON" --data-dir "$DATA" run --job crash
RUN_PID=$BG_PID
LOG="$DATA/runs/1/logs/0-crash/1/0.log"
wait_for 10 "the first lines in the step log while the step runs" \
  grep -qs "second line" "$LOG"
expect_match "$LOG" '^20[0-9-]+T[0-9:.]+Z first line$' "first line, timestamped"
expect_match "$LOG" '^20[0-9-]+T[0-9:.]+Z second line$' "second line, timestamped"
expect_exit 0 tauon runs --json
expect_json "$OUT" 'd[0]["status"]' running
kill -KILL "$RUN_PID"
wait_bg "$RUN_PID" 10
expect_eq 137 "$BG_RC" "tauon killed by SIGKILL"
expect_contains "$LOG" "first line" "the step log after the crash"
expect_contains "$LOG" "second line" "the step log after the crash"
expect_exit 0 tauon logs 1 crash
expect_contains "$OUT" "first line" "tauon logs after the crash"
expect_exit 0 tauon show 1 --json
expect_json "$OUT" 'd["id"], step("crash", 0)["status"]' '[1, "running"]'
# Nothing can stop a SIGKILLed tauon's children; end the step's sleep here.
for pid in $(pgrep -f "sleep $CRASH_SLEEP"); do kill "$pid"; done

section "the store is SQLite in WAL mode"
expect_eq wal "$("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("pragma journal_mode").fetchone()[0])' "$DATA/tauon.db")" \
  "journal_mode"

section "a large output is logged completely"
expect_exit 0 tauon run --job big
expect_eq 100000 "$(grep -c '^big *| [0-9]*$' "$OUT")" "live lines"
RUN=$(last_run_id)
expect_eq 100000 "$(wc -l <"$DATA/runs/$RUN/logs/0-big/1/0.log")" "lines in the step log"
expect_exit 0 tauon logs "$RUN" big/1
expect_eq "$(seq 1 100000 | md5sum)" "$(tail -n +2 "$OUT" | md5sum)" "tauon logs of a large output"

section "several runs at once on one data dir"
PIDS=()
for i in 1 2 3 4; do
  start_bg "parallel$i" "$TAUON" --data-dir "$DATA" run --job c -j 2
  PIDS+=("$BG_PID")
done
for i in 1 2 3 4; do
  wait_bg "${PIDS[$((i - 1))]}" 30
  expect_eq 0 "$BG_RC" "exit code of parallel run $i"
  expect_not_contains "$E2E_TMP/parallel$i.out" "error" "output of parallel run $i"
done
expect_exit 0 tauon runs --json --status success --repo repo
expect_json "$OUT" 'len([r for r in d if r["status"] == "success"]) >= 5 and len(set(r["id"] for r in d)) == len(d)' true
for id in $(jget "$OUT" '" ".join(str(r["id"]) for r in d[:4])'); do
  expect_exit 0 tauon logs "$id" a
  expect_eq 301 "$(wc -l <"$OUT")" "log lines of job a in run $id"
done

section "a data dir given as a relative path with '..'"
mkdir -p "$E2E_TMP/sub"
expect_exit 0 timeout 60 "$TAUON" run --job c --data-dir ../rel-data
REL_RUN="$E2E_TMP/rel-data/runs/1"
expect_true "the run is in ../rel-data" test -f "$E2E_TMP/rel-data/tauon.db"
expect_eq "logs" "$(ls "$REL_RUN" 2>&1 | tr '\n' ' ' | sed 's/ $//')" "what a finished run leaves in its directory"
expect_true "nothing was created in the repository" test -z "$(git status --porcelain)"

section "a finished run leaves only logs (workspaces and checkout removed)"
expect_eq "logs" "$(ls "$DATA/runs/$RUN" | tr '\n' ' ' | sed 's/ $//')" "what a finished run leaves"
expect_exit 0 tauon run --job a --keep-workspaces
RUN=$(last_run_id)
expect_true "--keep-workspaces keeps the workspace" test -f "$DATA/runs/$RUN/work/0-a.1/.tauon.yml"
