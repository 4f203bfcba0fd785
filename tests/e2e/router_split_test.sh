#!/usr/bin/env bash
# tauon router: the weighted split over 10,000 requests, pinning, sticky
# keys, mirroring with JSON agreement, and the metrics (promtool).
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/router_lib.sh"

section "bad options: a precise error, exit 2"
expect_exit 2 "$TAUON" router --release "stable=x:127.0.0.1:1"
expect_contains "$ERR" "tauon: error: invalid --release 'stable=x:127.0.0.1:1': weight 'x' is not a whole number from 0 to 1000000 (expected NAME[@VERSION]=WEIGHT:HOST:PORT[,HOST:PORT...])"
expect_exit 2 "$TAUON" router --release "stable=1:127.0.0.1:1" --mirror shadow:10
expect_contains "$ERR" "tauon: error: mirror release 'shadow' is not in the table"
expect_exit 2 "$TAUON" router --release "stable=1:127.0.0.1:1" --read-timeout soon
expect_contains "$ERR" "tauon: error: invalid duration 'soon' (e.g. 500ms, 2s, 1m)"
expect_exit 2 "$TAUON" router
expect_contains "$ERR" "tauon: error: at least one --release is required"
expect_exit 2 "$TAUON" router --release "stable=1:127.0.0.1:1" --max-body -5
expect_contains "$ERR" "--max-body: Value -5 not in range 1 to"

start_upstream s1; S1=$UPSTREAM_PORT
start_upstream s2; S2=$UPSTREAM_PORT
start_upstream c1; C1=$UPSTREAM_PORT
start_upstream shadow; SH=$UPSTREAM_PORT
start_router --environment prod \
  --release "stable@digits@3=90:127.0.0.1:$S1,127.0.0.1:$S2" \
  --release "canary@digits@4=10:127.0.0.1:$C1" \
  --release "shadow=0:127.0.0.1:$SH" \
  --mirror shadow:20 --sticky-header X-User --threads 2

section "weights 90/10 over 10,000 requests"
client count "$ROUTER_PORT" 10000 / >"$E2E_TMP/split.json" || die "client failed"
expect_json "$E2E_TMP/split.json" 'd["statuses"]' '{"200": 10000}'
stable=$(jget "$E2E_TMP/split.json" 'd["releases"].get("stable", 0)')
canary=$(jget "$E2E_TMP/split.json" 'd["releases"].get("canary", 0)')
# +-1% of 10,000 requests; the split is exact up to one cycle per I/O thread.
expect_le 8900 "$stable" "stable share"
expect_le "$stable" 9100 "stable share"
expect_le 900 "$canary" "canary share"
expect_le "$canary" 1100 "canary share"
expect_json "$E2E_TMP/split.json" 'd["releases"].get("shadow", 0)' 0
# Round robin inside stable: both replicas serve half.
s1=$(jget "$E2E_TMP/split.json" "d['upstreams']['e2e-$$-s1']")
expect_le 4400 "$s1" "replica s1 of stable"
expect_le "$s1" 4600 "replica s1 of stable"
expect_json "$E2E_TMP/split.json" 'd["distinct_request_ids"]' 10000

section "pinning by release and by version"
client count "$ROUTER_PORT" 20 / -H "X-Tauon-Release: canary" >"$E2E_TMP/pin.json"
expect_json "$E2E_TMP/pin.json" 'd["releases"]' '{"canary": 20}'
client count "$ROUTER_PORT" 20 / -H "X-Tauon-Release: digits@3" >"$E2E_TMP/pin.json"
expect_json "$E2E_TMP/pin.json" 'd["releases"]' '{"stable": 20}'
client count "$ROUTER_PORT" 5 / -H "X-Tauon-Release: shadow" >"$E2E_TMP/pin.json"
expect_json "$E2E_TMP/pin.json" 'd["releases"]' '{"shadow": 5}'
body=$(curl -s -H "X-Tauon-Release: nope" "http://127.0.0.1:$ROUTER_PORT/")
expect_eq "tauon router: X-Tauon-Release 'nope' names no release (releases: stable, canary, shadow)" \
  "$body" "unknown pin"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Tauon-Release: nope" "http://127.0.0.1:$ROUTER_PORT/")
expect_eq 400 "$code" "unknown pin status"

section "sticky routing by header: a key always gets the same release"
client count "$ROUTER_PORT" 1000 / --key-header X-User >"$E2E_TMP/sticky.json"
expect_json "$E2E_TMP/sticky.json" 'max(len(v) for v in d["keys"].values())' 1
expect_json "$E2E_TMP/sticky.json" 'len(d["keys"])' 50
# 50 keys hashed 90:10: some on canary, most on stable.
expect_json "$E2E_TMP/sticky.json" '0 < d["releases"].get("canary", 0) < d["releases"]["stable"]' true

section "mirroring 20% to the shadow release, with JSON agreement"
stats "$E2E_TMP/before.json"
client count "$ROUTER_PORT" 500 "/json?value=7" >"$E2E_TMP/mirror.json"
expect_json "$E2E_TMP/mirror.json" 'd["statuses"]' '{"200": 500}'
expect_json "$E2E_TMP/mirror.json" 'd["releases"].get("shadow", 0)' 0
# Mirrored requests finish after their primary: wait for the last ones.
wait_for 10 "mirrored responses recorded" bash -c \
  "curl -sf http://127.0.0.1:$METRICS_PORT/stats | $PY -c 'import json,sys; d=json.load(sys.stdin); r=[x for x in d[\"releases\"] if x[\"release\"]==\"shadow\"][0]; sys.exit(0 if r[\"mirror\"][\"requests\"] >= 2100 else 1)'"
