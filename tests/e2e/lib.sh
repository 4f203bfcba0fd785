# Shared helpers for the end-to-end tests. Every tests/e2e/*_test.sh sources
# this file first:
#
#   source "$(dirname "$0")/lib.sh"
#
# ctest runs each script with bash and sets TAUON (the binary) and
# TAUON_SOURCE_DIR (the repository root). By hand:
#
#   TAUON=build/tauon TAUON_SOURCE_DIR=. bash tests/e2e/run_basic_test.sh
#
# What a test gets:
#   E2E_TMP        a fresh temp dir, removed (with every process the test
#                  started) when the script exits
#   DATA           the test's data dir ($E2E_TMP/data), used by `tauon`
#   tauon ARGS     the binary with --data-dir "$DATA", bounded by a timeout
#   make_repo DIR  git init (user config, branch main) + commit_all
#   expect_* / fail  assertions that say what was expected and what was got;
#                  a failed assertion is counted and the test goes on, the
#                  script exits 1 at the end if any failed
#   jget / expect_json  read fields of a JSON document with python3
#   start_bg / wait_bg / wait_for  background runs, bounded polling
#
# Tests talk only to 127.0.0.1 and never touch the repository they live in.

set -u -o pipefail

E2E_NAME=$(basename "$0" .sh)
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TAUON_SOURCE_DIR=${TAUON_SOURCE_DIR:-$(cd "$E2E_DIR/../.." && pwd)}
# Absolute: the test runs in its temp dir.
TAUON_SOURCE_DIR=$(cd "$TAUON_SOURCE_DIR" && pwd)
if [[ -z "${TAUON:-}" ]]; then
  TAUON="$TAUON_SOURCE_DIR/build/tauon"
fi
if [[ ! -x "$TAUON" ]]; then
  echo "$E2E_NAME: FAIL: TAUON=$TAUON is not an executable (build it, or set TAUON)" >&2
  exit 1
fi
TAUON=$(cd "$(dirname "$TAUON")" && pwd)/$(basename "$TAUON")
# Debian's python3, not a pyenv shim that depends on $HOME and friends.
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=$(command -v python3)
# JUnit reports written by real tools (see /work/shared/corpus/junit).
JUNIT_CORPUS=${TAUON_JUNIT_CORPUS:-$TAUON_SOURCE_DIR/../shared/corpus/junit}

# Seconds any single tauon command may take before it is killed.
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-60}

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tauon-e2e.$E2E_NAME.XXXXXX")
DATA="$E2E_TMP/data"
E2E_FAILURES=0
E2E_CHECKS=0
E2E_START=$(date +%s.%N)
E2E_BG_PIDS=()
E2E_KILL_PATTERNS=()  # pgrep -f patterns of processes to kill at exit.
E2E_EXIT_HOOKS=()     # Commands run first at exit (see at_exit).
E2E_SEQ=0

# A clean, reproducible environment: no user git config, no inherited data dir.
unset TAUON_DATA_DIR GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
export GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL="$E2E_TMP/gitconfig"
cat >"$GIT_CONFIG_GLOBAL" <<'EOF'
[user]
	name = Tauon E2E
	email = e2e@tauon.invalid
[init]
	defaultBranch = main
[commit]
	gpgsign = false
[tag]
	gpgsign = false
[advice]
	detachedHead = false
EOF

