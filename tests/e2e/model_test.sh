# Model delivery with a fast synthetic pipeline (printf and mkdir, no ML):
# a job's `metrics:` file is flattened (nested objects -> dotted names) and
# stored; its gates pass or fail with a table of the values they used;
# `baseline.` gates are "skipped: no baseline" until a model exists; missing
# and malformed metrics files fail the job with a clear message. `model:`
# registers a version after a successful run on a branch of on.push.branches
# (digest over the files, commit, branch, run, metrics, params, files), and
# nothing for another branch, a failed run, a --worktree run or a run of
# `--job train` alone (its gates never ran). The baseline
# is the production alias (else staging, else the latest version from the
# default branch): a worse commit is stopped and `tauon model diff` shows it
# next to production. Aliases move and keep their history (lineage);
# unknown and malformed references; gates without a metrics file; a number
# out of range in a metrics file; a model path that is no artifact; four
# concurrent registrations get versions 1..4; a server rerun that reuses the
# evaluated job keeps its metrics and gates.
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<'EOF'
on:
  push: { branches: [main, "release/*"] }
jobs:
  train:
    steps:
      - run: |
          mkdir -p out/model/sub
          printf 'weights %s\n' "$(cat acc.txt)" > out/model/weights.bin
          printf '{"kind": "synthetic"}\n' > out/model/sub/meta.json
          echo "not the model" > out/notes.txt
    artifacts: [out/model/, out/notes.txt]
  evaluate:
    needs: [train]
    steps:
      - run: |
          mkdir -p out
          printf '{"accuracy": %s, "latency": {"p95_ms": 3, "p50_ms": 1.5}, "f1": {"0": 0.9, "1": 0.8}, "n_samples": 359}\n' "$(cat acc.txt)" > out/metrics.json
    metrics: out/metrics.json
    gates:
      - accuracy >= 0.95
      - accuracy >= baseline.accuracy - 0.005
      - latency.p95_ms < 50
model:
  name: clf
  path: out/model/
  params: params.json
EOF
echo '{"lr": 0.1, "layers": [64, 32], "seed": 42}' >"$REPO/params.json"
echo 0.97 >"$REPO/acc.txt"
commit_all "a good model"
cd "$REPO" || die "cannot cd to $REPO"

# set_acc ACC MSG: commits a change of the model's accuracy.
set_acc() {
  echo "$1" >"$REPO/acc.txt"
  commit_all "$2"
}
# version_count NAME: how many versions of NAME `tauon models --json` lists.
version_count() {
  tauon models --json >"$E2E_TMP/models.json" || return 1
  jget "$E2E_TMP/models.json" "len([v for v in d if v['name'] == '$1'])"
}
G1='accuracy >= 0.95'
G2='accuracy >= baseline.accuracy - 0.005'
G3='latency.p95_ms < 50'

section "before any run: no models, no baseline"
expect_exit 0 tauon models
expect_eq "no models registered yet" "$(cat "$OUT")" "tauon models on an empty data dir"
expect_exit 0 tauon models --json
expect_eq "[]" "$(tr -d ' \n' <"$OUT")" "tauon models --json on an empty data dir"
expect_exit 1 tauon model show clf
expect_contains "$ERR" "no models registered in $DATA" "model show on an empty data dir"

section "metrics are flattened and stored, gates print a table, baseline gates are skipped"
expect_exit 0 tauon run
LIVE=$OUT
expect_match "$LIVE" '^evaluate \| metrics: accuracy=0\.97 f1\.0=0\.9 f1\.1=0\.8 latency\.p50_ms=1\.5 latency\.p95_ms=3 n_samples=359$' \
  "the metrics note (flattened, sorted)"
expect_match "$LIVE" '^evaluate \| gates \(no baseline yet\):$' "gates header without a baseline"
expect_match "$LIVE" '^evaluate \| GATE +VALUES +RESULT$' "gate table header"
expect_match "$LIVE" '^evaluate \| accuracy >= 0\.95 +accuracy=0\.97 +pass$' "gate row: pass with its value"
expect_match "$LIVE" '^evaluate \| accuracy >= baseline\.accuracy - 0\.005 +skipped: no baseline$' \
  "a baseline gate is skipped, printed"
