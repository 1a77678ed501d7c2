#!/usr/bin/env bash
# The client's failures: each is one clear line on stderr and its own exit
# status, as documented in `jmsg client --help`:
#   2 usage, 3 refused, 4 timeout, 5 malformed response, 6 server error.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T

# expect_exit CODE GREP-PATTERN CLIENT-ARGS...
expect_exit() {
	local code=$1 pat=$2; shift 2
	timeout 20 "$JMSG" client "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	[ $rc -eq "$code" ] || fail "client $*: exit $rc, want $code; stderr: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "client $*: want one stderr line, got: $(cat "$T/err")"
	grep -q -e "$pat" "$T/err" || fail "client $*: stderr lacks '$pat': $(cat "$T/err")"
	grep -qE "(^|[ ;:]) ?$code [a-z]" <<<"$("$JMSG" client --help)" || fail "exit $code is not documented in --help"
}

# usage
expect_exit 2 "expected ACTION VALUE"
expect_exit 2 "expected ACTION VALUE" search
expect_exit 2 "--port must be a port from 1 to 65535, not '70000'" --port 70000 search x
expect_exit 2 "unknown option '--bogus'" --bogus search x
expect_exit 2 "--timeout must be seconds" --timeout abc search x
expect_exit 2 "do not go together" --load --flood
# the tutorial's form, HOST PORT ACTION VALUE, gone wrong
expect_exit 2 "in HOST PORT ACTION VALUE, PORT must be a port from 1 to 65535, not 'search'" 127.0.0.1 search morpheus x
expect_exit 2 "expected ACTION VALUE or HOST PORT ACTION VALUE" 127.0.0.1 65432 search
expect_exit 2 "as HOST PORT words or as --host/--port, not both" --port 1 127.0.0.1 2 search x

# refused: a port whose server has just stopped
start_server gone -q
kill "$gone_pid"; wait "$gone_pid" 2>/dev/null
expect_exit 3 "cannot connect to 127.0.0.1:$gone_port: Connection refused" --port "$gone_port" search x
expect_exit 3 "cannot connect" --port "$gone_port" --load --requests 10
expect_exit 3 "cannot resolve 'no-such-host.invalid'" --host no-such-host.invalid search x

# more --conns than open files allowed: a usage error naming the limit, not
# "cannot connect" (the server is there)
start_server fds -q
(ulimit -n 64; expect_exit 2 "--conns 100 needs more open files than the limit 64" --port "$fds_port" --load --conns 100 --requests 1000) || exit 1

# timeout: a server that accepts and never reads or answers
start_server deaf -q --no-read
expect_exit 4 "timed out waiting for a response from 127.0.0.1:$deaf_port after 0.5 s" --port "$deaf_port" --timeout 0.5 search x

# malformed: a server that answers with bytes the codec rejects
bad() { # NAME BYTES-PRINTF PATTERN
	"$BUILD/tools/cli_fakeserver" "$T/$1.port" < <(printf "$2") &
	pids+=($!)
	wait_for_file "$T/$1.port" 5 || fail "fake server $1 did not start"
	expect_exit 5 "$3" --port "$(cat "$T/$1.port")" search x
}
bad notjson '\x00\x05{abc}' "malformed response from 127.0.0.1:[0-9]*: header_not_json"
bad cut '\x00\x67{"byteorder": "little"' "malformed response from 127.0.0.1:[0-9]*: truncated"
bad nothing '' "closed the connection without a response"

# server error response: content over the server's --max-content
start_server small -q --max-content 64
expect_exit 6 "server error: content_length_too_large" --port "$small_port" search "$(printf 'x%.0s' $(seq 100))"
# and the server still answers a request inside the limit
out=$(timeout 20 "$JMSG" client --port "$small_port" -q search morpheus) || fail "server after an error"
[ "$out" = "Got result: Follow the white rabbit. 🐰" ] || fail "after error: $out"
echo "ok: usage 2, refused 3, timeout 4, malformed 5, server error 6, one line each"
