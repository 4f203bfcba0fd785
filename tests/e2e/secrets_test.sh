# Secrets from --secrets FILE: exported to steps and services, and masked as
# *** everywhere they could be written: live output, `tauon logs`, the log
# files, the database (errors, test reports with their class names, metric
# names; an artifact whose path holds one is not stored). Also their base64 form, a
# secret printed in two halves with a flush in between, on stderr, and a
# multi-line secret.
source "$(dirname "$0")/lib.sh"

# Values that cannot appear by accident.
SECRET="tk-$RANDOM$RANDOM-Zq8vW3xP"
HALF1=${SECRET:0:8}
HALF2=${SECRET:8}
SECRET_B64=$(printf %s "$SECRET" | base64)
OTHER="pw-$RANDOM$RANDOM-mB7"
LINE1="first-$RANDOM$RANDOM-line"
LINE2="second-$RANDOM$RANDOM-line"
SECRET_SHA=$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)

MARK="$$$RANDOM"
SECRETS_FILE="$E2E_TMP/secrets.env"
cat >"$SECRETS_FILE" <<EOF
# comment
API_TOKEN=$SECRET
export DB_PASSWORD="$OTHER"
MULTI="$LINE1\n$LINE2"
EOF

make_repo "$E2E_TMP/repo"
write "$REPO/report.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="secrets" tests="2" failures="1">
  <testcase classname="auth" name="uses the token">
    <failure message="bad token @TOKEN@">token was @TOKEN@</failure>
  </testcase>
  <testcase classname="auth.@TOKEN@" name="ok"/>
</testsuite>
EOF
write "$REPO/.tauon.yml" <<EOF
jobs:
  leak:
    services:
      helper:
        run: echo "service sees \$API_TOKEN"; exec sleep 30.$MARK
    steps:
      - name: the secret reaches the step
        run: |
          echo "length \${#API_TOKEN}"
          echo "sha \$(printf %s "\$API_TOKEN" | sha256sum | cut -d' ' -f1)"
      - name: print it
        run: |
          echo "token=\$API_TOKEN"
          echo "stderr token \$API_TOKEN" >&2
          echo "password is \$DB_PASSWORD, twice: \$DB_PASSWORD\$DB_PASSWORD"
          printf '%s' "\$API_TOKEN" | base64
          echo "inline b64 \$(printf '%s' "\$API_TOKEN" | base64)"
          printf '%s\n' "\$MULTI"
      - name: in two halves
        run: |
          printf 'half: ${HALF1}'; sleep 0.3; printf '${HALF2} end\n'
      - name: into a report
        run: sed "s/@TOKEN@/\$API_TOKEN/g" report.xml > junit.xml
      - name: no newline at the end
        run: printf 'last %s' "\$API_TOKEN"
    reports: { junit: junit.xml }
  outputs:
    steps:
      - name: secrets in a metric's name and in an artifact's path
        run: |
          printf '{"score_%s": 1, "plain": 2}' "\$API_TOKEN" > metrics.json
          mkdir -p out && echo data > "out/\$API_TOKEN.txt" && echo data > out/plain.txt
    metrics: metrics.json
    artifacts: [out/]
  probe:
    services:
      db:
        run: exec sleep 30.$MARK
        readiness: echo "probe saw \$API_TOKEN"; exit 1
        readiness_timeout: 500ms
        readiness_interval: 100ms
    steps:
      - run: echo SHOULD-NOT-RUN
EOF
commit_all "a pipeline that prints secrets"
cd "$REPO" || die "cannot cd to $REPO"
kill_at_exit "sleep 30.$MARK" # the services, should a run go wrong

