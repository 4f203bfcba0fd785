# The promotion chain on a server: a push to the default branch whose run
# registers a model version deploys it to the first environment (staging);
# once it is live there, an environment `after: staging` with automatic
# approval gets it at once, one with `approval: manual` waits for `tauon
# promote` (which a restarted server remembers). A push to another branch
# deploys nothing. The staging and
# production aliases follow.
source "$(dirname "$0")/lib.sh"

make_remote chain
write "$REPO/serve.py" <<'PYEOF'
import http.server, json, os
answer = open(os.path.join(os.environ["TAUON_MODEL_DIR"], "answer.txt")).read().strip()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"answer": answer, "environment": os.environ["TAUON_ENVIRONMENT"]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
PYEOF
write "$REPO/.tauon.yml" <<YAML
on: { push: { branches: [main, "feature/*"] } }
jobs:
  train:
    steps:
      - run: mkdir -p out/model && cat answer.txt > out/model/answer.txt
    artifacts: [out/model/]
model: { name: chain, path: out/model/ }
deploy:
  serve:
    command: exec $PY serve.py
    readiness: { http: /healthz, period: 100ms }
  environments:
    staging: {}
    qa: { after: staging }
    production: { after: staging, approval: manual }
YAML
echo 1 >"$REPO/answer.txt"
commit_all "version 1"
push

start_server
expect_exit 0 tauon_remote repo add chain "$BARE" --poll 1s
git -C "$REPO" checkout -q -b feature/x
echo 99 >"$REPO/answer.txt"
commit_all "a feature"
git -C "$REPO" push -q origin feature/x 2>/dev/null
git -C "$REPO" checkout -q main
echo 2 >"$REPO/answer.txt"
commit_all "version 2"
push

environment_is() {  # environment_is ENV EXPR VALUE
  api GET "/api/v1/environments/$1"
  [[ $HTTP == 200 && $(jget "$BODY" "$2") == "$3" ]]
}
section "the default branch's new version goes to staging, then to qa on its own"
wait_for 60 "staging to serve the main branch's version" environment_is staging 'd["phase"]' live
STAGING_VERSION=$(jget "$BODY" 'd["version"]')
wait_for 30 "qa to serve it too" environment_is qa '[d["version"], d["phase"]]' "[$STAGING_VERSION, \"live\"]"
expect_json "$BODY" '[(e["what"], e["who"]) for e in d["events"]][-1]' '["deploy", "tauon"]'
api_json /api/v1/environments/staging
expect_json "$BODY" 'd["repo"]' chain
STAGING_PORT=$(jget "$BODY" 'd["port"]')
expect_contains "$(curl -fsS "http://127.0.0.1:$STAGING_PORT/")" '"answer": "2"'
expect_exit 0 tauon models --json
expect_json "$OUT" "[v['branch'] for v in d if v['version'] == $STAGING_VERSION]" '["main"]'

section "production waits for tauon promote, also across a server restart"
api GET /api/v1/environments/production
expect_http 404
stop_server
start_server
wait_for 30 "staging to serve again" environment_is staging 'd["phase"]' live
api_json /api/v1/environments/qa
expect_contains "$(tauon_remote status staging 2>&1)" "live        release"
expect_exit 0 tauon_remote promote production
expect_contains "$OUT" "started in production"
wait_for 30 "production to serve it" environment_is production '[d["version"], d["phase"]]' "[$STAGING_VERSION, \"live\"]"
expect_exit 1 tauon_remote promote production
expect_contains "$ERR" "environment 'production' has nothing to promote"

section "the feature branch's version went nowhere; aliases follow the rollouts"
wait_for 60 "the feature branch's run to register its version" eval \
  '[[ $(tauon models --json | "$PY" -c "import json, sys; print(sum(v[\"branch\"] == \"feature/x\" for v in json.load(sys.stdin)))") == 1 ]]'
expect_exit 0 tauon models --json
expect_json "$OUT" 'sorted((v["branch"], v["aliases"]) for v in d)' \
  '[["feature/x", []], ["main", ["production", "staging"]]]'
for environment in staging qa production; do
  api_json "/api/v1/environments/$environment"
  expect_json "$BODY" 'd["version"]' "$STAGING_VERSION"
done
stop_server
