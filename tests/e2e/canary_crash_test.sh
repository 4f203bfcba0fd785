# Canary reliability, with real processes and traffic from a bounded load
# generator:
#   - `kill -9` of the server in the middle of a canary under load, then a
#     restart on the same data directory: the canary is rolled back from its
#     recorded state (failed, "rolled back: the server restarted during the
#     canary"), every response after the restart comes from the stable
#     version, no replica of the dead server is left, `tauon status` agrees;
#   - a canary 5x slower than its stable release is rolled back by a latency
#     check comparing the two;
#   - a canary that never becomes ready (readiness always 503) is rolled back
#     by its progress deadline.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/deploy_lib.sh"

model_repo
# The model's behaviour.txt: "ok", "delay SECONDS" or "unready" (model_server.py).
release() {  # release BEHAVIOUR...: a version that behaves so
  release_model "$*" "    production:
      replicas: 2
      strategy:
        canary:
          steps: [ { weight: 50 } ]
          analysis: { interval: 500ms, min_requests: 5, checks: [ error_rate < 0.05 ] }
    latency:
      replicas: 1
      strategy:
        canary:
          steps: [ { weight: 50, pause: 1m } ]
          analysis:
            interval: 1s
            min_requests: 5
            checks: [ \"canary.latency_p95_ms <= stable.latency_p95_ms * 2\" ]
    ready:
      replicas: 1
      strategy:
        canary:
          steps: [ { weight: 50 } ]
          progress_deadline: 3s"
}
release ok          # clf@1
release ok          # clf@2: a healthy canary, in progress when the server dies
release delay 0.02  # clf@3: a stable release answering in 20 ms
release delay 0.1   # clf@4: 5x slower
release unready     # clf@5: never ready

# timed_load PORT SECONDS FILE CONNECTIONS: GETs 127.0.0.1:PORT on CONNECTIONS
# keep-alive connections, in the background, until $E2E_TMP/stop-load exists
# or SECONDS pass (bounded in requests too); FILE gets a line per response:
# "TIME STATUS MODEL" (STATUS the exception's name when there was none, MODEL
# "-" when the body names none). Sets LOAD_PID.
timed_load() {
  rm -f "$E2E_TMP/stop-load"
  "$PY" - "$1" "$2" "$3" "$4" "$E2E_TMP/stop-load" >"$3.err" 2>&1 <<'EOF' &
import http.client, json, os, sys, threading, time
port, seconds, out, connections, stop = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
end, lines, lock = time.time() + seconds, [], threading.Lock()
def client():
    conn, n = http.client.HTTPConnection("127.0.0.1", port, timeout=5), 0
    while time.time() < end and not os.path.exists(stop) and n < 20000:
        n += 1
        try:
            conn.request("GET", "/predict")
            response = conn.getresponse()
            body = response.read()
            try:
                model = json.loads(body).get("model", "-")
            except ValueError:
                model = "-"
            line = f"{time.time():.3f} {response.status} {model}"
        except Exception as e:
            line = f"{time.time():.3f} {type(e).__name__} -"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            time.sleep(0.02)
        with lock:
            lines.append(line)
        time.sleep(0.005)
threads = [threading.Thread(target=client) for _ in range(connections)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w") as f:
    f.write("\n".join(sorted(lines)) + "\n")
EOF
  LOAD_PID=$!
  E2E_BG_PIDS+=("$LOAD_PID")
}
stop_load() {
  touch "$E2E_TMP/stop-load"
  wait_bg "$LOAD_PID" 20
}
# environment_is ENV EXPR VALUE: the environment's EXPR prints VALUE.
environment_is() {
  api_json "/api/v1/environments/$1"
  [[ $(jget "$BODY" "$2") == "$3" ]]
}

start_server
section "kill -9 of the server in the middle of a canary, under load"
expect_exit 0 tauon_remote deploy production --model clf@1
expect_contains "$OUT" "release 1 is live in production: clf@1"
api_json /api/v1/environments/production
ENV_PORT=$(jget "$BODY" 'd["port"]')
timed_load "$ENV_PORT" 60 "$E2E_TMP/load-crash.txt" 2
expect_exit 0 tauon_remote deploy production --model clf@2 --no-wait
wait_for 20 "the canary to start" environment_is production 'd["phase"]' canary
wait_for 20 "an analysis interval of the canary" environment_is production \
  'any(a["release"] == 2 and a["verdict"] == "pass" for a in d["analysis"])' true
expect_json "$BODY" 'd["weights"]' '{"clf@1": 50, "clf@2": 50}'
OLD_PIDS=$(jget "$BODY" '" ".join(str(r["pid"]) for r in d["replicas"])')
expect_json "$BODY" 'sorted(r["release"] for r in d["replicas"])' '[1, 1, 2, 2]'
kill_server
RESTART=$(date +%s.%N)
start_server
for pid in $OLD_PIDS; do
  expect_true "replica $pid of the dead server killed by the new one" eval "! is_alive $pid"
done
stable_ready() {
  api_json /api/v1/environments/production
  [[ $(jget "$BODY" '[(r["release"], r["state"]) for r in d["replicas"]]') == '[[1, "ready"], [1, "ready"]]' ]]
}
wait_for 20 "the stable release's replicas to be ready again" stable_ready
sleep 1  # More load, on the stable release.
stop_load
# Responses before the kill came from both versions; after the restart, every
# answer is the stable version's (503s while its replicas started again).
expect_match "$(awk '$3 == "clf@2"' "$E2E_TMP/load-crash.txt" | wc -l)" '^[1-9][0-9]*$' "the canary answered before the kill"
AFTER=$(awk -v t="$RESTART" '$1 > t && $2 == 200' "$E2E_TMP/load-crash.txt")
expect_match "$(printf '%s\n' "$AFTER" | awk 'NF' | wc -l)" '^[1-9][0-9]*$' "responses after the restart"
expect_eq "" "$(printf '%s\n' "$AFTER" | awk 'NF && $3 != "clf@1"')" "responses after the restart not from clf@1"
expect_eq "" "$(awk -v t="$RESTART" '$1 > t && $2 != 200 && $2 != 503 && $2 !~ /^[A-Z]/' "$E2E_TMP/load-crash.txt")" \
  "statuses after the restart other than 200 and 503"
for i in 1 2 3 4 5 6 7 8 9 10; do
  expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/predict")" '"model": "clf@1"'
done
api_json /api/v1/environments/production
expect_json "$BODY" 'd["release"], d["phase"], d["weights"]' '[1, "live", {"clf@1": 100}]'
expect_json "$BODY" '[(r["id"], r["phase"], r["reason"]) for r in d["releases"]]' \
  '[[2, "failed", "rolled back: the server restarted during the canary"], [1, "live", ""]]'
expect_json "$BODY" 'sorted((e["what"], e["release"], e["why"]) for e in d["events"][:2])' \
  '[["restarted", 1, "the server started again"], ["rolled-back", 2, "rolled back: the server restarted during the canary"]]'
expect_json "$BODY" '"step" in d' false
OUT=$(tauon_remote status production 2>&1)
expect_match "$OUT" '^release +1 clf@1  live  strategy canary$' "status: the stable release is current"
expect_match "$OUT" '^weights +clf@1 100%$' "status: all traffic on clf@1"
expect_eq 2 "$(printf '%s\n' "$OUT" | grep -cE '^r[0-9]+ +1 +clf@1 +ready ')" "status: the stable release's two replicas, ready"
expect_not_contains "$(printf '%s\n' "$OUT" | grep -E '^r[0-9]+ ')" "clf@2"

section "a canary 5x slower than its stable release is rolled back by a latency check"
expect_exit 0 tauon_remote deploy latency --model clf@3
api_json /api/v1/environments/latency
LAT_PORT=$(jget "$BODY" 'd["port"]')
timed_load "$LAT_PORT" 30 "$E2E_TMP/load-latency.txt" 3
expect_exit 1 tauon_remote deploy latency --model clf@4
expect_contains "$ERR" "release 4 failed: analysis failed 1 interval in a row: canary.latency_p95_ms <= stable.latency_p95_ms * 2 ("
stop_load
api_json /api/v1/environments/latency
expect_json "$BODY" 'd["release"], d["weights"], [(r["id"], r["phase"]) for r in d["releases"]]' \
  '[3, {"clf@3": 100}, [[4, "failed"], [3, "live"]]]'
# The failed interval read both releases' p95: the canary's at least twice the stable's.
expect_json "$BODY" '[a["verdict"] for a in d["analysis"]][0], (lambda v: v["canary.latency_p95_ms"] > 2 * v["stable.latency_p95_ms"])(d["analysis"][0]["checks"][0]["values"])' \
  '["fail", true]'
expect_eq "" "$(awk '$2 != 200' "$E2E_TMP/load-latency.txt")" "failed requests: a slow canary still answers"
expect_contains "$(curl -fsS "http://127.0.0.1:$LAT_PORT/predict")" '"model": "clf@3"'

section "a canary that never becomes ready is rolled back by its progress deadline"
expect_exit 0 tauon_remote deploy ready --model clf@1
api_json /api/v1/environments/ready
READY_PORT=$(jget "$BODY" 'd["port"]')
timed_load "$READY_PORT" 30 "$E2E_TMP/load-ready.txt" 1
expect_exit 1 tauon_remote deploy ready --model clf@5
expect_contains "$ERR" "release 6 failed: not ready within the progress deadline (3s)"
stop_load
api_json /api/v1/environments/ready
expect_json "$BODY" 'd["release"], d["weights"], [(r["id"], r["phase"]) for r in d["releases"]]' \
  '[5, {"clf@1": 100}, [[6, "failed"], [5, "live"]]]'
expect_json "$BODY" '[e["what"] for e in d["events"]][:2]' '["failed", "deploy"]'
expect_eq "" "$(awk '$2 != 200 || $3 != "clf@1"' "$E2E_TMP/load-ready.txt")" \
  "responses not a 200 from clf@1 while the canary never became ready"
gone() {
  api_json /api/v1/environments/ready
  [[ $(jget "$BODY" '[r["release"] for r in d["replicas"]]') == "[5]" ]]
}
wait_for 10 "the unready canary's replica to stop" gone
stop_server
