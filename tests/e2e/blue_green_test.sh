# Blue-green releases through a real server, real replicas and real traffic:
#   - the new release starts at full size behind the preview port, where it
#     answers while the environment's traffic stays on the stable release;
#     with auto_promote false it waits for `tauon promote`, then the
#     environment switches in one step under constant load: no failed
#     request, and no answer from the old version once the new one answered;
#   - `tauon rollback` within scale_down_delay switches back at once to the
#     old release, whose replicas still run;
#   - a version whose pre-promotion analysis fails (500s on the preview) is
#     rolled back without a single user request reaching it;
#   - a healthy version with auto_promote switches by itself once its
#     analysis passed, and the old release stops after scale_down_delay.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/deploy_lib.sh"

model_repo
PREVIEW_PORT=$(free_port)
release() {  # release BEHAVIOUR AUTO_PROMOTE: a version for production (and qa)
  release_model "$1" "    production:
      replicas: 2
      strategy:
        blue_green:
          preview_port: $PREVIEW_PORT
          auto_promote: $2
          scale_down_delay: 8s
          pre_promotion:
            interval: 500ms
            min_requests: 5
            checks: [ error_rate == 0 ]
    qa:
      strategy:
        blue_green: { preview: false }"
}
release ok true       # clf@1
release ok false      # clf@2
release errors true   # clf@3
release ok true       # clf@4

# preview_load SECONDS NAME: load, to the preview port (what a
# pre-promotion check would send).
preview_load() {
  local main=$LOAD_PID
  load "$1" "$2" "$PREVIEW_PORT"
  PREVIEW_LOAD_PID=$LOAD_PID
  LOAD_PID=$main
}
environment_is() {  # environment_is EXPR VALUE
  api_json /api/v1/environments/production
  [[ $(jget "$BODY" "$1") == "$2" ]]
}
model_at() {  # model_at PORT: the model answering there
  curl -fsS "http://127.0.0.1:$1/predict" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["model"])'
}

start_server
section "the first release goes live at once"
expect_exit 0 tauon_remote deploy production --model clf@1
expect_contains "$OUT" "release 1 is live in production: clf@1"
api_json /api/v1/environments/production
ENV_PORT=$(jget "$BODY" 'd["port"]')
expect_json "$BODY" 'd["strategy"]' blue_green

section "a new release waits behind the preview port, then switches at once under load"
load 10 load1
expect_exit 0 tauon_remote deploy production --model clf@2 --no-wait
wait_for 20 "the preview" environment_is 'd["phase"]' preview
expect_json "$BODY" 'd["preview_url"]' "http://127.0.0.1:$PREVIEW_PORT"
expect_eq clf@2 "$(model_at "$PREVIEW_PORT")" "the preview answers with the new version"
expect_eq clf@1 "$(model_at "$ENV_PORT")" "the environment still answers with the old one"
expect_json "$BODY" 'd["weights"]' '{"clf@1": 100}'
OUT=$(tauon_remote status production 2>&1)
expect_match "$OUT" '^release +2 clf@2 +preview +strategy blue_green$' "status shows the preview"
expect_match "$OUT" "^preview +http://127.0.0.1:$PREVIEW_PORT\$" "status shows the preview's URL"
preview_load 2 preview1
wait $PREVIEW_LOAD_PID
wait_for 10 "the pre-promotion analysis to pass" environment_is 'd["events"][0]["what"]' waiting
expect_json "$BODY" 'd["events"][0]["why"]' \
  'clf@2: pre-promotion analysis passed interval 1; tauon promote production switches the traffic to it'
expect_json "$BODY" 'd["analysis"][0]["release"], d["analysis"][0]["verdict"]' '[2, "pass"]'
sleep 1  # Traffic on clf@1 for a while before the switch.
expect_exit 0 tauon_remote promote production
expect_contains "$OUT" "release 2 promoted: it serves 100% of traffic"
expect_eq clf@2 "$(model_at "$ENV_PORT")" "the environment answers with the new version"
api_json /api/v1/environments/production
expect_json "$BODY" '[e["what"] for e in d["events"]][:4], d["events"][2]["why"]' \
  '[["superseded", "alias", "live", "waiting"], "clf@2: switched from the preview by admin"]'
