#!/usr/bin/env bash
# tauon router as an HTTP/1.1 proxy: streaming pass-through, keep-alive and
# pooled upstream connections, request ids, hop-by-hop headers, bodies and
# limits, malformed and slow clients, upstream garbage, timeouts, 503.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/router_lib.sh"

start_upstream u1; U1=$UPSTREAM_PORT
start_router --release "stable=1:127.0.0.1:$U1" --release "empty=0:" --threads 2 \
  --read-timeout 1s --header-timeout 1s --max-body 100000
R="http://127.0.0.1:$ROUTER_PORT"
upstream_connections() { curl -sf "http://127.0.0.1:$U1/__stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["connections"])'; }

section "streaming: chunks pass through as they arrive"
client stream "$ROUTER_PORT" "/stream?chunks=4&interval_ms=500" >"$E2E_TMP/stream.json"
expect_json "$E2E_TMP/stream.json" 'd["body"].count("chunk ")' 4
expect_json "$E2E_TMP/stream.json" '"Transfer-Encoding: chunked" in d["head"]' true
# The upstream takes 1.5 s; its first chunk must be out long before the end.
expect_json "$E2E_TMP/stream.json" 'd["first_body_s"] < d["end_s"] - 1.0' true
# An HTTP/1.0 client gets the data without chunk framing, then a close.
curl -s -0 "$R/stream?chunks=3&interval_ms=10" >"$E2E_TMP/stream10.txt"
expect_eq 3 "$(grep -c '^chunk ' "$E2E_TMP/stream10.txt")" "chunks to an HTTP/1.0 client"

section "keep-alive on both sides: pooled upstream connections"
before=$(upstream_connections)
client count "$ROUTER_PORT" 300 / >"$E2E_TMP/ka.json"
expect_json "$E2E_TMP/ka.json" 'd["statuses"]' '{"200": 300}'
after=$(upstream_connections)
# One client connection is served by one I/O thread: one upstream connection
# (plus the one this script's own stats request used).
expect_le $((after - before)) 2 "upstream connections for 300 requests"
# 4 clients at once: at most one upstream connection each.
before=$(upstream_connections)
pids=()
for i in 1 2 3 4; do client count "$ROUTER_PORT" 100 "/sleep?ms=1" >"$E2E_TMP/ka$i.json" & pids+=($!); done
wait "${pids[@]}"
after=$(upstream_connections)
expect_le $((after - before)) 5 "upstream connections for 4 x 100 requests"

section "X-Request-Id added when absent, kept when present"
curl -s "$R/echo" >"$E2E_TMP/echo.json"
expect_json "$E2E_TMP/echo.json" 'len([v for k, v in d["headers"] if k == "X-Request-Id"][0]) >= 16' true
curl -s -D "$E2E_TMP/h.txt" -H "X-Request-Id: abc-123" "$R/echo" >"$E2E_TMP/echo.json"
expect_json "$E2E_TMP/echo.json" '[v for k, v in d["headers"] if k == "X-Request-Id"]' '["abc-123"]'
expect_contains "$E2E_TMP/h.txt" "X-Request-Id: abc-123"
expect_contains "$E2E_TMP/h.txt" "X-Tauon-Release: stable"

section "hop-by-hop headers are not forwarded (RFC 9110 7.6.1)"
printf 'GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close, X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nUpgrade: websocket\r\nX-Forwarded-For: 10.0.0.1\r\nX-Kept: yes\r\n\r\n' >"$E2E_TMP/hop.req"
client raw "$ROUTER_PORT" "$E2E_TMP/hop.req" >"$E2E_TMP/hop.resp"
expect_contains "$E2E_TMP/hop.resp" "HTTP/1.1 200 OK"
expect_contains "$E2E_TMP/hop.resp" "Connection: close"
sed -n '/^{/,$p' "$E2E_TMP/hop.resp" >"$E2E_TMP/hop.json"
expect_json "$E2E_TMP/hop.json" 'sorted(k for k, v in d["headers"] if k.lower() in ("connection", "x-secret", "keep-alive", "te", "proxy-authorization", "upgrade"))' '[]'
expect_json "$E2E_TMP/hop.json" '[v for k, v in d["headers"] if k == "X-Forwarded-For"]' '["10.0.0.1, 127.0.0.1"]'
expect_json "$E2E_TMP/hop.json" '[v for k, v in d["headers"] if k == "X-Kept"]' '["yes"]'

section "request bodies: Content-Length, chunked, 100-continue, limit"
head -c 5000 /dev/zero | tr '\0' 'a' >"$E2E_TMP/body.txt"
curl -s --data-binary @"$E2E_TMP/body.txt" "$R/echo" >"$E2E_TMP/post.json"
expect_json "$E2E_TMP/post.json" 'len(d["body"])' 5000
curl -s -H "Transfer-Encoding: chunked" --data-binary @"$E2E_TMP/body.txt" "$R/echo" >"$E2E_TMP/chunked.json"
expect_json "$E2E_TMP/chunked.json" 'len(d["body"])' 5000
expect_json "$E2E_TMP/chunked.json" '[v for k, v in d["headers"] if k == "Content-Length"]' '["5000"]'
curl -s -H "Expect: 100-continue" --data-binary @"$E2E_TMP/body.txt" "$R/echo" >"$E2E_TMP/expect.json"
expect_json "$E2E_TMP/expect.json" 'len(d["body"])' 5000
head -c 200000 /dev/zero >"$E2E_TMP/big.bin"
code=$(curl -s -o "$E2E_TMP/big.out" -w '%{http_code}' --data-binary @"$E2E_TMP/big.bin" "$R/echo")
expect_eq 413 "$code" "body over --max-body"
expect_contains "$E2E_TMP/big.out" "tauon router: request body over 100000 bytes"

section "malformed requests get 400 (or 501/505) and never stop the router"
n=0
while IFS='|' read -r want request; do
  n=$((n + 1))
  printf "$request" >"$E2E_TMP/bad$n.req"
  client raw "$ROUTER_PORT" "$E2E_TMP/bad$n.req" >"$E2E_TMP/bad$n.resp"
  expect_match "$E2E_TMP/bad$n.resp" "^HTTP/1.1 $want " "response to malformed request $n"
done <<'EOF2'
400|garbage\r\n\r\n
400|GET / HTTP/1.1\r\n\r\n
400|GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n
400|POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc
400|POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n
400|POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n
501|POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n
505|PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n
431|GET / HTTP/1.1\r\nHost: a\r\nX-Big: %070000d\r\n\r\n
EOF2
head -c 3000 /dev/urandom >"$E2E_TMP/random.req"
client raw "$ROUTER_PORT" "$E2E_TMP/random.req" >/dev/null
expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$R/")" "a request after the malformed ones"

section "slow clients are cut off by the header timeout and hold nothing"
pids=()
for i in $(seq 1 20); do client slow "$ROUTER_PORT" 'GET / HTTP/1.1\r\nHost: a\r\n' 10 >"$E2E_TMP/slow$i.json" & pids+=($!); done
sleep 0.3
expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$R/")" "a request while 20 slow clients wait"
wait "${pids[@]}"
expect_json "$E2E_TMP/slow1.json" 'd["closed"]' true
expect_json "$E2E_TMP/slow20.json" 'd["closed_after_s"] < 5' true

section "upstream failures: garbage and early close get 502, slowness 504, counted"
stats "$E2E_TMP/s0.json"
code=$(curl -s -o "$E2E_TMP/garbage.out" -w '%{http_code}' "$R/garbage")
expect_eq 502 "$code" "upstream garbage"
expect_contains "$E2E_TMP/garbage.out" "of release 'stable' sent an invalid response: invalid HTTP version 'this'"
expect_eq 502 "$(curl -s -o /dev/null -w '%{http_code}' "$R/close")" "upstream closing without a response"
code=$(curl -s -o "$E2E_TMP/slow.out" -w '%{http_code}' "$R/sleep?ms=2500")
expect_eq 504 "$code" "upstream slower than --read-timeout"
expect_contains "$E2E_TMP/slow.out" "did not answer within 1000 ms"
stats "$E2E_TMP/s1.json"
expect_json "$E2E_TMP/s1.json" 'd["releases"][0]["upstream_errors"]' '{"closed": 1, "connect": 0, "protocol": 1, "timeout": 1}'
expect_json "$E2E_TMP/s1.json" 'd["releases"][0]["requests"]["5xx"] - [r for r in __import__("json").load(open("'"$E2E_TMP/s0.json"'"))["releases"] if r["release"] == "stable"][0]["requests"]["5xx"]' 3
expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$R/")" "the next request"

section "a release without ready replicas gets 503"
code=$(curl -s -o "$E2E_TMP/503.out" -w '%{http_code}' -H "X-Tauon-Release: empty" "$R/")
expect_eq 503 "$code" "no ready replica"
expect_contains "$E2E_TMP/503.out" "tauon router: release 'empty' has no ready replica"
stats "$E2E_TMP/s2.json"
expect_json "$E2E_TMP/s2.json" 'd["bad_requests"] >= 10' true
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | promtool check metrics
expect_eq 0 "$?" "promtool check metrics"

kill -TERM "$ROUTER_PID"
wait_bg "$ROUTER_PID" 10
expect_eq 0 "$BG_RC" "exit code after SIGTERM"
