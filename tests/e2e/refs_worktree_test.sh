# What a run runs: HEAD's committed pipeline and files (uncommitted changes
# never leak in), --worktree (the work tree as it is: modified and untracked
# files, not ignored ones), --ref (another branch, tag or commit, with the
# branch recorded), and the data dir inside the repository never copied into
# workspaces.
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/repo"
echo "committed data" >"$REPO/data.txt"
echo "doomed" >"$REPO/deleted.txt"
printf '#!/bin/sh\necho script runs\n' >"$REPO/script.sh"
chmod 755 "$REPO/script.sh"
ln -s data.txt "$REPO/link.txt"
echo "*.log" >"$REPO/.gitignore"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  show:
    steps:
      - run: |
          echo "pipeline: committed"
          echo "data: $(cat data.txt)"
          echo "link: $(cat link.txt)"
          ./script.sh
          for f in new.txt ignored.log deleted.txt .tauon state .git; do
            if [ -e "$f" ]; then echo "present: $f"; else echo "absent: $f"; fi
          done
          echo "branch=$TAUON_BRANCH commit=$TAUON_COMMIT"
EOF
commit_all "the committed pipeline"
MAIN_SHA=$(git -C "$REPO" rev-parse HEAD)
cd "$REPO" || die "cannot cd to $REPO"

# Uncommitted changes: a modified pipeline and file, an untracked file, an
# ignored file, a deleted file.
sed -i 's/pipeline: committed/pipeline: uncommitted/' .tauon.yml
echo "modified data" >data.txt
echo "untracked" >new.txt
echo "ignored" >ignored.log
rm deleted.txt
STATUS_BEFORE=$(git status --porcelain)

section "tauon run runs HEAD's commit, not the work tree"
expect_exit 0 tauon run
expect_match "$OUT" '^show +\| pipeline: committed$' "pipeline of HEAD"
expect_match "$OUT" '^show +\| data: committed data$' "file of HEAD"
expect_match "$OUT" '^show +\| link: committed data$' "symlink of HEAD"
expect_match "$OUT" '^show +\| script runs$' "executable bit kept"
expect_match "$OUT" '^show +\| absent: new.txt$' "untracked file"
expect_match "$OUT" '^show +\| present: deleted.txt$' "file deleted in the work tree only"
expect_match "$OUT" "^show +\\| branch=main commit=$MAIN_SHA\$" "TAUON_BRANCH and TAUON_COMMIT"
show_json last
expect_json "$JSON" 'd["commit"], d["branch"], d["message"]' "[\"$MAIN_SHA\", \"main\", \"the committed pipeline\"]"
expect_eq "$STATUS_BEFORE" "$(git status --porcelain)" "the work tree after a run"

section "--worktree runs the work tree as it is"
expect_exit 0 tauon run --worktree
expect_match "$OUT" '^show +\| pipeline: uncommitted$' "pipeline of the work tree"
expect_match "$OUT" '^show +\| data: modified data$' "modified file"
expect_match "$OUT" '^show +\| link: modified data$' "symlink in the work tree"
expect_match "$OUT" '^show +\| present: new.txt$' "untracked file"
expect_match "$OUT" '^show +\| absent: ignored.log$' "ignored file"
expect_match "$OUT" '^show +\| absent: deleted.txt$' "deleted file"
expect_match "$OUT" '^show +\| script runs$' "executable bit kept"
show_json last
expect_json "$JSON" 'd["commit"], d["branch"]' "[\"$MAIN_SHA\", \"main\"]"
expect_json "$JSON" 'd["message"]' "(work tree) the committed pipeline"
expect_eq "$STATUS_BEFORE" "$(git status --porcelain)" "the work tree after a --worktree run"

section "a data dir inside the repository is never copied into workspaces"
# The default data dir: .tauon in the current directory, here the repository.
expect_exit 0 timeout 60 "$TAUON" run --worktree
expect_true "the default data dir is ./.tauon" test -f "$REPO/.tauon/tauon.db"
expect_exit 0 timeout 60 "$TAUON" run --worktree
expect_match "$OUT" '^show +\| absent: .tauon$' "the default data dir"
expect_match "$OUT" '^show +\| present: new.txt$' "untracked file"
expect_exit 0 timeout 60 "$TAUON" run --worktree --data-dir "$REPO/state"
expect_exit 0 timeout 60 "$TAUON" run --worktree --data-dir "$REPO/state"
expect_match "$OUT" '^show +\| absent: state$' "a data dir named state"
expect_exit 0 timeout 60 "$TAUON" run --worktree --data-dir state
expect_match "$OUT" '^show +\| absent: state$' "a relative data dir"
expect_exit 0 timeout 60 "$TAUON" runs --json
expect_json "$OUT" 'len(d)' 2
rm -rf "$REPO/.tauon" "$REPO/state"

section "--ref runs another branch, tag or commit"
git stash -q -u
git checkout -q -b feature
sed -i 's/pipeline: committed/pipeline: feature branch/' .tauon.yml
commit_all "on a branch"
FEATURE_SHA=$(git rev-parse HEAD)
git tag v1.0
git checkout -q main
expect_exit 0 tauon run --ref feature
expect_match "$OUT" '^show +\| pipeline: feature branch$' "pipeline of the branch"
expect_match "$OUT" "^show +\\| branch=feature commit=$FEATURE_SHA\$" "TAUON_BRANCH of --ref"
expect_match "$OUT" "^tauon: run [0-9]+ of repo @ feature ${FEATURE_SHA:0:12} " "run header"
show_json last
expect_json "$JSON" 'd["branch"], d["commit"], d["message"]' "[\"feature\", \"$FEATURE_SHA\", \"on a branch\"]"
expect_exit 0 tauon run --ref v1.0
expect_match "$OUT" '^show +\| pipeline: feature branch$' "pipeline of the tag"
show_json last
expect_json "$JSON" 'd["commit"]' "$FEATURE_SHA"
expect_exit 0 tauon run --ref "$MAIN_SHA"
expect_match "$OUT" '^show +\| pipeline: committed$' "pipeline of a commit id"
show_json last
expect_json "$JSON" 'd["commit"]' "$MAIN_SHA"
expect_exit 0 tauon run --ref "${FEATURE_SHA:0:10}"
show_json last
expect_json "$JSON" 'd["commit"]' "$FEATURE_SHA"
expect_exit 0 tauon runs --json --branch feature
expect_json "$OUT" '[r["commit"] for r in d]' "[\"$FEATURE_SHA\"]"
expect_exit 2 tauon run --ref no-such-branch
expect_contains "$ERR" "cannot resolve 'no-such-branch'"
expect_exit 2 tauon run --ref feature --worktree
expect_contains "$ERR" "--worktree and --ref cannot be used together"

section "a detached HEAD"
git checkout -q --detach feature
expect_exit 0 tauon run
expect_match "$OUT" "^tauon: run [0-9]+ of repo @ \\(detached\\) ${FEATURE_SHA:0:12} " "run header"
show_json last
expect_json "$JSON" 'd["commit"], d["branch"]' "[\"$FEATURE_SHA\", \"\"]"
expect_exit 0 tauon show last
expect_contains "$OUT" "on (detached)"
git checkout -q main

section "a run from another directory"
cd "$E2E_TMP" || die "cannot cd to $E2E_TMP"
expect_exit 0 tauon run "$REPO"
expect_match "$OUT" '^show +\| pipeline: committed$' "pipeline of HEAD"
expect_exit 0 tauon run repo --ref feature
expect_match "$OUT" '^show +\| pipeline: feature branch$' "relative DIR with --ref"
