# tauon serve, HTTP API and its authentication: the admin token (created on
# first start, mode 0600, reused after a restart), 401 without or with a wrong
# bearer token (/healthz and webhooks excepted), runs filtered by repository,
# branch and status and paginated (limit/before, next_before), 4xx with a
# clear message for unknown ids, bad ids and parameters, malformed and wrong
# bodies, oversized bodies (413); artifact download (exact bytes, path tricks
# 404); test results with failures first; /metrics.
source "$(dirname "$0")/lib.sh"

# One repository, two branches: main succeeds, broken fails its tests.
make_remote alpha
head -c 70000 /dev/urandom >"$REPO/model.bin"
write "$REPO/junit.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="unit" tests="4" failures="1" skipped="1">
    <testcase classname="unit.A" name="passes_first" time="0.01"/>
    <testcase classname="unit.A" name="skipped_one" time="0"><skipped/></testcase>
    <testcase classname="unit.B" name="passes_second" time="0.02"/>
    <testcase classname="unit.B" name="fails_last" time="0.03"><failure message="expected 1, got 2">trace</failure></testcase>
  </testsuite>
</testsuites>
EOF
write "$REPO/.tauon.yml" <<'EOF'
name: api
jobs:
  test:
    steps:
      - run: mkdir -p out && cp junit.xml out/junit.xml && test "$(cat result.txt)" = ok
    reports: { junit: out/junit.xml }
  package:
    steps:
      - run: |
          mkdir -p "out/dist/sub dir" out/other
          cp model.bin out/dist/model.bin
          printf 'nested ü\n' > "out/dist/sub dir/notes.txt"
          echo other > out/other/model.bin
    artifacts: [out/dist/, out/other/]
EOF
echo ok >"$REPO/result.txt"
commit_all "alpha main"
push
git -C "$REPO" checkout -q -b broken
echo broken >"$REPO/result.txt"
commit_all "alpha broken"
push
ALPHA_BARE=$BARE
ALPHA_REPO=$REPO

make_remote beta
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  only:
    steps:
      - run: echo beta
EOF
commit_all "beta main"
push
BETA_BARE=$BARE

section "first start: the token is created with mode 0600"
[[ ! -e $DATA/token ]] || die "a token before the first start"
start_server --max-jobs 2
expect_true "the token file exists" test -f "$DATA/token"
expect_eq 600 "$(stat -c %a "$DATA/token")" "mode of the token file"
expect_match "$TOKEN" '^[0-9a-f]{32,}$' "the token"
expect_contains "$SERVER_LOG" "API token created in $DATA/token"
expect_not_contains "$SERVER_LOG" "$TOKEN" "server output"

section "auth: 401 without or with a wrong token, /healthz open"
http GET /healthz
expect_http 200 "/healthz without a token"
for path in /api/v1/runs /api/v1/repos /api/v1/runs/1 /api/v1/runs/1/logs /api/v1/runs/1/artifacts; do
  http GET "$path"
  expect_http 401 "GET $path without a token"
