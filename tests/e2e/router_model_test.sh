#!/usr/bin/env bash
# tauon router in front of the digits example's real model server
# (examples/digits/src/digits/serve.py): a 90/10 split of predictions across
# two model versions, and mirroring to a shadow release whose answers agree
# (the same model) or not (a worse model).
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/router_lib.sh"

EXAMPLE="$TAUON_SOURCE_DIR/examples/digits"
if ! "$PY" -c 'import numpy, sklearn' 2>/dev/null; then
  die "numpy and sklearn are needed (scripts/install-deps.sh installs them)"
fi
section "train two versions of the model"
"$PY" "$EXAMPLE/src/digits/train.py" --params "$EXAMPLE/params.json" --out "$E2E_TMP/v1" >"$E2E_TMP/train1.out" 2>&1 ||
  die "training v1 failed: $(tail -5 "$E2E_TMP/train1.out")"
"$PY" "$EXAMPLE/src/digits/train.py" --params "$EXAMPLE/params.json" --out "$E2E_TMP/v2" --worse >"$E2E_TMP/train2.out" 2>&1 ||
  die "training v2 failed: $(tail -5 "$E2E_TMP/train2.out")"

kill_at_exit "$EXAMPLE/src/digits/serve.py --model $E2E_TMP/"
# serve NAME MODEL_DIR: a replica of the model on a free port, in $SERVE_PORT.
serve() {
  local i
  start_bg "serve-$1" "$PY" "$EXAMPLE/src/digits/serve.py" --model "$2" --port 0
  for ((i = 0; i < 200; i++)); do
    grep -qs "on http://" "$BG_OUT" && break
    sleep 0.05
  done
  SERVE_PORT=$(grep -o 'on http://127.0.0.1:[0-9]*' "$BG_OUT" | grep -o '[0-9]*$')
  [[ -n "$SERVE_PORT" ]] || die "serve.py $1 did not start: $(cat "$BG_OUT")"
}
serve s1 "$E2E_TMP/v1"; S1=$SERVE_PORT
serve s2 "$E2E_TMP/v1"; S2=$SERVE_PORT
serve twin "$E2E_TMP/v1"; TWIN=$SERVE_PORT
serve c1 "$E2E_TMP/v2"; C1=$SERVE_PORT

# predict PORT N [HEADER]: N predictions of random images on one connection;
# prints {"statuses": {...}, "releases": {...}}.
predict() {
  "$PY" - "$@" <<'PYEOF'
import http.client, json, random, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
headers = {"Content-Type": "application/json"}
if len(sys.argv) > 3:
    name, _, value = sys.argv[3].partition(":")
    headers[name] = value.strip()
rng = random.Random(7)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
statuses, releases = {}, {}
for _ in range(n):
    body = json.dumps({"pixels": [rng.randint(0, 16) for _ in range(64)]})
    conn.request("POST", "/predict", body=body, headers=headers)
    r = conn.getresponse()
    data = json.loads(r.read())
    ok = r.status == 200 and 0 <= data["digit"] <= 9 and len(data["probabilities"]) == 10
    key = str(r.status) if ok or r.status != 200 else "bad-200"
    statuses[key] = statuses.get(key, 0) + 1
    rel = r.getheader("X-Tauon-Release", "")
    releases[rel] = releases.get(rel, 0) + 1
print(json.dumps({"statuses": statuses, "releases": releases}, sort_keys=True))
PYEOF
}
shadow_field() { jget "$1" "[r for r in d['releases'] if r['release'] == '$2'][0]$3"; }

section "90/10 split of predictions across two model versions"
start_router --threads 2 \
  --release "stable@digits-classifier@1=90:127.0.0.1:$S1,127.0.0.1:$S2" \
  --release "canary@digits-classifier@2=10:127.0.0.1:$C1" \
  --release "twin=0:127.0.0.1:$TWIN" --mirror twin:50
predict "$ROUTER_PORT" 1000 >"$E2E_TMP/split.json"
expect_json "$E2E_TMP/split.json" 'd["statuses"]' '{"200": 1000}'
canary=$(jget "$E2E_TMP/split.json" 'd["releases"].get("canary", 0)')
expect_le 90 "$canary" "canary predictions"
expect_le "$canary" 110 "canary predictions"
predict "$ROUTER_PORT" 20 "X-Tauon-Release: digits-classifier@2" >"$E2E_TMP/pinned.json"
expect_json "$E2E_TMP/pinned.json" 'd["releases"]' '{"canary": 20}'

section "mirroring to the same model agrees; to a worse model, mostly not"
# Mirrored requests finish after the primary answered: wait for them (bounded).
mirrors_done() {  # mirrors_done FILE RELEASE MIN: the release's mirrored requests reach MIN
  stats "$1"
  (($(shadow_field "$1" "$2" '["mirror"]["requests"]') >= $3))
}
wait_for 10 "the mirrored predictions to finish" mirrors_done "$E2E_TMP/stats1.json" twin 506
sleep 0.2  # Any stragglers beyond the lower bound.
stats "$E2E_TMP/stats1.json"
mirrored=$(shadow_field "$E2E_TMP/stats1.json" twin '["mirror"]["requests"]')
agreed=$(shadow_field "$E2E_TMP/stats1.json" twin '["mirror"]["agreed"]')
disagreed=$(shadow_field "$E2E_TMP/stats1.json" twin '["mirror"]["disagreed"]')
# Half of each release's requests is mirrored: of stable's 900, 450, whose
# answers the twin (same weights) repeats exactly; of canary's 120, 60, where
# the better twin answers differently. Exact per release and I/O thread.
expect_le 506 "$mirrored" "mirrored predictions"
expect_le "$mirrored" 514 "mirrored predictions"
expect_le 446 "$agreed" "agreements of the twin with stable"
expect_le "$agreed" 454 "agreements of the twin with stable"
expect_le 56 "$disagreed" "disagreements (canary's half)"
expect_le "$disagreed" 64 "disagreements (canary's half)"
kill -TERM "$ROUTER_PID"
wait_bg "$ROUTER_PID" 10

start_router --threads 1 --release "stable=100:127.0.0.1:$S1" \
  --release "candidate=0:127.0.0.1:$C1" --mirror candidate:100
predict "$ROUTER_PORT" 200 >"$E2E_TMP/shadow.json"
expect_json "$E2E_TMP/shadow.json" 'd["statuses"]' '{"200": 200}'
wait_for 10 "the 200 mirrored predictions to finish" mirrors_done "$E2E_TMP/stats2.json" candidate 200
expect_eq 200 "$(shadow_field "$E2E_TMP/stats2.json" candidate '["mirror"]["requests"]')" "mirrored to the candidate"
expect_json "$E2E_TMP/stats2.json" "[r for r in d['releases'] if r['release'] == 'candidate'][0]['mirror']['agreement'] < 0.5" true
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$E2E_TMP/metrics.txt"
expect_match "$E2E_TMP/metrics.txt" '^tauon_router_mirror_agreement_ratio\{environment="default",release="candidate"\} 0(\.[0-9]+)?$'
