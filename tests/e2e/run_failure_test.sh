# A failing job: exit code 1, its dependants (direct and transitive) are
# skipped, never left pending, while an independent branch keeps running and
# succeeds; later steps of the failed job are skipped except `if: failure()`
# and `if: always()` steps.
source "$(dirname "$0")/lib.sh"

make_repo "$E2E_TMP/repo"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  prepare:
    steps:
      - run: echo prepared
  broken:
    needs: [prepare]
    steps:
      - name: first
        run: echo before the failure
      - name: boom
        run: echo failing now >&2; exit 5
      - name: never
        run: echo SHOULD-NOT-RUN
      - name: on failure
        if: failure()
        run: echo cleanup after failure
      - name: on always
        if: always()
        run: echo always runs
      - name: on success
        if: success()
        run: echo SHOULD-NOT-RUN-EITHER
  direct:
    needs: [broken]
    steps:
      - run: echo SHOULD-NOT-RUN-DIRECT
  transitive:
    needs: [direct, slow]
    steps:
      - run: echo SHOULD-NOT-RUN-TRANSITIVE
  slow:
    steps:
      - run: sleep 1; echo slow branch finished
  after-slow:
    needs: [slow]
    steps:
      - run: echo independent branch goes on
  notify:
    needs: [broken]
    if: failure()
    steps:
      - run: echo notify about the failure
  cleanup:
    needs: [broken]
    if: always()
    steps:
      - run: echo cleanup runs anyway
  on-success:
    needs: [broken]
    if: success()
    steps:
      - run: echo SHOULD-NOT-RUN-ON-SUCCESS
  not-on-failure:
    needs: [prepare]
    if: failure()
    steps:
      - run: echo SHOULD-NOT-RUN-NOT-ON-FAILURE
EOF
commit_all "a pipeline with a failing job"

section "a failing job skips its dependants; the independent branch finishes"
cd "$REPO" || die "cannot cd to $REPO"
START=$(now_ms)
expect_exit 1 tauon run -j 4
LIVE=$OUT
expect_match "$LIVE" '^broken +\| ✗ step .boom. failed: exit code 5$' "failed step line"
expect_match "$LIVE" '^broken +\| failing now$' "stderr of the failing step"
expect_match "$LIVE" '^broken +\| cleanup after failure$' "failure() step ran"
expect_match "$LIVE" '^broken +\| always runs$' "always() step ran"
expect_not_contains "$LIVE" "SHOULD-NOT-RUN" "live output"
expect_match "$LIVE" "^direct +\\| - skipped: needs 'broken' failed" "direct dependant skipped"
expect_match "$LIVE" "^transitive +\\| - skipped: needs 'direct' skipped" "transitive dependant skipped"
expect_match "$LIVE" '^slow +\| slow branch finished$' "independent job output"
expect_match "$LIVE" '^after-slow +\| independent branch goes on$' "job after the independent job"
expect_match "$LIVE" '^notify +\| notify about the failure$' "job if: failure() after a failed need"
expect_match "$LIVE" '^cleanup +\| cleanup runs anyway$' "job if: always() after a failed need"
expect_match "$LIVE" "^on-success +\\| - skipped: condition 'success\\(\\)' is false" "job if: success()"
expect_match "$LIVE" '^run 1 failed in ' "final line"
expect_not_contains "$LIVE" "pending" "live output"

show_json 1
expect_json "$JSON" 'd["status"]' failed
expect_json "$JSON" '{j["name"]: j["status"] for j in d["jobs"]}' \
  '{"after-slow": "success", "broken": "failed", "cleanup": "success", "direct": "skipped", "not-on-failure": "skipped", "notify": "success", "on-success": "skipped", "prepare": "success", "slow": "success", "transitive": "skipped"}'
expect_json "$JSON" 'job("broken")["error"]' "step 'boom' failed: exit code 5"
expect_json "$JSON" '[(s["name"], s["status"], s["exit_code"]) for s in job("broken")["steps"]]' \
  '[["first", "success", 0], ["boom", "failed", 5], ["never", "skipped", null], ["on failure", "success", 0], ["on always", "success", 0], ["on success", "skipped", null]]'
expect_json "$JSON" 'job("direct")["error"]' "needs 'broken' failed"
expect_json "$JSON" '"direct" in job("transitive")["error"]' true
expect_json "$JSON" 'job("direct")["started_at"], job("direct")["attempt"]' '[null, 1]'
# The slow branch was already running when `broken` failed, and after-slow
# started after the failure: nothing stops the independent branch.
expect_json "$JSON" 'job("slow")["started_at"] < job("broken")["finished_at"] < job("slow")["finished_at"]' true
expect_json "$JSON" 'job("after-slow")["started_at"] > job("broken")["finished_at"]' true
ELAPSED=$(($(now_ms) - START))
expect_le "$ELAPSED" 15000 "run duration (ms)"

expect_exit 0 tauon show 1
expect_match "$OUT" '^direct +skipped +- ' "show: skipped job without an attempt"
expect_contains "$OUT" "    needs 'broken' failed"
expect_contains "$OUT" "    step 'boom' failed: exit code 5"

expect_exit 0 tauon runs --json --status failed
expect_json "$OUT" '[r["id"] for r in d]' '[1]'
expect_exit 0 tauon runs --json --status success
expect_json "$OUT" 'd' '[]'
expect_exit 2 tauon runs --status broken
expect_contains "$ERR" "invalid --status 'broken'"

section "a failing job with -j 1 still skips, never leaves pending jobs"
expect_exit 1 tauon run -j 1
show_json last
expect_json "$JSON" '[j["status"] for j in d["jobs"] if j["status"] not in ("success", "failed", "skipped")]' '[]'

section "a step that cannot start (missing shell) fails its job"
write "$REPO/.tauon.yml" <<'EOF'
jobs:
  nocmd:
    steps:
      - run: definitely-not-a-command-e2e
      - run: echo SHOULD-NOT-RUN
EOF
commit_all "a missing command"
expect_exit 1 tauon run
show_json last
expect_json "$JSON" 'job("nocmd")["status"], step("nocmd", 0)["exit_code"], step("nocmd", 1)["status"]' '["failed", 127, "skipped"]'
