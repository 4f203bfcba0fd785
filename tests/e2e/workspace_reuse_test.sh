# Workspaces are reused between jobs of a run (to keep small jobs cheap), but
# every job still starts from the checkout exactly: files an earlier job
# added, changed, deleted or re-permissioned are back as committed.
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/repo"
echo "pristine" >"$REPO/config.txt"
mkdir -p "$REPO/data" && echo "a,b" >"$REPO/data/labels.csv"
printf '#!/bin/sh\necho tool\n' >"$REPO/tool.sh" && chmod 755 "$REPO/tool.sh"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  vandal:
    steps:
      - run: |
          echo "tampered" > config.txt
          rm -r data
          chmod 644 tool.sh
          mkdir -p out && echo junk > out/junk.txt
          echo "vandal was here: $TAUON_WORKSPACE"
  check:
    needs: [vandal]
    steps:
      - run: |
          echo "check runs in: $TAUON_WORKSPACE"
          test "$(cat config.txt)" = pristine || { echo "config.txt changed"; exit 1; }
          test "$(cat data/labels.csv)" = "a,b" || { echo "data/labels.csv missing"; exit 1; }
          test -x tool.sh || { echo "tool.sh lost its mode"; exit 1; }
          test ! -e out || { echo "out/ leaked from vandal"; exit 1; }
          echo clean
EOF
commit_all "reuse"
cd "$REPO" || die "cannot cd to $REPO"

section "a later job starts from the checkout, whatever an earlier one did"
expect_exit 0 tauon run -j 1
expect_match "$OUT" '^check +\| clean$' "check job saw a pristine workspace"
# The same directory was handed to both jobs: reuse really happened.
vandal_ws=$(printf '%s\n' "$OUT" | sed -n 's/^vandal *| vandal was here: //p')
check_ws=$(printf '%s\n' "$OUT" | sed -n 's/^check *| check runs in: //p')
expect_eq "$vandal_ws" "$check_ws" "the workspace directory was reused"
