# The README's main job, scripts/demo.sh, with the real digits example
# (examples/digits: sklearn on Debian's python3): it exits 0, version 1 of
# digits-classifier is registered and made production, run 2 (a commit that
# makes the model worse) fails on its gates with nothing registered, and the
# diff printed production next to the stopped candidate; then the production
# model is deployed to staging and predicts through its router. Needs Debian's
# python3-sklearn, numpy, pytest and pyflakes (scripts/install-deps.sh).
source "$(dirname "$0")/lib.sh"

if ! /usr/bin/python3 -c 'import sklearn, numpy, pytest, pyflakes' 2>/dev/null; then
  die "the digits example needs Debian's python3-sklearn, python3-numpy, python3-pytest and python3-pyflakes (scripts/install-deps.sh)"
fi

# demo.sh runs $root/build/tauon, $root being the directory above it: give
# it a root of its own whose build/tauon is the binary under test.
ROOT="$E2E_TMP/root"
mkdir -p "$ROOT/scripts" "$ROOT/build"
cp "$TAUON_SOURCE_DIR/scripts/demo.sh" "$ROOT/scripts/demo.sh"
ln -s "$TAUON_SOURCE_DIR/examples" "$ROOT/examples"
ln -s "$TAUON" "$ROOT/build/tauon"
DEMO="$E2E_TMP/demo"
mkdir -p "$DEMO"

section "scripts/demo.sh runs to the end"
START=$(now_ms)
expect_exit 0 env TAUON_DEMO_DIR="$DEMO" timeout -k 5 480 sh "$ROOT/scripts/demo.sh"
LOG=$OUT
cat "$ERR" >>"$LOG"
echo "demo.sh took $((($(now_ms) - START) / 1000))s"
expect_contains "$LOG" "registered model digits-classifier version 1 " "the first run's output"
expect_match "$LOG" '^digits-classifier version 1 *$' "model show"
expect_match "$LOG" '^└─ run 1 \(digits, success, ' "model lineage"
expect_contains "$LOG" "digits-classifier@production now points to version 1" "model alias"
expect_match "$LOG" '^evaluate \(split=validation\) +\| accuracy >= baseline\.accuracy - 0\.005 +accuracy=0\.[0-9]+ baseline\.accuracy=0\.9[0-9]* +fail$' \
  "the worse model's baseline gate, against production"
expect_match "$LOG" '^run 2 failed in ' "the second run failed"
# The diff printed both columns: production (version 1) and the candidate.
expect_match "$LOG" '^METRIC +digits-classifier@1 +run 2 +DELTA$' "diff header"
expect_match "$LOG" '^evaluate \(split=validation\) / accuracy +0\.9[0-9]* +0\.[0-9]+ +-0\.[0-9]+$' "diff row: accuracy"
expect_match "$LOG" '^evaluate \(split=holdout\) / accuracy +0\.9[0-9]* +0\.[0-9]+ +-0\.[0-9]+$' "diff row: holdout accuracy"
# Version 1 to staging, then to production on `tauon promote`, answering through its router.
expect_contains "$LOG" "release 1 is live in staging: digits-classifier@1 serves 100% of http://127.0.0.1:" "the deploy"
expect_contains "$LOG" "release 2 of digits-classifier@1 started in production" "the promotion"
expect_contains "$LOG" "release 2 is live in production: digits-classifier@1 serves 100% of http://127.0.0.1:" "production"
expect_match "$LOG" '^image 0: label 0, predicted 0$' "a prediction through the router"
# Version 2: rolling to staging, canary to production, under traffic.
expect_contains "$LOG" "  rolling: digits-classifier@2: 1 of 2 new replicas ready; r1 of release 1 leaving (1 left)" "the rolling update"
expect_contains "$LOG" "release 3 is live in staging: digits-classifier@2" "version 2 in staging"
expect_contains "$LOG" "  canary step 2 of 2: 50% of traffic, analysis interval " "the canary's last step"
expect_contains "$LOG" "release 4 is live in production: digits-classifier@2" "version 2 in production"
# Version 3 (30% of its predictions fail) passes staging, and production's canary rolls it back.
expect_contains "$LOG" "release 5 is live in staging: digits-classifier@3" "version 3 in staging"
expect_match "$LOG" '^tauon: error: release 6 failed: analysis failed 2 intervals in a row: error_rate < 0.01 \(error_rate=0\.[0-9]+\)$' "the automatic rollback"
expect_match "$LOG" '^production answered: [0-9]+ x 200, [0-9]+ x 500$' "users saw only the canary's share of errors"
expect_match "$LOG" '^release +4 digits-classifier@2 +live +strategy canary$' "status: version 2 still serves"
expect_match "$LOG" '^weights +digits-classifier@2 100%$' "status: all the traffic on version 2"
expect_true "the demo's server and replicas stopped" no_process "serve.py --model $DEMO/.tauon/releases"

section "what the demo left in its data dir"
export TAUON_DATA_DIR="$DEMO/.tauon"
REPO="$DEMO/digits"
expect_exit 0 timeout 60 "$TAUON" models --json
expect_json "$OUT" '[(v["name"], v["version"], v["run_id"], v["branch"], v["aliases"]) for v in d]' \
  '[["digits-classifier", 1, 1, "main", []], ["digits-classifier", 2, 3, "main", ["production"]], ["digits-classifier", 3, 4, "main", ["staging"]]]'
expect_json "$OUT" "d[0]['commit'] == '$(git -C "$REPO" rev-parse HEAD~3)'" true
expect_json "$OUT" "d[1]['commit'] == '$(git -C "$REPO" rev-parse HEAD~1)'" true
expect_json "$OUT" 'sorted(f["path"] for f in d[0]["files"])' '["metadata.json", "weights.npz"]'
expect_json "$OUT" 'sorted(d[0]["metrics"])' '["evaluate (split=holdout)", "evaluate (split=validation)"]'
expect_json "$OUT" 'all(m["accuracy"] >= 0.95 for m in d[0]["metrics"].values())' true
expect_json "$OUT" 'd[0]["params"]["seed"]' 42
expect_exit 0 timeout 60 "$TAUON" show 1 --json
expect_json "$OUT" 'd["status"], [j["status"] for j in d["jobs"]]' \
  '["success", ["success", "success", "success", "success", "success"]]'
expect_json "$OUT" 'job("test")["tests"]["failed"], job("test")["tests"]["passed"] > 0' '[0, true]'
expect_json "$OUT" '[g["verdict"] for g in job("evaluate (split=validation)")["gates"]]' '["pass", "skipped", "pass"]'
expect_exit 0 timeout 60 "$TAUON" show 2 --json
RUN2=$OUT
expect_json "$RUN2" 'd["status"], d["commit"]' "[\"failed\", \"$(git -C "$REPO" rev-parse HEAD~2)\"]"
expect_json "$RUN2" '[(j["name"], j["status"]) for j in d["jobs"]]' \
  '[["lint", "success"], ["test", "success"], ["train", "success"], ["evaluate (split=validation)", "failed"], ["evaluate (split=holdout)", "failed"]]'
for split in validation holdout; do
  expect_match "$(jget "$RUN2" "job('evaluate (split=$split)')['error']")" \
    '^gate failed: accuracy >= 0\.95 \(accuracy=0\.[0-9]+\)$' "the $split job's error"
  expect_json "$RUN2" "[g['verdict'] for g in job('evaluate (split=$split)')['gates']]" '["fail", "fail", "pass"]'
  expect_json "$RUN2" "job('evaluate (split=$split)')['metrics']['accuracy'] < 0.9" true
done