done
http GET /api/v1/runs
expect_contains "$BODY" "Bearer" "the 401 message"
expect_true "401 says WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer' "$HEADERS"
http POST /api/v1/runs -H "Content-Type: application/json" --data '{"repo": "alpha"}'
expect_http 401 "POST /api/v1/runs without a token"
http POST /api/v1/repos -H "Content-Type: application/json" --data "{\"name\": \"x\", \"url\": \"$BETA_BARE\"}"
expect_http 401 "POST /api/v1/repos without a token"
http POST /api/v1/runs/1/cancel
expect_http 401 "cancel without a token"
http POST /api/v1/runs/1/rerun
expect_http 401 "rerun without a token"
http DELETE /api/v1/repos/alpha
expect_http 401 "DELETE a repository without a token"
http GET /api/v1/runs -H "Authorization: Bearer ${TOKEN%?}x"
expect_http 401 "a token with its last character changed"
http GET /api/v1/runs -H "Authorization: Bearer ${TOKEN}x"
expect_http 401 "a token with a character added"
http GET /api/v1/runs -H "Authorization: Bearer "
expect_http 401 "an empty bearer token"
http GET /api/v1/runs -H "Authorization: Basic $(printf 'admin:%s' "$TOKEN" | base64 -w0)"
expect_http 401 "the token as basic auth"
http GET "/api/v1/runs?token=$TOKEN"
expect_http 401 "the token in the query"
http GET /metrics
expect_http 401 "/metrics without a token (an API call: the issue exempts only /healthz and webhooks)"
api GET /api/v1/runs
expect_http 200 "GET /api/v1/runs with the token"
expect_json "$BODY" 'd' '{"next_before": null, "runs": []}'
# The CLI: the token from the data dir, from TAUON_TOKEN, or a clear error.
expect_exit 0 tauon_remote repo list
TAUON_TOKEN=wrong-token-wrong-token expect_exit 1 tauon_remote repo list
expect_contains "$ERR" "HTTP 401"
expect_exit 0 env TAUON_TOKEN="$TOKEN" "$TAUON" --data-dir "$E2E_TMP/elsewhere" --server "$SERVER_URL" runs
expect_exit 2 "$TAUON" --data-dir "$E2E_TMP/elsewhere" --server "$SERVER_URL" runs
expect_contains "$ERR" "no API token"

section "restart: the same token, not re-created"
stop_server
start_server --max-jobs 2
expect_eq "$(tr -d '\n' <"$DATA/token")" "$TOKEN" "the token after a restart"
expect_contains "$SERVER_LOG" "API token in $DATA/token"
expect_eq 600 "$(stat -c %a "$DATA/token")" "mode of the token file after a restart"

section "repositories: bad input is 4xx and changes nothing"
repo_post() { api POST /api/v1/repos -H "Content-Type: application/json" --data-binary "$1"; }
repo_post "{\"name\": \"alpha\", \"url\": \"$ALPHA_BARE\", \"poll\": \"1h\"}"
expect_http 201 "add alpha"
repo_post "{\"name\": \"alpha\", \"url\": \"$BETA_BARE\", \"poll\": \"1h\"}"
expect_http 409 "add alpha again"
repo_post "{\"name\": \"../evil\", \"url\": \"$BETA_BARE\"}"
expect_http 400 "a name with a slash"
repo_post "{\"name\": \"\", \"url\": \"$BETA_BARE\"}"
expect_http 400 "an empty name"
repo_post "{\"name\": \"x\", \"url\": \"$BETA_BARE\", \"poll\": \"500ms\"}"
expect_http 400 "poll below 1s"
expect_contains "$BODY" "poll"
repo_post "{\"name\": \"x\", \"url\": \"$BETA_BARE\", \"poll\": \"soon\"}"
expect_http 400 "an invalid poll"
repo_post "{\"name\": \"x\", \"url\": \"$BETA_BARE\", \"branches\": \"main\"}"
expect_http 400 "branches as a string"
repo_post "{\"name\": \"x\", \"url\": \"$BETA_BARE\", \"branches\": [1]}"
expect_http 400 "branches holding a number"
repo_post "{\"name\": 5, \"url\": \"$BETA_BARE\"}"
expect_http 400 "a numeric name"
repo_post "{\"url\": \"$BETA_BARE\"}"
expect_http 400 "no name"
repo_post "{\"name\": \"x\", \"url\": \"$E2E_TMP/does-not-exist.git\"}"
expect_http 400 "a repository that does not exist"
repo_post '{"name": "x", "url": '
expect_http 400 "malformed JSON"
expect_contains "$BODY" "malformed JSON"
repo_post '["x"]'
expect_http 400 "a JSON array"
api GET /api/v1/repos
expect_json "$BODY" '[r["name"] for r in d["repos"]]' '["alpha"]'
expect_eq 1 "$(find "$DATA/mirrors" -mindepth 1 -maxdepth 1 | wc -l)" "mirrors left after refused additions"
expect_exit 0 tauon_remote repo add beta "$BETA_BARE" --poll 1h
api DELETE /api/v1/repos/nope
expect_http 404 "DELETE an unknown repository"

