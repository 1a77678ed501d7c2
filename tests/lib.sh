# Shell helpers the test scripts share.  Scripts run from the repository's
# root (they cd there first) and source it as:  . tests/lib.sh
#
#   tmpdir VAR              a temporary directory in $VAR; at exit, cleanup
#   pids+=(PID)             a background process cleanup ends at exit
#   procs+=(PID)            one cleanup continues at exit if it is stopped
#                           (start_server's servers; timeout ends them)
#   fail MSG / skip MSG     exit 1 / exit 77, saying why
#   need CMD [WHY]          skip unless CMD is installed
#   have_asan               the ASan+UBSan build is there (JMSG_ASAN)
#   sanitizer_report FILE.. a file holds an ASan/UBSan/LSan report
#   start_server NAME ARGS  a jmsg server on an ephemeral port
#   wait_for_file, wait_for_line, capture_started, child, cap_denied
#
# Settings (plain variables; set them before the call, or for one call as
# VAR=value start_server ...):
#   FAIL_LOGS       globs in the temporary directory whose files fail shows
#                   the end of, e.g. '*.err *.out' (default: none)
#   FAIL_TAIL       how many lines of each (default 20; +1 for all)
#   FAIL_CONTEXT    words fail adds to its message (e.g. a random seed)
#   MSG_PREFIX      put before "FAIL:" and "skip:" (e.g. "soak: ")
#   SERVER          the binary start_server runs (default $JMSG)
#   SERVER_WRAP     an array run in front of it (e.g. valgrind and options)
#   SERVER_TIMEOUT  the server's own time limit, seconds (default 600)
#   SERVER_WAIT     how long to wait for its port, whole seconds (default 10)

pids=() procs=()
TEST_TMP=
FAIL_LOGS='' FAIL_TAIL=20 FAIL_CONTEXT='' MSG_PREFIX=''
SERVER_WRAP=() SERVER_TIMEOUT=600 SERVER_WAIT=10

# tmpdir VAR: a new temporary directory, its name in $VAR; the EXIT trap
# runs cleanup, which removes it
tmpdir() {
	TEST_TMP=$(mktemp -d) || { echo "${MSG_PREFIX}FAIL: mktemp -d failed"; exit 1; }
	printf -v "$1" %s "$TEST_TMP"
	trap cleanup EXIT
}

# cleanup: every process in pids and procs that is stopped is continued (it
# would not act on SIGTERM), every one in pids is sent SIGTERM; then every
# child of the script is waited for, and the temporary directory removed.
# Only a stopped process is sent SIGCONT: one that comes while a sanitizer's
# leak check is attaching to the process cancels the stop the check waits
# for, and the process hangs.
cleanup() {
	local p
	for p in "${pids[@]}" "${procs[@]}"; do
		grep -q '^State:[[:space:]]*T' "/proc/$p/status" 2>/dev/null && kill -CONT "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -z "$TEST_TMP" ] || rm -rf "$TEST_TMP"
}

# fail MSG: "FAIL: MSG", the end of each non-empty FAIL_LOGS file, exit 1
fail() {
	echo "${MSG_PREFIX}FAIL: $*${FAIL_CONTEXT:+ $FAIL_CONTEXT}"
	local globs=() g f
	[ -z "$TEST_TMP" ] || read -r -a globs <<<"$FAIL_LOGS"
	for g in "${globs[@]}"; do
		for f in "$TEST_TMP"/$g; do
			[ -s "$f" ] && { echo "--- $f"; tail -n "$FAIL_TAIL" "$f"; }
		done
	done
	exit 1
}

# skip MSG: "skip: MSG" (tests/run-e2e.sh lists it), exit 77
skip() {
	echo "${MSG_PREFIX}skip: $*"
	exit 77
}

# need CMD [WHY]: skip with WHY (default "CMD is not installed") unless
# CMD is on PATH
need() {
	command -v "$1" >/dev/null || skip "${2:-$1 is not installed}"
}

# have_asan: JMSG_ASAN names an executable ASan+UBSan build of jmsg
have_asan() {
	[ -n "${JMSG_ASAN:-}" ] && [ -x "$JMSG_ASAN" ]
}