expect_match "$LIVE" '^evaluate \| latency\.p95_ms < 50 +latency\.p95_ms=3 +pass$' "gate on a nested metric"
expect_match "$LIVE" '^registered model clf version 1 \(sha256:[0-9a-f]{12}\)$' "registration note"
show_json 1
RUN1=$JSON
expect_json "$RUN1" 'd["status"]' success
expect_json "$RUN1" 'job("evaluate")["metrics"]' \
  '{"accuracy": 0.97, "f1.0": 0.9, "f1.1": 0.8, "latency.p50_ms": 1.5, "latency.p95_ms": 3.0, "n_samples": 359.0}'
expect_json "$RUN1" 'job("train")["metrics"], job("train")["gates"]' '[{}, []]'
expect_json "$RUN1" '[(g["expression"], g["verdict"], g["values"], g["message"]) for g in job("evaluate")["gates"]]' \
  "[[\"$G1\", \"pass\", {\"accuracy\": 0.97}, \"\"], [\"$G2\", \"skipped\", {}, \"skipped: no baseline\"], [\"$G3\", \"pass\", {\"latency.p95_ms\": 3.0}, \"\"]]"
expect_exit 0 tauon logs 1
expect_contains "$OUT" "accuracy >= baseline.accuracy - 0.005  " "the gate table in the logs"

section "version 1: digest over the files, commit, branch, run, metrics, params, files"
COMMIT1=$(git rev-parse HEAD)
expect_exit 0 tauon models --json
expect_json "$OUT" '[(v["name"], v["version"], v["run_id"], v["branch"]) for v in d]' '[["clf", 1, 1, "main"]]'
expect_exit 0 tauon model show clf@1 --json
V1=$OUT
expect_json "$V1" 'd["name"], d["version"], d["commit"], d["branch"], d["run_id"], d["repo"], d["author"]' \
  "[\"clf\", 1, \"$COMMIT1\", \"main\", 1, \"repo\", \"Tauon E2E <e2e@tauon.invalid>\"]"
expect_json "$V1" 'd["metrics"]' \
  '{"evaluate": {"accuracy": 0.97, "f1.0": 0.9, "f1.1": 0.8, "latency.p50_ms": 1.5, "latency.p95_ms": 3.0, "n_samples": 359.0}}'
expect_json "$V1" 'd["params"]' '{"layers": [64, 32], "lr": 0.1, "seed": 42}'
expect_json "$V1" 'd["aliases"]' '[]'
expect_json "$V1" '[(f["path"], f["size"]) for f in d["files"]]' '[["sub/meta.json", 22], ["weights.bin", 13]]'
expect_match "$(jget "$V1" 'd["created_at"]')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' "created_at"
expect_exit 0 tauon artifacts 1 --json
ART1=$OUT
# The files are the artifacts under the model path (out/notes.txt is not),
# with the same digests; the version's digest is the sha256 of the manifest
# "PATH\0DIGEST\n" over its files in path order.
expect_json "$V1" "[(f['path'], f['digest']) for f in d['files']] == [(a['path'][len('out/model/'):], a['digest']) for a in json.load(open('$ART1')) if a['path'].startswith('out/model/')]" true
expect_json "$V1" "d['digest'] == 'sha256:' + __import__('hashlib').sha256(''.join(f['path'] + chr(0) + f['digest'] + chr(10) for f in sorted(d['files'], key=lambda f: f['path'])).encode()).hexdigest()" true
expect_json "$V1" "[f['digest'] for f in d['files'] if f['path'] == 'weights.bin'][0]" \
  "sha256:$(printf 'weights 0.97\n' | sha256sum | cut -d' ' -f1)"
