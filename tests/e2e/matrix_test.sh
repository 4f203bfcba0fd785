# Matrix jobs: one job per combination, named `job (key=value, ...)`,
# ${{ matrix.KEY }} substituted everywhere, `needs` on a matrix job waits for
# every expansion, and `--job NAME` selects every expansion plus their needs.
source "$(dirname "$0")/lib.sh"

STAMPS="$E2E_TMP/stamps"
mkdir -p "$STAMPS"

make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  train:
    steps:
      - run: mkdir -p out && echo trained-model > out/model.txt
    artifacts: [out/model.txt]
  evaluate:
    needs: [train]
    matrix: { split: [validation, holdout] }
    env: { SPLIT: "${{ matrix.split }}" }
    steps:
      - name: evaluate on ${{ matrix.split }}
        run: |
          echo "split=${{ matrix.split }} env=$SPLIT job=$TAUON_JOB model=$(cat out/model.txt)"
          touch "mine-${{ matrix.split }}"
          mkdir -p out && echo "score of ${{ matrix.split }}" > "out/score-${{ matrix.split }}.txt"
          sleep 0.5
          ls mine-* > seen.txt
          test "$(cat seen.txt)" = "mine-${{ matrix.split }}" || { echo "saw a sibling's files: $(cat seen.txt)"; exit 1; }
          date +%s%3N > "$STAMPS/evaluate-${{ matrix.split }}.end"
    artifacts: ["out/score-${{ matrix.split }}.txt"]
  report:
    needs: [evaluate]
    steps:
      - run: |
          date +%s%3N > "$STAMPS/report.start"
          cat out/score-validation.txt out/score-holdout.txt
  grid:
    matrix: { a: [1, 2], b: [x, y] }
    steps:
      - run: echo "grid a=${{ matrix.a }} b=${{ matrix.b }}"
  unrelated:
    steps:
      - run: echo unrelated
EOF
commit_all "a matrix"
cd "$REPO" || die "cannot cd to $REPO"

section "the whole pipeline"
expect_exit 0 tauon run -j 2 --env "STAMPS=$STAMPS"
LIVE=$OUT
expect_match "$LIVE" '\(9 jobs, -j 2\)' "header counts expansions"
expect_match "$LIVE" '^evaluate \(split=validation\) +\| split=validation env=validation job=evaluate \(split=validation\) model=trained-model$' "validation output"
expect_match "$LIVE" '^evaluate \(split=holdout\) +\| split=holdout env=holdout job=evaluate \(split=holdout\) model=trained-model$' "holdout output"
expect_match "$LIVE" '^evaluate \(split=holdout\) +\| \$ evaluate on holdout$' "substituted step name"
expect_match "$LIVE" '^report +\| score of validation$' "report sees the validation artifact"
expect_match "$LIVE" '^report +\| score of holdout$' "report sees the holdout artifact"
expect_match "$LIVE" '^grid \(a=2, b=y\) +\| grid a=2 b=y$' "2-axis matrix"
expect_not_contains "$LIVE" "saw a sibling's files" "live output"
show_json last
expect_json "$JSON" '[j["name"] for j in d["jobs"]]' \
  '["train", "evaluate (split=validation)", "evaluate (split=holdout)", "report", "grid (a=1, b=x)", "grid (a=1, b=y)", "grid (a=2, b=x)", "grid (a=2, b=y)", "unrelated"]'
expect_json "$JSON" 'set(j["status"] for j in d["jobs"])' '["success"]'
expect_json "$JSON" 'job("report")["needs"]' '["evaluate (split=validation)", "evaluate (split=holdout)"]'
expect_json "$JSON" 'step("evaluate (split=holdout)", 0)["name"]' "evaluate on holdout"
expect_json "$JSON" 'job("report")["started_at"] >= max(job("evaluate (split=validation)")["finished_at"], job("evaluate (split=holdout)")["finished_at"])' true
expect_true "report started after both evaluations finished" \
  test "$(cat "$STAMPS/report.start")" -ge "$(cat "$STAMPS/evaluate-validation.end")" -a \
  "$(cat "$STAMPS/report.start")" -ge "$(cat "$STAMPS/evaluate-holdout.end")"
expect_exit 0 tauon logs last "evaluate (split=holdout)"
expect_contains "$OUT" "split=holdout"
expect_not_contains "$OUT" "split=validation" "logs of one expansion"
# A job name without the matrix part selects every expansion.
expect_exit 0 tauon logs last evaluate
expect_contains "$OUT" "split=holdout"
expect_contains "$OUT" "split=validation"

section "--job evaluate runs every expansion and what they need"
expect_exit 0 tauon run -j 2 --job evaluate --env "STAMPS=$STAMPS"
show_json last
expect_json "$JSON" '[j["name"] for j in d["jobs"]]' '["train", "evaluate (split=validation)", "evaluate (split=holdout)"]'
expect_json "$JSON" 'set(j["status"] for j in d["jobs"])' '["success"]'

section "--job with an expanded name runs that expansion only"
expect_exit 0 tauon run --job "evaluate (split=holdout)" --env "STAMPS=$STAMPS"
show_json last
expect_json "$JSON" '[j["name"] for j in d["jobs"]]' '["train", "evaluate (split=holdout)"]'

section "--job report needs every expansion"
expect_exit 0 tauon run -j 2 --job report --env "STAMPS=$STAMPS"
show_json last
expect_json "$JSON" '[j["name"] for j in d["jobs"]]' '["train", "evaluate (split=validation)", "evaluate (split=holdout)", "report"]'

section "a failing expansion skips the jobs that need the matrix"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  check:
    matrix: { python: ["3.10", "3.11"] }
    steps:
      - run: test "${{ matrix.python }}" = 3.10
  publish:
    needs: [check]
    steps:
      - run: echo SHOULD-NOT-RUN
EOF
commit_all "a failing expansion"
expect_exit 1 tauon run -j 2
show_json last
expect_json "$JSON" '{j["name"]: j["status"] for j in d["jobs"]}' \
  '{"check (python=3.10)": "success", "check (python=3.11)": "failed", "publish": "skipped"}'
expect_json "$JSON" 'job("publish")["error"]' "needs 'check (python=3.11)' failed"
