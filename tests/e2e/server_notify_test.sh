# tauon serve, notifications: a receiver on 127.0.0.1 (a small Python HTTP
# server written here, alive for at most 150 s) records what the server sends
# when runs finish: the Slack shape (text + blocks), the DingTalk signed-robot
# shape (msgtype markdown; timestamp and sign query parameters that verify as
# base64(HMAC-SHA256(secret, "timestamp\nsecret"))), the generic JSON (status,
# failed_jobs, failed_tests). A receiver answering 500 at first is retried; a
# receiver that is down, or that never answers, neither delays nor fails runs.
source "$(dirname "$0")/lib.sh"

DING_SECRET="SEC-e2e-$RANDOM$RANDOM"
RECORDS="$E2E_TMP/records.jsonl"
write "$E2E_TMP/receiver.py" <<'PYEOF'
import http.server, json, socket, sys, threading, time

records_path, port_file = sys.argv[1], sys.argv[2]
lock = threading.Lock()
counts = {}

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        path = self.path.split("?", 1)[0]
        with lock:
            counts[path] = counts.get(path, 0) + 1
            n = counts[path]
            with open(records_path, "a") as f:
                f.write(json.dumps({"path": path, "target": self.path, "n": n,
                                    "time": time.time(),
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body}) + "\n")
        status, answer = 200, "{}"
        if path == "/slack":
            answer = "ok"
        elif path == "/ding":
            answer = json.dumps({"errcode": 0, "errmsg": "ok"})
        elif path == "/flaky" and n <= 2:
            status, answer = 500, "busy"
        data = answer.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
