# tauon serve, crash recovery: 22 rounds of "push a commit, announce it with a
# signed webhook, SIGKILL the server at a random moment (0-1.5 s later),
# restart it on the same data directory". After each restart, once the server
# is idle:
#   - the commit has been run (the trigger is not lost), and no run is left
#     queued or running;
#   - a run the kill interrupted is marked `interrupted` and re-queued once
#     (one new run of the same commit), which succeeds;
#   - jobs that had succeeded before the kill are not executed again by the
#     re-queued run (every step appends "RUN JOB" to a file outside the
#     workspace) and show success there;
#   - no step process of the dead server survives (pids written down by the
#     steps, and a marker process per run found with pgrep);
#   - every log line written before the kill is still in the log files and
#     served by the API, and no job recorded as succeeded before the kill
#     lost that state.
source "$(dirname "$0")/lib.sh"

ROUNDS=${E2E_CRASH_ROUNDS:-22}
MARK="crash$((1000 + RANDOM % 8000))x$$"
kill_at_exit "$MARK-r"
COUNTS="$E2E_TMP/executions"
PIDS="$E2E_TMP/pids"
SNAP="$E2E_TMP/snapshot"
SECRET="crash-secret-$RANDOM$RANDOM"
printf '%s\n' "$SECRET" >"$E2E_TMP/secret"
mkdir -p "$PIDS"
: >"$COUNTS"

make_remote crash
write "$REPO/.tauon.yml" <<EOF
jobs:
  q1:
    steps:
      - run: |
          echo "\$TAUON_RUN_ID q1" >> "$COUNTS"
          echo "q1 says hello from run \$TAUON_RUN_ID"
  q2:
    steps:
      - run: |
          echo "\$TAUON_RUN_ID q2" >> "$COUNTS"
          echo "q2 says hello from run \$TAUON_RUN_ID"
  q3:
    steps:
      - run: |
          echo "\$TAUON_RUN_ID q3" >> "$COUNTS"
          echo "q3 says hello from run \$TAUON_RUN_ID"
  mid:
    needs: [q1]
    steps:
      - run: |
          echo "\$TAUON_RUN_ID mid" >> "$COUNTS"
          for i in 1 2 3; do echo "mid line \$i of run \$TAUON_RUN_ID"; sleep 0.1; done
  slow:
    steps:
      - shell: bash
        run: |
          echo "\$TAUON_RUN_ID slow" >> "$COUNTS"
          echo \$\$ >> "$PIDS/\$TAUON_RUN_ID"
          (exec -a "$MARK-r\$TAUON_RUN_ID" sleep 60) &
          echo \$! >> "$PIDS/\$TAUON_RUN_ID"
          for i in \$(seq 1 12); do echo "slow line \$i of run \$TAUON_RUN_ID"; sleep 0.1; done
  final:
    needs: [slow, mid, q2, q3]
    steps:
      - run: |
          echo "\$TAUON_RUN_ID final" >> "$COUNTS"
          echo "final of run \$TAUON_RUN_ID"
EOF
echo 0 >"$REPO/round.txt"
commit_all "round 0"
push

start_server --max-jobs 4
expect_exit 0 tauon_remote repo add crash "$BARE" --poll 1h --webhook-secret-file "$E2E_TMP/secret"
HOOK="$E2E_TMP/hook.json"

# announce SHA: a signed GitHub push webhook for SHA on main (best effort:
# the server may be killed while it answers).
announce() {
  "$PY" - "$BARE" "$1" "$HOOK" <<'PYEOF'
import json, sys
bare, sha, out = sys.argv[1:4]
json.dump({"ref": "refs/heads/main", "before": "0" * 40, "after": sha, "created": False,
           "deleted": False, "forced": False,
           "repository": {"name": "crash", "full_name": "e2e/crash", "clone_url": bare},
           "head_commit": {"id": sha, "message": "round"}, "commits": [{"id": sha}]},
          open(out, "w"))
PYEOF
  curl -sS -o /dev/null --max-time 5 -X POST -H "Content-Type: application/json" \
    -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: $(sign_github "$SECRET" "$HOOK")" \
    --data-binary "@$HOOK" "$SERVER_URL/api/v1/hooks/github" 2>/dev/null || true
}