expect_exit 0 tauon model show clf
expect_match "$OUT" '^clf version 1 *$' "model show NAME: the latest version"
expect_match "$OUT" "^  digest   $(jget "$V1" 'd["digest"]')\$" "model show: digest"
expect_match "$OUT" "^  commit   ${COMMIT1:0:12} on main by Tauon E2E <e2e@tauon.invalid>\$" "model show: commit"
expect_match "$OUT" '^    evaluate +accuracy +0\.97$' "model show: a metric"
expect_match "$OUT" '^  params   \{"layers":\[64,32\],"lr":0\.1,"seed":42\}$' "model show: params"
expect_match "$OUT" '^    weights\.bin +13  sha256:[0-9a-f]{12}$' "model show: a file"
expect_exit 0 tauon model lineage clf@1 --json
expect_json "$OUT" 'd["model"]["version"], d["run"]["id"], d["run"]["commit"], [j["name"] for j in d["run"]["jobs"]]' \
  "[1, 1, \"$COMMIT1\", [\"train\", \"evaluate\"]]"
expect_json "$OUT" '[g["verdict"] for j in d["run"]["jobs"] for g in j["gates"]]' '["pass", "skipped", "pass"]'
expect_json "$OUT" 'd["alias_history"], d["deployments"]' '[[], []]'
expect_exit 0 tauon model lineage clf@1
expect_match "$OUT" "^commit   ${COMMIT1:0:12} on main by Tauon E2E <e2e@tauon.invalid>: a good model\$" "lineage: commit"
expect_match "$OUT" '^└─ run 1 \(repo, success, ' "lineage: run"
expect_match "$OUT" '^   │    gate accuracy >= baseline\.accuracy - 0\.005: skipped$' "lineage: gates"
expect_match "$OUT" '^   └─ model sha256:[0-9a-f]{12} \(2 files\)$' "lineage: model"
expect_match "$OUT" '^aliases  none$' "lineage: no aliases yet"

section "a failing gate fails the job with the values it used; a failed run registers nothing"
set_acc 0.93 "a much worse model"
expect_exit 1 tauon run
LIVE=$OUT
RUN=$(last_run_id)
expect_match "$LIVE" '^evaluate \| gates \(baseline: clf version 1\):$' \
  "baseline: the latest version from the default branch (no alias yet)"
expect_match "$LIVE" '^evaluate \| accuracy >= 0\.95 +accuracy=0\.93 +fail$' "failing gate row"
expect_match "$LIVE" '^evaluate \| accuracy >= baseline\.accuracy - 0\.005 +accuracy=0\.93 baseline\.accuracy=0\.97 +fail$' \
  "baseline gate row with both values"
expect_match "$LIVE" '✗ failed in .*: gate failed: accuracy >= 0\.95 \(accuracy=0\.93\)$' "the job's failure line"
expect_not_contains "$LIVE" "registered model" "a failed run's output"
show_json "$RUN"
expect_json "$JSON" 'd["status"], job("evaluate")["status"], job("evaluate")["error"]' \
  '["failed", "failed", "gate failed: accuracy >= 0.95 (accuracy=0.93)"]'
expect_json "$JSON" '[g["verdict"] for g in job("evaluate")["gates"]]' '["fail", "fail", "pass"]'
expect_json "$JSON" 'job("evaluate")["metrics"]["accuracy"]' 0.93
expect_eq 1 "$(version_count clf)" "versions after a failed run"

section "no registration outside on.push.branches, for --worktree or for --job"
git checkout -q -b feature
set_acc 0.98 "a good model on a feature branch"
expect_exit 0 tauon run
expect_contains "$OUT" "note: branch 'feature' does not match on.push.branches: its model is not registered" \
  "the note for a branch outside on.push.branches"