E2E_MAIN_PID=$BASHPID
e2e_cleanup() {
  local rc=$? pid pattern
  # A subshell (a watchdog, a command substitution) may run this trap: only
  # the test's own shell cleans up and reports.
  [[ $BASHPID == "$E2E_MAIN_PID" ]] || exit "$rc"
  local hook
  for hook in "${E2E_EXIT_HOOKS[@]}"; do
    eval "$hook" >/dev/null 2>&1 || true
  done
  for pid in "${E2E_BG_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  done
  for pattern in "${E2E_KILL_PATTERNS[@]}"; do
    for pid in $(pgrep -f -- "$pattern" 2>/dev/null); do
      [[ $pid != "$$" ]] && kill -KILL "$pid" 2>/dev/null
    done
  done
  # Workspaces may hold read-only files (artifact blobs are 0444).
  chmod -R u+w "$E2E_TMP" 2>/dev/null
  if [[ -n "${E2E_KEEP_TMP:-}" ]]; then
    echo "$E2E_NAME: kept $E2E_TMP"
  else
    rm -rf "$E2E_TMP"
  fi
  local took
  took=$(awk -v s="$E2E_START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  if ((E2E_FAILURES > 0)); then
    echo "$E2E_NAME: FAILED: $E2E_FAILURES of $E2E_CHECKS checks failed (${took}s)"
    exit 1
  fi
  if ((rc != 0)); then
    echo "$E2E_NAME: FAILED: the script exited with $rc (${took}s)"
    exit "$rc"
  fi
  echo "$E2E_NAME: PASS: $E2E_CHECKS checks (${took}s)"
  exit 0
}
trap e2e_cleanup EXIT
trap 'echo "$E2E_NAME: interrupted"; exit 130' INT TERM
# Never run anything against the directory the test was started from (the
# source tree, usually): a bare `tauon run` must find no repository here.
cd "$E2E_TMP" || exit 1

# --- output ---------------------------------------------------------------

# section TITLE: marks the start of a scenario in the test's output.
section() { echo "=== $E2E_NAME: $*"; }

# Prints the first lines of a file or text, indented, for failure messages.
e2e_show() {
  local what=$1 limit=${2:-60}
  if [[ -f "$what" ]]; then
    sed -n "1,${limit}p" "$what" | sed 's/^/    | /'
    local n
    n=$(wc -l <"$what")
    ((n > limit)) && echo "    | ... ($n lines)"
  else
    printf '%s\n' "$what" | sed -n "1,${limit}p" | sed 's/^/    | /'
  fi
  return 0
}

# The caller's line, for messages.
e2e_where() {
  local i
  for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
    if [[ ${BASH_SOURCE[$i]} != "${BASH_SOURCE[0]}" ]]; then
      echo "$(basename "${BASH_SOURCE[$i]}"):${BASH_LINENO[$((i - 1))]}"
      return
    fi
  done
  echo "?"
}

# --- assertions -------------------------------------------------------------

# fail MSG...: records a failed check and goes on.
fail() {
  E2E_FAILURES=$((E2E_FAILURES + 1))
  echo "FAIL [$(e2e_where)]: $*" >&2
  return 1
}

# die MSG...: a failure after which the test cannot go on.
die() {
  E2E_FAILURES=$((E2E_FAILURES + 1))
  echo "FAIL [$(e2e_where)]: $* (giving up)" >&2
  exit 1
}

pass() { E2E_CHECKS=$((E2E_CHECKS + 1)); return 0; }

# expect_exit CODE CMD...: runs CMD with stdout in $OUT and stderr in $ERR
# (files) and checks its exit code; RC holds the code.
expect_exit() {
  local want=$1
  shift
  E2E_SEQ=$((E2E_SEQ + 1))
  OUT="$E2E_TMP/out.$E2E_SEQ"
  ERR="$E2E_TMP/err.$E2E_SEQ"
  "$@" >"$OUT" 2>"$ERR"
  RC=$?
  E2E_CHECKS=$((E2E_CHECKS + 1))
  if [[ "$RC" != "$want" ]]; then
    fail "expected exit code $want, got $RC from: $*"
    echo "  stdout:" >&2
    e2e_show "$OUT" 80 >&2
    echo "  stderr:" >&2
    e2e_show "$ERR" 40 >&2
    return 1
  fi
  return 0
}

# expect_eq EXPECTED ACTUAL [WHAT]
expect_eq() {
  E2E_CHECKS=$((E2E_CHECKS + 1))
  if [[ "$1" != "$2" ]]; then
    fail "${3:-value}: expected '$1', got '$2'"
    return 1
  fi
}

# expect_contains FILE_OR_TEXT NEEDLE [WHAT]: a fixed-string search.
expect_contains() {
  E2E_CHECKS=$((E2E_CHECKS + 1))
  local target=$1 needle=$2 found=1
  if [[ -f "$target" ]]; then
    grep -qF -- "$needle" "$target" && found=0
  else
    [[ "$target" == *"$needle"* ]] && found=0
  fi
  if ((found != 0)); then
    fail "${3:-output} should contain '$needle'; got:"
    e2e_show "$target" >&2
    return 1
  fi
}

# expect_not_contains FILE_OR_TEXT NEEDLE [WHAT]
expect_not_contains() {
  E2E_CHECKS=$((E2E_CHECKS + 1))
  local target=$1 needle=$2 found=1
  if [[ -f "$target" ]]; then
    grep -qF -- "$needle" "$target" && found=0
  else
    [[ "$target" == *"$needle"* ]] && found=0
  fi
  if ((found == 0)); then
    fail "${3:-output} should not contain '$needle'; got:"
    if [[ -f "$target" ]]; then
      grep -nF -- "$needle" "$target" | head -20 | sed 's/^/    | /' >&2
    else
      e2e_show "$target" >&2
    fi
    return 1
  fi
}

# expect_match FILE_OR_TEXT ERE [WHAT]: an extended regular expression search.
expect_match() {
  E2E_CHECKS=$((E2E_CHECKS + 1))
  local target=$1 re=$2 found=1
  if [[ -f "$target" ]]; then
    grep -qE -- "$re" "$target" && found=0
  else
    printf '%s\n' "$target" | grep -qE -- "$re" && found=0
  fi
  if ((found != 0)); then
    fail "${3:-output} should match /$re/; got:"
    e2e_show "$target" >&2
    return 1
  fi
}

# expect_true WHAT CMD...: CMD must succeed.
expect_true() {
  local what=$1
  shift
  E2E_CHECKS=$((E2E_CHECKS + 1))
  if ! "$@"; then
    fail "$what (failed: $*)"
    return 1
  fi
}

# expect_le A B WHAT: numeric A <= B (decimals allowed).
expect_le() {
  E2E_CHECKS=$((E2E_CHECKS + 1))
  if ! awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; then
    fail "${3:-value}: expected $1 <= $2"
    return 1
  fi
}

# --- JSON -------------------------------------------------------------------

# jget FILE EXPR: evaluates a Python expression over the JSON document in FILE
# (`d`); strings print raw, sets as sorted lists, everything else as JSON. Helpers in scope:
# job(name) finds a job of a run, step(job_name, i) its i-th step.
jget() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
def job(name):
    for j in d["jobs"]:
        if j["name"] == name:
            return j
    raise SystemExit("no job %r in %s" % (name, [j["name"] for j in d["jobs"]]))
def step(name, i):
    return job(name)["steps"][i]
v = eval(sys.argv[2])
if isinstance(v, (set, frozenset)):
    v = sorted(v)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False))
