#!/bin/sh
# The main job: the digits example model through Tauon, end to end.
#  1. examples/digits becomes a git repository (as a team's own would be);
#     `tauon run` lints, tests, trains and evaluates it, its gates pass, and
#     the model is registered: `tauon model show` and `tauon model lineage`.
#  2. It becomes the production model (`tauon model alias ... production`).
#  3. A second commit makes the model worse (DIGITS_DEGRADE=1, the example's
#     documented switch): its gates stop it, and `tauon model diff` shows
#     the candidate next to production.
#  4. `tauon serve` hosts staging and production: version 1 goes to staging,
#     then, approved with `tauon promote`, to production.
#  5. Under constant traffic on production, a third commit (the worse change
#     reverted, version 2) rolls out to staging replica by replica (rolling)
#     and to production step by step (canary, with live analysis).
#  6. A fourth commit breaks serving (DIGITS_SERVE_FAULTS=0.3): its gates
#     pass, staging takes it, and production's canary analysis rolls it back
#     by itself: production keeps serving version 2.
# Exits 0 when all of that happened as described.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tauon=${TAUON:-"$root/build/tauon"}
work=${TAUON_DEMO_DIR:-$(mktemp -d /tmp/tauon-demo.XXXXXX)}
repo="$work/digits"
rm -rf "$repo" "$work/.tauon"
cp -r "$root/examples/digits" "$repo"
cd "$repo"
git init -q -b main
git add -A
git -c user.name="Tauon Demo" -c user.email=demo@tauon.invalid commit -q -m "Digits classifier"
export TAUON_DATA_DIR="$work/.tauon"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Run the pipeline of $repo (commit $(git rev-parse --short HEAD))"
"$tauon" run
say "The registered model and where it comes from"
"$tauon" model show digits-classifier@1
"$tauon" model lineage digits-classifier@1
"$tauon" model alias digits-classifier@1 production

say "2. Commit a change that makes the model worse (DIGITS_DEGRADE=1)"
sed -i 's|^  PYTHONPATH: src$|  PYTHONPATH: src\n  DIGITS_DEGRADE: "1"        # train on 3 images per digit: a worse model|' .tauon.yml
git -c user.name="Tauon Demo" -c user.email=demo@tauon.invalid commit -q -am "Train on less data"
if "$tauon" run; then
  echo "demo: the worse model was not stopped by its gates" >&2
  exit 1
fi
say "The candidate next to production: its gates stopped it, nothing was registered"
"$tauon" model diff digits-classifier@production run:2
"$tauon" models
say "3. Serve it: tauon serve, version 1 to staging, then (approved) to production"
python=/usr/bin/python3
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$tauon" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
load=
trap 'kill $load "$server" 2>/dev/null; wait "$server" 2>/dev/null' EXIT
export TAUON_SERVER="http://127.0.0.1:$port"
"$python" - "$TAUON_SERVER/healthz" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("demo: the server did not start")
PY
url_of() { "$tauon" status "$1" --json | "$python" -c 'import json, sys; print(json.load(sys.stdin)["url"])'; }
"$tauon" deploy staging --model digits-classifier@production
# staging is live: production (approval: manual) waits for a promote.
"$tauon" promote production --wait
url=$(url_of production)
say "Predictions through production's router ($url)"
"$python" - "$url" <<'PY'
import json, sys, urllib.request
from sklearn.datasets import load_digits
digits = load_digits()
for i in (0, 11, 42):
    body = json.dumps({"pixels": digits.data[i].tolist()}).encode()
    request = urllib.request.Request(sys.argv[1] + "/predict", body,
                                     {"Content-Type": "application/json"})
    answer = json.load(urllib.request.urlopen(request, timeout=10))
    print(f"image {i}: label {digits.target[i]}, predicted {answer['digit']}")
PY

# Users' traffic on production from here on: predictions at about 100 per
# second (at most 10 minutes); on SIGTERM it prints what it got.
"$python" - "$url" >"$work/load.txt" 2>&1 <<'PY' &
import json, signal, sys, time, urllib.error, urllib.request
from sklearn.datasets import load_digits
pixels = load_digits().data
codes = {}
def report(*_):
    print("production answered: " + ", ".join(f"{n} x {c}" for c, n in sorted(codes.items())))
    sys.exit(0)
signal.signal(signal.SIGTERM, report)
end = time.time() + 600
i = 0
while time.time() < end:
    body = json.dumps({"pixels": pixels[i % len(pixels)].tolist()}).encode()
    request = urllib.request.Request(sys.argv[1] + "/predict", body, {"Content-Type": "application/json"})
    try:
        code = urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as e:
        code = e.code
    except OSError as e:
        code = type(e).__name__
    codes[code] = codes.get(code, 0) + 1
    i += 1
    time.sleep(0.01)
report()
PY
load=$!
commit() { git -c user.name="Tauon Demo" -c user.email=demo@tauon.invalid commit -q -am "$1"; }

say "4. Undo the worse change: version 2, rolled out to staging (rolling), then production (canary)"
git -c user.name="Tauon Demo" -c user.email=demo@tauon.invalid revert --no-edit HEAD >/dev/null
"$tauon" run >"$work/run3.log" 2>&1 || { cat "$work/run3.log"; exit 1; }
tail -n 1 "$work/run3.log"
"$tauon" deploy staging --model digits-classifier@2
"$tauon" promote production --wait

say "5. A bad release: version 3 serves 30% of its predictions as errors (DIGITS_SERVE_FAULTS)"
sed -i 's|^    readiness: { http: /healthz, period: 1s, timeout: 1s }$|&\n    env: { DIGITS_SERVE_FAULTS: "0.3" }   # a broken release|' .tauon.yml
commit "Serve with fault injection"
"$tauon" run >"$work/run4.log" 2>&1 || { cat "$work/run4.log"; exit 1; }
tail -n 1 "$work/run4.log"
echo "Its gates pass: the model is fine, its serving is not. Staging has no analysis:"
"$tauon" deploy staging --model digits-classifier@3
echo "Production's canary analysis catches it:"
if "$tauon" promote production --wait; then
  echo "demo: the broken release was not rolled back" >&2
  exit 1
fi
kill "$load"
wait "$load" || true
load=
cat "$work/load.txt"
say "Production after the automatic rollback"
"$tauon" status production
kill "$server"
wait "$server" || true
trap - EXIT

say "Done: data in $TAUON_DATA_DIR"
echo "The dashboard shows the rollouts and the rollback: tauon --data-dir $TAUON_DATA_DIR serve,"
echo "then open /environments/production (the token is in $TAUON_DATA_DIR/token)."
