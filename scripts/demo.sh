#!/bin/sh
# The main job: the digits example model through Tauon, end to end.
#  1. examples/digits becomes a git repository (as a team's own would be);
#     `tauon run` lints, tests, trains and evaluates it, its gates pass, and
#     the model is registered: `tauon model show` and `tauon model lineage`.
#  2. It becomes the production model (`tauon model alias ... production`).
#  3. A second commit makes the model worse (DIGITS_DEGRADE=1, the example's
#     documented switch): its gates stop it, and `tauon model diff` shows
#     the candidate next to production.
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
say "3. Serve it: deploy the production model to staging"
python=/usr/bin/python3
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$tauon" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' EXIT
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
"$tauon" deploy staging --model digits-classifier@production
url=$("$tauon" status staging --json | "$python" -c 'import json, sys; print(json.load(sys.stdin)["url"])')
say "Predictions through staging's router ($url)"
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
"$tauon" status staging
kill "$server"
wait "$server" || true
trap - EXIT

say "Done: data in $TAUON_DATA_DIR (try: tauon --data-dir $TAUON_DATA_DIR show 2)"
