# The command line: --help for every subcommand, usage errors exit 2, missing
# runs fail cleanly, read-only commands on an empty data dir, the data dir
# options, and -j (one job at a time with -j 1, overlapping with -j 2).
source "$(dirname "$0")/lib.sh"

section "--help and --version"
expect_exit 0 tauon --help
expect_contains "$OUT" "Usage:"
for sub in run validate runs show logs artifacts; do
  expect_exit 0 tauon "$sub" --help
  expect_contains "$OUT" "Usage:" "tauon $sub --help"
  expect_contains "$OUT" "$sub" "tauon $sub --help"
  expect_exit 0 tauon "$sub" -h
done
expect_exit 0 tauon run --help
for option in --ref --worktree --job -j --secrets --env; do
  expect_contains "$OUT$(cat "$ERR")" "$option" "tauon run --help"
done
expect_exit 0 tauon --version
expect_match "$OUT" '^tauon [0-9]+\.[0-9]+\.[0-9]+' "version"
expect_true "help does not create the data dir" test ! -e "$DATA"

section "usage errors exit 2"
expect_exit 2 tauon
expect_exit 2 tauon frobnicate
expect_exit 2 tauon run --bogus
expect_contains "$ERR" "--bogus"
expect_exit 2 tauon show --bogus 1
expect_exit 2 tauon runs --bogus
expect_exit 2 tauon run -j 0
expect_exit 2 tauon run -j many
expect_exit 2 tauon runs -n 0
touch "$E2E_TMP/a-file"
expect_exit 2 "$TAUON" runs --data-dir "$E2E_TMP/a-file"
expect_contains "$ERR" "tauon: error: --data-dir $E2E_TMP/a-file is not a directory"
expect_exit 1 "$TAUON" show last --data-dir "$E2E_TMP/a-file"
expect_contains "$ERR" "tauon: error: --data-dir $E2E_TMP/a-file is not a directory"
expect_exit 2 tauon show
expect_exit 2 tauon logs
expect_exit 2 tauon artifacts
expect_exit 2 tauon run --secrets

section "read-only commands on an empty data dir"
expect_exit 0 tauon runs --json
expect_eq "[]" "$(cat "$OUT")" "tauon runs --json"
expect_exit 0 tauon runs
expect_not_contains "$OUT$(cat "$ERR")" "Segmentation" "tauon runs"
expect_exit 1 tauon show last
expect_contains "$ERR" "no runs recorded in $DATA"
expect_exit 1 tauon logs 1
expect_exit 1 tauon artifacts last
expect_true "read-only commands do not create the data dir" test ! -e "$DATA"

section "missing runs fail cleanly"
make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  a:
    steps:
      - run: date +%s%3N > "$STAMPS/a.start"; mkdir "$STAMPS/lock" || exit 1; sleep 0.4; rmdir "$STAMPS/lock"; date +%s%3N > "$STAMPS/a.end"
  b:
    steps:
      - run: date +%s%3N > "$STAMPS/b.start"; mkdir "$STAMPS/lock" || exit 1; sleep 0.4; rmdir "$STAMPS/lock"; date +%s%3N > "$STAMPS/b.end"
  c:
    steps:
      - run: date +%s%3N > "$STAMPS/c.start"; mkdir "$STAMPS/lock" || exit 1; sleep 0.4; rmdir "$STAMPS/lock"; date +%s%3N > "$STAMPS/c.end"
  slow1:
    steps:
      - run: date +%s%3N > "$STAMPS/slow1.start"; sleep 1; date +%s%3N > "$STAMPS/slow1.end"
  slow2:
    steps:
      - run: date +%s%3N > "$STAMPS/slow2.start"; sleep 1; date +%s%3N > "$STAMPS/slow2.end"
EOF
commit_all "jobs for -j"
STAMPS="$E2E_TMP/stamps"
mkdir -p "$STAMPS"
expect_exit 0 tauon run "$REPO" --job a --env "STAMPS=$STAMPS"
expect_exit 1 tauon show 999
expect_contains "$ERR" "no run 999"
expect_exit 2 tauon show abc
expect_contains "$ERR" "invalid run 'abc': expected a run id or 'last'"
expect_eq "" "$(cat "$OUT")" "stdout of a failed show"
expect_exit 1 tauon show 999 --json
expect_exit 1 tauon logs 999
expect_exit 1 tauon artifacts 999
expect_exit 0 tauon artifacts 1
expect_eq "run 1 stored no artifacts" "$(cat "$OUT")" "tauon artifacts of a run without any"
expect_exit 0 tauon artifacts 1 --json
expect_eq "[]" "$(cat "$OUT")" "tauon artifacts --json"