# A second socket that accepts connections into its backlog and never answers.
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write("%d %d\n" % (server.server_address[1], silent.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)
threading.Timer(150, server.shutdown).start()  # Bounded lifetime.
server.serve_forever()
PYEOF
start_bg receiver "$PY" "$E2E_TMP/receiver.py" "$RECORDS" "$E2E_TMP/receiver.port"
RECEIVER_PID=$BG_PID
kill_at_exit "$E2E_TMP/receiver.py"
wait_for 10 "the receiver to listen" test -s "$E2E_TMP/receiver.port"
read -r RPORT SILENT_PORT <"$E2E_TMP/receiver.port"
DOWN_PORT=$(free_port)
R="http://127.0.0.1:$RPORT"

make_remote notified
write "$REPO/junit.xml" <<'EOF'
<testsuite name="unit" tests="3" failures="1">
  <testcase classname="unit.A" name="passes"/>
  <testcase classname="unit.B" name="breaks_on_purpose"><failure message="expected 1, got 2"/></testcase>
  <testcase classname="unit.C" name="passes_too"/>
</testsuite>
EOF
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  unit:
    steps:
      - run: mkdir -p out && cp junit.xml out/junit.xml && test "$(cat mode.txt)" = pass
    reports: { junit: out/junit.xml }
  lint:
    steps:
      - run: echo lint ok
EOF
echo fail >"$REPO/mode.txt"
commit_all "notify me: <b>bold</b> & more"
SHA=$(head_sha)
push
git -C "$REPO" checkout -q -b green
echo pass >"$REPO/mode.txt"
sed -i 's/<failure message="expected 1, got 2"\/>//' "$REPO/junit.xml"
commit_all "all green"
GREEN_SHA=$(head_sha)
push

section "a server with five channels: slack, dingtalk, webhook, a flaky one and a down one"
start_server --max-jobs 2 --public-url "http://ci.example.invalid" \
  --notify "slack=$R/slack" \
  --notify "dingtalk=$R/ding?access_token=x,secret=$DING_SECRET" \
  --notify "webhook=$R/hook" \
  --notify "webhook=$R/flaky" \
  --notify "webhook=http://127.0.0.1:$DOWN_PORT/down"
expect_contains "$SERVER_LOG" "notifying slack http://127.0.0.1:$RPORT/slack"
expect_contains "$SERVER_LOG" "notifying dingtalk"
expect_not_contains "$SERVER_LOG" "$DING_SECRET" "server output"
expect_not_contains "$SERVER_LOG" "access_token=x" "server output"
expect_exit 0 tauon_remote repo add notified "$BARE" --poll 1h

# has_record PATH N: the receiver got at least N requests on PATH; the Nth is
# written to $E2E_TMP/rec.PATH.N.json (PATH without its slash).
has_record() {
  [[ -f $RECORDS ]] || return 1
  "$PY" - "$RECORDS" "$1" "$2" "$E2E_TMP/rec.${1#/}.$2.json" <<'PYEOF'
import json, sys
path, n, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
recs = [json.loads(l) for l in open(sys.argv[1]) if l.endswith("\n")]
recs = [r for r in recs if r["path"] == path]
if len(recs) < n:
    sys.exit(1)
json.dump(recs[n - 1], open(out, "w"))
PYEOF
}
requests_to() {
  local n
  n=$(grep -c "\"path\": \"$1\"" "$RECORDS" 2>/dev/null)
  echo "${n:-0}"
}

section "a failed run notifies every channel"
expect_exit 0 tauon_remote trigger notified --ref main
wait_run 1 30
expect_eq failed "$RUN_STATUS" "run 1"
RUN1_DONE=$(now_ms)
wait_for 10 "the Slack message" has_record /slack 1
wait_for 10 "the DingTalk message" has_record /ding 1
wait_for 10 "the generic webhook" has_record /hook 1
SLACK_AT=$(jget "$E2E_TMP/rec.slack.1.json" 'int(d["time"] * 1000)')
expect_le "$((SLACK_AT - RUN1_DONE))" 2000 "ms from the end of run 1 to its Slack message"

# Slack: text + blocks.
SLACK="$E2E_TMP/slack.json"
jget "$E2E_TMP/rec.slack.1.json" 'd["body"]' >"$SLACK"
expect_json "$E2E_TMP/rec.slack.1.json" 'd["headers"]["content-type"]' application/json
expect_json "$SLACK" 'sorted(d.keys())' '["blocks", "text"]'
expect_json "$SLACK" 'isinstance(d["text"], str) and "notified" in d["text"] and "failed" in d["text"] and "#1" in d["text"]' true
expect_json "$SLACK" '[b["type"] for b in d["blocks"]], d["blocks"][0]["text"]["type"]' '[["section"], "mrkdwn"]'
SLACK_TEXT=$(jget "$SLACK" 'd["blocks"][0]["text"]["text"]')
expect_contains "$SLACK_TEXT" "*Branch:* main"
expect_contains "$SLACK_TEXT" "${SHA:0:8}"
expect_contains "$SLACK_TEXT" "*Author:* Tauon E2E"
expect_contains "$SLACK_TEXT" "*Failed jobs:* unit"
expect_contains "$SLACK_TEXT" "breaks_on_purpose"
expect_contains "$SLACK_TEXT" "&lt;b&gt;bold&lt;/b&gt; &amp; more" "the commit subject, escaped for mrkdwn"
expect_match "$SLACK_TEXT" '<http://ci\.example\.invalid/([a-z0-9/]+/)?runs/1[|]run #1>' "the link to the run (under --public-url)"
expect_not_contains "$SLACK_TEXT" "lint" "the failed jobs (lint succeeded)"

# DingTalk: signed URL, markdown body.
DING="$E2E_TMP/ding.json"
jget "$E2E_TMP/rec.ding.1.json" 'd["body"]' >"$DING"
DING_TARGET=$(jget "$E2E_TMP/rec.ding.1.json" 'd["target"]')
expect_json "$DING" 'd["msgtype"], sorted(d["markdown"].keys())' '["markdown", ["text", "title"]]'
expect_json "$DING" '"failed" in d["markdown"]["title"] and "unit" in d["markdown"]["text"] and "breaks_on_purpose" in d["markdown"]["text"]' true
SIGN_CHECK=$("$PY" - "$DING_TARGET" "$DING_SECRET" <<'PYEOF'
import base64, hashlib, hmac, sys, time, urllib.parse
target, secret = sys.argv[1], sys.argv[2]
query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query, keep_blank_values=True)
problems = []
if query.get("access_token") != ["x"]:
    problems.append("access_token %r" % query.get("access_token"))
ts = query.get("timestamp", [""])[0]
sign = query.get("sign", [""])[0]
if not ts.isdigit():
    problems.append("timestamp %r" % ts)
else:
    if abs(int(ts) - time.time() * 1000) > 120000:
        problems.append("timestamp %s is not now in milliseconds" % ts)
    want = base64.b64encode(hmac.new(secret.encode(), ("%s\n%s" % (ts, secret)).encode(), hashlib.sha256).digest()).decode()
    if sign != want:
        problems.append("sign %r, expected %r" % (sign, want))
print("; ".join(problems) or "ok")
PYEOF
)
expect_eq ok "$SIGN_CHECK" "the DingTalk signature of $DING_TARGET"
expect_not_contains "$DING_TARGET" "$DING_SECRET" "the DingTalk URL"

# Generic webhook.
HOOK="$E2E_TMP/hook.json"
jget "$E2E_TMP/rec.hook.1.json" 'd["body"]' >"$HOOK"
expect_json "$HOOK" '[d["event"], d["run_id"], d["repo"], d["branch"], d["commit"], d["author"], d["status"]]' \
  "[\"run.finished\", 1, \"notified\", \"main\", \"$SHA\", \"Tauon E2E <e2e@tauon.invalid>\", \"failed\"]"