# sanitizer_report FILE...: one of the files holds a sanitizer report
# (ASan, LSan, UBSan); the lines that say so are printed
sanitizer_report() {
	grep -E "Sanitizer|runtime error" "$@" 2>/dev/null
}

# wait_for_file FILE SECONDS [PID]: wait until FILE is not empty, for
# SECONDS (a whole number) at most, or until PID, when given, has ended.
# Status 0 if FILE is not empty.
wait_for_file() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[ -s "$1" ] && return 0
		[ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$1" ]
}

# wait_for_line FILE TEXT SECONDS [PID]: wait until a line of FILE matches
# TEXT (a grep basic regular expression), for SECONDS (a whole number) at
# most, or until PID, when given, has ended.  Status 0 if one does.  FILE
# must not be left from an earlier run: remove it before starting the
# process that writes it (its shell may not have truncated it yet).
wait_for_line() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q -e "$2" "$1" 2>/dev/null && return 0
		[ -z "${4:-}" ] || kill -0 "$4" 2>/dev/null || break
		sleep 0.05
	done
	grep -q -e "$2" "$1" 2>/dev/null
}

# child PID: the pid of the process PID started (the command timeout(1)
# runs), once it is there (2 s at most)
child() {
	local c=""
	for _ in $(seq 100); do
		c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) && [ -n "$c" ] && { echo "${c%% *}"; return 0; }
		sleep 0.02
	done
	return 1
}

# try_start_server NAME [ARGS...]: runs
#   timeout SERVER_TIMEOUT [SERVER_WRAP...] SERVER server --port 0 --port-file T/NAME.port ARGS
# in the background, output in T/NAME.out and T/NAME.err (T: the temporary
# directory), and waits up to SERVER_WAIT seconds for its port.  Sets
#   NAME_port  the port it listens on
#   NAME_pid   timeout's pid, in pids: wait for it to get the server's exit
#              status; a signal sent to it is passed on to the server (that
#              signal only: --foreground), and 30 s later SIGKILL if the
#              server has not ended
#   NAME_proc  the server's own process, in procs (for /proc, SIGSTOP)
# Status 1 if the port did not come (the server ended, or took too long).
try_start_server() {
	local name=$1 d=$TEST_TMP pid proc
	shift
	timeout --foreground --kill-after=30 "$SERVER_TIMEOUT" "${SERVER_WRAP[@]}" "${SERVER:-$JMSG}" \
		server --port 0 --port-file "$d/$name.port" "$@" >"$d/$name.out" 2>"$d/$name.err" &
	pid=$!
	pids+=("$pid")
	printf -v "${name}_pid" %s "$pid"
	wait_for_file "$d/$name.port" "$SERVER_WAIT" "$pid" || return 1
	printf -v "${name}_port" %s "$(cat "$d/$name.port")"
	proc=$(child "$pid") || return 1
	procs+=("$proc")
	printf -v "${name}_proc" %s "$proc"
}

# start_server NAME [ARGS...]: try_start_server, or fail with the server's
# output
start_server() {
	try_start_server "$@" ||
		fail "server $1 did not start: $(cat "$TEST_TMP/$1.out" "$TEST_TMP/$1.err" 2>/dev/null)"
}

# cap_denied FILE: the analyzer's start-up error in FILE says it may not
# capture (tcp/capture.c: pcap_activate's PCAP_ERROR_PERM_DENIED, or
# libpcap's EPERM/EACCES text).  A capture test skips on this, and only on
# this: any other start-up failure is a failure.
cap_denied() {
	grep -qE "^jmsg analyze: (capturing on '[^']*' needs the CAP_NET_RAW capability|cannot capture on '[^']*': .*(Operation not permitted|Permission denied))" "$1"
}

# capture_started FILE PID WHAT [SECONDS]: wait (10 s by default) for the
# "listening on" line jmsg analyze -i prints on its stderr, FILE, while PID
# runs.  If it does not come: skip when the analyzer may not capture here
# (cap_denied), else fail "WHAT did not start" with FILE.
capture_started() {
	wait_for_line "$1" 'listening on' "${4:-10}" "$2" && return 0
	cap_denied "$1" && skip "no permission to capture on lo: $(cat "$1")"
	fail "$3 did not start: $(cat "$1")"
}