expect_not_contains "$OUT" "registered model" "a feature branch run"
expect_eq 1 "$(version_count clf)" "versions after a feature branch run"
git checkout -q main
# main is at the 0.93 commit, which its gates stop: a run of `train` alone
# must not register it either (its gates never ran). In a data dir of its
# own, so that the registry of this test stays as it is whatever happens.
JOB_DATA="$E2E_TMP/data-job"
expect_exit 0 timeout -k 5 60 "$TAUON" --data-dir "$JOB_DATA" run --job train
expect_not_contains "$OUT" "registered model" "a --job train run"
expect_exit 0 timeout -k 5 60 "$TAUON" --data-dir "$JOB_DATA" models --json
expect_json "$OUT" 'len(d)' 0
echo 0.99 >"$REPO/acc.txt"
expect_exit 0 tauon run --worktree
expect_contains "$OUT" "note: a --worktree run is not a commit: its model is not registered" "the --worktree note"
expect_eq 1 "$(version_count clf)" "versions after a --worktree run"
git checkout -q -- acc.txt

section "production is the baseline: a worse commit is stopped, diff shows both"
expect_exit 0 tauon model alias clf@1 production
expect_eq "clf@production now points to version 1" "$(cat "$OUT")" "model alias output"
expect_exit 0 tauon model show clf@production --json
expect_json "$OUT" 'd["version"], d["aliases"]' '[1, ["production"]]'
set_acc 0.962 "a slightly worse model"
expect_exit 1 tauon run
LIVE=$OUT
STOPPED=$(last_run_id)
expect_match "$LIVE" '^evaluate \| accuracy >= 0\.95 +accuracy=0\.962 +pass$' "the absolute gate passes"
expect_match "$LIVE" '^evaluate \| accuracy >= baseline\.accuracy - 0\.005 +accuracy=0\.962 baseline\.accuracy=0\.97 +fail$' \
  "the baseline gate fails"
show_json "$STOPPED"
expect_json "$JSON" 'job("evaluate")["error"]' \
  'gate failed: accuracy >= baseline.accuracy - 0.005 (accuracy=0.962, baseline.accuracy=0.97)'
expect_eq 1 "$(version_count clf)" "versions after a stopped candidate"
expect_exit 0 tauon model diff clf@production "run:$STOPPED"
DIFF=$OUT
expect_match "$DIFF" "^METRIC +clf@1 +run $STOPPED +DELTA\$" "diff header: both columns"
expect_match "$DIFF" '^accuracy +0\.97 +0\.962 +-0\.008$' "diff row with its delta"
expect_match "$DIFF" '^latency\.p95_ms +3 +3 +0$' "diff row without a change"
expect_exit 0 tauon model diff clf@production "run:$STOPPED" --json
expect_json "$OUT" 'd["a"], d["b"], d["same_files"]' "[\"clf@1\", \"run $STOPPED\", false]"
expect_json "$OUT" '[(r["metric"], r["a"], r["b"], round(r["delta"], 9)) for r in d["metrics"] if r["metric"] == "accuracy"]' \
  '[["accuracy", 0.97, 0.962, -0.008]]'
expect_json "$OUT" '[r["metric"] for r in d["metrics"]]' '["accuracy", "f1.0", "f1.1", "latency.p50_ms", "latency.p95_ms", "n_samples"]'

section "versions increase; the baseline stays production, not the latest"
set_acc 0.99 "a better model"
expect_exit 0 tauon run
expect_match "$OUT" '^evaluate \| gates \(baseline: clf version 1\):$' "baseline header"
expect_match "$OUT" '^registered model clf version 2 ' "version 2"
COMMIT2=$(git rev-parse HEAD)
# 0.975 is within 0.005 of production (0.97) but not of version 2 (0.99).
set_acc 0.975 "a model slightly worse than the latest, better than production"
expect_exit 0 tauon run
expect_match "$OUT" '^evaluate \| gates \(baseline: clf version 1\):$' "baseline is still production"
expect_match "$OUT" '^registered model clf version 3 ' "version 3"
expect_exit 0 tauon models --json
expect_json "$OUT" '[(v["version"], v["aliases"]) for v in d if v["name"] == "clf"]' '[[1, ["production"]], [2, []], [3, []]]'
expect_exit 0 tauon models
expect_match "$OUT" '^MODEL +VERSION +COMMIT +BRANCH +RUN +CREATED +ALIASES$' "models table header"
expect_match "$OUT" "^clf +2  ${COMMIT2:0:12} +main +[0-9]+ +[0-9T:.Z-]+ *\$" "models table row"
expect_match "$OUT" '^clf +1  .* @production$' "models table row with an alias"
expect_exit 0 tauon model show clf --json
expect_json "$OUT" 'd["version"]' 3

