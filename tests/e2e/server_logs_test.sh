# tauon serve, live logs: GET /api/v1/runs/ID/logs?follow=1 is a stream of
# Server-Sent Events whose lines arrive while the run is still going (a step
# prints, then waits for the test to open a gate, then prints again), ending
# with `event: end`; `tauon logs RUN -f --server URL` prints the lines as they
# come and exits with the run's code (0, 1, 130); following a queued or a
# finished run works; several followers at once and a follower that hangs up
# do not disturb the run or each other.
source "$(dirname "$0")/lib.sh"

GATES="$E2E_TMP/gates"
mkdir -p "$GATES"
make_remote talk
write "$REPO/.tauon.yml" <<EOF
jobs:
  talk:
    steps:
      - name: speak
        run: |
          echo "first line of run \$TAUON_RUN_ID"
          i=0
          while [ ! -e "$GATES/\$TAUON_RUN_ID" ]; do
            i=\$((i + 1)); [ \$i -lt 400 ] || { echo "gate never opened"; exit 9; }
            sleep 0.05
          done
          echo "second line of run \$TAUON_RUN_ID"
          printf 'no newline at the end'
      - name: verdict
        run: |
          echo "mode \$(cat mode.txt)"
          if [ "\$(cat mode.txt)" = fail ]; then echo "failing on purpose"; exit 3; fi
  quiet:
    steps:
      - run: echo "quiet job"
EOF
echo pass >"$REPO/mode.txt"
commit_all "talk"
push
git -C "$REPO" checkout -q -b bad
echo fail >"$REPO/mode.txt"
commit_all "bad"
push
git -C "$REPO" checkout -q main

start_server --max-jobs 3
expect_exit 0 tauon_remote repo add talk "$BARE" --poll 1h

out_has() { grep -qF -- "$2" "$1"; }
open_gate() { touch "$GATES/$1"; }

section "SSE: lines arrive before the run ends, then event: end"
expect_exit 0 tauon_remote trigger talk
start_bg sse curl -sS -N --max-time 60 -D "$E2E_TMP/sse.headers" \
  -H "Authorization: Bearer $TOKEN" -H "Accept: text/event-stream" \
  "$SERVER_URL/api/v1/runs/1/logs?follow=1"
SSE_PID=$BG_PID
SSE_OUT=$BG_OUT
wait_for 10 "the first line on the stream" out_has "$SSE_OUT" "first line of run 1"
expect_eq running "$(run_field 1 'd["status"]')" "run 1 when its first line was streamed"
expect_not_contains "$SSE_OUT" "event: end" "the stream before the gate opens"
expect_not_contains "$SSE_OUT" "second line" "the stream before the gate opens"
T0=$(now_ms)
open_gate 1
wait_for 10 "the second line on the stream" out_has "$SSE_OUT" "second line of run 1"
echo "  gate -> second line on the stream: $(($(now_ms) - T0))ms"
wait_bg "$SSE_PID" 20
expect_eq 0 "$BG_RC" "curl's exit code (the server ends the stream)"
expect_true "Content-Type: text/event-stream" grep -qi '^Content-Type: text/event-stream' "$E2E_TMP/sse.headers"
expect_eq "event: end" "$(grep '^event: ' "$SSE_OUT" | tail -n 1)" "the last event"
# Events parsed: lines in order, job and run states, no line twice.
"$PY" - "$SSE_OUT" >"$E2E_TMP/sse.json" <<'PYEOF'
import json, sys
events, kind, data = [], None, []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("event: "):
        kind = line[7:]
    elif line.startswith("data: "):
        data.append(line[6:])
    elif line == "" and kind is not None:
        events.append({"type": kind, "data": json.loads("\n".join(data)) if data else None})
        kind, data = None, []
print(json.dumps(events))
PYEOF
expect_json "$E2E_TMP/sse.json" '[e["data"]["text"] for e in d if e["type"] == "line" and e["data"]["job"] == "talk"]' \
  '["first line of run 1", "second line of run 1", "no newline at the end", "mode pass"]'
expect_json "$E2E_TMP/sse.json" '[e["data"]["text"] for e in d if e["type"] == "line" and e["data"]["job"] == "quiet"]' '["quiet job"]'
expect_json "$E2E_TMP/sse.json" '[e["data"]["status"] for e in d if e["type"] == "run"][-1]' success
expect_json "$E2E_TMP/sse.json" '[e["data"]["status"] for e in d if e["type"] == "job" and e["data"]["job"] == "talk"][-1]' success
expect_json "$E2E_TMP/sse.json" '[e["data"]["step"] for e in d if e["type"] == "line" and e["data"]["job"] == "talk"]' \
  '["speak", "speak", "speak", "verdict"]'