section "secrets are exported to steps and masked in the live output"
expect_exit 1 tauon run -j 2 --secrets "$SECRETS_FILE"
LIVE=$OUT
expect_contains "$LIVE" "length ${#SECRET}" "live output (the step got the secret)"
expect_contains "$LIVE" "sha $SECRET_SHA" "live output (the step got the secret)"
expect_match "$LIVE" '^leak +\| token=\*\*\*$' "masked secret"
expect_match "$LIVE" '^leak +\| stderr token \*\*\*$' "masked secret on stderr"
expect_match "$LIVE" '^leak +\| password is \*\*\*, twice: \*\*\*$' "masked quoted secret"
expect_match "$LIVE" '^leak +\| \*\*\*$' "masked base64 line"
expect_match "$LIVE" '^leak +\| inline b64 \*\*\*$' "masked inline base64"
expect_match "$LIVE" '^leak +\| half: \*\*\* end$' "secret printed in two halves"
expect_match "$LIVE" '^leak +\| last \*\*\*$' "secret on a last line without newline"
expect_match "$LIVE" '^leak +\| \[helper\] service sees \*\*\*$' "masked service output"
for value in "$SECRET" "$SECRET_B64" "$OTHER" "$LINE1" "$LINE2" "$HALF1$HALF2"; do
  expect_not_contains "$LIVE" "$value" "live output"
  expect_not_contains "$ERR" "$value" "stderr"
done
show_json last
RUN=$(jget "$JSON" 'd["id"]')
expect_json "$JSON" 'job("leak")["status"]' success
expect_json "$JSON" 'job("probe")["status"]' failed
expect_json "$JSON" 'job("leak")["failed_tests"][0]["message"]' "bad token ***"
# The readiness command's output, shown in the job's error, is masked too.
expect_json "$JSON" 'job("probe")["error"].endswith("probe saw ***")' true
expect_contains "$JSON" '***' "show --json"

# A secret in a test's class name, a metric's name or an artifact's path.
expect_json "$JSON" '[t["classname"] for t in job("leak")["failed_tests"]]' '["auth"]'
expect_json "$JSON" 'job("outputs")["metrics"]' '{"plain": 2.0, "score_***": 1.0}'
expect_json "$JSON" '[a["path"] for a in job("outputs")["artifacts"]]' '["out/plain.txt"]'
expect_contains "$LIVE" "warning: artifact out/***.txt not stored: its path holds a secret"
expect_exit 0 tauon tests rank "$REPO" --json
expect_contains "$OUT" "auth.***::ok"

section "tauon logs and tauon show are masked"
expect_exit 0 tauon logs "$RUN"
expect_contains "$OUT" "token=***" "tauon logs"
expect_contains "$OUT" "half: *** end" "tauon logs"
expect_exit 0 tauon logs "$RUN" --timestamps
LOGS_TS=$OUT
expect_exit 0 tauon show "$RUN"
SHOW=$OUT
for value in "$SECRET" "$SECRET_B64" "$OTHER" "$LINE1" "$LINE2"; do
  expect_not_contains "$LOGS_TS" "$value" "tauon logs"
  expect_not_contains "$SHOW" "$value" "tauon show"
  expect_not_contains "$JSON" "$value" "tauon show --json"
done

section "no secret anywhere in the data dir (logs, database, artifacts)"
expect_true "the data dir has log files" test -n "$(find "$DATA/runs" -name '*.log' | head -1)"
for value in "$SECRET" "$SECRET_B64" "${SECRET_B64%%=*}" "$OTHER" "$LINE1" "$LINE2"; do
  E2E_CHECKS=$((E2E_CHECKS + 1))
  if LEAKS=$(grep -rlaF -- "$value" "$DATA"); then
    fail "secret value '$value' found in: $LEAKS"
    grep -raoF -- "$value" "$DATA" | head -5 | sed 's/^/    | /' >&2
  fi
done

section "a secrets file with an error: exit 2, and the value is not printed"
printf 'GOOD=1\nthis line is bad %s\n' "$SECRET" >"$E2E_TMP/bad.env"
expect_exit 2 tauon run --secrets "$E2E_TMP/bad.env"
expect_contains "$ERR" "$E2E_TMP/bad.env:2:1: expected KEY=VALUE"
expect_not_contains "$ERR" "$SECRET" "the error message"
expect_exit 2 tauon run --secrets "$E2E_TMP/missing.env"
expect_contains "$ERR" "missing.env"
