# `tauon validate [FILE]`: every error with file:line:column, the source line
# and a caret, exit 2; exit 0 on a good file. `tauon run` on a repository
# whose pipeline is broken exits 2 with the same errors and records no run.
source "$(dirname "$0")/lib.sh"

mkdir -p "$E2E_TMP/files"
cd "$E2E_TMP/files" || die "cannot cd"

section "a good file"
write good.yml <<'EOF'
name: good
on:
  push: { branches: [main, "release/*"] }
env: { SEED: "42" }
concurrency: { cancel_in_progress: true }
jobs:
  train:
    timeout: 15m
    retry: 1
    steps:
      - name: train
        run: python3 train.py
        timeout: 10m
        env: { LR: "0.1" }
    artifacts: [out/model/]
    metrics: out/metrics.json
    gates: ["accuracy >= 0.9"]
  evaluate:
    needs: [train]
    matrix: { split: [validation, holdout] }
    if: branch == 'main' && event == 'push'
    services:
      db:
        run: sleep 60
        readiness: "true"
        readiness_timeout: 5s
    steps:
      - run: echo ${{ matrix.split }}
        shell: bash
        if: always()
        continue_on_error: true
    reports: { junit: out/junit.xml }
model: { name: digits, path: out/model/ }
deploy:
  serve: { command: python3 serve.py }
  environments: { staging: { replicas: 2 } }
EOF
expect_exit 0 tauon validate good.yml
expect_eq "good.yml: ok (2 jobs, 3 with matrix expansions)" "$(cat "$OUT")" "validate output"
cp good.yml .tauon.yml
expect_exit 0 tauon validate
expect_contains "$OUT" ".tauon.yml: ok"

section "every error, with file:line:column, the line and a caret"
write bad.yml <<'EOF'
name: broken
jobs:
  train:
    need: [lint]
    steps:
      - run: echo hi
        timeout: soon
  lint:
    steps:
      - run: echo lint
        continue_on_error: maybe
    retry: many
  evaluate:
    matrix: { split: [a, b] }
    env: { TAUON_X: "1" }
    steps:
      - run: echo ${{ matrix.splt }}
        shell: zsh
EOF
expect_exit 2 tauon validate bad.yml
expect_eq "" "$(cat "$OUT")" "stdout of a failed validate"
expect_contains "$ERR" "bad.yml:4:5: unknown key 'need' in job 'train' (did you mean 'needs'?)
        need: [lint]
        ^
"
expect_contains "$ERR" "bad.yml:7:18: timeout: invalid duration 'soon'"
expect_contains "$ERR" "            timeout: soon
                     ^"
expect_contains "$ERR" "bad.yml:11:28: continue_on_error must be true or false, got 'maybe'"
expect_contains "$ERR" "bad.yml:12:12: retry must be a whole number from 0 to 10, got 'many'"
expect_contains "$ERR" "bad.yml:15:12: environment variable 'TAUON_X' is reserved"
expect_contains "$ERR" "bad.yml:17:19: job 'evaluate' has no matrix key 'splt' (did you mean 'split'?)"
expect_contains "$ERR" "          - run: echo \${{ matrix.splt }}
                      ^"
expect_contains "$ERR" "bad.yml:18:16: unknown shell 'zsh' (expected 'sh' or 'bash')"
expect_contains "$ERR" "7 errors in bad.yml"
# Errors come in file order.
expect_true "errors in file order" \
  awk -F: '/^bad.yml:[0-9]+:[0-9]+: / { if ($2 + 0 < last) exit 1; last = $2 + 0 } END { exit !(last > 0) }' "$ERR"

section "needs: cycles and missing jobs"
write cycle.yml <<'EOF'
jobs:
  a:
    needs: [b]
    steps: [{ run: "true" }]
  b:
    needs: [a]
    steps: [{ run: "true" }]
EOF
expect_exit 2 tauon validate cycle.yml
expect_contains "$ERR" "cycle.yml:6:13: dependency cycle: a -> b -> a
        needs: [a]
                ^
"
write cycle3.yml <<'EOF'
jobs:
  train:
    needs: [lint, evaluate]
    steps: [{ run: "true" }]
  evaluate:
    needs: [train]
    steps: [{ run: "true" }]
  lint:
    steps: [{ run: "true" }]
  self:
    needs: self
    steps: [{ run: "true" }]
  deploy:
    needs: [evaluat, lint]
    steps: [{ run: "true" }]
