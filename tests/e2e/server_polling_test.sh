# tauon serve, polling trigger: a repository registered with --poll 1s gets
# exactly one run per new head of a matching branch, pushed with a real
# `git push` into a bare repository. Branches filtered out by `repo add
# --branch` or by the pipeline's on.push.branches, and branch deletions, queue
# nothing; several commits pushed at once queue one run, for the head.
source "$(dirname "$0")/lib.sh"

make_remote proj
write "$REPO/.tauon.yml" <<'EOF'
name: polled
on:
  push: { branches: [main, "release/*", "hotfix/*"] }
jobs:
  build:
    steps:
      - run: echo "building $(cat version.txt)"
EOF
echo 1 >"$REPO/version.txt"
commit_all "version 1"
push

start_server --max-jobs 2

# heads_has BRANCH SHA: the server's mirror has seen BRANCH at SHA ("" = gone).
heads_has() {
  api GET /api/v1/repos
  [[ $HTTP == 200 ]] || return 1
  [[ $(jget "$BODY" "[r for r in d['repos'] if r['name'] == 'proj'][0]['heads'].get('$1', '')") == "$2" ]]
}
# runs_of_commit SHA: how many runs the server has for that commit.
runs_of_commit() {
  runs_json "repo=proj"
  jget "$BODY" "len([r for r in d['runs'] if r['commit'] == '$1'])"
}

section "repo add records the current heads without running them"
expect_exit 0 tauon_remote repo add proj "$BARE" --poll 1s --branch main --branch 'release/*' --branch dev
expect_contains "$OUT" "added repository proj"
expect_contains "$OUT" "polling every 1.0s"
expect_exit 0 tauon_remote repo list --json
expect_json "$OUT" '[(r["name"], r["poll_ms"], r["branches"]) for r in d]' \
  '[["proj", 1000, ["main", "release/*", "dev"]]]'
expect_json "$OUT" 'd[0]["heads"]' "{\"main\": \"$(head_sha)\"}"
expect_exit 0 tauon_remote repo list
expect_match "$OUT" '^proj +1\.0s +no +main,release/\*,dev +/'
settle 1.5
expect_eq 0 "$(run_count)" "runs right after repo add"

section "a push queues exactly one run, which succeeds"
echo 2 >"$REPO/version.txt"
commit_all "version 2"
SHA2=$(head_sha)
T0=$(now_ms)
push
wait_for 10 "a run of the pushed commit" at_least_runs 1
SEEN_MS=$(($(now_ms) - T0))
echo "  the push was seen after ${SEEN_MS}ms"
expect_le "$SEEN_MS" 4000 "ms from push to queued run with --poll 1s"
wait_run 1 30
expect_eq success "$RUN_STATUS" "run 1"
expect_exit 0 tauon_remote show 1 --json
expect_json "$OUT" '[d["id"], d["repo"], d["branch"], d["commit"], d["event"], d["status"]]' \
  "[1, \"proj\", \"main\", \"$SHA2\", \"push\", \"success\"]"
expect_json "$OUT" 'd["message"], d["author"]' '["version 2", "Tauon E2E <e2e@tauon.invalid>"]'
expect_exit 0 tauon_remote logs 1
expect_contains "$OUT" "building 2"
settle 2.5  # Two more polls: still one run.
expect_eq 1 "$(run_count)" "runs after the first push and two more polls"

section "a second push queues one more run"
echo 3 >"$REPO/version.txt"
commit_all "version 3"
SHA3=$(head_sha)
push
wait_for 10 "a run of the second commit" at_least_runs 2
wait_run 2 30
expect_eq success "$RUN_STATUS" "run 2"
expect_eq "$SHA3" "$(run_field 2 'd["commit"]')" "run 2's commit"
settle 2.5
expect_eq 2 "$(run_count)" "runs after the second push"
expect_eq 1 "$(runs_of_commit "$SHA2")" "runs of the first commit"
expect_eq 1 "$(runs_of_commit "$SHA3")" "runs of the second commit"

section "branches filtered out by repo add --branch or on.push.branches queue nothing"
# dev passes --branch but not on.push.branches; hotfix/1 the other way round.
git -C "$REPO" checkout -q -b dev
echo dev >"$REPO/version.txt"
commit_all "dev work"
DEV_SHA=$(head_sha)
push
git -C "$REPO" checkout -q -b hotfix/1 main
echo hotfix >"$REPO/version.txt"
commit_all "hotfix work"
HOTFIX_SHA=$(head_sha)
push
git -C "$REPO" checkout -q -b feature/x main
commit_all "feature work"
push
wait_for 10 "the mirror to see dev" heads_has dev "$DEV_SHA"
wait_for 10 "the mirror to see hotfix/1" heads_has hotfix/1 "$HOTFIX_SHA"
settle 1.5
expect_eq 2 "$(run_count)" "runs after pushing dev, hotfix/1 and feature/x"

section "a branch passing both filters runs"
git -C "$REPO" checkout -q -b release/1.0 main
echo release >"$REPO/version.txt"
commit_all "release 1.0"
REL_SHA=$(head_sha)
push
wait_for 10 "a run of release/1.0" at_least_runs 3
wait_run 3 30
expect_eq success "$RUN_STATUS" "run 3"
expect_eq "release/1.0 $REL_SHA" "$(run_field 3 'd["branch"] + " " + d["commit"]')" "run 3's branch and commit"

section "deleting a branch queues nothing"
push --delete release/1.0
wait_for 10 "the mirror to forget release/1.0" heads_has release/1.0 ""
push --delete dev
wait_for 10 "the mirror to forget dev" heads_has dev ""
settle 1.5
expect_eq 3 "$(run_count)" "runs after deleting release/1.0 and dev"

section "several commits pushed at once queue one run, for the head"
git -C "$REPO" checkout -q main
BEFORE=$(run_count)
for i in 1 2 3 4; do
  echo "batch $i" >"$REPO/version.txt"
  commit_all "batch $i"
done
BATCH_HEAD=$(head_sha)
push
wait_for 10 "a run of the batch" at_least_runs $((BEFORE + 1))
settle 2.5
expect_eq $((BEFORE + 1)) "$(run_count)" "runs after pushing 4 commits at once"
runs_json "repo=proj"
NEWEST=$(jget "$BODY" 'd["runs"][0]["id"]')
expect_json "$BODY" 'd["runs"][0]["commit"]' "$BATCH_HEAD"
expect_json "$BODY" 'd["runs"][0]["message"]' "batch 4"
wait_run "$NEWEST" 30
expect_eq success "$RUN_STATUS" "the batch's run"
expect_exit 0 tauon_remote logs "$NEWEST"
expect_contains "$OUT" "building batch 4"

section "repo remove stops polling"
expect_exit 0 tauon_remote repo remove proj
expect_exit 0 tauon_remote repo list --json
expect_eq "[]" "$(tr -d ' \n' <"$OUT")" "repositories after remove"
BEFORE=$(run_count)
echo 9 >"$REPO/version.txt"
commit_all "after remove"
push
settle 2.5
expect_eq "$BEFORE" "$(run_count)" "runs after a push to a removed repository"
expect_exit 1 tauon_remote repo remove proj
expect_contains "$ERR" "no repository named 'proj'"

stop_server