sleep 0.5
stats "$E2E_TMP/after.json"
shadow() { jget "$1" "[r for r in d['releases'] if r['release'] == 'shadow'][0]$2"; }
# 20% of the 10,000 + 1,000 + 500 weighted requests and the 40 pinned to
# stable or canary (the 5 pinned to shadow itself are not mirrored): 2,308,
# exact per release and I/O thread, so within one per release and thread.
mirrored=$(shadow "$E2E_TMP/after.json" '["mirror"]["requests"]')
expect_le 2304 "$mirrored" "mirrored requests"
expect_le "$mirrored" 2312 "mirrored requests"
# The earlier requests' responses name their replica: they all disagreed.
# The 500 /json ones are the same everywhere: about 100 agreements.
agreed=$(shadow "$E2E_TMP/after.json" '["mirror"]["agreed"]')
expect_le 99 "$agreed" "mirrored JSON responses equal to the primary's"
expect_le "$agreed" 101 "mirrored JSON responses equal to the primary's"
expect_eq "$(shadow "$E2E_TMP/before.json" '["mirror"]["disagreed"]')" \
  "$(shadow "$E2E_TMP/after.json" '["mirror"]["disagreed"]')" "disagreements on /json"
expect_eq "$(shadow "$E2E_TMP/before.json" '["mirror"]["requests"]')" \
  "$(shadow "$E2E_TMP/before.json" '["mirror"]["disagreed"]')" "disagreements before /json"
expect_json "$E2E_TMP/after.json" '[r["requests"]["total"] for r in d["releases"] if r["release"] == "shadow"][0]' 5
# Responses that differ (each replica says its own id) disagree.
client count "$ROUTER_PORT" 50 "/" >/dev/null
sleep 0.5
stats "$E2E_TMP/after2.json"
disagreed=$(($(shadow "$E2E_TMP/after2.json" '["mirror"]["disagreed"]') - $(shadow "$E2E_TMP/after.json" '["mirror"]["disagreed"]')))
expect_le 9 "$disagreed" "disagreements"
expect_le "$disagreed" 11 "disagreements"
expect_eq "$agreed" "$(shadow "$E2E_TMP/after2.json" '["mirror"]["agreed"]')" "agreements"

section "metrics: promtool check metrics, values"
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$E2E_TMP/metrics.txt" || fail "GET /metrics"
if command -v promtool >/dev/null; then
  expect_exit 0 promtool check metrics <"$E2E_TMP/metrics.txt"
else
  fail "promtool is not installed (scripts/install-deps.sh installs Debian's prometheus)"
fi
expect_match "$E2E_TMP/metrics.txt" '^tauon_router_requests_total\{environment="prod",release="canary",code="2xx"\} [0-9]+$'
expect_contains "$E2E_TMP/metrics.txt" 'tauon_router_release_weight{environment="prod",release="stable"} 90'
expect_contains "$E2E_TMP/metrics.txt" 'tauon_router_ready_replicas{environment="prod",release="stable"} 2'
expect_contains "$E2E_TMP/metrics.txt" "tauon_router_mirror_comparisons_total{environment=\"prod\",release=\"shadow\",result=\"agree\"} $agreed"
expect_contains "$E2E_TMP/metrics.txt" 'tauon_router_request_latency_seconds{environment="prod",release="stable",quantile="0.99"}'
expect_match "$E2E_TMP/metrics.txt" '^tauon_router_request_duration_seconds_count\{environment="prod",release="stable"\} [0-9]+$'

section "a second router cannot take over the port (it would split its traffic)"
expect_exit 2 "$TAUON" router --listen "127.0.0.1:$ROUTER_PORT" --release "other=1:127.0.0.1:$S1"
expect_contains "$ERR" "tauon: error: cannot listen on 127.0.0.1:$ROUTER_PORT: Address already in use"

section "stops on SIGTERM"
kill -TERM "$ROUTER_PID"
wait_bg "$ROUTER_PID" 10
expect_eq 0 "$BG_RC" "exit code after SIGTERM"

section "the Grafana dashboard: valid JSON, every query valid PromQL over exported metrics"
dashboard="$TAUON_SOURCE_DIR/deploy/grafana/tauon-router.json"
"$PY" - "$dashboard" "$E2E_TMP/metrics.txt" "$E2E_TMP/rules.yml" <<'PYEOF' >"$E2E_TMP/dashboard.out" 2>&1
import json, re, sys
dashboard = json.load(open(sys.argv[1]))
exported = set(re.findall(r"^# TYPE (\S+) (\S+)", open(sys.argv[2]).read(), re.M))
names = set()
for name, kind in exported:
    names.add(name)
    if kind == "histogram":
        names.update({name + "_bucket", name + "_sum", name + "_count"})
    if kind == "summary":
        names.update({name + "_sum", name + "_count"})
rules = []
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        expr = target["expr"].replace("$__rate_interval", "1m").replace("$environment", "prod")
        for metric in re.findall(r"\b(tauon_router_\w+)", expr):
            if metric not in names:
                sys.exit(f"panel '{panel['title']}' uses {metric}, which the router does not export")
        rules.append({"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": expr})
json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[3], "w"))
print(f"{len(rules)} queries")
PYEOF
expect_eq 0 "$?" "dashboard queries use exported metrics: $(cat "$E2E_TMP/dashboard.out")"
if command -v promtool >/dev/null; then
  expect_exit 0 promtool check rules "$E2E_TMP/rules.yml"
fi
