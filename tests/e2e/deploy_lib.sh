# Helpers for the deploy end-to-end tests (rolling, blue-green, canary);
# sourced after lib.sh.
#
#   model_repo                 a repository $REPO whose serve.py is
#                              tests/e2e/model_server.py
#   release_model BEHAVIOUR ENVIRONMENTS
#                              commits a version of model `clf` (its
#                              behaviour.txt: BEHAVIOUR) whose
#                              deploy.environments are ENVIRONMENTS (YAML,
#                              indented 4 spaces), and registers it
#   load SECONDS NAME [PORT]   tests/e2e/load.py against PORT (default
#                              $ENV_PORT) in the background, into
#                              $E2E_TMP/NAME.json; sets $LOAD_PID
#   show_load NAME             prints the answers, and the requests each model answered

model_repo() {
  make_repo "$E2E_TMP/clf"
  cp "$E2E_DIR/model_server.py" "$REPO/serve.py"
}

release_model() {
  write "$REPO/.tauon.yml" <<YAML
jobs:
  train:
    steps:
      - run: mkdir -p out/model && echo "$1" > out/model/behaviour.txt
    artifacts: [out/model/]
model: { name: clf, path: out/model/ }
deploy:
  serve:
    command: exec $PY serve.py
    readiness: { http: /healthz, period: 100ms }
  environments:
$2
YAML
  commit_all "model $1"
  expect_exit 0 tauon run "$REPO"
}

load() {
  "$PY" "$E2E_DIR/load.py" "${3:-$ENV_PORT}" "$1" >"$E2E_TMP/$2.json" 2>&1 &
  LOAD_PID=$!
}

show_load() {
  echo "load: $(jget "$E2E_TMP/$1.json" 'd["codes"], {m: sum(n for k, n in d["models"] if k == m) for m, _ in d["models"]}')"
}
