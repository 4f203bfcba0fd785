#!/usr/bin/env bash
# Test prioritisation quality: replays the shared test histories and
# synthetic ones (held out: Tauon's method was never tuned on them) with
# `tauon tests replay`, printing each method's mean APFD over the failing
# cycles and over the non-trivial ones (more than one test, not all failing).
#
# usage: bench/replay_bench.sh [--tauon PATH] [--data DIR] [--synthetic "SEEDS"]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tauon="$here/../build/tauon"
data="$here/../../shared/data"
[[ -d "$data" ]] || data=/work/shared/data
seeds="1 2 3"
while (($#)); do
  case $1 in
    --tauon) tauon=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --synthetic) seeds=$2; shift 2 ;;
    *) echo "usage: $0 [--tauon PATH] [--data DIR] [--synthetic \"SEEDS\"]" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files=("$data/iofrol.csv" "$data/square_retrofit.csv.gz")
for seed in $seeds; do
  python3 "$here/synth_history.py" "$seed" "$tmp/synthetic-$seed.csv"
  files+=("$tmp/synthetic-$seed.csv")
done
for file in "${files[@]}"; do
  start=$(date +%s%N)
  "$tauon" tests replay "$file"
  echo "  ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
done