PYEOF
}

# expect_json FILE EXPR EXPECTED: jget FILE EXPR must print EXPECTED.
expect_json() {
  local got
  if ! got=$(jget "$1" "$2" 2>&1); then
    E2E_CHECKS=$((E2E_CHECKS + 1))
    fail "cannot evaluate $2 on $1: $(tail -n 1 <<<"$got")"
    e2e_show "$1" 20 >&2
    return 1
  fi
  expect_eq "$3" "$got" "$2"
}

# show_json RUN: `tauon show RUN --json` into the file $JSON (must succeed).
show_json() {
  E2E_SEQ=$((E2E_SEQ + 1))
  JSON="$E2E_TMP/show.$E2E_SEQ.json"
  if ! tauon show "$1" --json >"$JSON" 2>"$JSON.err"; then
    fail "tauon show $1 --json failed:"
    e2e_show "$JSON.err" >&2
    return 1
  fi
}

# --- running tauon ------------------------------------------------------------

# tauon ARGS...: the binary with this test's data dir, killed if it hangs.
tauon() {
  timeout -k 5 "$E2E_CMD_TIMEOUT" "$TAUON" --data-dir "$DATA" "$@"
}

# The id of the newest run in $DATA.
last_run_id() {
  local file="$E2E_TMP/runs.json"
  tauon runs --json -n 1 >"$file" 2>/dev/null || return 1
  jget "$file" 'd[0]["id"] if d else ""'
}

# --- git ------------------------------------------------------------------------

