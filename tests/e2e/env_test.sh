# The environment of steps: pipeline < job < step env, --env over all of
# them, the inherited environment, CI=true and the TAUON_* variables.
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<'EOF'
env:
  LEVEL: pipeline
  FROM_PIPELINE: p
  OVERRIDDEN: pipeline
  CI: "overridden by the pipeline"
jobs:
  envjob:
    env:
      LEVEL: job
      FROM_JOB: j
    steps:
      - name: step env
        env: { LEVEL: step, FROM_STEP: s, NUMBER: 42, FLAG: true }
        run: |
          echo "LEVEL=$LEVEL FROM_PIPELINE=$FROM_PIPELINE FROM_JOB=$FROM_JOB FROM_STEP=$FROM_STEP"
          echo "NUMBER=$NUMBER FLAG=$FLAG OVERRIDDEN=$OVERRIDDEN EXTRA=$EXTRA"
      - name: job env
        run: echo "LEVEL=$LEVEL FROM_STEP=${FROM_STEP:-unset} CI=$CI INHERITED=$E2E_INHERITED"
      - name: tauon vars
        shell: bash
        run: |
          echo "TAUON_RUN_ID=$TAUON_RUN_ID"
          echo "TAUON_COMMIT=$TAUON_COMMIT"
          echo "TAUON_BRANCH=$TAUON_BRANCH"
          echo "TAUON_JOB=$TAUON_JOB"
          echo "TAUON_EVENT=$TAUON_EVENT"
          [ "$TAUON_WORKSPACE" = "$(pwd -P)" ] || [ "$(cd "$TAUON_WORKSPACE" && pwd -P)" = "$(pwd -P)" ] && echo "TAUON_WORKSPACE is the cwd"
          [ -f "$TAUON_WORKSPACE/.tauon.yml" ] && echo "the workspace holds the checkout"
  plain:
    steps:
      - run: echo "CI=$CI LEVEL=$LEVEL FROM_JOB=${FROM_JOB:-unset} TAUON_JOB=$TAUON_JOB"
  matrixed:
    matrix: { k: [x] }
    steps:
      - run: echo "TAUON_JOB=$TAUON_JOB"
EOF
commit_all "env everywhere"
SHA=$(git -C "$REPO" rev-parse HEAD)
cd "$REPO" || die "cannot cd to $REPO"

section "precedence: pipeline < job < step < --env"
expect_exit 0 env E2E_INHERITED=yes CI=false FROM_PIPELINE=from-caller timeout 60 \
  "$TAUON" --data-dir "$DATA" run --env OVERRIDDEN=cli --env EXTRA="a b=c"
LIVE=$OUT
expect_match "$LIVE" '^envjob +\| LEVEL=step FROM_PIPELINE=p FROM_JOB=j FROM_STEP=s$' "step env wins, others merge"
expect_match "$LIVE" '^envjob +\| NUMBER=42 FLAG=true OVERRIDDEN=cli EXTRA=a b=c$' "--env wins"
expect_match "$LIVE" '^envjob +\| LEVEL=job FROM_STEP=unset CI=overridden by the pipeline INHERITED=yes$' "job env in a step without env"
expect_match "$LIVE" '^plain +\| CI=overridden by the pipeline LEVEL=pipeline FROM_JOB=unset TAUON_JOB=plain$' "another job"

section "CI=true and the TAUON_* variables"
show_json last
RUN=$(jget "$JSON" 'd["id"]')
expect_match "$LIVE" "^envjob +\\| TAUON_RUN_ID=$RUN\$" "TAUON_RUN_ID"
expect_match "$LIVE" "^envjob +\\| TAUON_COMMIT=$SHA\$" "TAUON_COMMIT"
expect_match "$LIVE" '^envjob +\| TAUON_BRANCH=main$' "TAUON_BRANCH"
expect_match "$LIVE" '^envjob +\| TAUON_JOB=envjob$' "TAUON_JOB"
expect_match "$LIVE" '^envjob +\| TAUON_EVENT=push$' "TAUON_EVENT"
expect_match "$LIVE" '^envjob +\| TAUON_WORKSPACE is the cwd$' "TAUON_WORKSPACE"
expect_match "$LIVE" '^envjob +\| the workspace holds the checkout$' "TAUON_WORKSPACE content"
expect_match "$LIVE" '^matrixed \(k=x\) +\| TAUON_JOB=matrixed \(k=x\)$' "TAUON_JOB of a matrix job"
# Without a pipeline-level CI, steps see CI=true even if the caller set CI.
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  ci:
    steps:
      - run: echo "CI=$CI"
EOF
commit_all "plain CI"
expect_exit 0 env CI=false timeout 60 "$TAUON" --data-dir "$DATA" run
expect_match "$OUT" '^ci +\| CI=true$' "CI=true"
expect_exit 0 tauon run --event schedule
show_json last
expect_json "$JSON" 'd["event"]' schedule

section "invalid --env"
expect_exit 2 tauon run --env NOEQUALS
expect_contains "$ERR" "invalid --env 'NOEQUALS'"
expect_exit 2 tauon run --env 1BAD=x
expect_contains "$ERR" "invalid --env '1BAD'"
expect_exit 2 tauon run --env TAUON_JOB=x
expect_contains "$ERR" "names starting with TAUON_ are reserved"
