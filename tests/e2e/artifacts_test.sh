# Artifacts: stored after a successful job in a content-addressed store
# (identical content once), listed by `tauon artifacts` with path, size and
# sha256 digest, restored into the workspaces of the jobs that need the job
# directly or transitively; paths escaping the workspace (a symlink pointing
# out, '..', absolute) are refused; parallel jobs never see each other's files.
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/repo"
echo "tracked file" >"$REPO/tracked.txt"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  build:
    steps:
      - run: |
          mkdir -p out/dist/sub
          echo "model weights" > out/dist/model.bin
          cp out/dist/model.bin out/dist/copy.bin
          echo '{"lr": 0.1}' > out/dist/sub/config.json
          printf '#!/bin/sh\necho run\n' > out/dist/run.sh
          chmod 755 out/dist/run.sh
          echo "single file" > single.txt
          echo "not an artifact" > out/other.txt
    artifacts: [out/dist/, single.txt]
  twin:
    steps:
      - run: mkdir -p twin && echo "model weights" > twin/model.bin
    artifacts: [twin/model.bin]
  direct:
    needs: [build]
    steps:
      - run: |
          cat out/dist/model.bin out/dist/sub/config.json single.txt tracked.txt
          test -x out/dist/run.sh && out/dist/run.sh
          test ! -e out/other.txt || { echo "a non-artifact file leaked"; exit 1; }
          echo "made by direct" > direct.txt
    artifacts: direct.txt
  transitive:
    needs: [direct]
    steps:
      - run: |
          echo "transitive sees: $(cat out/dist/model.bin) / $(cat direct.txt) / $(cat single.txt)"
  unrelated:
    steps:
      - run: |
          test ! -e out/dist || { echo "unrelated sees build's artifacts"; exit 1; }
          test ! -e twin || { echo "unrelated sees twin's artifacts"; exit 1; }
          echo unrelated is clean
EOF
commit_all "artifacts"
cd "$REPO" || die "cannot cd to $REPO"

blob_count() { find "$DATA/artifacts/sha256" -type f | wc -l; }
sha_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

section "artifacts are stored, listed and restored into dependants"
expect_exit 0 tauon run -j 2
LIVE=$OUT
expect_match "$LIVE" '^direct +\| model weights$' "direct need: artifact file restored"
expect_match "$LIVE" '^direct +\| \{"lr": 0.1\}$' "direct need: nested artifact file restored"
expect_match "$LIVE" '^direct +\| single file$' "direct need: single-file artifact restored"
expect_match "$LIVE" '^direct +\| tracked file$' "the checkout is there too"
expect_match "$LIVE" '^direct +\| run$' "restored file keeps its mode"
expect_match "$LIVE" '^transitive +\| transitive sees: model weights / made by direct / single file$' \
  "transitive need: artifacts of build and direct restored"
expect_match "$LIVE" '^unrelated +\| unrelated is clean$' "a job without needs gets no artifacts"
expect_match "$LIVE" '^build +\| artifacts: 5 files, ' "artifact note"

expect_exit 0 tauon artifacts 1 --json
ART=$OUT
expect_json "$ART" '[(a["job"], a["path"]) for a in d]' \
  '[["build", "out/dist/copy.bin"], ["build", "out/dist/model.bin"], ["build", "out/dist/run.sh"], ["build", "out/dist/sub/config.json"], ["build", "single.txt"], ["twin", "twin/model.bin"], ["direct", "direct.txt"]]'
expect_json "$ART" '[a["size"] for a in d if a["path"] == "out/dist/model.bin"]' '[14]'
MODEL_DIGEST="sha256:$(sha_of $'model weights\n')"
expect_json "$ART" '[a["digest"] for a in d if a["path"] == "out/dist/model.bin"][0]' "$MODEL_DIGEST"
expect_json "$ART" '[a["digest"] for a in d if a["path"] == "twin/model.bin"][0]' "$MODEL_DIGEST"
expect_json "$ART" '[a["digest"] for a in d if a["path"] == "direct.txt"][0]' "sha256:$(sha_of $'made by direct\n')"
# Every listed digest is the sha256 of the stored content, and size matches.
"$PY" - "$ART" >"$E2E_TMP/digests" <<'PYEOF'
import json, sys
for a in json.load(open(sys.argv[1])):
    hexd = a["digest"].split(":", 1)[1]
    print(hexd, a["size"], hexd[:2] + "/" + hexd[2:])
PYEOF
while read -r hexd size blob; do
  expect_eq "$hexd" "$(sha256sum <"$DATA/artifacts/sha256/$blob" | cut -d' ' -f1)" "sha256 of blob $blob"
  expect_eq "$size" "$(stat -c %s "$DATA/artifacts/sha256/$blob")" "size of blob $blob"
done <"$E2E_TMP/digests"
# 7 files, 5 distinct contents (copy.bin and twin/model.bin equal model.bin).
expect_eq 5 "$(blob_count)" "blobs in the store"
show_json 1
expect_json "$JSON" 'len(job("build")["artifacts"]), len(job("transitive")["artifacts"])' '[5, 0]'
expect_exit 0 tauon artifacts 1
expect_match "$OUT" '^JOB +PATH +SIZE +DIGEST$' "artifacts table header"
expect_match "$OUT" "^build +out/dist/model.bin +14  $MODEL_DIGEST\$" "artifacts table row"

section "a second run stores nothing new"
expect_exit 0 tauon run -j 2
expect_eq 5 "$(blob_count)" "blobs after a second run"
expect_exit 0 tauon artifacts last --json
expect_json "$OUT" 'len(d)' 7