# make_repo DIR: creates DIR if needed, git-inits it on branch main and
# commits the files already there (if any). Sets REPO=DIR.
make_repo() {
  REPO=$1
  mkdir -p "$REPO"
  git -C "$REPO" init -q -b main || die "git init $REPO"
  if [[ -n "$(find "$REPO" -mindepth 1 -maxdepth 1 ! -name .git -print -quit)" ]]; then
    commit_all "initial commit" "$REPO"
  fi
}

# commit_all MSG [DIR]: commits everything in DIR (default $REPO).
commit_all() {
  local dir=${2:-$REPO}
  if ! git -C "$dir" add -A || ! git -C "$dir" commit -q --allow-empty -m "$1"; then
    die "git commit in $dir"
  fi
}

# write FILE: writes stdin to FILE, creating its directory.
write() {
  mkdir -p "$(dirname "$1")"
  cat >"$1"
}

# --- processes -------------------------------------------------------------------

# kill_at_exit PATTERN: processes matching `pgrep -f PATTERN` are killed when
# the test exits (for processes a broken run may leave behind).
kill_at_exit() { E2E_KILL_PATTERNS+=("$1"); }

# start_bg NAME CMD...: starts CMD in the background with stdout and stderr
# in $E2E_TMP/NAME.out; BG_PID is its pid (CMD itself, so signals reach it).
start_bg() {
  local name=$1
  shift
  BG_OUT="$E2E_TMP/$name.out"
  "$@" >"$BG_OUT" 2>&1 &
  BG_PID=$!
  E2E_BG_PIDS+=("$BG_PID")
}

# wait_bg PID SECONDS: waits for the background PID (a child of this shell)
# to exit; BG_RC is its exit code. If it still runs after SECONDS it is
# killed (BG_RC=timeout) and the check fails.
wait_bg() {
  local pid=$1 seconds=$2 deadline
  deadline=$(($(now_ms) + seconds * 1000))
  E2E_CHECKS=$((E2E_CHECKS + 1))
  # An exited child stays a zombie until `wait` collects it.
  while is_alive "$pid"; do
    if (($(now_ms) >= deadline)); then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      BG_RC=timeout
      fail "process $pid did not exit within ${seconds}s"
      return 1
    fi
    sleep 0.05
  done
  wait "$pid" 2>/dev/null
  BG_RC=$?
  return 0
}

# wait_for SECONDS WHAT CMD...: polls CMD every 50ms until it succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline
  deadline=$(awk -v s="$seconds" -v now="$(date +%s.%N)" 'BEGIN { printf "%.3f", now + s }')
  while true; do
    if "$@"; then
      pass
      return 0
    fi
    if awk -v d="$deadline" -v now="$(date +%s.%N)" 'BEGIN { exit !(now >= d) }'; then
      fail "timed out after ${seconds}s waiting for $what"
      return 1
    fi
    sleep 0.05
  done
}

