# Durations from history: a run of a repository with earlier runs prints
# the duration it is expected to take, and after each job the time left
# (the longest chain of expected durations over the jobs not done).
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/slow"
write "$REPO/.tauon.yml" <<'YML'
jobs:
  first:
    steps: [{ run: sleep 0.2 }]
  second:
    needs: [first]
    steps: [{ run: sleep 0.4 }]
YML
commit_all "two slow jobs"

section "first run: no history, no estimates"
expect_exit 0 tauon run "$REPO"
expect_not_contains "$OUT" "expected to take"
expect_not_contains "$OUT" " left (expected from earlier runs)"

section "second run: expected duration, then time left after each job"
expect_exit 0 tauon run "$REPO"
expect_match "$OUT" "^note: expected to take about [0-9.]+(ms|s) \\(earlier runs\\)$"
# After 'first', 'second' is left: about its 0.4 s (never more than 0.4 s plus scheduling noise).
expect_match "$OUT" "^tauon: about [0-9.]+(ms|s) left \\(expected from earlier runs\\)$"
expect_eq 1 "$(grep -c ' left (expected from earlier runs)' "$OUT")" "time-left lines (none after the last job)"
line_after_first=$(grep -A1 'first  *| ✓ success' "$OUT" | tail -n 1)
expect_match "$line_after_first" "^tauon: about"

section "a job without history: no estimate"
printf '  new:\n    needs: [first]\n    steps: [{ run: "true" }]\n' >>"$REPO/.tauon.yml"
commit_all "a new job"
expect_exit 0 tauon run "$REPO"
expect_not_contains "$OUT" "expected to take"