# idle_with SHA: the server has a run of SHA and no run queued or running.
idle_with() {
  runs_json ""
  jget "$BODY" "any(r['commit'] == '$1' for r in d['runs']) and not [r for r in d['runs'] if r['status'] in ('queued', 'running')]" | grep -qx true
}

# The checks of one round, in Python: prints one line per problem, then a
# summary line "ROUND interrupted=N requeued=N reused=N killed_pids=N".
write "$E2E_TMP/check.py" <<'PYEOF'
import json, os, subprocess, sys, urllib.request

url, token, sha, counts_path, pids_dir, snap_dir, data_dir, before_path, mark = sys.argv[1:10]
problems = []

def get(path):
    req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req, timeout=10))

runs = get("/api/v1/runs?limit=500")["runs"]
mine = sorted([r for r in runs if r["commit"] == sha], key=lambda r: r["id"])
executions = set()
for line in open(counts_path):
    parts = line.split()
    if len(parts) == 2:
        executions.add((int(parts[0]), parts[1]))
stuck = [r["id"] for r in runs if r["status"] in ("queued", "running")]
if stuck:
    problems.append("runs still queued or running once idle: %s" % stuck)
interrupted = requeued = reused = 0
pids_checked = lines_checked = 0
if not mine:
    problems.append("no run of commit %s: the trigger was lost" % sha[:12])
else:
    first = mine[0]
    if first["status"] == "interrupted":
        interrupted += 1
        if len(mine) != 2:
            problems.append("interrupted run %d: expected exactly one re-queued run of the commit, got runs %s"
                            % (first["id"], [r["id"] for r in mine]))
        if len(mine) >= 2:
            requeued += 1
            again = get("/api/v1/runs/%d" % mine[1]["id"])
            old = get("/api/v1/runs/%d" % first["id"])
            if (again.get("rerun_of"), again.get("trigger")) != (first["id"], "recovery"):
                problems.append("re-queued run %d: rerun_of %r, trigger %r; expected %d, 'recovery'"
                                % (again["id"], again.get("rerun_of"), again.get("trigger"), first["id"]))
            if again["status"] != "success":
                problems.append("re-queued run %d is %s, expected success" % (again["id"], again["status"]))
            new_jobs = {j["name"]: j for j in again["jobs"]}
            for job in old["jobs"]:
                if job["status"] != "success":
                    if job["status"] == "running":
                        problems.append("job %s of interrupted run %d is still 'running'" % (job["name"], old["id"]))
                    continue
                reused += 1
                if (again["id"], job["name"]) in executions:
                    problems.append("job %s succeeded in run %d before the kill but was executed again by run %d"
                                    % (job["name"], old["id"], again["id"]))
                if new_jobs.get(job["name"], {}).get("status") != "success":
                    problems.append("reused job %s of run %d is %s" % (job["name"], again["id"],
                                                                       new_jobs.get(job["name"], {}).get("status")))
            for name, job in new_jobs.items():
                if (first["id"], name) not in executions and (again["id"], name) not in executions:
                    problems.append("job %s ran in neither run %d nor run %d" % (name, first["id"], again["id"]))
    elif first["status"] != "success":
        problems.append("run %d of the commit is %s, expected success or interrupted" % (first["id"], first["status"]))
    elif len(mine) != 1:
        problems.append("commit %s has runs %s; expected one (its run succeeded)" % (sha[:12], [r["id"] for r in mine]))
    # State recorded before the kill is kept.
    if os.path.exists(before_path):
        try:
            before = json.load(open(before_path))
        except ValueError:
            before = None
        if before and before.get("id") == first["id"]:
            after = {j["name"]: j["status"] for j in get("/api/v1/runs/%d" % first["id"])["jobs"]}
            for job in before["jobs"]:
                if job["status"] == "success" and after.get(job["name"]) != "success":
                    problems.append("job %s of run %d was success before the kill, %s after"
                                    % (job["name"], first["id"], after.get(job["name"])))
    # No process of the killed runs survives.
    for run in mine:
        pid_file = os.path.join(pids_dir, str(run["id"]))
        if os.path.exists(pid_file):
            for pid in open(pid_file).read().split():
                pids_checked += 1
                try:
                    with open("/proc/%s/stat" % pid) as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        problems.append("process %s of run %d survived" % (pid, run["id"]))
                except FileNotFoundError:
                    pass
        left = subprocess.run(["pgrep", "-f", "%s-r%d( |$)" % (mark, run["id"])], capture_output=True, text=True).stdout.split()
        if left:
            problems.append("marker processes of run %d survived: %s" % (run["id"], left))
