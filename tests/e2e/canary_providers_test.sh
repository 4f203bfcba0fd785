# Canary analysis with providers (analysis.providers), through a real
# server, real replicas and real traffic:
# (a) a real Prometheus (Debian's) started here on loopback scrapes the
#     server's /metrics (the environments' router metrics) every second; a
#     canary whose 5xx ratio, queried from Prometheus, is too high is rolled
#     back, a healthy one passes and goes live;
# (b) a command provider measures the canary's accuracy through
#     $TAUON_CANARY_URL: a canary that answers wrongly is rolled back with
#     the metric in the reason, a correct one goes live;
# (c) the same command as a blue-green pre_promotion provider, through the
#     preview router ($TAUON_PREVIEW_URL).
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/deploy_lib.sh"

PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
[[ -x $PROMETHEUS ]] || die "$PROMETHEUS is missing: scripts/install-deps.sh installs Debian's prometheus"

model_repo
# The model-quality signal: accuracy on a labelled sample sent to the canary.
write "$REPO/evaluate.py" <<'EOF'
import json, os, sys, urllib.request
# A canary's replica, or a blue-green preview (pre_promotion).
base = os.environ.get("TAUON_CANARY_URL") or os.environ["TAUON_PREVIEW_URL"]
assert os.environ["TAUON_ENVIRONMENT_URL"].startswith("http://127.0.0.1:")
print("evaluating", base, file=sys.stderr)
correct = 0
for x in range(20):
    with urllib.request.urlopen(f"{base}/predict?x={x}", timeout=2) as response:
        correct += json.load(response)["label"] == x % 2
print(json.dumps({"accuracy": correct / 20, "sample": 20}))
EOF

# release BEHAVIOUR ANALYSIS: a version of clf whose canary analysis is
# ANALYSIS (YAML lines, indented for `analysis:`).
release() {
  release_model "$1" "    production:
      strategy:
        canary:
          steps: [ { weight: 50, pause: 5s }, { weight: 80, pause: 2s } ]
          analysis:
            interval: 1s
$2"
}

environment_is() {  # environment_is EXPR VALUE: the environment's EXPR prints VALUE
  api_json /api/v1/environments/production
  [[ $(jget "$BODY" "$1") == "$2" ]]
}

section "(a) a Prometheus query as analysis: setup"
PROM_PORT=$(free_port)
PROM_URL="http://127.0.0.1:$PROM_PORT"
QUERY='sum(rate(tauon_router_requests_total{environment="production",release="canary",code="5xx"}[3s])) / sum(rate(tauon_router_requests_total{environment="production",release="canary"}[3s]))'
PROMETHEUS_ANALYSIS="            min_requests: 5
            providers:
              - prometheus:
                  name: canary_5xx
                  url: $PROM_URL
                  query: '$QUERY'
                  check: canary_5xx < 0.05"
release ok "$PROMETHEUS_ANALYSIS"    # clf@1
release ok "$PROMETHEUS_ANALYSIS"    # clf@2
release errors "$PROMETHEUS_ANALYSIS"  # clf@3
release ok "$PROMETHEUS_ANALYSIS"    # clf@4

start_server
expect_exit 0 tauon_remote deploy production --model clf@1
api_json /api/v1/environments/production
ENV_PORT=$(jget "$BODY" 'd["port"]')

# Prometheus scrapes the server's /metrics (with the API token, as /metrics asks).
mkdir -p "$E2E_TMP/prometheus"
write "$E2E_TMP/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: tauon
    authorization: { credentials_file: $DATA/token }
    static_configs: [ { targets: [ "127.0.0.1:$SERVER_PORT" ] } ]
EOF
start_bg prometheus "$PROMETHEUS" --config.file="$E2E_TMP/prometheus.yml" \
  --storage.tsdb.path="$E2E_TMP/prometheus" --web.listen-address="127.0.0.1:$PROM_PORT" \
  --log.level=warn
PROM_PID=$BG_PID
kill_at_exit "$E2E_TMP/prometheus.yml"
prometheus_scrapes() {
  curl -fsS --max-time 2 "$PROM_URL/api/v1/query?query=up" 2>/dev/null | grep -q '"value":\[[0-9.]*,"1"\]'
}
wait_for 30 "Prometheus to scrape the server" prometheus_scrapes

section "(a) a healthy canary passes its Prometheus check"
load 9 load1
expect_exit 0 tauon_remote deploy production --model clf@2 --timeout 40s
expect_contains "$OUT" "release 2 is live in production: clf@2"
wait $LOAD_PID
expect_json "$E2E_TMP/load1.json" 'list(d["codes"])' '["200"]'
api_json /api/v1/environments/production
# The intervals with Prometheus data pass; the query's value is recorded with each.
expect_json "$BODY" 'any(a["verdict"] == "pass" for a in d["analysis"])' true
expect_json "$BODY" 'all(a["verdict"] in ("pass", "inconclusive") for a in d["analysis"])' true
expect_json "$BODY" '[c for a in d["analysis"] if a["verdict"] == "pass" for c in a["checks"] if c.get("provider")][0]' \
  '{"check": "prometheus '"'"'canary_5xx'"'"'", "message": "", "provider": true, "values": {"canary_5xx": 0.0}, "verdict": "ok"}'
expect_json "$BODY" '[c["check"] for a in d["analysis"] if a["verdict"] == "pass" for c in a["checks"]][:2]' \
  '["canary_5xx < 0.05", "prometheus '"'"'canary_5xx'"'"'"]'