# now_ms: wall-clock milliseconds.
now_ms() { date +%s%3N; }

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  "$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# port_open PORT: true if something accepts connections on 127.0.0.1:PORT.
port_open() {
  "$PY" -c 'import socket, sys
s = socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# no_process PATTERN: true if no process matches `pgrep -f PATTERN`.
no_process() { ! pgrep -f -- "$1" >/dev/null 2>&1; }

# is_alive PID: true if PID runs (a zombie waiting for its reaper is dead).
is_alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

# at_exit CMD: runs the shell command CMD when the test exits, before
# background processes and kill_at_exit patterns are killed (quietly: its
# output and status are ignored).
at_exit() { E2E_EXIT_HOOKS+=("$1"); }

# --- tauon serve ------------------------------------------------------------------
#
# A server test pushes to a bare repository on disk and talks to a
# `tauon serve` on 127.0.0.1:
#
#   make_remote proj                 # $BARE (bare) and $REPO (a clone of it)
#   write "$REPO/.tauon.yml" <<<...; commit_all msg; push
#   start_server --max-jobs 2        # SERVER_URL, SERVER_PID, TOKEN, SERVER_LOG
#   tauon_remote repo add proj "$BARE" --poll 1s
#   api GET /api/v1/runs             # $HTTP and the body in the file $BODY
#   wait_run 1 30                    # until run 1 ends; RUN_STATUS
#   stop_server

# make_remote NAME: a bare repository $E2E_TMP/NAME.git on branch main and a
# clone of it in $E2E_TMP/NAME to commit and push from. Sets BARE and REPO.
make_remote() {
  BARE="$E2E_TMP/$1.git"
  REPO="$E2E_TMP/$1"
  git init -q --bare -b main "$BARE" || die "git init --bare $BARE"
  git clone -q "$BARE" "$REPO" 2>/dev/null || die "git clone $BARE"
  git -C "$REPO" symbolic-ref HEAD refs/heads/main
}

# push [REFSPEC...]: `git push origin REFSPEC...` from $REPO (default: the
# current branch); the test gives up if the push fails.
push() {
  local refs=("$@")
  ((${#refs[@]})) || refs=(HEAD)
  timeout -k 5 30 git -C "$REPO" push -q origin "${refs[@]}" >"$E2E_TMP/push.out" 2>&1 ||
    die "git push origin ${refs[*]} failed: $(tail -n 3 "$E2E_TMP/push.out")"
}

# head_sha [REF]: the commit REF (default HEAD) of $REPO.
head_sha() { git -C "$REPO" rev-parse "${1:-HEAD}"; }

# server_up: the server answers GET /healthz.
server_up() { curl -fsS --max-time 2 -o /dev/null "$SERVER_URL/healthz" 2>/dev/null; }

E2E_SERVER_STARTS=0
# start_server ARGS...: `tauon serve --data-dir $DATA --listen 127.0.0.1:PORT
# ARGS...` in the background on a free port (the same port again after a
# restart, unless SERVER_PORT is unset), and waits until /healthz answers.
# Sets SERVER_PID, SERVER_PORT, SERVER_URL and TOKEN (from $DATA/token).
# Every start appends its output to $SERVER_LOG ($E2E_TMP/server.log), after
# a line "=== server start N". The server is stopped (SIGTERM, then SIGKILL)
# when the test exits. E2E_SERVER_ENV (an array of NAME=VALUE) is added to
# its environment, which steps inherit.
SERVER_LOG="$E2E_TMP/server.log"
SERVER_PID=
E2E_SERVER_ENV=()
start_server() {
  local attempt deadline
  for attempt in 1 2 3; do
    [[ -n ${SERVER_PORT:-} ]] || SERVER_PORT=$(free_port)
    SERVER_URL="http://127.0.0.1:$SERVER_PORT"
    E2E_SERVER_STARTS=$((E2E_SERVER_STARTS + 1))
    echo "=== server start $E2E_SERVER_STARTS on port $SERVER_PORT" >>"$SERVER_LOG"
    env "${E2E_SERVER_ENV[@]}" "$TAUON" --data-dir "$DATA" serve \
      --listen "127.0.0.1:$SERVER_PORT" "$@" >>"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    E2E_BG_PIDS+=("$SERVER_PID")
    deadline=$(($(now_ms) + 20000))
    while is_alive "$SERVER_PID" && (($(now_ms) < deadline)); do
      if server_up; then
        TOKEN=$(tr -d '\n' <"$DATA/token" 2>/dev/null)
        pass
        return 0
      fi
      sleep 0.05
    done
    if is_alive "$SERVER_PID"; then
      kill -KILL "$SERVER_PID" 2>/dev/null
      wait "$SERVER_PID" 2>/dev/null
      die "the server did not answer /healthz within 20s; its output:
$(tail -n 30 "$SERVER_LOG")"
    fi
    wait "$SERVER_PID" 2>/dev/null
    # Lost a race for the port: try another one.
    grep -q "cannot listen" <(tail -n 3 "$SERVER_LOG") || break
    SERVER_PORT=
  done
  die "the server did not start; its output:
$(tail -n 30 "$SERVER_LOG")"
}
at_exit 'e2e_stop_server_quietly'
e2e_stop_server_quietly() {
  [[ -n $SERVER_PID ]] && is_alive "$SERVER_PID" || return 0
  kill -TERM "$SERVER_PID"
  local deadline=$(($(now_ms) + 15000))
  while is_alive "$SERVER_PID" && (($(now_ms) < deadline)); do sleep 0.05; done
}

# stop_server [SECONDS]: SIGTERM, then checks that the server exits with 0
# within SECONDS (default 20).
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait_bg "$SERVER_PID" "${1:-20}"
  expect_eq 0 "$BG_RC" "the server's exit code after SIGTERM"
  SERVER_PID=
}

# kill_server: SIGKILL, and reaps it.
kill_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

# tauon_remote ARGS...: the CLI talking to the server (--server $SERVER_URL).
tauon_remote() { tauon --server "$SERVER_URL" "$@"; }

# http METHOD PATH [CURL_ARGS...]: a request to the server without a token;
# the response body goes to the file $BODY, its status to $HTTP (000 when
# there is no answer) and its headers to the file $HEADERS.
http() {
  local method=$1 path=$2
  shift 2
  E2E_SEQ=$((E2E_SEQ + 1))
  BODY="$E2E_TMP/http.$E2E_SEQ.body"
  HEADERS="$E2E_TMP/http.$E2E_SEQ.headers"
  HTTP=$(curl -sS --max-time 30 -o "$BODY" -D "$HEADERS" -w '%{http_code}' -X "$method" \
    "$@" "$SERVER_URL$path" 2>"$BODY.err") || true
  [[ -n $HTTP ]] || HTTP=000
}

# api METHOD PATH [CURL_ARGS...]: http with the API token.
api() {
  local method=$1 path=$2
  shift 2
  http "$method" "$path" -H "Authorization: Bearer $TOKEN" "$@"
}

# expect_http CODE: the last http/api call answered CODE.
expect_http() {
  E2E_CHECKS=$((E2E_CHECKS + 1))
  if [[ $HTTP != "$1" ]]; then
    fail "${2:-HTTP status}: expected $1, got $HTTP; body:"
    e2e_show "$BODY" 20 >&2
    [[ -s $BODY.err ]] && e2e_show "$BODY.err" 5 >&2
    return 1
  fi
}

# api_json PATH: GET PATH with the token; the JSON body in the file $BODY
# (the test gives up unless the answer is 200).
api_json() {
  api GET "$1"
  [[ $HTTP == 200 ]] || die "GET $1 answered $HTTP: $(head -c 300 "$BODY")"
}

# runs_json [QUERY]: GET /api/v1/runs?limit=500&QUERY into the file $BODY.
runs_json() { api_json "/api/v1/runs?limit=500${1:+&$1}"; }

# run_count [QUERY]: how many runs /api/v1/runs lists.
run_count() {
  runs_json "${1:-}"
  jget "$BODY" 'len(d["runs"])'
}

# run_field ID EXPR: jget on GET /api/v1/runs/ID.
run_field() {
  api GET "/api/v1/runs/$1"
  [[ $HTTP == 200 ]] || { echo "HTTP $HTTP"; return 1; }
  jget "$BODY" "$2"
}

# run_finished ID: the run's status is success, failed, cancelled or
# interrupted; sets RUN_STATUS.
run_finished() {
  RUN_STATUS=$(run_field "$1" 'd["status"]') || return 1
  [[ $RUN_STATUS =~ ^(success|failed|cancelled|interrupted)$ ]]
}

# run_is ID STATUS: the run's status is STATUS.
run_is() { [[ $(run_field "$1" 'd["status"]' 2>/dev/null) == "$2" ]]; }

# wait_run ID SECONDS: waits until run ID ends; RUN_STATUS is its status.
wait_run() {
  wait_for "$2" "run $1 to finish" run_finished "$1"
}

# at_least_runs N [QUERY]: /api/v1/runs lists at least N runs.
at_least_runs() { (($(run_count "${2:-}") >= $1)); }

# sign_github SECRET FILE: the X-Hub-Signature-256 value of FILE's bytes.
sign_github() {
  echo "sha256=$(openssl dgst -sha256 -hmac "$1" -r <"$2" | cut -d' ' -f1)"
}

# settle SECONDS: sleeps, for checks that something does NOT happen.
settle() { sleep "$1"; }