expect_json "$E2E_TMP/sse.json" 'all(e["data"]["time"].endswith("Z") and "T" in e["data"]["time"] for e in d if e["type"] == "line")' true
expect_json "$E2E_TMP/sse.json" '[e["type"] for e in d][-1]' end

section "GET logs without follow: what there is so far, as JSON"
api_json /api/v1/runs/1/logs
expect_json "$BODY" 'd["finished"], [e["data"]["text"] for e in d["events"] if e["type"] == "line" and e["data"]["job"] == "talk"][:2]' \
  '[true, ["first line of run 1", "second line of run 1"]]'

section "tauon logs -f prints the lines as they come and exits with the run's code"
expect_exit 0 tauon_remote trigger talk
start_bg follow2 "$TAUON" --data-dir "$DATA" --server "$SERVER_URL" logs 2 -f
F_PID=$BG_PID
F_OUT=$BG_OUT
wait_for 10 "tauon logs -f to print the first line" out_has "$F_OUT" "first line of run 2"
expect_true "tauon logs -f still runs while the run does" is_alive "$F_PID"
expect_not_contains "$F_OUT" "second line of run 2"
open_gate 2
wait_bg "$F_PID" 20
expect_eq 0 "$BG_RC" "tauon logs -f of a successful run"
expect_match "$F_OUT" '^talk +\| first line of run 2$'
expect_match "$F_OUT" '^talk +\| second line of run 2$'
expect_match "$F_OUT" '^quiet +\| quiet job$'
expect_match "$F_OUT" 'run 2 success'
FIRST_AT=$(grep -n "first line of run 2" "$F_OUT" | cut -d: -f1 | head -1)
SECOND_AT=$(grep -n "second line of run 2" "$F_OUT" | cut -d: -f1 | head -1)
expect_le "$FIRST_AT" "$SECOND_AT" "line numbers of the first and second line"

section "tauon logs -f of a failing run exits 1"
expect_exit 0 tauon_remote trigger talk --ref bad --json
RUN3=$(jget "$OUT" 'd["id"]')
start_bg follow3 "$TAUON" --data-dir "$DATA" --server "$SERVER_URL" logs "$RUN3" -f
F_PID=$BG_PID
F_OUT=$BG_OUT
wait_for 10 "the first line" out_has "$F_OUT" "first line of run $RUN3"
open_gate "$RUN3"
wait_bg "$F_PID" 20
expect_eq 1 "$BG_RC" "tauon logs -f of a failed run"
expect_contains "$F_OUT" "failing on purpose"
expect_match "$F_OUT" "run $RUN3 failed"

section "tauon logs -f of a cancelled run exits 130"
expect_exit 0 tauon_remote trigger talk
RUN4=$((RUN3 + 1))
start_bg follow4 "$TAUON" --data-dir "$DATA" --server "$SERVER_URL" logs "$RUN4" -f
F_PID=$BG_PID
F_OUT=$BG_OUT
wait_for 10 "the first line" out_has "$F_OUT" "first line of run $RUN4"
expect_exit 0 tauon_remote cancel "$RUN4"
wait_bg "$F_PID" 20
expect_eq 130 "$BG_RC" "tauon logs -f of a cancelled run"
expect_match "$F_OUT" "run $RUN4 cancelled"

section "following a finished run prints it all and ends at once"
T0=$(now_ms)
expect_exit 0 tauon_remote logs 1 -f
expect_le "$(($(now_ms) - T0))" 5000 "ms to follow a finished run"
expect_contains "$OUT" "first line of run 1"
expect_contains "$OUT" "second line of run 1"
expect_exit 1 tauon_remote logs "$RUN3" -f
T0=$(now_ms)
http GET "/api/v1/runs/1/logs?follow=1" -H "Authorization: Bearer $TOKEN" -N
expect_http 200
expect_eq "event: end" "$(grep '^event: ' "$BODY" | tail -n 1)" "the last event of a finished run's stream"
expect_le "$(($(now_ms) - T0))" 5000 "ms to stream a finished run"