section "aliases move and keep their history; staging does not beat production"
expect_exit 0 tauon model alias clf@2 production
expect_eq "clf@production moved from version 1 to version 2" "$(cat "$OUT")" "moving an alias"
expect_exit 0 tauon model alias clf@2 production
expect_eq "clf@production already was version 2" "$(cat "$OUT")" "setting an alias again"
expect_exit 0 tauon model alias clf@3 staging
expect_exit 0 tauon model show clf@production --json
expect_json "$OUT" 'd["version"], d["commit"], d["aliases"]' "[2, \"$COMMIT2\", [\"production\"]]"
expect_exit 0 tauon model show clf@staging --json
expect_json "$OUT" 'd["version"]' 3
expect_exit 0 tauon model show clf@1 --json
expect_json "$OUT" 'd["aliases"]' '[]'
expect_exit 0 tauon model lineage clf@1 --json
expect_json "$OUT" '[h["alias"] for h in d["alias_history"]]' '["production"]'
expect_match "$(jget "$OUT" 'd["alias_history"][0]["set_at"]')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "alias_history set_at"
expect_true "alias_history set_by is not empty" test -n "$(jget "$OUT" 'd["alias_history"][0]["set_by"]')"
expect_exit 0 tauon model lineage clf@production --json
expect_json "$OUT" 'd["model"]["version"], [h["alias"] for h in d["alias_history"]]' '[2, ["production", "production"]]'
expect_exit 0 tauon model lineage clf@2
expect_match "$OUT" '^alias    @production set [0-9T:.Z-]+ by .+$' "lineage text: alias history"
# With production at version 2 (0.99) and staging at version 3 (0.975), 0.98
# passes against staging but not against production.
set_acc 0.98 "against production, not staging"
expect_exit 1 tauon run
expect_match "$OUT" '^evaluate \| gates \(baseline: clf version 2\):$' "production wins over staging"
expect_match "$OUT" '^evaluate \| accuracy >= baseline\.accuracy - 0\.005 +accuracy=0\.98 baseline\.accuracy=0\.99 +fail$' \
  "the gate against production"
expect_exit 0 tauon model diff clf@1 clf@production
expect_match "$OUT" '^METRIC +clf@1 +clf@2 +DELTA$' "diff of two versions"
expect_match "$OUT" '^accuracy +0\.97 +0\.99 +\+0\.02$' "a positive delta"
expect_exit 0 tauon model diff clf@2 clf@production
expect_contains "$OUT" "(the two versions have the same files)" "diff of a version with itself"

section "unknown and malformed references"
expect_exit 1 tauon model show nosuch
expect_contains "$ERR" "tauon: error: no model named 'nosuch'" "unknown model"
expect_exit 1 tauon model show clf@99
expect_contains "$ERR" "tauon: error: model 'clf' has no version 99" "unknown version"
expect_exit 1 tauon model show clf@canary
expect_contains "$ERR" "tauon: error: model 'clf' has no alias 'canary'" "unknown alias"
expect_exit 1 tauon model lineage nosuch@1
expect_contains "$ERR" "model 'nosuch' has no version 1" "lineage of an unknown model"
expect_exit 1 tauon model alias clf@99 production
expect_contains "$ERR" "model 'clf' has no version 99" "alias of an unknown version"
expect_exit 1 tauon model diff clf@1 run:999
expect_contains "$ERR" "no run 999" "diff against an unknown run"
expect_exit 1 tauon model diff clf@1 clf@canary
for ref in 'clf@' '@1' 'clf@0' 'clf@1@2' 'a b' 'clf/x'; do
  expect_exit 2 tauon model show "$ref"
  expect_match "$ERR" "^tauon: error: invalid model (version )?'" "malformed reference '$ref'"
