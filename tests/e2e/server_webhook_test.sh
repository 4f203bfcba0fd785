# tauon serve, webhook triggers with real payload shapes (GitHub, GitLab and
# Gitea payloads from /work/shared/corpus/webhooks, their repository URLs
# rewritten to a bare repository on disk). Repositories poll every hour, so
# only a webhook can make a run appear. Signatures are made with openssl from
# the secret given to `repo add --webhook-secret-file`. Bad signatures, unknown
# repositories and malformed bodies are refused and queue nothing; a ping
# answers 200; a branch deletion queues nothing; the payload's refs are never
# trusted (only what a fetch finds runs).
source "$(dirname "$0")/lib.sh"

WEBHOOKS=${TAUON_WEBHOOK_CORPUS:-$(dirname "$JUNIT_CORPUS")/webhooks}
[[ -f $WEBHOOKS/github-push-branch-drone-go-scm.json ]] || die "no webhook corpus in $WEBHOOKS"

SECRET="e2e-secret-$RANDOM$RANDOM"
printf '%s\n' "$SECRET" >"$E2E_TMP/secret"

make_remote proj
write "$REPO/.tauon.yml" <<'EOF'
name: hooked
on:
  push: { branches: [main, "feature-*"] }
jobs:
  build:
    steps:
      - run: echo "hooked build of $(cat msg.txt)"
EOF
echo 0 >"$REPO/msg.txt"
commit_all "initial"
push
PROJ_BARE=$BARE
PROJ_REPO=$REPO

# A second repository whose path ends in the payloads' owner/name, so that the
# GitHub payload's own bytes (full_name "Codertocat/Hello-World") name it.
mkdir -p "$E2E_TMP/git/Codertocat"
git init -q --bare -b main "$E2E_TMP/git/Codertocat/Hello-World.git"
HELLO_BARE="$E2E_TMP/git/Codertocat/Hello-World.git"
HELLO_REPO="$E2E_TMP/hello"
git clone -q "$HELLO_BARE" "$HELLO_REPO" 2>/dev/null
git -C "$HELLO_REPO" symbolic-ref HEAD refs/heads/main
write "$HELLO_REPO/.tauon.yml" <<'EOF'
jobs:
  hello:
    steps:
      - run: echo hello
EOF
commit_all "hello" "$HELLO_REPO"
git -C "$HELLO_REPO" push -q origin HEAD || die "push hello"

# A third repository registered without a webhook secret.
make_remote nosecret
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  a:
    steps:
      - run: echo a
EOF
commit_all "nosecret"
push
NOSECRET_BARE=$BARE
REPO=$PROJ_REPO
BARE=$PROJ_BARE

start_server --max-jobs 2
expect_exit 0 tauon_remote repo add proj "$PROJ_BARE" --poll 1h --webhook-secret-file "$E2E_TMP/secret"
expect_contains "$OUT" "webhooks accepted"
expect_exit 0 tauon_remote repo add hello "$HELLO_BARE" --poll 1h --webhook-secret-file "$E2E_TMP/secret"
expect_exit 0 tauon_remote repo add nosecret "$NOSECRET_BARE" --poll 1h
expect_exit 0 tauon_remote repo list --json
expect_json "$OUT" '{r["name"]: r["webhook_secret"] for r in d}' '{"hello": true, "nosecret": false, "proj": true}'
expect_not_contains "$OUT" "$SECRET" "repo list"
# The secret is kept by the server, readable by its owner only.
SECRET_FILES=$(find "$DATA" -type f -exec grep -lF -- "$SECRET" {} + 2>/dev/null)
for f in $SECRET_FILES; do
  expect_eq 600 "$(stat -c %a "$f")" "mode of $f, which holds the webhook secret"
done
expect_not_contains "$SERVER_LOG" "$SECRET" "server output"

# payload SRC OUT URL [REF [AFTER]]: corpus file SRC with every repository
# URL replaced by URL, its full name (owner/name) by the last two components
# of URL, and ref/after if given, into OUT.
payload() {
  "$PY" - "$WEBHOOKS/$1" "$2" "$3" "${4:-}" "${5:-}" <<'PYEOF'
import json, os, sys
src, out, url, ref, after = sys.argv[1:6]
with open(src) as f:
    d = json.load(f)
keys = ("clone_url", "ssh_url", "git_url", "html_url", "git_http_url", "git_ssh_url",
        "http_url", "web_url", "url", "homepage")
path = url[:-4] if url.endswith(".git") else url
full_name = os.path.basename(os.path.dirname(path)) + "/" + os.path.basename(path)
for key in ("repository", "project"):
    o = d.get(key)
    if isinstance(o, dict):
        for k in keys:
            if o.get(k) is not None:
                o[k] = url
        for k in ("full_name", "path_with_namespace"):
            if k in o:
                o[k] = full_name
if ref:
    d["ref"] = ref
if after:
    d["after"] = after
    if isinstance(d.get("head_commit"), dict):
        d["head_commit"]["id"] = after
with open(out, "w") as f:
    json.dump(d, f, indent=2)
PYEOF
}

