# Rolling updates through a real server, real replicas and real traffic:
#   - a healthy rolling update of 3 replicas (max_surge 1, max_unavailable 0)
#     under constant load: every request answered 200, both versions serve
#     during the rollout and only the new one after it, never more than 4
#     replicas running nor fewer than 3 ready, the old replicas stopped;
#   - max_surge 0, max_unavailable 1: old replicas go first, still no failed
#     request;
#   - a version that crash-loops and one that never gets ready (progress
#     deadline) are rolled back: all traffic on the stable release, which is
#     back at full size.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/deploy_lib.sh"

model_repo
release() {  # release BEHAVIOUR ROLLING: a version whose staging rolls out with ROLLING
  release_model "$1" "    staging:
      replicas: 3
      strategy:
        rolling: $2"
}
release ok "{ max_surge: 1, max_unavailable: 0 }"                          # clf@1
release "slowstart 0.3" "{ max_surge: 1, max_unavailable: 0 }"             # clf@2
release ok "{ max_surge: 0, max_unavailable: 1 }"                          # clf@3
release crash "{ max_surge: 1, max_unavailable: 0 }"                       # clf@4
release unready "{ max_surge: 1, max_unavailable: 0, progress_deadline: 3s }"  # clf@5
release "slowstart 3" "{ max_surge: 1, max_unavailable: 0 }"               # clf@6

# sample SECONDS NAME: polls the environment every 50ms in the background;
# NAME.json gets the most replicas in the rollout at once and the fewest
# serving.
sample() {
  "$PY" - "$SERVER_URL" "$TOKEN" "$1" >"$E2E_TMP/$2.json" 2>&1 <<'EOF' &
import json, sys, time, urllib.request
url, token, end = sys.argv[1], sys.argv[2], time.time() + float(sys.argv[3])
most_running, fewest_serving, samples = 0, 1000, 0
while time.time() < end:
    request = urllib.request.Request(url + "/api/v1/environments/staging",
                                     headers={"Authorization": "Bearer " + token})
    replicas = json.load(urllib.request.urlopen(request, timeout=5))["replicas"]
    # Ready but not serving: out of the routing table, drained and stopped
    # (as in Kubernetes, those do not count against max_surge).
    running = [r for r in replicas if r["state"] in ("starting", "unready", "backoff") or r["serving"]]
    serving = [r for r in replicas if r["serving"]]
    most_running = max(most_running, len(running))
    fewest_serving = min(fewest_serving, len(serving))
    samples += 1
    time.sleep(0.05)
print(json.dumps({"most_running": most_running, "fewest_serving": fewest_serving,
                  "samples": samples}))
EOF
  SAMPLE_PID=$!
}
start_server
section "the first release has nothing to replace: it starts at full size"
expect_exit 0 tauon_remote deploy staging --model clf@1
expect_contains "$OUT" "release 1 is live in staging: clf@1"
api_json /api/v1/environments/staging
ENV_PORT=$(jget "$BODY" 'd["port"]')
expect_json "$BODY" 'd["strategy"], len(d["replicas"])' '["rolling", 3]'

section "a rolling update under load: one replica at a time, no failed request"
load 8 load1
sample 8 sample1
expect_exit 0 tauon_remote deploy staging --model clf@2
expect_contains "$OUT" "release 2 is live in staging: clf@2"
expect_contains "$OUT" "  rolling: clf@2: 1 of 3 new replicas ready; r1 of release 1 leaving (2 left)"
wait $LOAD_PID
wait $SAMPLE_PID
show_load load1
echo "replicas: $(cat "$E2E_TMP/sample1.json")"
expect_json "$E2E_TMP/load1.json" 'list(d["codes"])' '["200"]'
# Both versions served while it rolled; clf@1 never again once it was done.
expect_json "$E2E_TMP/load1.json" 'd["models"][0][0], d["models"][-1][0]' '["clf@1", "clf@2"]'
expect_json "$E2E_TMP/load1.json" \
  'all(m == "clf@2" for m, n in d["models"][[i for i, r in enumerate(d["models"]) if r[0] == "clf@1"][-1] + 1:])' true
expect_json "$E2E_TMP/sample1.json" 'd["most_running"] <= 4, d["fewest_serving"] >= 3, d["samples"] >= 20' \
  '[true, true, true]'
