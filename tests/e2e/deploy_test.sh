# tauon deploy / status / logs ENV/REPLICA through a real server: model
# versions registered by local runs are deployed to an environment whose
# router listens on its own port; replicas (real python3 HTTP servers) get
# their own ports, gate traffic on readiness, are restarted after a crash,
# and a second version replaces the first under constant traffic without a
# failed request. A crash-looping release never takes traffic. After a
# SIGKILL of the server, a new one kills the old replicas and brings the
# environment back; SIGTERM stops the replicas.
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/tiny"
write "$REPO/serve.py" <<'EOF'
import http.server, json, os, time
answer = open(os.path.join(os.environ["TAUON_MODEL_DIR"], "answer.txt")).read().strip()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/stream":  # A slow streamed answer: 6 lines over 3 s.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for i in range(6):
                self.wfile.write(f"{answer} line {i}\n".encode())
                self.wfile.flush()
                time.sleep(0.5)
            return
        body = json.dumps({"answer": answer, "replica": os.environ["TAUON_REPLICA"],
                           "model": os.environ["TAUON_MODEL"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        print("request", self.path, flush=True)
print("serving", answer, "from", os.getcwd(), flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
EOF
pipeline() {  # pipeline ANSWER [SERVE_COMMAND]
  write "$REPO/.tauon.yml" <<EOF
jobs:
  train:
    steps:
      - run: mkdir -p out/model && echo $1 > out/model/answer.txt
    artifacts: [out/model/]
model:
  name: tiny
  path: out/model/
deploy:
  serve:
    command: ${2:-exec $PY serve.py}
    readiness: { http: /healthz, period: 200ms, timeout: 1s }
    stop_timeout: 5s
  environments:
    staging:
      replicas: 2
    production:
      after: staging
      approval: manual   # not promoted here: release numbers stay those of staging
EOF
}
pipeline 42
commit_all "answer 42"
expect_exit 0 tauon run "$REPO"
pipeline 43
commit_all "answer 43"
expect_exit 0 tauon run "$REPO"
pipeline 44 'echo "no luck"; exit 3'
commit_all "a serve command that crashes"
expect_exit 0 tauon run "$REPO"

start_server
section "no environment yet"
OUT=$(tauon_remote status 2>&1)
expect_contains "$OUT" "no environments yet"
OUT=$(tauon_remote status staging 2>&1)
expect_contains "$OUT" "no environment 'staging'"

section "deploys that cannot be done change nothing"
expect_exit 1 tauon_remote deploy staging --model nosuch@1
expect_contains "$ERR" "tauon: error: model 'nosuch' has no version 1 (HTTP 422)"
expect_exit 2 tauon_remote deploy staging --model 'tiny@'
expect_contains "$ERR" "tauon: error: invalid model 'tiny@': expected NAME, NAME@VERSION or NAME@ALIAS"
OUT=$(tauon_remote deploy stagign --model tiny@1 2>&1)
expect_contains "$OUT" "has no environment 'stagign' (did you mean 'staging'?) (environments: staging, production)"
OUT=$(tauon_remote deploy staging --model tiny@1 --repo other 2>&1)
expect_contains "$OUT" "tiny@1 comes from repository 'tiny', not 'other'"
api_json /api/v1/environments
expect_json "$BODY" 'd["environments"]' '[]'
api POST /api/v1/environments/staging/deploy -d '{"model": 7}'
expect_http 400
expect_contains "$(cat "$BODY")" "'model' must be a string"

section "first release"
expect_exit 0 tauon_remote deploy staging --model tiny@1
OUT=$(cat "$OUT")
expect_contains "$OUT" "deploying tiny@1 to staging: release 1"
expect_match "$OUT" "r1 ready" "r1 became ready"
expect_contains "$OUT" "release 1 is live in staging: tiny@1 serves 100% of http://127.0.0.1:"
api_json /api/v1/environments/staging
STATUS=$BODY
expect_json "$STATUS" 'd["phase"]' live
expect_json "$STATUS" 'd["weights"]' '{"tiny@1": 100}'
expect_json "$STATUS" '[(r["name"], r["state"]) for r in d["replicas"]]' '[["r1", "ready"], ["r2", "ready"]]'
expect_json "$STATUS" 'len({r["port"] for r in d["replicas"]})' 2
ENV_PORT=$(jget "$STATUS" 'd["port"]')
seen=""
for i in 1 2 3 4 5 6; do
  seen+=$(curl -fsS --max-time 5 "http://127.0.0.1:$ENV_PORT/predict")
done
expect_contains "$seen" '"answer": "42"'
expect_contains "$seen" '"replica": "r1"'
expect_contains "$seen" '"replica": "r2"'
expect_contains "$seen" '"model": "tiny@1"'
OUT=$(tauon_remote status 2>&1)
expect_match "$OUT" "^staging +http://127.0.0.1:$ENV_PORT +tiny@1 +1  live +2/2" "status line"
# production (after: staging, approval: manual) has no release yet, but a version waiting.
expect_exit 1 tauon_remote status production
expect_contains "$ERR" "no environment 'production' yet: tiny@1 waits for its approval (tauon promote production deploys it) (HTTP 404)"

section "the release's files are read-only"
# (root may write anyway: the mode bits are what is checked)
expect_eq 444 "$(stat -c %a "$DATA/releases/1/model/answer.txt")" "model file mode"
expect_eq 444 "$(stat -c %a "$DATA/releases/1/code/serve.py")" "code file mode"
expect_eq 555 "$(stat -c %a "$DATA/releases/1/code")" "code directory mode"

section "a second version replaces the first under traffic"
OLD_PIDS=$(jget "$STATUS" '" ".join(str(r["pid"]) for r in d["replicas"])')
"$PY" - "$ENV_PORT" >"$E2E_TMP/load.txt" 2>&1 <<'EOF' &
import http.client, sys, time
port, codes, end = int(sys.argv[1]), {}, time.time() + 6
while time.time() < end and sum(codes.values()) < 3000:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/predict")
        status = conn.getresponse().status
        conn.close()
    except Exception as e:
        status = type(e).__name__
    codes[status] = codes.get(status, 0) + 1
    time.sleep(0.005)
print(codes)
EOF
LOAD=$!
# A streamed answer that outlives the switch: the old replica answers it to the end.
curl -sS --max-time 20 "http://127.0.0.1:$ENV_PORT/stream" >"$E2E_TMP/stream.txt" 2>&1 &
STREAM=$!
sleep 1
OUT=$(tauon_remote deploy staging --model tiny@2 2>&1)
expect_contains "$OUT" "release 2 is live in staging: tiny@2"
wait $LOAD
expect_match "$(cat "$E2E_TMP/load.txt")" "^\{200: [0-9]+\}$" "every request during the replacement answered 200"
wait $STREAM
expect_eq "42 line 0 42 line 1 42 line 2 42 line 3 42 line 4 42 line 5" "$(tr '\n' ' ' <"$E2E_TMP/stream.txt" | sed 's/ $//')" \
  "a stream started before the switch ends on the old release"
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/")" '"answer": "43"'
api_json /api/v1/environments/staging
expect_json "$BODY" '[(r["id"], r["phase"]) for r in d["releases"]]' '[[2, "live"], [1, "superseded"]]'
expect_json "$BODY" '[e["what"] for e in d["events"]][:4]' '["superseded", "alias", "live", "deploy"]'
expect_json "$BODY" 'd["events"][1]["why"]' "tiny@staging now points to version 2"
for pid in $OLD_PIDS; do
  wait_for 10 "old replica $pid to stop" eval "! is_alive $pid"
done

section "a crashed replica is restarted"
api_json /api/v1/environments/staging
R1=$(jget "$BODY" '[r["pid"] for r in d["replicas"] if r["name"] == "r1"][0]')
kill -KILL "$R1"
restarted() {
  api_json /api/v1/environments/staging
  [[ $(jget "$BODY" '[(r["restarts"], r["state"], r["last_exit"]) for r in d["replicas"] if r["name"] == "r1"][0]') == '[1, "ready", "killed by SIGKILL"]' ]]
}
wait_for 15 "r1 to be restarted" restarted
OUT=$(tauon_remote status staging 2>&1)
expect_match "$OUT" "^r1 +2 +tiny@2 +ready .* 1  killed by SIGKILL" "status shows the restart"

section "replica logs"
OUT=$(tauon_remote logs staging/r2 2>&1)
expect_contains "$OUT" "serving 43 from $DATA/releases/2/code"
expect_contains "$OUT" "request /healthz"
OUT=$(tauon_remote logs staging/r9 2>&1)
expect_contains "$OUT" "release 2 of environment 'staging' has no replica 'r9' (replicas: r1 to r2)"
OUT=$(tauon_remote logs nowhere/r1 2>&1)
expect_contains "$OUT" "no environment 'nowhere'"

section "router metrics"
api GET /metrics
expect_http 200
expect_contains "$(cat "$BODY")" 'tauon_router_requests_total{environment="staging",release="stable"'
if command -v promtool >/dev/null; then
  expect_exit 0 promtool check metrics <"$BODY"
fi

section "a release that crash-loops never takes traffic"
expect_exit 1 tauon_remote deploy staging --model tiny@3 --timeout 3s
expect_contains "$OUT" "after exit code 3"
expect_contains "$ERR" "release 3 is not live after 3s (still starting)"
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/")" '"answer": "43"'
api_json /api/v1/environments/staging
expect_json "$BODY" 'd["weights"]' '{"tiny@2": 100}'
expect_json "$BODY" 'sorted({r["state"] for r in d["replicas"] if r["release"] == 3}) in (["backoff"], ["backoff", "starting"], ["starting"])' true
# Deploying the good version again supersedes the broken one.
OUT=$(tauon_remote deploy staging --model tiny@2 2>&1)
expect_contains "$OUT" "release 4 is live in staging: tiny@2"
api_json /api/v1/environments/staging
expect_json "$BODY" '[(r["id"], r["phase"]) for r in d["releases"]][:2]' '[[4, "live"], [3, "superseded"]]'

section "SIGKILL of the server: the next one cleans up and restores"
api_json /api/v1/environments/staging
OLD_PIDS=$(jget "$BODY" '" ".join(str(r["pid"]) for r in d["replicas"] if r["release"] == 4)')
kill_server
start_server
for pid in $OLD_PIDS; do
  expect_true "old replica $pid killed by the new server" eval "! is_alive $pid"
done
expect_contains "$(cat "$SERVER_LOG")" "killed replica r1 of release 4 left by a previous server"
live_again() {
  api_json /api/v1/environments/staging
  [[ $(jget "$BODY" '[r["state"] for r in d["replicas"]]') == '["ready", "ready"]' ]]
}
wait_for 15 "release 4's replicas to be ready again" live_again
expect_json "$BODY" 'd["port"]' "$ENV_PORT"
expect_json "$BODY" 'd["events"][0]["what"]' restarted
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/")" '"answer": "43"'

section "tauon rollback: the version served before goes out again"
expect_exit 0 tauon_remote rollback staging
expect_contains "$OUT" "rolling back to tiny@1 to staging: release 5"
expect_contains "$OUT" "release 5 is live in staging: tiny@1"
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/")" '"answer": "42"'
api_json /api/v1/environments/staging
expect_json "$BODY" '[(e["what"], e["release"]) for e in d["events"]][:5]' \
  '[["superseded", 4], ["alias", 5], ["live", 5], ["deploy", 5], ["rollback", 4]]'
expect_exit 0 tauon models --json
expect_json "$OUT" '[v["aliases"] for v in d]' '[["staging"], [], []]'
# tiny@2 waited for approval in production; staging left it: so does production.
expect_exit 1 tauon_remote promote production
expect_contains "$ERR" "no environment 'production' (HTTP 404)"
expect_exit 0 tauon_remote rollback staging --to 2
expect_contains "$OUT" "release 6 is live in staging: tiny@2"
api_json /api/v1/environments/staging
EVENTS_BEFORE=$(jget "$BODY" 'd["events"]')
expect_exit 1 tauon_remote rollback staging --to 9
expect_contains "$ERR" "model 'tiny' has no version 9"
expect_exit 1 tauon_remote rollback staging --to 2
expect_contains "$ERR" "'staging' already serves tiny@2 (release 6): nothing to roll back to (HTTP 409)"
# A refused rollback changes nothing, not even the events.
api_json /api/v1/environments/staging
expect_json "$BODY" 'd["events"]' "$EVENTS_BEFORE"
expect_exit 1 tauon_remote rollback nowhere
expect_contains "$ERR" "no environment 'nowhere' (HTTP 404)"

section "SIGTERM stops the replicas"
NEW_PIDS=$(jget "$BODY" '" ".join(str(r["pid"]) for r in d["replicas"])')
stop_server
for pid in $NEW_PIDS; do
  expect_true "replica $pid stopped with the server" eval "! is_alive $pid"
done


section "a version's lineage lists its deployments"
expect_exit 0 tauon model lineage tiny@2 --json
expect_json "$OUT" '[(r["environment"], r["release"], r["phase"]) for r in d["deployments"]]' \
  '[["staging", 2, "superseded"], ["staging", 4, "superseded"], ["staging", 6, "live"]]'
expect_exit 0 tauon model lineage tiny@2
expect_match "$OUT" '^deployed staging release 6, live \(by ' "lineage text"
expect_exit 0 tauon model lineage tiny@3
expect_match "$OUT" '^deployed staging release 3, superseded \(by .*\): release 4 was deployed before it was done$' "a superseded release's reason"
