# Helpers for the router's end-to-end tests (tests/e2e/router_*_test.sh);
# sourced after lib.sh.
#
#   start_upstream NAME [PORT]  a tests/e2e/upstream_server.py replica named NAME;
#                               its port in $UPSTREAM_PORT, pid in $UPSTREAM_PID
#   start_router ARGS...        `tauon router` on free ports with ARGS; sets
#                               $ROUTER_PORT, $METRICS_PORT, $ROUTER_PID
#   client ARGS...              tests/e2e/router_client.py ARGS
#   stats FILE                  the router's /stats JSON into FILE

UPSTREAM_SERVER="$E2E_DIR/upstream_server.py"
ROUTER_CLIENT="$E2E_DIR/router_client.py"
kill_at_exit "$UPSTREAM_SERVER --id e2e-$$-"

start_upstream() {
  local name=$1 port=${2:-0} file="$E2E_TMP/upstream-$1.port" i
  rm -f "$file"
  start_bg "upstream-$name" "$PY" "$UPSTREAM_SERVER" --id "e2e-$$-$name" --port "$port" --port-file "$file"
  UPSTREAM_PID=$BG_PID
  for ((i = 0; i < 200; i++)); do
    [[ -s "$file" ]] && break
    sleep 0.05
  done
  [[ -s "$file" ]] || die "upstream $name did not start: $(cat "$BG_OUT")"
  UPSTREAM_PORT=$(cat "$file")
}

start_router() {
  local i
  # The binary itself (not under `timeout`), so that the cleanup at exit,
  # which kills $BG_PID, kills the router.
  start_bg router "$TAUON" router --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 "$@"
  ROUTER_PID=$BG_PID
  ROUTER_OUT=$BG_OUT
  for ((i = 0; i < 200; i++)); do
    grep -q "listening on" "$ROUTER_OUT" 2>/dev/null && break
    is_alive "$ROUTER_PID" || break
    sleep 0.05
  done
  grep -q "listening on" "$ROUTER_OUT" || die "tauon router did not start: $(cat "$ROUTER_OUT")"
  ROUTER_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$ROUTER_OUT" | grep -o '[0-9]*$')
  METRICS_PORT=$(grep -o 'metrics on http://127.0.0.1:[0-9]*' "$ROUTER_OUT" | grep -o '[0-9]*$')
}

client() { timeout -k 5 120 "$PY" "$ROUTER_CLIENT" "$@"; }

stats() { curl -sf "http://127.0.0.1:$METRICS_PORT/stats" >"$1"; }

# The upstream ids are e2e-PID-NAME; this strips the prefix in client output.
short_ids() { sed "s/e2e-$$-//g"; }