section "where the data dir is"
# --data-dir after the subcommand, and $TAUON_DATA_DIR.
expect_exit 0 timeout 60 "$TAUON" show 1 --json --data-dir "$DATA"
expect_json "$OUT" 'd["id"]' 1
expect_exit 0 env TAUON_DATA_DIR="$DATA" timeout 60 "$TAUON" runs --json
expect_json "$OUT" '[r["id"] for r in d]' '[1]'
expect_exit 0 env TAUON_DATA_DIR="$E2E_TMP/other-data" timeout 60 "$TAUON" run "$REPO" --job a --env "STAMPS=$STAMPS"
expect_true "TAUON_DATA_DIR is used by run" test -f "$E2E_TMP/other-data/tauon.db"

section "options before the repository argument"
# Repeatable options must not swallow the DIR positional that follows them.
expect_exit 0 tauon run --job a "$REPO" --env "STAMPS=$STAMPS"
expect_exit 0 tauon run --env "STAMPS=$STAMPS" "$REPO" --job a
expect_exit 0 tauon run --env "STAMPS=$STAMPS" --job a -- "$REPO"

section "runs filters"
expect_exit 0 tauon runs --json -n 1
expect_json "$OUT" 'len(d)' 1
expect_exit 0 tauon runs --json --repo repo
expect_json "$OUT" 'len(d) >= 1 and all(r["repo"] == "repo" for r in d)' true
expect_exit 0 tauon runs --json --repo nosuchrepo
expect_eq "[]" "$(cat "$OUT")" "runs of another repo"
expect_exit 0 tauon runs --json --branch main
expect_json "$OUT" 'all(r["branch"] == "main" for r in d)' true
expect_exit 0 tauon runs --json
expect_json "$OUT" '[r["id"] for r in d] == sorted([r["id"] for r in d], reverse=True)' true

section "-j 1 runs one job at a time"
rm -f "$STAMPS"/*
expect_exit 0 tauon run "$REPO" -j 1 --job a --job b --job c --env "STAMPS=$STAMPS"
"$PY" - "$STAMPS" >"$E2E_TMP/overlap" <<'PYEOF'
import sys, os
d = sys.argv[1]
iv = sorted((int(open(f"{d}/{j}.start").read()), int(open(f"{d}/{j}.end").read()), j) for j in "abc")
print("overlap" if any(iv[i][1] > iv[i + 1][0] for i in range(len(iv) - 1)) else "serial")
PYEOF
expect_eq serial "$(cat "$E2E_TMP/overlap")" "jobs with -j 1"
show_json last
expect_json "$JSON" '[j["status"] for j in d["jobs"]]' '["success", "success", "success"]'
expect_json "$JSON" 'sorted(d["jobs"], key=lambda j: j["started_at"])[1]["started_at"] >= sorted(d["jobs"], key=lambda j: j["started_at"])[0]["finished_at"]' true
expect_match "$OUT" '\(3 jobs, -j 1\)' "header shows -j"

section "-j 2 overlaps two independent jobs"
T0=$(now_ms)
expect_exit 0 tauon run "$REPO" -j 2 --job slow1 --job slow2 --env "STAMPS=$STAMPS"
ELAPSED=$(($(now_ms) - T0))
expect_le "$ELAPSED" 1900 "wall time of two 1s jobs with -j 2 (ms)"
expect_true "the two sleeps overlap" \
  test "$(cat "$STAMPS/slow1.start")" -lt "$(cat "$STAMPS/slow2.end")" -a "$(cat "$STAMPS/slow2.start")" -lt "$(cat "$STAMPS/slow1.end")"

section "colour only on a terminal"
expect_exit 0 tauon run "$REPO" --job a --env "STAMPS=$STAMPS"
expect_true "no escape codes when stdout is a file" bash -c "! grep -q $'\\x1b' '$OUT'"
if command -v script >/dev/null; then
  TTY_OUT="$E2E_TMP/tty.out"
  timeout 60 script -qfec "'$TAUON' --data-dir '$DATA' run '$REPO' --job a --env 'STAMPS=$STAMPS'" /dev/null >"$TTY_OUT" 2>&1
  expect_true "escape codes on a terminal" grep -q $'\x1b\\[' "$TTY_OUT"
  NO_COLOR=1 timeout 60 script -qfec "'$TAUON' --data-dir '$DATA' run '$REPO' --job a --env 'STAMPS=$STAMPS'" /dev/null >"$TTY_OUT" 2>&1
  expect_true "NO_COLOR disables colour" bash -c "! grep -q $'\\x1b' '$TTY_OUT'"
fi