section "runs are queued through the API and the CLI"
trigger() { api POST /api/v1/runs -H "Content-Type: application/json" --data-binary "$1"; }
trigger '{"repo": "alpha", "ref": "main"}'
expect_http 201 "POST /api/v1/runs"
expect_json "$BODY" '[d["id"], d["repo"], d["branch"], d["status"] in ("queued", "running")]' '[1, "alpha", "main", true]'
trigger '{"repo": "alpha", "ref": "broken"}'
expect_http 201
expect_exit 0 tauon_remote trigger alpha --ref main
expect_contains "$OUT" "queued run 3: alpha main @"
expect_exit 0 tauon_remote trigger beta
expect_contains "$OUT" "queued run 4: beta main @"
expect_exit 0 tauon_remote trigger alpha --ref broken --json
expect_json "$OUT" 'd["id"], d["branch"]' '[5, "broken"]'
expect_exit 0 tauon_remote trigger beta --ref main
expect_exit 0 tauon_remote trigger alpha --ref "$(git -C "$ALPHA_REPO" rev-parse main)"
expect_exit 0 tauon_remote show 7 --json
expect_json "$OUT" 'd["commit"], d["branch"]' "[\"$(git -C "$ALPHA_REPO" rev-parse main)\", \"\"]"
wait_for 60 "seven runs to finish" eval '(( $(run_count status=success) + $(run_count status=failed) == 7 ))'

section "POST /api/v1/runs: bad input"
trigger '{"repo": "nope"}'
expect_http 404 "an unknown repository"
trigger '{"repo": "alpha", "ref": "no-such-branch"}'
expect_http 400 "an unknown ref"
trigger '{"repo": 7}'
expect_http 400 "a numeric repo"
expect_contains "$BODY" "'repo' must be a string"
trigger '{"repo": "alpha", "ref": ["main"]}'
expect_http 400 "a list as ref"
trigger '{}'
expect_http 400 "no repo"
trigger '{"repo": "alpha"'
expect_http 400 "malformed JSON"
trigger '"alpha"'
expect_http 400 "a JSON string"
expect_exit 1 tauon_remote trigger nope
expect_contains "$ERR" "no repository named 'nope'"
expect_eq 7 "$(run_count)" "runs after refused triggers"

section "runs: filters"
filter_ids() {
  runs_json "$1"
  jget "$BODY" '[r["id"] for r in d["runs"]]'
}
expect_eq "[7, 6, 5, 4, 3, 2, 1]" "$(filter_ids "")" "all runs, newest first"
expect_eq "[7, 5, 3, 2, 1]" "$(filter_ids repo=alpha)" "repo=alpha"
expect_eq "[6, 4]" "$(filter_ids repo=beta)" "repo=beta"
expect_eq "[5, 2]" "$(filter_ids branch=broken)" "branch=broken"
expect_eq "[5, 2]" "$(filter_ids status=failed)" "status=failed"
expect_eq "[7, 6, 4, 3, 1]" "$(filter_ids status=success)" "status=success"
expect_eq "[3, 1]" "$(filter_ids "repo=alpha&branch=main&status=success")" "alpha, main, success (run 7 ran a bare commit)"
expect_eq "[6, 4]" "$(filter_ids "repo=beta&branch=main")" "beta, main"
expect_eq "[]" "$(filter_ids "repo=beta&status=failed")" "beta, failed"
expect_eq "[]" "$(filter_ids repo=nope)" "an unknown repository filter"
expect_eq "[]" "$(filter_ids status=cancelled)" "status=cancelled"
expect_eq "[5, 2]" "$(filter_ids "branch=broken&repo=&status=")" "empty parameters are ignored"
expect_exit 0 tauon_remote runs --json --status failed
expect_json "$OUT" '[r["id"] for r in d]' '[5, 2]'
expect_exit 0 tauon_remote runs --json --branch main -n 2
expect_json "$OUT" '[r["id"] for r in d]' '[6, 4]'
expect_exit 0 tauon_remote runs
expect_match "$OUT" '^5 +failed +alpha +broken '