# Log lines written before the kill are still there, and served by the API.
for root, _, files in os.walk(snap_dir):
    for name in files:
        snap_file = os.path.join(root, name)
        rel = os.path.relpath(snap_file, snap_dir)
        live = os.path.join(data_dir, "runs", rel)
        old = open(snap_file, "rb").read()
        if not os.path.exists(live):
            problems.append("log file runs/%s disappeared" % rel)
            continue
        new = open(live, "rb").read()
        if not new.startswith(old[: old.rfind(b"\n") + 1]):
            problems.append("log file runs/%s lost lines written before the kill" % rel)
        parts = rel.split(os.sep)
        if len(parts) >= 5 and parts[1] == "logs" and parts[-1] != "job.log":
            run_id = int(parts[0])
            served = {e["data"]["text"] for e in get("/api/v1/runs/%d/logs" % run_id)["events"] if e["type"] == "line"}
            for line in old.decode("utf-8", "replace").splitlines(keepends=True):
                if not line.endswith("\n"):
                    continue
                text = line.rstrip("\n").split(" ", 1)[1] if " " in line else ""
                lines_checked += 1
                if text and text not in served:
                    problems.append("line %r of runs/%s is not served by GET /api/v1/runs/%d/logs" % (text, rel, run_id))
for p in problems:
    print("PROBLEM " + p)
print("ROUND interrupted=%d requeued=%d reused=%d runs=%s statuses=%s pids=%d lines=%d" % (
    interrupted, requeued, reused, [r["id"] for r in mine], [r["status"] for r in mine],
    pids_checked, lines_checked))
PYEOF

TOTAL_INTERRUPTED=0
TOTAL_REUSED=0
T_START=$(now_ms)
for ((round = 1; round <= ROUNDS; round++)); do
  echo "$round" >"$REPO/round.txt"
  commit_all "round $round"
  SHA=$(head_sha)
  push
  announce "$SHA"
  DELAY_MS=$((RANDOM % 1500))
  sleep "$(awk -v ms="$DELAY_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
  # What is on disk and in the store right before the kill.
  rm -rf "$SNAP" "$E2E_TMP/before.json"
  mkdir -p "$SNAP"
  LATEST=$(curl -sS --max-time 2 -H "Authorization: Bearer $TOKEN" "$SERVER_URL/api/v1/runs?limit=1" 2>/dev/null |
    "$PY" -c 'import json, sys; r = json.load(sys.stdin)["runs"]; print(r[0]["id"] if r else "")' 2>/dev/null)
  if [[ -n $LATEST ]]; then
    curl -sS --max-time 2 -o "$E2E_TMP/before.json" -H "Authorization: Bearer $TOKEN" \
      "$SERVER_URL/api/v1/runs/$LATEST" 2>/dev/null
    if [[ -d $DATA/runs/$LATEST/logs ]]; then
      mkdir -p "$SNAP/$LATEST"
      cp -r "$DATA/runs/$LATEST/logs" "$SNAP/$LATEST/logs" 2>/dev/null
    fi
  fi
  kill_server
  start_server --max-jobs 4
  wait_for 20 "round $round: the commit run and the server idle" idle_with "$SHA"
  # Processes of the dead server are killed during the restart's recovery.
  for ((i = 0; i < 40; i++)); do
    no_process "$MARK-r${LATEST:-0}( |$)" && break
    sleep 0.05
  done
  "$PY" "$E2E_TMP/check.py" "$SERVER_URL" "$TOKEN" "$SHA" "$COUNTS" "$PIDS" "$SNAP" "$DATA" \
    "$E2E_TMP/before.json" "$MARK" >"$E2E_TMP/check.out" 2>&1
  E2E_CHECKS=$((E2E_CHECKS + 1))
  SUMMARY=$(grep '^ROUND ' "$E2E_TMP/check.out")
  echo "  round $round: kill after ${DELAY_MS}ms: ${SUMMARY#ROUND }"
  if grep -q '^PROBLEM ' "$E2E_TMP/check.out" || [[ -z $SUMMARY ]]; then
    fail "round $round (kill ${DELAY_MS}ms after the push):"
    grep -v '^ROUND ' "$E2E_TMP/check.out" | sed 's/^PROBLEM /    - /' >&2
  fi
  [[ $SUMMARY =~ interrupted=([0-9]+).*reused=([0-9]+) ]] &&
    TOTAL_INTERRUPTED=$((TOTAL_INTERRUPTED + BASH_REMATCH[1])) &&
    TOTAL_REUSED=$((TOTAL_REUSED + BASH_REMATCH[2]))