EOF
expect_exit 2 tauon validate cycle3.yml
expect_contains "$ERR" "dependency cycle: train -> evaluate -> train"
expect_contains "$ERR" "dependency cycle: self -> self"
expect_contains "$ERR" "cycle3.yml:14:13: job 'deploy' needs 'evaluat', which is not a job in this pipeline (did you mean 'evaluate'?)"

section "all errors at once: a key typo does not hide a missing need"
write mixed.yml <<'EOF'
jobs:
  a:
    need: [b]
    steps: [{ run: "true" }]
  b:
    needs: [c]
    steps: [{ run: "true" }]
EOF
expect_exit 2 tauon validate mixed.yml
expect_contains "$ERR" "mixed.yml:3:5: unknown key 'need' in job 'a' (did you mean 'needs'?)"
expect_contains "$ERR" "mixed.yml:6:13: job 'b' needs 'c', which is not a job in this pipeline"

section "other malformed files"
printf 'jobs:\n  a: [\n' >yaml.yml
expect_exit 2 tauon validate yaml.yml
expect_match "$ERR" '^yaml.yml:[0-9]+:[0-9]+: invalid YAML: ' "invalid YAML error"
printf 'job:\n  a:\n    steps: [{ run: "true" }]\n' >nojobs.yml
expect_exit 2 tauon validate nojobs.yml
expect_contains "$ERR" "nojobs.yml:1:1: unknown key 'job' in the pipeline (did you mean 'jobs'?)"
expect_contains "$ERR" "the pipeline has no 'jobs'"
: >empty.yml
expect_exit 2 tauon validate empty.yml
expect_contains "$ERR" "empty.yml:1:1: the pipeline file is empty"
printf 'jobs:\n  a:\n    steps: [{ run: "true" }]\n  a:\n    steps: [{ run: "true" }]\n' >dup.yml
expect_exit 2 tauon validate dup.yml
expect_contains "$ERR" "dup.yml:4:3: duplicate key 'a' in 'jobs' (first given at line 2)"
printf 'jobs:\n  a:\n    steps:\n      - name: no run\n' >norun.yml
expect_exit 2 tauon validate norun.yml
expect_contains "$ERR" "step in job 'a' has no 'run' command"
printf 'jobs:\n  "bad name":\n    steps: [{ run: "true" }]\n' >badname.yml
expect_exit 2 tauon validate badname.yml
expect_contains "$ERR" "badname.yml:2:3: invalid job name 'bad name'"
expect_exit 2 tauon validate missing.yml
expect_contains "$ERR" "missing.yml"

section "tauon run on a broken pipeline exits 2 and records nothing"
make_repo "$E2E_TMP/repo"
cp bad.yml "$REPO/.tauon.yml"
commit_all "a broken pipeline"
cd "$REPO" || die "cannot cd to $REPO"
expect_exit 2 tauon run
expect_contains "$ERR" ".tauon.yml:4:5: unknown key 'need' in job 'train' (did you mean 'needs'?)
        need: [lint]
        ^
"
expect_contains "$ERR" ".tauon.yml:17:19: job 'evaluate' has no matrix key 'splt'"
expect_eq "" "$(cat "$OUT")" "stdout"
expect_exit 0 tauon runs --json
expect_eq "[]" "$(cat "$OUT")" "runs after a refused pipeline"
expect_exit 2 tauon run --worktree
expect_contains "$ERR" ".tauon.yml:4:5: unknown key 'need'"

section "tauon run without a pipeline or outside a repository"
make_repo "$E2E_TMP/empty-repo"
echo "readme" >"$REPO/README"
commit_all "no pipeline"
expect_exit 2 tauon run "$REPO"
expect_contains "$ERR" "has no .tauon.yml"
mkdir -p "$E2E_TMP/not-a-repo"
expect_exit 2 tauon run "$E2E_TMP/not-a-repo"
expect_contains "$ERR" "is not a git repository"
make_repo "$E2E_TMP/no-commits"
expect_exit 2 tauon run "$E2E_TMP/no-commits"
expect_contains "$ERR" "no commits yet"