section "runs: pagination"
api_json "/api/v1/runs?limit=3"
expect_json "$BODY" '[r["id"] for r in d["runs"]], d["next_before"]' '[[7, 6, 5], 5]'
api_json "/api/v1/runs?limit=3&before=5"
expect_json "$BODY" '[r["id"] for r in d["runs"]], d["next_before"]' '[[4, 3, 2], 2]'
api_json "/api/v1/runs?limit=3&before=2"
expect_json "$BODY" '[r["id"] for r in d["runs"]], d["next_before"]' '[[1], null]'
api_json "/api/v1/runs?limit=2&repo=alpha"
expect_json "$BODY" '[r["id"] for r in d["runs"]], d["next_before"]' '[[7, 5], 5]'
api_json "/api/v1/runs?limit=2&repo=alpha&before=5"
expect_json "$BODY" '[r["id"] for r in d["runs"]], d["next_before"]' '[[3, 2], 2]'
api_json "/api/v1/runs?limit=2&repo=alpha&before=2"
expect_json "$BODY" '[r["id"] for r in d["runs"]]' '[1]'
api_json "/api/v1/runs?before=1"
expect_json "$BODY" 'd' '{"next_before": null, "runs": []}'
api_json "/api/v1/runs?limit=500"
expect_json "$BODY" 'len(d["runs"]), d["next_before"]' '[7, null]'
# Walking the pages by next_before visits every run once.
WALK=$("$PY" - "$SERVER_URL" "$TOKEN" <<'PYEOF'
import json, sys, urllib.request
url, token = sys.argv[1:3]
seen, before = [], None
for _ in range(20):
    q = "/api/v1/runs?limit=2" + ("&before=%d" % before if before else "")
    req = urllib.request.Request(url + q, headers={"Authorization": "Bearer " + token})
    page = json.load(urllib.request.urlopen(req, timeout=10))
    seen += [r["id"] for r in page["runs"]]
    before = page["next_before"]
    if before is None:
        break
print(seen)
PYEOF
)
expect_eq "[7, 6, 5, 4, 3, 2, 1]" "$WALK" "runs seen walking pages of 2"

section "runs: bad parameters are 400"
for query in status=bogus status=SUCCESS limit=0 limit=-1 limit=abc limit=501 limit=1e3 before=x before=-3 before=1.5; do
  api GET "/api/v1/runs?$query"
  expect_http 400 "GET /api/v1/runs?$query"
  expect_json "$BODY" 'isinstance(d["error"], str) and len(d["error"]) > 5' true
done
api GET "/api/v1/runs?status=bogus"
expect_contains "$BODY" "invalid status 'bogus'"
expect_exit 2 tauon_remote runs --status bogus

section "unknown and bad run ids"
for path in /api/v1/runs/999 /api/v1/runs/999/tests /api/v1/runs/999/artifacts \
  /api/v1/runs/999/logs "/api/v1/runs/999/logs?follow=1" /api/v1/runs/999/artifacts/out/dist/model.bin; do
  api GET "$path"
  expect_http 404 "GET $path"