expect_json "$HOOK" 'd["failed_jobs"]' '["unit"]'
expect_json "$HOOK" 'd["failed_tests"]' '["unit.B::breaks_on_purpose: expected 1, got 2"]'
expect_json "$HOOK" 'isinstance(d["duration_ms"], int) and d["duration_ms"] >= 0' true
expect_json "$HOOK" 'd["url"].startswith("http://ci.example.invalid/") and d["url"].endswith("/runs/1")' true
expect_json "$HOOK" 'd["message"]' "notify me: <b>bold</b> & more"
expect_eq 1 "$(requests_to /hook)" "requests to /hook for one run"

section "a receiver answering 500 is retried with backoff"
wait_for 15 "the third attempt on /flaky" has_record /flaky 3
has_record /flaky 1
has_record /flaky 2
expect_json "$E2E_TMP/rec.flaky.3.json" 'json.loads(d["body"])["run_id"]' 1
GAP1=$("$PY" -c 'import json,sys; a,b,c=[json.load(open(f))["time"] for f in sys.argv[1:]]; print("%.2f %.2f" % (b-a, c-b))' \
  "$E2E_TMP/rec.flaky.1.json" "$E2E_TMP/rec.flaky.2.json" "$E2E_TMP/rec.flaky.3.json")
echo "  gaps between the attempts on /flaky: $GAP1 s"
expect_le 0.5 "${GAP1% *}" "seconds before the first retry"
expect_le "${GAP1% *}" "${GAP1#* }" "the backoff grows"
expect_contains "$SERVER_LOG" "attempt 1/5 failed: HTTP 500"
settle 1
expect_eq 3 "$(requests_to /flaky)" "requests to /flaky (delivered on the third)"

section "a receiver that is down neither delays nor fails runs"
expect_match "$SERVER_LOG" "webhook http://127.0.0.1:$DOWN_PORT/down: run #1: attempt 1/5 failed" "the server log"
expect_not_contains "$SERVER_LOG" "$DING_SECRET" "server output"
T0=$(now_ms)
expect_exit 0 tauon_remote trigger notified --ref green
wait_run 2 30
expect_eq success "$RUN_STATUS" "run 2 (the down receiver is still being retried)"
RUN2_MS=$(($(now_ms) - T0))
echo "  run 2 took ${RUN2_MS}ms from trigger to end"
expect_le "$RUN2_MS" 5000 "ms from trigger to the end of a one-second run"
wait_for 10 "run 2's Slack message" has_record /slack 2
wait_for 10 "run 2's webhook" has_record /hook 2
jget "$E2E_TMP/rec.hook.2.json" 'd["body"]' >"$E2E_TMP/hook2.json"
expect_json "$E2E_TMP/hook2.json" '[d["run_id"], d["status"], d["failed_jobs"], d["failed_tests"], d["commit"]]' \
  "[2, \"success\", [], [], \"$GREEN_SHA\"]"
jget "$E2E_TMP/rec.slack.2.json" 'd["body"]' >"$E2E_TMP/slack2.json"
expect_json "$E2E_TMP/slack2.json" '"succeeded" in d["text"]' true

# (A graceful stop waits for pending deliveries: measured at the end.)
kill_server
section "a receiver that accepts connections and never answers"
start_server --max-jobs 2 \
  --notify "webhook=http://127.0.0.1:$SILENT_PORT/silent" \
  --notify "slack=$R/slack"
T0=$(now_ms)
expect_exit 0 tauon_remote trigger notified --ref green
wait_run 3 30
expect_eq success "$RUN_STATUS" "run 3"
expect_le "$(($(now_ms) - T0))" 5000 "ms from trigger to the end of run 3 (a silent receiver)"
expect_exit 0 tauon_remote trigger notified --ref green
wait_run 4 30
expect_eq success "$RUN_STATUS" "run 4"
expect_le "$(($(now_ms) - T0))" 8000 "ms from trigger to the end of runs 3 and 4 (a silent receiver)"
RUN4_DONE=$(now_ms)
# Other channels are not held up by the silent one.
wait_for 30 "run 4's Slack message" has_record /slack 4
SLACK_AT=$(jget "$E2E_TMP/rec.slack.4.json" 'int(d["time"] * 1000)')
echo "  run 4 finished -> its Slack message: $((SLACK_AT - RUN4_DONE))ms (a silent webhook receiver on the same server)"
expect_le "$((SLACK_AT - RUN4_DONE))" 3000 "ms from the end of run 4 to its Slack message, with a silent receiver configured"
T_STOP=$(now_ms)
stop_server 45
echo "  SIGTERM -> the server exited in $(($(now_ms) - T_STOP))ms with deliveries to a silent receiver pending"

kill "$RECEIVER_PID" 2>/dev/null
wait "$RECEIVER_PID" 2>/dev/null || true