# github FILE EVENT [SIGNATURE]: POST FILE to the GitHub hook, signed with
# $SECRET unless SIGNATURE is given ("" sends no signature header).
github() {
  local sig
  if (($# >= 3)); then sig=$3; else sig=$(sign_github "$SECRET" "$1"); fi
  local args=(-H "Content-Type: application/json" -H "X-GitHub-Event: $2"
    -H "X-GitHub-Delivery: $RANDOM-$RANDOM" -H "User-Agent: GitHub-Hookshot/e2e")
  [[ -n $sig ]] && args+=(-H "X-Hub-Signature-256: $sig")
  http POST /api/v1/hooks/github "${args[@]}" --data-binary "@$1"
}

# new_commit MSG: commits and pushes to main of $REPO; HEAD_SHA is the commit.
new_commit() {
  echo "$1" >"$REPO/msg.txt"
  commit_all "$1"
  HEAD_SHA=$(head_sha)
  push
}

runs_of() { run_count "repo=$1"; }

section "a signed GitHub push queues a run at once (polling is hourly)"
settle 1
expect_eq 0 "$(run_count)" "runs before any webhook"
new_commit "first hooked commit"
payload github-push-branch-drone-go-scm.json "$E2E_TMP/push1.json" "$PROJ_BARE" refs/heads/main "$HEAD_SHA"
T0=$(now_ms)
github "$E2E_TMP/push1.json" push
expect_http 202 "signed GitHub push"
expect_json "$BODY" 'd["repo"]' proj
wait_for 5 "the webhook's run" at_least_runs 1
LATENCY=$(($(now_ms) - T0))
echo "  webhook -> run queued: ${LATENCY}ms"
expect_le "$LATENCY" 2000 "ms from webhook to queued run"
wait_run 1 30
expect_eq success "$RUN_STATUS" "run 1"
expect_eq "proj main $HEAD_SHA push" "$(run_field 1 'd["repo"] + " " + d["branch"] + " " + d["commit"] + " " + d["event"]')" "run 1"
settle 1
expect_eq 1 "$(run_count)" "runs after one webhook"

section "the same delivery again queues nothing (the head was already run)"
github "$E2E_TMP/push1.json" push
expect_http 202
settle 1.5
expect_eq 1 "$(run_count)" "runs after a redelivery"

section "the payload's refs are not trusted: a push naming an unknown commit queues nothing"
payload github-push-branch-drone-go-scm.json "$E2E_TMP/bogus.json" "$PROJ_BARE" refs/heads/main \
  1234567890123456789012345678901234567890
github "$E2E_TMP/bogus.json" push
expect_http 202
settle 1.5
expect_eq 1 "$(run_count)" "runs after a payload naming a commit nobody pushed"

section "a wrong or missing signature is 401 and queues nothing"
new_commit "second hooked commit"
SECOND_SHA=$HEAD_SHA
payload github-push-branch-drone-go-scm.json "$E2E_TMP/push2.json" "$PROJ_BARE" refs/heads/main "$SECOND_SHA"
github "$E2E_TMP/push2.json" push "$(sign_github "not-the-secret" "$E2E_TMP/push2.json")"
expect_http 401 "wrong secret"
expect_contains "$BODY" "signature"
github "$E2E_TMP/push2.json" push ""
expect_http 401 "no signature header"
GOOD_SIG=$(sign_github "$SECRET" "$E2E_TMP/push2.json")
github "$E2E_TMP/push2.json" push "${GOOD_SIG/sha256=/sha1=}"
expect_http 401 "signature with the wrong prefix"
github "$E2E_TMP/push2.json" push "${GOOD_SIG:0:70}"
expect_http 401 "truncated signature"
# A body changed after signing.
sed 's/second hooked commit/tampered/' "$E2E_TMP/push2.json" >"$E2E_TMP/tampered.json"
echo " " >>"$E2E_TMP/tampered.json"
github "$E2E_TMP/tampered.json" push "$GOOD_SIG"
expect_http 401 "tampered body with the original signature"
settle 1.5
expect_eq 1 "$(run_count)" "runs after refused webhooks"
# The commit was there all along: the signed delivery runs it.
github "$E2E_TMP/push2.json" push
expect_http 202
wait_for 5 "the run of the second commit" at_least_runs 2
expect_eq "$SECOND_SHA" "$(run_field 2 'd["commit"]')" "run 2's commit"
wait_run 2 30

section "the payload's exact upstream bytes, matched by full_name"
# github-push-new-branch-octokit.json as committed upstream, signed as is:
# its repository is Codertocat/Hello-World, the end of the path of 'hello'.
echo more >"$HELLO_REPO/more.txt"
commit_all "hello 2" "$HELLO_REPO"
git -C "$HELLO_REPO" push -q origin HEAD || die "push hello"
github "$WEBHOOKS/github-push-new-branch-octokit.json" push
expect_http 202 "upstream GitHub payload"
expect_json "$BODY" 'd["repo"]' hello
wait_for 5 "a run of hello" at_least_runs 1 repo=hello
expect_eq 2 "$(runs_of proj)" "runs of proj (untouched)"

section "an exact clone URL match wins over a full_name suffix match"
# clone_url names proj exactly; full_name (Codertocat/Hello-World, as in the
# upstream payload) is only the end of hello's path.
"$PY" - "$E2E_TMP/push1.json" "$E2E_TMP/both.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["repository"]["full_name"] = "Codertocat/Hello-World"
json.dump(d, open(sys.argv[2], "w"))
PYEOF
github "$E2E_TMP/both.json" push
expect_http 202
expect_json "$BODY" 'd.get("repo")' proj

section "an unknown repository is 404 and queues nothing"
BEFORE=$(run_count)
SIG=$(sign_github "$SECRET" "$WEBHOOKS/github-push-branch-created-drone-go-scm.json")
github "$WEBHOOKS/github-push-branch-created-drone-go-scm.json" push "$SIG"
expect_http 404 "payload of bradrydzewski/drone-test-go"
expect_contains "$BODY" "not registered"
payload github-push-branch-drone-go-scm.json "$E2E_TMP/elsewhere.json" "$E2E_TMP/no-such-repo.git"
github "$E2E_TMP/elsewhere.json" push
expect_http 404 "payload of a path nobody registered"
# A path that only shares a prefix or a suffix with a registered one.
payload github-push-branch-drone-go-scm.json "$E2E_TMP/prefix.json" "${PROJ_BARE%.git}x.git"
github "$E2E_TMP/prefix.json" push
expect_http 404 "payload of a path that extends a registered one"

section "malformed bodies are 400 and queue nothing"
new_commit "third hooked commit (must wait for a valid hook)"
printf '{"ref": "refs/heads/main", "repository": {"clone_url": "%s"' "$PROJ_BARE" >"$E2E_TMP/truncated.json"
github "$E2E_TMP/truncated.json" push
expect_http 400 "truncated JSON"
expect_contains "$BODY" "malformed JSON"
printf '[1, 2, 3]' >"$E2E_TMP/array.json"
github "$E2E_TMP/array.json" push
expect_http 400 "a JSON array"
printf '' >"$E2E_TMP/empty.json"
github "$E2E_TMP/empty.json" push
expect_http 400 "an empty body"
printf 'payload=%s' "$(cat "$E2E_TMP/push2.json" | head -c 100)" >"$E2E_TMP/form.txt"
github "$E2E_TMP/form.txt" push
expect_http 400 "a form-encoded body"
expect_contains "$BODY" "application/json"
http POST /api/v1/hooks/github -H "Content-Type: application/json" \
  -H "X-Hub-Signature-256: $(sign_github "$SECRET" "$E2E_TMP/push2.json")" --data-binary "@$E2E_TMP/push2.json"
expect_http 400 "no X-GitHub-Event header"
expect_contains "$BODY" "X-GitHub-Event"
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); d["ref"] = 42; json.dump(d, open(sys.argv[2], "w"))' \
  "$E2E_TMP/push2.json" "$E2E_TMP/badref.json"
github "$E2E_TMP/badref.json" push
expect_http 400 "a push whose ref is a number"
settle 1.5
expect_eq "$BEFORE" "$(run_count)" "runs after refused webhooks"

section "ping answers 200 and queues nothing"
payload github-ping-octokit.json "$E2E_TMP/ping.json" "$PROJ_BARE"
github "$E2E_TMP/ping.json" ping
expect_http 200 "signed ping"
expect_json "$BODY" 'd.get("pong")' true
github "$E2E_TMP/ping.json" ping "sha256=$(printf '0%.0s' {1..64})"
expect_http 401 "ping with a wrong signature"
payload github-pull-request-opened-octokit.json "$E2E_TMP/pr.json" "$PROJ_BARE"
github "$E2E_TMP/pr.json" pull_request
expect_http 200 "a pull_request event (not acted on)"
settle 1.5
expect_eq "$BEFORE" "$(run_count)" "runs after ping and pull_request"
# The third commit is still waiting: a valid push runs it.
payload github-push-forced-actions-event-siqilu.json "$E2E_TMP/forced.json" "$PROJ_BARE" refs/heads/main "$HEAD_SHA"
github "$E2E_TMP/forced.json" push
expect_http 202 "forced-push payload"
wait_for 5 "the run of the third commit" at_least_runs $((BEFORE + 1))
expect_eq "$HEAD_SHA" "$(run_field "$((BEFORE + 1))" 'd["commit"]')" "the newest run's commit"

section "a branch deletion queues nothing"
git -C "$REPO" push -q origin "HEAD:refs/heads/feature-branch" || die "push feature-branch"
payload github-push-branch-created-drone-go-scm.json "$E2E_TMP/created.json" "$PROJ_BARE" \
  refs/heads/feature-branch "$HEAD_SHA"
BEFORE=$(run_count)
github "$E2E_TMP/created.json" push
expect_http 202 "branch created"
wait_for 5 "a run of feature-branch" at_least_runs 1 "branch=feature-branch"
BEFORE=$(run_count)
push --delete feature-branch
payload github-push-branch-deleted-drone-go-scm.json "$E2E_TMP/deleted.json" "$PROJ_BARE" refs/heads/feature-branch
github "$E2E_TMP/deleted.json" push
[[ $HTTP == 2* ]] || fail "branch deletion: expected a 2xx, got $HTTP: $(cat "$BODY")"
pass
settle 1.5
expect_eq "$BEFORE" "$(run_count)" "runs after a branch deletion"
# A deletion payload for a branch the server has not even seen deleted yet,
# and a tag push: nothing.
payload github-push-tag-deleted-octokit.json "$E2E_TMP/tagdel.json" "$PROJ_BARE"
github "$E2E_TMP/tagdel.json" push
[[ $HTTP == 2* ]] || fail "tag deletion: expected a 2xx, got $HTTP: $(cat "$BODY")"
pass
settle 1
expect_eq "$BEFORE" "$(run_count)" "runs after a tag deletion"

section "a branch the pipeline does not run: nothing"
git -C "$REPO" push -q origin "HEAD:refs/heads/docs" || die "push docs"
payload github-push-branch-drone-go-scm.json "$E2E_TMP/docs.json" "$PROJ_BARE" refs/heads/docs "$HEAD_SHA"
github "$E2E_TMP/docs.json" push
expect_http 202
settle 1.5
expect_eq "$BEFORE" "$(run_count)" "runs after a push of a branch outside on.push.branches"

section "GitLab: X-Gitlab-Token"
new_commit "gitlab commit"
payload gitlab-push-drone-go-scm.json "$E2E_TMP/gitlab.json" "$PROJ_BARE" refs/heads/main "$HEAD_SHA"
BEFORE=$(run_count)
http POST /api/v1/hooks/gitlab -H "Content-Type: application/json" -H "X-Gitlab-Event: Push Hook" \
  -H "X-Gitlab-Token: wrong-$SECRET" --data-binary "@$E2E_TMP/gitlab.json"
expect_http 401 "GitLab wrong token"
http POST /api/v1/hooks/gitlab -H "Content-Type: application/json" -H "X-Gitlab-Event: Push Hook" \
  --data-binary "@$E2E_TMP/gitlab.json"
expect_http 401 "GitLab without a token"
settle 1
expect_eq "$BEFORE" "$(run_count)" "runs after refused GitLab hooks"
http POST /api/v1/hooks/gitlab -H "Content-Type: application/json" -H "X-Gitlab-Event: Push Hook" \
  -H "X-Gitlab-Token: $SECRET" --data-binary "@$E2E_TMP/gitlab.json"
expect_http 202 "GitLab push"
wait_for 5 "the GitLab hook's run" at_least_runs $((BEFORE + 1))
expect_eq "$HEAD_SHA" "$(run_field "$((BEFORE + 1))" 'd["commit"]')" "the GitLab run's commit"
payload gitlab-push-hook-docs.json "$E2E_TMP/gitlab-docs.json" "$PROJ_BARE"
http POST /api/v1/hooks/gitlab -H "Content-Type: application/json" -H "X-Gitlab-Event: Push Hook" \
  -H "X-Gitlab-Token: $SECRET" --data-binary "@$E2E_TMP/gitlab-docs.json"
expect_http 202 "GitLab docs payload"
payload gitlab-push-branch-deleted-drone-go-scm.json "$E2E_TMP/gitlab-del.json" "$PROJ_BARE"
http POST /api/v1/hooks/gitlab -H "Content-Type: application/json" -H "X-Gitlab-Event: Push Hook" \
  -H "X-Gitlab-Token: $SECRET" --data-binary "@$E2E_TMP/gitlab-del.json"
[[ $HTTP == 2* ]] || fail "GitLab branch deletion: expected a 2xx, got $HTTP: $(cat "$BODY")"
pass
http POST /api/v1/hooks/gitlab -H "Content-Type: application/json" -H "X-Gitlab-Event: Push Hook" \
  -H "X-Gitlab-Token: $SECRET" --data-binary '{"object_kind": "push", "ref": '
expect_http 400 "GitLab malformed JSON"
settle 1.5
expect_eq $((BEFORE + 1)) "$(run_count)" "runs after the GitLab hooks"

section "Gitea: X-Gitea-Signature (hex HMAC-SHA256)"
new_commit "gitea commit"
payload gitea-push-drone-go-scm.json "$E2E_TMP/gitea.json" "$PROJ_BARE" refs/heads/main "$HEAD_SHA"
GITEA_SIG=$(openssl dgst -sha256 -hmac "$SECRET" -r <"$E2E_TMP/gitea.json" | cut -d' ' -f1)
BEFORE=$(run_count)
http POST /api/v1/hooks/gitea -H "Content-Type: application/json" -H "X-Gitea-Event: push" \
  -H "X-Gitea-Signature: $(openssl dgst -sha256 -hmac "x$SECRET" -r <"$E2E_TMP/gitea.json" | cut -d' ' -f1)" \
  --data-binary "@$E2E_TMP/gitea.json"
expect_http 401 "Gitea wrong signature"
settle 1
expect_eq "$BEFORE" "$(run_count)" "runs after a refused Gitea hook"
http POST /api/v1/hooks/gitea -H "Content-Type: application/json" -H "X-Gitea-Event: push" \
  -H "X-Gitea-Signature: $GITEA_SIG" --data-binary "@$E2E_TMP/gitea.json"
expect_http 202 "Gitea push"
wait_for 5 "the Gitea hook's run" at_least_runs $((BEFORE + 1))
expect_eq "$HEAD_SHA" "$(run_field "$((BEFORE + 1))" 'd["commit"]')" "the Gitea run's commit"
payload gitea-delete-branch-drone-go-scm.json "$E2E_TMP/gitea-del.json" "$PROJ_BARE"
http POST /api/v1/hooks/gitea -H "Content-Type: application/json" -H "X-Gitea-Event: delete" \
  -H "X-Gitea-Signature: $(openssl dgst -sha256 -hmac "$SECRET" -r <"$E2E_TMP/gitea-del.json" | cut -d' ' -f1)" \
  --data-binary "@$E2E_TMP/gitea-del.json"
[[ $HTTP == 2* ]] || fail "Gitea delete event: expected a 2xx, got $HTTP: $(cat "$BODY")"
pass
settle 1.5
expect_eq $((BEFORE + 1)) "$(run_count)" "runs after the Gitea hooks"

section "a repository without a webhook secret refuses webhooks"
payload github-push-branch-drone-go-scm.json "$E2E_TMP/nosecret.json" "$NOSECRET_BARE"
github "$E2E_TMP/nosecret.json" push
expect_http 401 "webhook for a repository without a secret"
github "$E2E_TMP/nosecret.json" push ""
expect_http 401 "unsigned webhook for a repository without a secret"
expect_eq 0 "$(runs_of nosecret)" "runs of nosecret"

section "webhooks need no API token, and the API token is no webhook signature"
github "$E2E_TMP/push1.json" push "sha256=$TOKEN"
expect_http 401 "the API token as signature"

section "every run the webhooks queued succeeded"
wait_for 30 "no run queued or running" eval '[[ $(run_count status=queued) == 0 && $(run_count status=running) == 0 ]]'
runs_json
expect_json "$BODY" 'sorted({r["status"] for r in d["runs"]})' '["success"]'

stop_server