section "(a) a canary answering 500s is rolled back on its Prometheus check"
load 15 load2
expect_exit 1 tauon_remote deploy production --model clf@3 --timeout 40s
expect_contains "$ERR" "release 3 failed: analysis failed 1 interval in a row: canary_5xx < 0.05 (canary_5xx="
kill "$LOAD_PID" 2>/dev/null
wait $LOAD_PID 2>/dev/null
expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ENV_PORT/predict")" "a request after the rollback"
api_json /api/v1/environments/production
expect_json "$BODY" 'd["release"], d["weights"]' '[2, {"clf@2": 100}]'
expect_json "$BODY" '[(a["release"], a["verdict"]) for a in d["analysis"]][:1]' '[[3, "fail"]]'
expect_json "$BODY" 'd["analysis"][0]["checks"][0]["values"]["canary_5xx"] > 0.05' true
OUT=$(tauon_remote status production 2>&1)
expect_contains "$OUT" "prometheus 'canary_5xx' [canary_5xx=" "status shows the provider's value"

section "(a) Prometheus gone: the interval is inconclusive, saying why"
kill -TERM "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
load 9 load3
expect_exit 0 tauon_remote deploy production --model clf@4 --timeout 40s
wait $LOAD_PID
api_json /api/v1/environments/production
expect_json "$BODY" 'all(a["verdict"] == "inconclusive" and a["reason"].startswith("prometheus '"'"'canary_5xx'"'"': cannot query Prometheus at 127.0.0.1:'"$PROM_PORT"': ") for a in d["analysis"] if a["canary_requests"] >= 5) and len(d["analysis"]) > 0' true
stop_server

section "(b) a command provider: the canary's accuracy through TAUON_CANARY_URL"
COMMAND_ANALYSIS="            min_requests: 0
            checks: [ quality.accuracy >= 0.9 ]
            providers:
              - command: { name: quality, run: exec $PY evaluate.py, timeout: 5s }"
release ok "$COMMAND_ANALYSIS"   # clf@5
release wrong "$COMMAND_ANALYSIS"  # clf@6
start_server
expect_exit 0 tauon_remote deploy production --model clf@5 --timeout 40s
expect_contains "$OUT" "release 5 is live in production: clf@5"
api_json /api/v1/environments/production
expect_json "$BODY" 'len(d["analysis"]) >= 3 and all(a["verdict"] == "pass" for a in d["analysis"])' true
expect_json "$BODY" 'd["analysis"][0]["checks"]' \
  '[{"check": "quality.accuracy >= 0.9", "message": "", "values": {"quality.accuracy": 1.0}, "verdict": "pass"}, {"check": "command '"'"'quality'"'"'", "message": "", "provider": true, "values": {"quality.accuracy": 1.0, "quality.sample": 20.0}, "verdict": "ok"}]'
# The command's stderr is kept beside the release's replica logs.
expect_contains "$(cat "$DATA"/releases/5/logs/provider-quality.log)" "evaluating http://127.0.0.1:"

expect_exit 1 tauon_remote deploy production --model clf@6 --timeout 40s
expect_contains "$ERR" "release 6 failed: analysis failed 1 interval in a row: quality.accuracy >= 0.9 (quality.accuracy=0)"
api_json /api/v1/environments/production
expect_json "$BODY" 'd["version"], d["weights"]' '[5, {"clf@5": 100}]'
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/predict?x=3")" '"label": 1'
OUT=$(tauon_remote status production 2>&1)
expect_contains "$OUT" "command 'quality' [quality.accuracy=0.0 quality.sample=20.0] ok" "status shows the command's values"

section "(b) the analysis on /metrics"
api GET /metrics
expect_http 200
expect_contains "$(cat "$BODY")" 'tauon_analysis_value{environment="production",release="6",metric="quality.accuracy"} 0'
expect_contains "$(cat "$BODY")" 'tauon_analysis_value{environment="production",release="6",metric="quality.sample"} 20'
expect_contains "$(cat "$BODY")" 'tauon_analysis_intervals_total{environment="production",verdict="fail"} 1'
expect_match "$(cat "$BODY")" '^tauon_analysis_intervals_total\{environment="production",verdict="pass"\} [1-9][0-9]*$' "passed intervals are counted"
expect_exit 0 promtool check metrics <"$BODY"

section "(c) a command provider in a blue-green pre_promotion, through TAUON_PREVIEW_URL"
PREVIEW_PORT=$(free_port)
blue_green_release() {  # blue_green_release BEHAVIOUR: a version for environment 'bluegreen'
  release_model "$1" "    bluegreen:
      strategy:
        blue_green:
          preview_port: $PREVIEW_PORT
          auto_promote: true
          scale_down_delay: 1s
          pre_promotion:
            interval: 500ms
            checks: [ quality.accuracy >= 0.9 ]
            providers:
              - command: { name: quality, run: exec $PY evaluate.py, timeout: 5s }"
}
blue_green_release ok   # clf@7
blue_green_release ok   # clf@8
blue_green_release wrong  # clf@9
expect_exit 0 tauon_remote deploy bluegreen --model clf@7 --timeout 40s
expect_exit 0 tauon_remote deploy bluegreen --model clf@8 --timeout 40s
api_json /api/v1/environments/bluegreen
expect_json "$BODY" 'd["version"], d["analysis"][0]["verdict"], d["analysis"][0]["checks"][1]["values"]' \
  '[8, "pass", {"quality.accuracy": 1.0, "quality.sample": 20.0}]'
expect_contains "$(cat "$DATA"/releases/8/logs/provider-quality.log)" "evaluating http://127.0.0.1:$PREVIEW_PORT"
expect_exit 1 tauon_remote deploy bluegreen --model clf@9 --timeout 40s
expect_contains "$ERR" "failed: pre-promotion analysis failed 1 interval in a row: quality.accuracy >= 0.9 (quality.accuracy=0)"
api_json /api/v1/environments/bluegreen
expect_json "$BODY" 'd["version"]' 8
stop_server