section "retried jobs, failed jobs and unusual file names"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  retried:
    retry: 1
    steps:
      - run: |
          mkdir -p "out/my model ü"
          echo "attempt $TAUON_ATTEMPT" > "out/my model ü/weights.bin"
          test "$TAUON_ATTEMPT" = 2
    artifacts: [out/]
  failing:
    steps:
      - run: echo "from a failed job" > lost.txt; exit 1
    artifacts: [lost.txt]
  reader:
    needs: [retried]
    steps:
      - run: cat "out/my model ü/weights.bin"
EOF
commit_all "retries and names"
expect_exit 1 tauon run -j 2
expect_match "$OUT" '^reader +\| attempt 2$' "the artifact of the successful attempt is restored"
expect_exit 0 tauon artifacts last --json
expect_json "$OUT" '[(a["job"], a["path"], a["size"]) for a in d]' '[["retried", "out/my model ü/weights.bin", 10]]'
expect_true "a failed job's artifact is not stored" bash -c "! grep -rqF 'from a failed job' '$DATA/artifacts'"

section "a symlink pointing outside the workspace is refused"
echo "outside secret" >"$E2E_TMP/outside.txt"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  escape-dir:
    steps:
      - run: mkdir -p out && echo fine > out/ok.txt && ln -s "$OUTSIDE" out/leak.txt
    artifacts: [out/]
  escape-file:
    steps:
      - run: ln -s "$OUTSIDE" leak.txt
    artifacts: [leak.txt]
  escape-parent:
    steps:
      - run: ln -s .. up
    artifacts: [up/]
  after-escape:
    needs: [escape-dir]
    steps:
      - run: echo SHOULD-NOT-RUN
  missing:
    steps:
      - run: "true"
    artifacts: [nope/]
  inside-link:
    steps:
      - run: echo "inside" > real.txt && ln -s real.txt alias.txt
    artifacts: [alias.txt]
EOF
commit_all "escaping artifacts"
BEFORE=$(blob_count)
expect_exit 1 tauon run -j 2 --env "OUTSIDE=$E2E_TMP/outside.txt"
expect_not_contains "$OUT" "SHOULD-NOT-RUN" "live output"
show_json last
expect_json "$JSON" '{j["name"]: j["status"] for j in d["jobs"]}' \
  '{"after-escape": "skipped", "escape-dir": "failed", "escape-file": "failed", "escape-parent": "failed", "inside-link": "success", "missing": "failed"}'
expect_json "$JSON" '"points outside the workspace" in job("escape-dir")["error"]' true
expect_json "$JSON" '"points outside the workspace" in job("escape-file")["error"]' true
expect_json "$JSON" '"outside the workspace" in job("escape-parent")["error"]' true
expect_json "$JSON" 'job("missing")["error"]' "artifact 'nope/' does not exist in the workspace"
expect_json "$JSON" 'job("escape-dir")["artifacts"], job("escape-file")["artifacts"]' '[[], []]'
expect_json "$JSON" '[(a["path"], a["size"]) for a in job("inside-link")["artifacts"]]' '[["alias.txt", 7]]'
expect_eq $((BEFORE + 1)) "$(blob_count)" "blobs after the refused artifacts (only inside-link's)"
expect_true "the outside file was not stored" \
  bash -c "! grep -rqF 'outside secret' '$DATA/artifacts'"

section "'..' and absolute artifact paths are pipeline errors"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  bad:
    steps:
      - run: "true"
    artifacts: [../x, /etc/passwd, ok/../../y]
EOF
commit_all "bad artifact paths"
expect_exit 2 tauon run
expect_contains "$ERR" ".tauon.yml:5:17: artifact path '../x' must stay inside the workspace"
expect_contains "$ERR" "artifact path '/etc/passwd' must be relative to the workspace"
expect_contains "$ERR" "artifact path 'ok/../../y' must stay inside the workspace"

section "parallel jobs never see each other's files"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  left:
    steps:
      - run: |
          echo "$TAUON_WORKSPACE" > "$SEEN/left"
          touch left-was-here tracked.txt-left && echo changed-by-left > tracked.txt
          sleep 0.6
          ls > "$SEEN/left.ls"
          test ! -e right-was-here && test "$(cat tracked.txt)" = changed-by-left
  right:
    steps:
      - run: |
          echo "$TAUON_WORKSPACE" > "$SEEN/right"
          touch right-was-here && echo changed-by-right > tracked.txt
          sleep 0.6
          ls > "$SEEN/right.ls"
          test ! -e left-was-here && test "$(cat tracked.txt)" = changed-by-right
  later:
    needs: [left, right]
    steps:
      - run: test ! -e left-was-here && test ! -e right-was-here && test "$(cat tracked.txt)" = "tracked file"
EOF
commit_all "parallel jobs"
SEEN="$E2E_TMP/seen"
mkdir -p "$SEEN"
expect_exit 0 tauon run -j 2 --env "SEEN=$SEEN"
show_json last
expect_json "$JSON" '[j["status"] for j in d["jobs"]]' '["success", "success", "success"]'
expect_json "$JSON" 'job("left")["started_at"] < job("right")["finished_at"] and job("right")["started_at"] < job("left")["finished_at"]' true
expect_true "the two jobs had different workspaces" test "$(cat "$SEEN/left")" != "$(cat "$SEEN/right")"
expect_not_contains "$SEEN/left.ls" "right-was-here" "left's workspace"
expect_not_contains "$SEEN/right.ls" "left-was-here" "right's workspace"
expect_eq "tracked file" "$(cat "$REPO/tracked.txt")" "the repository's own file"
expect_true "the repository's work tree is untouched" test -z "$(git -C "$REPO" status --porcelain)"
expect_true "workspaces are removed after the run" \
  test -z "$(find "$DATA/runs" -mindepth 2 -maxdepth 2 -name work -o -mindepth 2 -maxdepth 2 -name checkout)"