done
echo "  $ROUNDS rounds in $((($(now_ms) - T_START) / 1000))s: $TOTAL_INTERRUPTED runs interrupted, $TOTAL_REUSED succeeded jobs reused"

section "the rounds exercised recovery"
expect_le $((ROUNDS / 5)) "$TOTAL_INTERRUPTED" "rounds whose run was interrupted (of $ROUNDS)"
expect_le 1 "$TOTAL_REUSED" "jobs reused by re-queued runs"
expect_contains "$SERVER_LOG" "was interrupted; re-queued as run"

section "the end: every run finished, one run per commit succeeded"
runs_json ""
expect_json "$BODY" 'sorted({r["status"] for r in d["runs"]} - {"success", "interrupted"})' '[]'
expect_json "$BODY" 'len({r["commit"] for r in d["runs"] if r["status"] == "success"})' "$ROUNDS"
api_json /metrics
expect_contains "$BODY" 'tauon_runs{status="running"} 0'
expect_contains "$BODY" 'tauon_run_queue_length 0'

section "a graceful restart (SIGTERM) while a run is going loses nothing either"
# Stopping the server is not the user cancelling the run: the run is
# interrupted and re-queued at the next start, as after a crash.
echo graceful >"$REPO/round.txt"
commit_all "graceful restart"
SHA=$(head_sha)
push
announce "$SHA"
wait_for 10 "the slow job of the graceful round to run" eval \
  "runs_json 'status=running' && jget \"\$BODY\" \"[r['id'] for r in d['runs'] if r['commit'] == '$SHA']\" | grep -q '[0-9]'"
GRACEFUL_RUN=$(jget "$BODY" "[r['id'] for r in d['runs'] if r['commit'] == '$SHA'][0]")
wait_for 10 "run $GRACEFUL_RUN's slow step" test -s "$PIDS/$GRACEFUL_RUN"
stop_server
# While the server is down, the store (read by the local CLI) must not say cancelled.
show_json "$GRACEFUL_RUN"
expect_json "$JSON" 'd["status"] in ("running", "interrupted")' true
start_server --max-jobs 4
# A second graceful restart while the re-queued run is going re-queues it
# again (after a crash, a re-queued run is not re-queued twice).
wait_for 10 "the re-queued run of the graceful round" eval \
  "runs_json '' && jget \"\$BODY\" \"[r['id'] for r in d['runs'] if r['rerun_of'] == $GRACEFUL_RUN]\" | grep -q '[0-9]'"
AGAIN=$(jget "$BODY" "[r['id'] for r in d['runs'] if r['rerun_of'] == $GRACEFUL_RUN][0]")
wait_for 10 "run $AGAIN's slow step" test -s "$PIDS/$AGAIN"
stop_server
start_server --max-jobs 4
wait_for 20 "the server idle after the graceful restarts" idle_with "$SHA"
expect_eq interrupted "$(run_field "$GRACEFUL_RUN" 'd["status"]')" "run $GRACEFUL_RUN after a graceful restart"
expect_eq interrupted "$(run_field "$AGAIN" 'd["status"]')" "run $AGAIN after a second graceful restart"
runs_json ""
expect_json "$BODY" "[r['status'] for r in d['runs'] if r['commit'] == '$SHA'][::-1]" '["interrupted", "interrupted", "success"]'
expect_json "$BODY" "[(r['rerun_of'], r['trigger']) for r in d['runs'] if r['commit'] == '$SHA'][0]" "[$AGAIN, \"recovery\"]"
stop_server
wait_for 5 "no marker process left" no_process "$MARK-r"
