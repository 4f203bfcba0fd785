# Canary releases through a real server, real replicas and real traffic: a
# healthy canary goes through its steps under constant load without a failed
# request and becomes the stable release; a canary that answers 500s is
# rolled back by its analysis, all traffic back on the stable release; one
# that crash-loops is rolled back; `tauon promote` moves a paused canary on
# and `tauon abort` rolls one back. Every interval's analysis is recorded.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/deploy_lib.sh"

model_repo
release() {  # release BEHAVIOUR SECOND_PAUSE: a version whose canary's second step has SECOND_PAUSE
  release_model "$1" "    production:
      replicas: 2
      strategy:
        canary:
          steps: [ { weight: 30, pause: 1s }, { weight: 60$2 } ]
          analysis:
            interval: 500ms
            min_requests: 5
            checks: [ error_rate < 0.05 ]"
}
release ok ", pause: 1s"  # clf@1
release ok ", pause: 1s"  # clf@2
release errors ", pause: 1s"  # clf@3
release crash ", pause: 1s"   # clf@4
release ok ""              # clf@5: its last step waits for tauon promote

# A webhook receiver for the deploy notifications.
write "$E2E_TMP/receiver.py" <<'PYEOF'
import http.server, sys, threading
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(sys.argv[1], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
open(sys.argv[2] + ".tmp", "w").write(str(server.server_address[1]))
__import__("os").rename(sys.argv[2] + ".tmp", sys.argv[2])
threading.Timer(240, server.shutdown).start()  # Bounded lifetime.
server.serve_forever()
PYEOF
NOTICES="$E2E_TMP/notices.jsonl"
start_bg receiver "$PY" "$E2E_TMP/receiver.py" "$NOTICES" "$E2E_TMP/receiver.port"
kill_at_exit "$E2E_TMP/receiver.py"
wait_for 10 "the receiver to listen" test -s "$E2E_TMP/receiver.port"

start_server --notify "webhook=http://127.0.0.1:$(cat "$E2E_TMP/receiver.port")/hook"
section "the first release has no stable release to compare with: it goes live"
expect_exit 0 tauon_remote deploy production --model clf@1
expect_contains "$OUT" "release 1 is live in production: clf@1"
api_json /api/v1/environments/production
ENV_PORT=$(jget "$BODY" 'd["port"]')
expect_json "$BODY" 'd["strategy"], d["events"][1]["why"]' \
  '["canary", "clf@1: all 2 replicas ready, 100% of traffic (no stable release to compare a canary with)"]'

section "a healthy canary goes through its steps under load, without a failed request"
load 6 load1
expect_exit 0 tauon_remote deploy production --model clf@2
expect_contains "$OUT" "canary step 1 of 2: 30% of traffic"
expect_contains "$OUT" "canary step 2 of 2: 60% of traffic"
expect_contains "$OUT" "release 2 is live in production: clf@2"
wait $LOAD_PID
expect_json "$E2E_TMP/load1.json" 'list(d["codes"])' '["200"]'
api_json /api/v1/environments/production
expect_json "$BODY" '[e["what"] for e in d["events"]][:5]' '["superseded", "alias", "live", "canary", "canary"]'
expect_json "$BODY" 'd["events"][2]["why"].startswith("clf@2: promoted after 2 steps and ")' true
expect_json "$BODY" 'd["events"][1]["why"]' "clf@production now points to version 2"
expect_json "$BODY" 'len(d["analysis"]) >= 3 and all(a["verdict"] == "pass" for a in d["analysis"])' true
expect_json "$BODY" 'd["analysis"][0]["checks"][0]["check"], d["analysis"][0]["checks"][0]["values"]["error_rate"] == 0' \
  '["error_rate < 0.05", true]'
expect_json "$BODY" 'd["weights"]' '{"clf@2": 100}'

section "a canary that answers 500s is rolled back by its analysis"
load 5 load2
expect_exit 1 tauon_remote deploy production --model clf@3
expect_contains "$ERR" "release 3 failed: analysis failed 1 interval in a row: error_rate < 0.05 (error_rate="
wait $LOAD_PID
# The requests the canary failed before the rollback (its blast radius), then only 200s.
echo "load during the bad canary: $(jget "$E2E_TMP/load2.json" 'd["codes"]')"
expect_json "$E2E_TMP/load2.json" 'sorted(d["codes"])' '["200", "500"]'
for i in 1 2 3 4 5 6 7 8 9 10; do
  expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ENV_PORT/predict")" "request $i after the rollback"
done
api_json /api/v1/environments/production
expect_json "$BODY" 'd["release"], d["phase"], d["weights"]' '[2, "live", {"clf@2": 100}]'
expect_json "$BODY" '[(r["id"], r["phase"]) for r in d["releases"]][:2]' '[[3, "failed"], [2, "live"]]'
expect_json "$BODY" '[e["what"] for e in d["events"]][:2]' '["rolled-back", "analysis-failed"]'
# The failed interval stays visible after the rollback: it says why.
expect_json "$BODY" '[(a["release"], a["verdict"]) for a in d["analysis"]][:1]' '[[3, "fail"]]'
gone() {
  api_json /api/v1/environments/production
  [[ $(jget "$BODY" '[r["release"] for r in d["replicas"]]') == "[2, 2]" ]]
}
wait_for 10 "the canary's replicas to stop" gone
rolled_back_notice() { grep -q '"event":"deploy.rolled_back"' "$NOTICES" 2>/dev/null; }
wait_for 10 "the rollback's notification" rolled_back_notice
expect_json <(grep '"event":"deploy.rolled_back"' "$NOTICES" | head -1) \
  'd["environment"], d["release"], d["version"], d["why"].startswith("analysis failed 1 interval in a row: error_rate < 0.05"), d["url"] == "'"$SERVER_URL"'/environments/production"' \
  '["production", 3, "clf@3", true, true]'
expect_contains "$NOTICES" '"event":"deploy.live","release":2' "the notification of release 2 going live"

section "a canary that crash-loops is rolled back"
expect_exit 1 tauon_remote deploy production --model clf@4 --timeout 60s
expect_contains "$ERR" "release 4 failed: replica r"
expect_contains "$ERR" "is crash-looping (3 restarts, last: exit code 1)"
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/predict")" '"model": "clf@2"'
# Why it crashed: the rolled-back release's replica log, by its id.
expect_exit 0 tauon_remote logs production/r1 --release 4
expect_contains "$OUT" "this model cannot load"
expect_exit 2 tauon_remote logs 4 --release 4
expect_contains "$ERR" "--release goes with ENV/REPLICA"

section "promote and abort"
expect_exit 1 tauon_remote promote production
expect_contains "$ERR" "environment 'production' has nothing to promote: no canary, blue-green preview or version waiting for approval (HTTP 409)"
expect_exit 0 tauon_remote deploy production --model clf@5 --no-wait
environment_is() {  # environment_is EXPR VALUE: the environment's EXPR prints VALUE
  api_json /api/v1/environments/production
  [[ $(jget "$BODY" "$1") == "$2" ]]
}
wait_for 20 "the canary's second step" environment_is 'd.get("step", {}).get("index")' 2
OUT=$(tauon_remote status production 2>&1)
expect_match "$OUT" '^canary +step 2 of 2: 60% of traffic since .*; waits for tauon promote production$' "status shows the step, and that it waits"
expect_match "$OUT" '^weights +clf@2 40%, clf@5 60%$' "status shows both weights"
expect_exit 0 tauon_remote promote production
expect_contains "$OUT" "release 5 promoted: it serves 100% of traffic"
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/predict")" '"model": "clf@5"'
expect_exit 0 tauon_remote deploy production --model clf@5 --no-wait
wait_for 20 "the canary to start" environment_is 'd["phase"]' canary
# Both releases serve clf@5: one entry with all of the traffic.
wait_for 10 "both releases to serve" environment_is \
  'len({r["release"] for r in d["replicas"] if r["serving"]})' 2
expect_json "$BODY" 'd["weights"]' '{"clf@5": 100}'
expect_exit 0 tauon_remote abort production
expect_contains "$OUT" "release 6 rolled back: traffic is on the stable release"
api_json /api/v1/environments/production
expect_json "$BODY" 'd["release"], d["weights"], d["events"][0]["what"], d["events"][0]["why"]' \
  '[5, {"clf@5": 100}, "rolled-back", "aborted by admin"]'
expect_exit 1 tauon_remote abort production
expect_contains "$ERR" "has no release in progress to abort"

section "status and metrics"
OUT=$(tauon_remote status production 2>&1)
expect_match "$OUT" '^INTERVAL +AT +VERDICT +REQUESTS +CHECKS$' "status shows the analysis"
stop_server