api_json /api/v1/environments/staging
expect_json "$BODY" '[e["why"] for e in d["events"] if e["what"] == "rolling" and e["release"] == 2][::-1]' \
  '["clf@2: replacing the replicas one by one (max_surge 1, max_unavailable 0)", "clf@2: 1 of 3 new replicas ready; r1 of release 1 leaving (2 left)", "clf@2: 2 of 3 new replicas ready; r2 of release 1 leaving (1 left)", "clf@2: 3 of 3 new replicas ready; r3 of release 1 leaving (0 left)"]'
expect_json "$BODY" '[e["why"] for e in d["events"] if e["what"] == "live"][0]' \
  "clf@2: rolled out, all 3 replicas replaced"
old_stopped() {
  api_json /api/v1/environments/staging
  [[ $(jget "$BODY" 'sorted(set(r["release"] for r in d["replicas"]))') == "[2]" ]]
}
wait_for 10 "release 1's replicas to stop" old_stopped
expect_json "$BODY" 'd["weights"], [r["state"] for r in d["replicas"]]' '[{"clf@2": 100}, ["ready", "ready", "ready"]]'

section "max_surge 0, max_unavailable 1: an old replica leaves first"
load 6 load2
expect_exit 0 tauon_remote deploy staging --model clf@3
wait $LOAD_PID
show_load load2
expect_json "$E2E_TMP/load2.json" 'list(d["codes"]), d["models"][-1][0]' '[["200"], "clf@3"]'
api_json /api/v1/environments/staging
expect_json "$BODY" '[e["why"] for e in d["events"] if e["what"] == "rolling" and e["release"] == 3][-2]' \
  "clf@3: 0 of 3 new replicas ready; r1 of release 2 leaving (2 left)"

section "a version that crash-loops is rolled back; the stable release is whole again"
load 8 load3
expect_exit 1 tauon_remote deploy staging --model clf@4 --timeout 60s
expect_contains "$ERR" "release 4 failed: replica r1 is crash-looping (3 restarts, last: exit code 1)"
expect_contains "$ERR" "is crash-looping (3 restarts, last: exit code 1)"
wait $LOAD_PID
show_load load3
expect_json "$E2E_TMP/load3.json" 'list(d["codes"]), [m for m, n in d["models"]]' '[["200"], ["clf@3"]]'
whole() {
  api_json /api/v1/environments/staging
  [[ $(jget "$BODY" '[r["release"] for r in d["replicas"] if r["serving"]]') == "[3, 3, 3]" ]]
}
wait_for 10 "release 3 to serve with 3 replicas" whole
expect_json "$BODY" 'd["release"], d["phase"], d["weights"]' '[3, "live", {"clf@3": 100}]'
expect_json "$BODY" '[(r["id"], r["phase"]) for r in d["releases"]][:2]' '[[4, "failed"], [3, "live"]]'

section "a version that never gets ready is rolled back at its progress deadline"
expect_exit 1 tauon_remote deploy staging --model clf@5 --timeout 60s
expect_contains "$ERR" "release 5 failed: not rolled out within the progress deadline (3s)"
api_json /api/v1/environments/staging
expect_json "$BODY" 'd["release"], d["weights"], [r["release"] for r in d["replicas"] if r["serving"]]' \
  '[3, {"clf@3": 100}, [3, 3, 3]]'
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/predict")" '"model": "clf@3"'

section "kill -9 of the server in the middle of a rolling update, then a restart"
expect_exit 0 tauon_remote deploy staging --model clf@6 --no-wait
halfway() {
  api_json /api/v1/environments/staging
  [[ $(jget "$BODY" 'sum(1 for r in d["replicas"] if r["release"] == 6 and r["serving"])') -ge 1 ]]
}
wait_for 30 "a replica of release 6 to serve" halfway
expect_json "$BODY" 'd["phase"], d["release"]' '["rolling", 6]'
OLD_PIDS=$(jget "$BODY" '" ".join(str(r["pid"]) for r in d["replicas"] if r["pid"])')
kill_server
start_server
for pid in $OLD_PIDS; do
  expect_true "replica $pid of the dead server killed by the new one" eval "! is_alive $pid"
done
wait_for 20 "release 3 to serve with 3 replicas again" whole
expect_json "$BODY" 'd["release"], d["phase"], d["weights"]' '[3, "live", {"clf@3": 100}]'
expect_json "$BODY" '[(r["id"], r["phase"], r["reason"]) for r in d["releases"] if r["id"] in (3, 6)]' \
  '[[6, "failed", "rolled back: the server restarted during the rolling update"], [3, "live", ""]]'
expect_contains "$(curl -fsS "http://127.0.0.1:$ENV_PORT/predict")" '"model": "clf@3"'
stop_server