done
api GET /api/v1/runs/999
expect_contains "$BODY" "no run 999"
api POST /api/v1/runs/999/cancel
expect_http 404 "cancel run 999"
api POST /api/v1/runs/999/rerun
expect_http 404 "rerun run 999"
for id in abc -1 1.5 0x10 99999999999999999999 "%20" 1%00; do
  api GET "/api/v1/runs/$id"
  [[ $HTTP == 400 || $HTTP == 404 ]] || fail "GET /api/v1/runs/$id: expected 400 (or 404), got $HTTP"
  pass
done
api GET /api/v1/runs/abc
expect_http 400 "GET /api/v1/runs/abc"
expect_contains "$BODY" "invalid run id"
api POST /api/v1/runs/abc/cancel
expect_http 400 "cancel run abc"
api POST /api/v1/runs/1/rerun -H "Content-Type: application/json" --data '{"failed": "yes"}'
expect_http 400 "rerun with failed as a string"
api POST /api/v1/runs/1/rerun -H "Content-Type: application/json" --data '{"failed": '
expect_http 400 "rerun with malformed JSON"
api POST /api/v1/runs/1/cancel
expect_http 409 "cancel a finished run"
expect_contains "$BODY" "success"
expect_exit 1 tauon_remote show 999
expect_contains "$ERR" "no run 999"
expect_exit 2 tauon_remote show abc
expect_exit 1 tauon_remote logs 999
expect_exit 1 tauon_remote logs 999 -f
expect_match "$ERR" "no run 999|HTTP 404" "tauon logs 999 -f"
expect_not_contains "$ERR" "body limit" "tauon logs 999 -f"
expect_exit 1 tauon_remote cancel 999
expect_exit 1 tauon_remote rerun 999
api GET /api/v1/nothing-here
expect_http 404 "an unknown path"
api DELETE /api/v1/runs/1
[[ $HTTP == 404 || $HTTP == 405 ]] || fail "DELETE /api/v1/runs/1: expected 404 or 405, got $HTTP"
pass
expect_eq 7 "$(run_count)" "runs after all the bad requests"