expect_contains "$(jget "$BODY" 'd["events"][0]["why"]')" "replaced by release 2; its replicas stop in 8s unless rolled back to"

section "a rollback within scale_down_delay switches back at once"
expect_json "$BODY" 'sorted(set(r["release"] for r in d["replicas"] if r["state"] == "ready"))' '[1, 2]'
sleep 1  # Traffic on clf@2 for a while.
expect_exit 0 tauon_remote rollback production
expect_contains "$OUT" "release 1 is live in production: clf@1"
expect_eq clf@1 "$(model_at "$ENV_PORT")" "the environment answers with the old version again"
api_json /api/v1/environments/production
expect_json "$BODY" 'd["release"], d["events"][2]["what"], d["events"][2]["why"]' \
  '[1, "live", "clf@1: switched back at once (its replicas were still running)"]'
expect_json "$BODY" '[(r["id"], r["phase"]) for r in d["releases"]][:2]' '[[2, "superseded"], [1, "live"]]'
wait $LOAD_PID
show_load load1
# Every request answered, and each switch in one step: clf@1, clf@2, clf@1.
expect_json "$E2E_TMP/load1.json" 'list(d["codes"])' '["200"]'
expect_json "$E2E_TMP/load1.json" '[m for m, n in d["models"]]' '["clf@1", "clf@2", "clf@1"]'

section "a version failing its pre-promotion analysis never gets users' traffic"
load 8 load2
expect_exit 0 tauon_remote deploy production --model clf@3 --no-wait
wait_for 20 "the preview" environment_is 'd["phase"]' preview
preview_load 3 preview2
wait_for 10 "the rollback" environment_is '[r["phase"] for r in d["releases"] if r["id"] == 3][0]' failed
wait $PREVIEW_LOAD_PID
wait $LOAD_PID
show_load load2
expect_json "$E2E_TMP/load2.json" 'list(d["codes"]), [m for m, n in d["models"]]' '[["200"], ["clf@1"]]'
api_json /api/v1/environments/production
expect_json "$BODY" '[r["reason"] for r in d["releases"] if r["id"] == 3][0]' \
  'pre-promotion analysis failed 1 interval in a row: error_rate == 0 (error_rate=1)'
# The preview shows the live release again.
expect_eq clf@1 "$(model_at "$PREVIEW_PORT")" "the preview after the rollback"

section "auto_promote switches by itself once the analysis passed"
preview_load 6 preview3
expect_exit 0 tauon_remote deploy production --model clf@4
expect_contains "$OUT" "release 4 is live in production: clf@4"
expect_contains "$OUT" "  preview: clf@4: all 2 replicas ready behind the preview port $PREVIEW_PORT, pre-promotion analysis running"
wait $PREVIEW_LOAD_PID
api_json /api/v1/environments/production
expect_json "$BODY" '[e["why"] for e in d["events"] if e["what"] == "live"][0]' \
  'clf@4: switched from the preview (pre-promotion analysis passed interval 1)'
old_stopped() {
  api_json /api/v1/environments/production
  [[ $(jget "$BODY" 'sorted(set(r["release"] for r in d["replicas"]))') == "[4]" ]]
}
wait_for 20 "release 1 to stop after scale_down_delay" old_stopped

section "preview: false opens no preview router"
expect_exit 0 tauon_remote deploy qa --model clf@1
expect_exit 0 tauon_remote deploy qa --model clf@4
expect_contains "$OUT" "  preview: clf@4: its replica ready"
expect_contains "$OUT" "is live in qa: clf@4"
api_json /api/v1/environments/qa
expect_json "$BODY" '"preview_url" in d, [e["why"] for e in d["events"] if e["what"] == "preview"][0]' \
  '[false, "clf@4: its replica ready"]'
stop_server