done
expect_exit 2 tauon model diff clf@1 run:x
expect_contains "$ERR" "invalid run 'run:x': expected run:ID" "a malformed run reference"
expect_exit 2 tauon model alias clf production
expect_contains "$ERR" "expected NAME@VERSION, got 'clf'" "alias needs a version"
expect_exit 2 tauon model alias clf@production staging
expect_exit 2 tauon model alias clf@1 'bad alias'
expect_contains "$ERR" "invalid alias 'bad alias'" "a malformed alias"
expect_exit 2 tauon model alias clf@1 7
expect_exit 0 tauon model lineage clf@1 --json
expect_json "$OUT" '[h["alias"] for h in d["alias_history"]]' '["production"]'
# The error above says an alias does not start with a digit.
expect_exit 2 tauon model alias clf@1 1abc

section "missing and malformed metrics files fail the job"
make_repo "$E2E_TMP/bad"
# metrics_job NAME SHELL [GATES]: a job whose step runs SHELL (in out/).
metrics_job() {
  printf '  %s:\n    steps:\n      - run: |\n          mkdir -p out\n          %s\n    metrics: out/metrics.json\n' "$1" "$2"
  [[ -z ${3:-} ]] || printf '    gates: %s\n' "$3"
}
{
  echo "jobs:"
  metrics_job missing "echo no metrics written"
  metrics_job string "printf '{\"accuracy\": \"high\", \"n\": 3}' > out/metrics.json"
  metrics_job bad-json "printf '{\"accuracy\": 0.9,' > out/metrics.json"
  metrics_job nested-null "printf '{\"latency\": {\"p95_ms\": null}}' > out/metrics.json"
  metrics_job boolean "printf '{\"ok\": true}' > out/metrics.json"
  metrics_job list "printf '[0.9]' > out/metrics.json"
  metrics_job directory "mkdir -p out/metrics.json"
  metrics_job unknown-metric "printf '{\"acc\": 0.9}' > out/metrics.json" "[accuracy > 0.5]"
  metrics_job not-a-condition "printf '{\"acc\": 0.9}' > out/metrics.json" "[acc + 1]"
  metrics_job step-fails "printf '{\"acc\": 0.9}' > out/metrics.json; exit 3" "[acc > 5]"
  metrics_job good "printf '{\"a\": {\"b\": {\"c\": 2}}, \"n\": -1.5e-3}' > out/metrics.json" \
    "[a.b.c == 2 and n < 0, not (a.b.c != 2) or n > 1]"
} >"$REPO/.tauon.yml"
commit_all "bad metrics"
expect_exit 1 tauon run -j 4 "$REPO"
LIVE=$OUT
show_json last
BAD=$JSON
expect_json "$BAD" 'job("missing")["error"]' 'metrics file out/metrics.json was not written (or leads outside the workspace)'
expect_json "$BAD" 'job("string")["error"]' "metrics file out/metrics.json: metric 'accuracy' must be a number, got a string"
expect_json "$BAD" 'job("bad-json")["error"]' \
  'metrics file out/metrics.json: malformed JSON: parse error at line 1, column 18: syntax error while parsing object key - unexpected end of input; expected string literal'
expect_json "$BAD" 'job("nested-null")["error"]' "metrics file out/metrics.json: metric 'latency.p95_ms' must be a number, got null"
expect_json "$BAD" 'job("boolean")["error"]' "metrics file out/metrics.json: metric 'ok' must be a number, got a boolean"
expect_json "$BAD" 'job("list")["error"]' 'metrics file out/metrics.json: expected a JSON object of numbers'
expect_json "$BAD" 'job("directory")["error"]' 'metrics file out/metrics.json is a directory'
expect_json "$BAD" 'job("unknown-metric")["error"]' \
  "gate 'accuracy > 0.5' could not be evaluated: no metric 'accuracy' in the metrics file"
expect_json "$BAD" 'job("not-a-condition")["error"]' \
  "gate 'acc + 1' could not be evaluated: a gate must be true or false, got 1.9"