section "oversized bodies are 413"
head -c $((33 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$E2E_TMP/big.json"
# A client that asks first (Expect: 100-continue, as curl and most clients do
# for large uploads) gets the 413 before sending the body.
api POST /api/v1/runs -H "Content-Type: application/json" -H "Expect: 100-continue" --data-binary "@$E2E_TMP/big.json"
expect_http 413 "a 33 MiB body to /api/v1/runs (Expect: 100-continue)"
expect_contains "$BODY" "larger than"
http POST /api/v1/hooks/github -H "Content-Type: application/json" -H "X-GitHub-Event: push" \
  -H "Expect: 100-continue" --data-binary "@$E2E_TMP/big.json"
expect_http 413 "a 33 MiB webhook (Expect: 100-continue)"
# A client that just sends: the server answers 413 and closes without reading
# the rest, so the client may see a reset instead of the answer (000).
api POST /api/v1/runs -H "Content-Type: application/json" -H "Expect:" --data-binary "@$E2E_TMP/big.json"
[[ $HTTP == 413 || $HTTP == 000 ]] || fail "a 33 MiB body sent at once: expected 413 (or a reset), got $HTTP"
pass
[[ $HTTP == 000 ]] && echo "  a 33 MiB body sent at once: the connection was reset before the 413 was read"
api POST /api/v1/runs -H "Content-Type: application/json" -H "Transfer-Encoding: chunked" \
  --data-binary "@$E2E_TMP/big.json"
[[ $HTTP == 413 || $HTTP == 000 ]] || fail "a 33 MiB chunked body: expected 413 (or a reset), got $HTTP"
pass
[[ $HTTP == 000 ]] && echo "  a 33 MiB chunked body: the connection was reset before the 413 was read"
rm -f "$E2E_TMP/big.json"
expect_true "the server survives oversized bodies" server_up
expect_eq 7 "$(run_count)" "runs after oversized bodies"

section "artifacts: listed, downloaded byte for byte, no path tricks"
api_json /api/v1/runs/1/artifacts
expect_json "$BODY" 'sorted((a["job"], a["path"]) for a in d["artifacts"])' \
  '[["package", "out/dist/model.bin"], ["package", "out/dist/sub dir/notes.txt"], ["package", "out/other/model.bin"]]'
expect_json "$BODY" '[a["size"] for a in d["artifacts"] if a["path"] == "out/dist/model.bin"]' '[70000]'
api GET /api/v1/runs/1/artifacts/out/dist/model.bin -o "$E2E_TMP/downloaded.bin"
expect_http 200 "download out/dist/model.bin"
expect_true "the download is byte for byte model.bin" cmp -s "$ALPHA_REPO/model.bin" "$BODY"
expect_true "application/octet-stream" grep -qi '^Content-Type: application/octet-stream' "$HEADERS"
expect_true "the digest header matches" grep -qi "^X-Tauon-Digest: sha256:$(sha256sum <"$ALPHA_REPO/model.bin" | cut -d' ' -f1)" "$HEADERS"
api GET "/api/v1/runs/1/artifacts/out/dist/sub%20dir/notes.txt"
expect_http 200 "download a path with a space"
expect_eq "nested ü" "$(cat "$BODY")" "notes.txt"
api GET /api/v1/runs/1/artifacts/out/other/model.bin
expect_http 200
expect_eq other "$(cat "$BODY")" "out/other/model.bin"
for trick in "out/dist/../../token" "../../token" "..%2F..%2Ftoken" "out/dist/%2e%2e/%2e%2e/token" \
  "%2e%2e/%2e%2e/%2e%2e/tauon.db" "/etc/passwd" "%2Fetc%2Fpasswd" "out/dist/../dist/model.bin" \
  "out/dist/./model.bin" "out//dist/model.bin" "out/dist/model.bin%00.txt" "out/dist" "out/dist/"; do
  api GET "/api/v1/runs/1/artifacts/$trick" --path-as-is
  expect_http 404 "artifact path '$trick'"
  expect_not_contains "$BODY" "$TOKEN" "the answer to '$trick'"
done
api GET /api/v1/runs/2/artifacts/out/dist/model.bin
expect_http 200 "the failed run's package artifact"
api GET /api/v1/runs/4/artifacts/out/dist/model.bin
expect_http 404 "an artifact of another repository's run"

section "tests: failures first"
api_json /api/v1/runs/2/tests
expect_json "$BODY" '[(t["name"], t["status"]) for t in d["tests"]]' \
  '[["fails_last", "failed"], ["passes_first", "passed"], ["passes_second", "passed"], ["skipped_one", "skipped"]]'
expect_json "$BODY" 'd["tests"][0]["message"], d["tests"][0]["job"], d["tests"][0]["classname"]' \
  '["expected 1, got 2", "test", "unit.B"]'
api_json /api/v1/runs/2
expect_json "$BODY" '[j["tests"] for j in d["jobs"] if j["name"] == "test"][0]["failed"]' 1
api GET /api/v1/runs/abc/tests
expect_http 400

section "/metrics"
api GET /metrics
expect_http 200 "/metrics with the token"
expect_true "Prometheus text" grep -qi '^Content-Type: text/plain; version=0.0.4' "$HEADERS"
expect_contains "$BODY" 'tauon_runs{status="success"} 5'
expect_contains "$BODY" 'tauon_runs{status="failed"} 2'
expect_contains "$BODY" 'tauon_run_queue_length 0'
expect_contains "$BODY" 'tauon_job_slots 2'
expect_contains "$BODY" 'tauon_job_duration_seconds_count 12'
expect_match "$BODY" '^tauon_job_duration_seconds_bucket\{le="\+Inf"\} 12$'

stop_server

section "the CLI when the server is down"
expect_exit 1 tauon_remote runs
expect_contains "$ERR" "cannot reach the server at $SERVER_URL"