section "tauon logs RUN [JOB] through the server"
expect_exit 0 tauon_remote logs 1 talk
expect_contains "$OUT" "first line of run 1"
expect_exit 2 tauon_remote logs 1 nojob
expect_contains "$ERR" "run 1 has no job 'nojob' (jobs: "
expect_exit 2 tauon_remote logs 1 talk/1
expect_contains "$ERR" "a step's log (JOB/STEP) is read from the data directory"
TAUON_SERVER="$SERVER_URL" expect_exit 2 tauon logs 1 --timestamps
expect_contains "$ERR" "--attempt and --timestamps read the data directory"

section "following a queued run waits for it, then streams it"
# Three slots: two runs waiting at their gate, then a third, then a fourth
# that must wait for a slot.
expect_exit 0 tauon_remote trigger talk
RUN5=$((RUN4 + 1))
expect_exit 0 tauon_remote trigger talk
RUN6=$((RUN5 + 1))
wait_for 10 "runs $RUN5 and $RUN6 to run" eval "run_is $RUN5 running && run_is $RUN6 running"
expect_exit 0 tauon_remote trigger talk
RUN7=$((RUN6 + 1))
expect_exit 0 tauon_remote trigger talk
RUN8=$((RUN7 + 1))
wait_for 10 "run $RUN7 to run" run_is "$RUN7" running
settle 0.5
expect_eq queued "$(run_field "$RUN8" 'd["status"]')" "run $RUN8 (no slot left)"
start_bg follow8 "$TAUON" --data-dir "$DATA" --server "$SERVER_URL" logs "$RUN8" -f
F_PID=$BG_PID
F_OUT=$BG_OUT
# Several followers of one run at once, one of which hangs up early.
for n in 1 2 3; do
  start_bg "multi$n" curl -sS -N --max-time 60 -H "Authorization: Bearer $TOKEN" \
    "$SERVER_URL/api/v1/runs/$RUN8/logs?follow=1"
  eval "MULTI_PID$n=\$BG_PID MULTI_OUT$n=\$BG_OUT"
done
start_bg hangup curl -sS -N --max-time 1 -H "Authorization: Bearer $TOKEN" \
  "$SERVER_URL/api/v1/runs/$RUN8/logs?follow=1"
HANGUP_PID=$BG_PID
settle 1.5
expect_true "tauon logs -f waits for the queued run" is_alive "$F_PID"
wait_bg "$HANGUP_PID" 10
open_gate "$RUN5"
open_gate "$RUN6"
open_gate "$RUN7"
wait_for 15 "run $RUN8 to print its first line" out_has "$F_OUT" "first line of run $RUN8"
open_gate "$RUN8"
wait_bg "$F_PID" 20
expect_eq 0 "$BG_RC" "tauon logs -f of the queued run"
expect_contains "$F_OUT" "second line of run $RUN8"
for n in 1 2 3; do
  eval "pid=\$MULTI_PID$n out=\$MULTI_OUT$n"
  wait_bg "$pid" 20
  expect_contains "$out" "first line of run $RUN8" "follower $n"
  expect_contains "$out" "second line of run $RUN8" "follower $n"
  expect_eq "event: end" "$(grep '^event: ' "$out" | tail -n 1)" "follower $n's last event"
  expect_eq 1 "$(grep -c "second line of run $RUN8" "$out")" "times follower $n got the second line"
done
for id in "$RUN5" "$RUN6" "$RUN7" "$RUN8"; do
  wait_run "$id" 20
  expect_eq success "$RUN_STATUS" "run $id"
done
expect_true "the server is healthy after a follower hung up" server_up

section "the CLI on another machine: only --server and TAUON_TOKEN"
# A data directory of its own (empty): everything must come from the server.
OTHER="$E2E_TMP/other-machine"
mkdir -p "$OTHER"
remote_elsewhere() { TAUON_TOKEN=$TOKEN timeout -k 5 60 "$TAUON" --data-dir "$OTHER" --server "$SERVER_URL" "$@"; }
expect_exit 0 remote_elsewhere runs --json
expect_json "$OUT" 'len(d) >= 8' true
expect_exit 0 remote_elsewhere show 1 --json
expect_json "$OUT" 'd["status"]' success
expect_exit 0 remote_elsewhere logs 1 -f
expect_contains "$OUT" "second line of run 1"
expect_exit 0 remote_elsewhere logs 1
expect_contains "$OUT" "second line of run 1" "tauon logs 1 --server URL (no -f) from another data dir"

section "SSE of an unknown run, without a token"
http GET "/api/v1/runs/999/logs?follow=1"
expect_http 401 "follow without a token"
api GET "/api/v1/runs/999/logs?follow=1"
expect_http 404 "follow of an unknown run"

stop_server