expect_json "$BAD" 'job("step-fails")["error"], job("step-fails")["metrics"], job("step-fails")["gates"]' \
  "[\"step 'mkdir -p out' failed: exit code 3\", {}, []]"
expect_json "$BAD" '[j["name"] for j in d["jobs"] if j["metrics"]]' '["unknown-metric", "not-a-condition", "good"]'
expect_json "$BAD" '[j["name"] for j in d["jobs"] if j["status"] == "success"]' '["good"]'
expect_json "$BAD" 'job("good")["metrics"]' '{"a.b.c": 2.0, "n": -0.0015}'
expect_json "$BAD" '[g["values"] for g in job("good")["gates"]]' '[{"a.b.c": 2.0, "n": -0.0015}, {"a.b.c": 2.0}]'
expect_match "$LIVE" "^string +\| ✗ failed in .*: metrics file out/metrics.json: metric 'accuracy' must be a number, got a string\$" \
  "the failure in the live output"
expect_match "$LIVE" '^unknown-metric +\| accuracy > 0\.5 +error: no metric .accuracy. in the metrics file$' \
  "an unevaluable gate in the table"

section "gates without a metrics file are not silently passed"
make_repo "$E2E_TMP/nometrics"
write "$REPO/.tauon.yml" <<'EOF2'
jobs:
  evaluate:
    steps:
      - run: echo evaluated
    gates: [accuracy >= 0.95]
EOF2
commit_all "gates without metrics"
# Either `tauon validate` refuses the file or the run fails: never a success
# with gates that were not evaluated.
tauon run "$REPO" >"$E2E_TMP/nometrics.out" 2>&1
NOMETRICS_RC=$?
expect_true "a run whose gates have no metrics file does not succeed (exit $NOMETRICS_RC)" test "$NOMETRICS_RC" != 0

section "a number too large for a double fails the job, not tauon"
make_repo "$E2E_TMP/overflow"
{
  echo "jobs:"
  metrics_job huge "printf '{\"x\": 1e999}' > out/metrics.json"
} >"$REPO/.tauon.yml"
commit_all "overflow"
OVERFLOW_DATA="$E2E_TMP/data-overflow"
expect_exit 1 timeout -k 5 60 "$TAUON" --data-dir "$OVERFLOW_DATA" run "$REPO"
expect_not_contains "$ERR" "terminate called" "tauon's stderr"
expect_exit 0 timeout -k 5 60 "$TAUON" --data-dir "$OVERFLOW_DATA" show 1 --json
expect_json "$OUT" 'd["status"], job("huge")["status"]' '["failed", "failed"]'
expect_match "$(jget "$OUT" 'job("huge")["error"]')" "^metrics file out/metrics.json: .*(1e999|finite)" "the overflow's error"

section "a model path that is not an artifact fails the run"
make_repo "$E2E_TMP/noart"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  train:
    steps:
      - run: mkdir -p out/model && echo w > out/model/w.bin
model:
  name: no-artifact
  path: out/model
EOF
commit_all "model without artifacts"
expect_exit 1 tauon run "$REPO"
MSG="model 'no-artifact': no job stored files under 'out/model' as artifacts (add 'out/model' to the artifacts of the job that writes it)"
expect_contains "$(cat "$OUT" "$ERR")" "$MSG" "the run's output"
show_json last
expect_json "$JSON" 'd["status"], d["error"], job("train")["status"]' "[\"failed\", \"$MSG\", \"success\"]"
expect_eq 0 "$(version_count no-artifact)" "versions of a model without artifacts"

section "four concurrent registrations get versions 1..4"
make_repo "$E2E_TMP/conc"
write "$REPO/.tauon.yml" <<'EOF'
on:
  push: { branches: ["release/*"] }
