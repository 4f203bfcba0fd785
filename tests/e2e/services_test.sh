# Services: background processes started before a job's steps, probed with a
# readiness command, reachable from the steps, and stopped after the job
# (whether it succeeded or failed); a service that never gets ready fails the
# job within readiness_timeout.
source "$(dirname "$0")/lib.sh"

PORT=$(free_port)
PORT2=$(free_port)
MARK="$$$RANDOM"
kill_at_exit "http.server $PORT "
kill_at_exit "http.server $PORT2 "
kill_at_exit "sleep 300.$MARK"
PIDS="$E2E_TMP/pids"
mkdir -p "$PIDS"

make_repo "$E2E_TMP/repo"
echo "hello from the workspace" >"$REPO/hello.txt"
write "$REPO/.tauon.yml" <<'EOF'
env: { PY: /usr/bin/python3 }
jobs:
  api-test:
    services:
      web:
        run: echo $$ > "$PIDS/web.pid"; echo "web says $GREETING"; exec $PY -m http.server $PORT --bind 127.0.0.1
        readiness: $PY -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/', timeout=1)"
        readiness_timeout: 10s
        readiness_interval: 100ms
        env: { GREETING: hi }
    steps:
      - name: fetch
        run: $PY -c "import urllib.request; print('got:', urllib.request.urlopen('http://127.0.0.1:$PORT/hello.txt', timeout=2).read().decode().strip())"
      - name: fetch again
        shell: bash
        run: exec 3<>/dev/tcp/127.0.0.1/$PORT && printf 'GET /hello.txt HTTP/1.0\r\n\r\n' >&3 && grep -a hello <&3
  after:
    needs: [api-test]
    steps:
      - name: the service is gone
        shell: bash
        run: |
          if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then echo "port $PORT still open"; exit 1; fi
          pid=$(cat "$PIDS/web.pid")
          if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' /proc/$pid/status; then
            echo "service process $pid still running"; exit 1
          fi
          echo service stopped
  never-ready:
    services:
      db:
        run: exec sleep 300.$MARK
        readiness: echo not yet; exit 1
        readiness_timeout: 1s
        readiness_interval: 100ms
    steps:
      - run: echo SHOULD-NOT-RUN
  exits-early:
    services:
      broken:
        run: echo crashing; exit 3
        readiness: sleep 0.2; exit 1
        readiness_interval: 100ms
    steps:
      - run: echo SHOULD-NOT-RUN-EARLY
  failing-with-service:
    services:
      web2:
        run: echo $$ > "$PIDS/web2.pid"; exec $PY -m http.server $PORT2 --bind 127.0.0.1
        readiness: $PY -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT2/', timeout=1)"
        readiness_interval: 100ms
    steps:
      - run: echo step fails; exit 1
EOF
commit_all "services"
cd "$REPO" || die "cannot cd to $REPO"

section "a service is ready before the steps, reachable, and stopped after the job"
expect_exit 0 tauon run --job after --env "PORT=$PORT" --env "PIDS=$PIDS"
LIVE=$OUT
expect_match "$LIVE" "^api-test +\\| service 'web' is ready$" "readiness message"
expect_match "$LIVE" '^api-test +\| got: hello from the workspace$' "a step reached the service"
expect_match "$LIVE" '^api-test +\| \[web\] web says hi$' "service output, prefixed"
expect_match "$LIVE" '^api-test +\| \[web\] .*"GET /hello.txt HTTP/1\.[01]" 200' "service request log"
expect_match "$LIVE" '^after +\| service stopped$' "the next job saw the service gone"
expect_true "ready before the first step" \
  awk "/service 'web' is ready/{r=NR} /\\\$ fetch\$/{f=NR} END{exit !(r && f && r < f)}" "$LIVE"
expect_true "port $PORT is free after the run" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null"
expect_true "no service process after the run" no_process "http.server $PORT "
show_json last
expect_json "$JSON" '[j["status"] for j in d["jobs"]]' '["success", "success"]'
RUN=$(jget "$JSON" 'd["id"]')
expect_true "service log file" grep -q "web says hi" "$DATA/runs/$RUN/logs/0-api-test/1/service-web.log"

section "a service that never gets ready fails the job within readiness_timeout"
T0=$(now_ms)
expect_exit 1 tauon run --job never-ready
ELAPSED=$(($(now_ms) - T0))
expect_le "$ELAPSED" 5000 "run duration with readiness_timeout 1s (ms)"
expect_not_contains "$OUT" "SHOULD-NOT-RUN" "live output"
show_json last
expect_json "$JSON" 'job("never-ready")["status"]' failed
expect_json "$JSON" 'job("never-ready")["error"].startswith("service '"'db'"' was not ready after 1")' true
expect_json "$JSON" '"not yet" in job("never-ready")["error"]' true
expect_json "$JSON" '[s["status"] for s in job("never-ready")["steps"]]' '[]'
expect_true "the service process is gone" no_process "sleep 300.$MARK"

section "a service that exits before it is ready"
T0=$(now_ms)
expect_exit 1 tauon run --job exits-early
ELAPSED=$(($(now_ms) - T0))
expect_le "$ELAPSED" 5000 "run duration (ms)"
expect_not_contains "$OUT" "SHOULD-NOT-RUN" "live output"
show_json last
expect_json "$JSON" 'job("exits-early")["error"]' "service 'broken' exited (exit code 3) before it was ready"

section "services of a failed job are stopped too"
expect_exit 1 tauon run --job failing-with-service --env "PORT2=$PORT2" --env "PIDS=$PIDS"
expect_match "$OUT" "^failing-with-service +\\| service 'web2' is ready$" "readiness message"
expect_true "port $PORT2 is free after the run" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$PORT2) 2>/dev/null"
expect_true "no service process after the run" no_process "http.server $PORT2 "
expect_true "the service pid is gone" bash -c "! kill -0 $(cat "$PIDS/web2.pid" 2>/dev/null || echo 999999) 2>/dev/null"
