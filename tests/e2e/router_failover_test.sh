#!/usr/bin/env bash
# tauon router with replicas dying and coming back under traffic: a failed
# connect is retried on another replica, the dead one is skipped, traffic
# returns when it is back; when every replica is gone, 502 and the errors
# are counted.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/router_lib.sh"

start_upstream r1; P1=$UPSTREAM_PORT
start_upstream r2; P2=$UPSTREAM_PORT; PID2=$UPSTREAM_PID
start_upstream r3; P3=$UPSTREAM_PORT; PID3=$UPSTREAM_PID
start_router --release "stable=1:127.0.0.1:$P1,127.0.0.1:$P2,127.0.0.1:$P3" --threads 2

section "a replica killed under traffic: its requests go to the others"
pids=()
for i in 1 2 3; do
  client count "$ROUTER_PORT" 1500 "/sleep?ms=1" >"$E2E_TMP/load$i.json" &
  pids+=($!)
done
sleep 1
kill -KILL "$PID2"
wait "${pids[@]}"
ok=0
for i in 1 2 3; do
  ok=$((ok + $(jget "$E2E_TMP/load$i.json" 'd["statuses"].get("200", 0)')))
done
# A request r2 was in the middle of when it died is not replayed elsewhere
# (it may have run): at most one per client connection fails.
expect_le 4497 "$ok" "successful requests of 4,500"
expect_json "$E2E_TMP/load1.json" 'd["upstreams"].get("e2e-'$$'-r1", 0) > 100' true
stats "$E2E_TMP/s1.json"
expect_json "$E2E_TMP/s1.json" 'd["releases"][0]["upstream_errors"]["connect"] >= 1' true

section "the replica comes back on its port: traffic returns to it"
start_upstream r2 "$P2"
# A replica refusing connections is skipped for 1 s, then tried again.
wait_for 10 "traffic on the restarted replica" bash -c \
  "timeout 20 $PY $ROUTER_CLIENT count $ROUTER_PORT 30 / | $PY -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"upstreams\"].get(\"e2e-$$-r2\", 0) > 0 else 1)'"

section "a replica crashing in a request: 502 for that request only"
# The request is not replayed on the other replicas: it would kill them too.
client count "$ROUTER_PORT" 1 /crash >"$E2E_TMP/crash.json"
expect_json "$E2E_TMP/crash.json" 'd["statuses"]' '{"502": 1}'
expect_eq 2 "$(pgrep -fc "$UPSTREAM_SERVER --id e2e-$$-")" "replicas alive after one crashed"
client count "$ROUTER_PORT" 300 / >"$E2E_TMP/after-crash.json"
expect_json "$E2E_TMP/after-crash.json" 'd["statuses"]' '{"200": 300}'

section "every replica gone: 502, counted as connect errors"
for pid in $(pgrep -f "$UPSTREAM_SERVER --id e2e-$$-"); do kill -KILL "$pid"; done
sleep 0.2
code=$(curl -s -o "$E2E_TMP/none.out" -w '%{http_code}' "http://127.0.0.1:$ROUTER_PORT/")
expect_eq 502 "$code" "no replica reachable"
expect_match "$E2E_TMP/none.out" "^tauon router: cannot connect to replica '127.0.0.1:[0-9]+' of release 'stable'$"
stats "$E2E_TMP/s2.json"
expect_json "$E2E_TMP/s2.json" 'd["releases"][0]["upstream_errors"]["connect"] >= 3' true
expect_true "the router is still running" is_alive "$ROUTER_PID"
