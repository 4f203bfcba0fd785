# `tauon tests replay FILE [--json]` on the shared data sets (ABB's IOF/ROL,
# square/retrofit's Travis history) and on a synthetic history Tauon was never
# tuned on: the output's shape, figures in sane ranges, Tauon's method above
# both history baselines; malformed input gets an error with its line number.
source "$(dirname "$0")/lib.sh"

SHARED_DATA=${TAUON_SHARED_DATA:-$TAUON_SOURCE_DIR/../shared/data}
cd "$E2E_TMP" || die "cannot cd"

# check_replay FILE: the text output has a comment line then one line per
# method, in order, with two APFD figures in [0, 1]; random is near 0.5,
# optimal is the best, Tauon beats failure rate and recently failed.
check_replay() {
  local file=$1
  expect_exit 0 tauon tests replay "$file" || return
  expect_match "$OUT" "^# .*: [0-9]+ cycles, [0-9]+ executions, [0-9]+ tests; mean APFD over [0-9]+ failing cycles"
  expect_eq "random failure-rate recently-failed tauon optimal" \
    "$(grep -v '^#' "$OUT" | awk '{print $1}' | xargs)" "methods of $file"
  expect_eq 0 "$(grep -v '^#' "$OUT" | grep -cvE '^[a-z-]+ +[01]\.[0-9]{4} [01]\.[0-9]{4}$')" \
    "malformed method lines"
  cp "$OUT" "$E2E_TMP/replay.txt"
  expect_exit 0 tauon tests replay "$file" --json || return
  json=$OUT
  expect_json "$json" "[m['name'] for m in d['methods']]" \
    '["random", "failure-rate", "recently-failed", "tauon", "optimal"]'
  expect_json "$json" "all(0 <= m['apfd_failing'] <= 1 and 0 <= m['apfd_nontrivial'] <= 1 for m in d['methods'])" true
  expect_json "$json" "abs({m['name']: m for m in d['methods']}['random']['apfd_failing'] - 0.5) < 0.05" true
  expect_json "$json" "max(m['apfd_failing'] for m in d['methods']) == d['methods'][4]['apfd_failing']" true
  expect_json "$json" "(lambda m: m['tauon']['apfd_failing'] > max(m['failure-rate']['apfd_failing'], m['recently-failed']['apfd_failing']))({m['name']: m for m in d['methods']})" true
  expect_json "$json" "sorted(d['tauon_candidates']) == ['learned', 'markov', 'recently-failed'] and d['tauon_leader'] in d['tauon_candidates']" true
  # Text and JSON agree.
  expect_eq "$(jget "$json" "'%.4f' % d['methods'][3]['apfd_failing']")" \
    "$(awk '$1 == "tauon" {print $2}' "$E2E_TMP/replay.txt")" "tauon APFD, text vs JSON"
}

section "iofrol.csv (plain)"
check_replay "$SHARED_DATA/iofrol.csv"
# The published baselines (SOURCES.md), within what tie-breaking changes.
expect_json "$json" "d['failing_cycles'], d['nontrivial_cycles'], d['cycles'], d['tests']" "[271, 206, 320, 1941]"
expect_json "$json" "round(d['methods'][4]['apfd_failing'], 3)" 0.731
expect_json "$json" "round(d['methods'][2]['apfd_failing'], 3)" 0.602
expect_json "$json" "abs(d['methods'][1]['apfd_failing'] - 0.595) < 0.01" true

section "square_retrofit.csv.gz (gzip)"
check_replay "$SHARED_DATA/square_retrofit.csv.gz"
expect_json "$json" "d['failing_cycles'], d['cycles']" "[125, 2711]"
expect_json "$json" "round(d['methods'][4]['apfd_failing'], 3)" 0.942
expect_json "$json" "round(d['methods'][2]['apfd_failing'], 3)" 0.807

section "a synthetic history (held out: never tuned on)"
"$PY" "$TAUON_SOURCE_DIR/bench/synth_history.py" 7 synth.csv || fail "synth_history.py failed"
check_replay synth.csv

section "malformed input"
printf 'Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle\n1;a;1;0;x;[];1;1\n2;b;1;0;x;[];maybe;1\n' >bad.csv
expect_exit 1 tauon tests replay bad.csv
expect_eq "tauon: error: bad.csv:3: Verdict must be 0 or 1, found 'maybe'" "$(cat "$ERR")"
printf 'Name,Verdict\n' >comma.csv
expect_exit 1 tauon tests replay comma.csv
expect_contains "$ERR" "comma.csv:1: expected the header 'Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle', found 'Name,Verdict'"
expect_exit 1 tauon tests replay missing.csv
expect_contains "$ERR" "missing.csv: cannot open"
expect_exit 2 tauon tests replay