jobs:
  train:
    steps:
      - run: |
          mkdir -p out/model
          cp variant.txt out/model/weights.bin
          printf '{"variant": "%s"}\n' "$(cat variant.txt)" > out/params.json
          printf '{"score": 1}\n' > out/metrics.json
          # A barrier: the four runs finish together, and register at once.
          touch "$BARRIER/$VARIANT_ID"
          for i in $(seq 200); do
            [ "$(ls "$BARRIER" | wc -l)" -ge 4 ] && break
            sleep 0.05
          done
    metrics: out/metrics.json
    gates: [score >= baseline.score]
    artifacts: [out/model/, out/params.json]
model:
  name: conc
  path: out/model/
  params: out/params.json
EOF
for i in 1 2 3 4; do
  echo "v$i" >"$REPO/variant.txt"
  commit_all "variant $i"
  git -C "$REPO" branch "release/$i"
done
mkdir -p "$E2E_TMP/barrier"
PIDS=()
for i in 1 2 3 4; do
  start_bg "conc$i" tauon run --ref "release/$i" --env BARRIER="$E2E_TMP/barrier" --env VARIANT_ID="$i" "$REPO"
  PIDS+=("$BG_PID")
done
for i in 1 2 3 4; do
  wait_bg "${PIDS[$((i - 1))]}" 60
  expect_eq 0 "$BG_RC" "exit code of concurrent run $i"
  [[ $BG_RC == 0 ]] || e2e_show "$E2E_TMP/conc$i.out" >&2
done
expect_exit 0 tauon models --json
CONC=$OUT
expect_json "$CONC" 'sorted(v["version"] for v in d if v["name"] == "conc")' '[1, 2, 3, 4]'
expect_json "$CONC" 'len({v["run_id"] for v in d if v["name"] == "conc"})' 4
expect_json "$CONC" 'sorted(v["params"]["variant"] for v in d if v["name"] == "conc")' '["v1", "v2", "v3", "v4"]'
expect_json "$CONC" 'len({v["digest"] for v in d if v["name"] == "conc"})' 4
for i in 1 2 3 4; do
  expect_json "$CONC" "sorted(v['branch'] for v in d if v['name'] == 'conc' and v['commit'] == '$(git -C "$REPO" rev-parse "release/$i")')" \
    "[\"release/$i\"]"
done
expect_eq 3 "$(version_count clf)" "the other model's versions are untouched"

section "a server rerun that reuses the evaluated job keeps its metrics and gates"
# `tauon rerun RUN --failed` reuses the jobs that succeeded: their metrics
# and gate results belong to the new run too, and so to the version it
# registers (the next run's baseline).
DATA="$E2E_TMP/data-server"
FLAG="$E2E_TMP/publish-ok"
make_remote served
write "$REPO/.tauon.yml" <<EOF
jobs:
  train:
    steps:
      - run: mkdir -p out/model && echo w > out/model/w.bin
    artifacts: [out/model/]
  evaluate:
    needs: [train]
    steps:
      - run: |
          printf '{"accuracy": 0.97}' > metrics.json
    metrics: metrics.json
    gates: [accuracy > 0.9]
  publish:
    needs: [evaluate]
    steps:
      - run: test -e "$FLAG"
model:
  name: served
  path: out/model/
EOF
commit_all "served model"
push
start_server
expect_exit 0 tauon_remote repo add served "$BARE" --poll 1h
expect_exit 0 tauon_remote trigger served --ref main
wait_run 1 30
expect_eq failed "$RUN_STATUS" "run 1 (publish fails)"
touch "$FLAG"
expect_exit 0 tauon_remote rerun 1 --failed
wait_run 2 30
expect_eq success "$RUN_STATUS" "run 2 (the rerun)"
expect_exit 0 tauon show 2 --json
expect_json "$OUT" 'job("evaluate")["reused_from"] is not None, job("evaluate")["metrics"], [g["verdict"] for g in job("evaluate")["gates"]]' \
  '[true, {"accuracy": 0.97}, ["pass"]]'
expect_exit 0 tauon model show served@1 --json
expect_json "$OUT" 'd["run_id"], d["metrics"]' '[2, {"evaluate": {"accuracy": 0.97}}]'
stop_server
