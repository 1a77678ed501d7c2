#!/usr/bin/env bash
# No leaks, no undefined behaviour: a whole session with both the server
# and the client built with ASan+UBSan (leak checking on).  Every process
# must exit as it should and print no sanitizer report, including a server
# stopped by SIGTERM while connections are open.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
have_asan || skip "no ASan build of jmsg (JMSG_ASAN)"
A=$JMSG_ASAN SERVER=$JMSG_ASAN
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
tmpdir T
FAIL_LOGS='*.err' FAIL_TAIL=40

start_server s --idle-timeout 5
port=$s_port spid=$s_pid

i=0
c() { # EXPECTED-EXIT ARGS...: one ASan client run
	local want=$1; shift
	i=$((i + 1))
	timeout 120 "$A" client --port "$port" "$@" >"$T/c$i.out" 2>"$T/c$i.err"
	local rc=$?
	[ $rc -eq "$want" ] || fail "client $* exited $rc, want $want"
}
c 0 search morpheus
c 0 -v search 🐶
c 0 -v binary ☺
c 0 --keep-alive search ring
c 0 --load --conns 8 --requests 2000 --pipeline 4
c 0 --load --conns 4 --requests 200 --one-shot --json
c 0 --load --conns 2 --duration 0.5 binary x
c 5 --max-content 10 search "$(printf 'y%.0s' $(seq 50))" # response over the client's limit
grep -q "Got result: Follow the white rabbit" "$T/c1.out" || fail "ASan client: wrong result"

# bad input through the ASan server
printf '\x00\x05{bad}' | timeout 20 "$BUILD/tools/srv_rawsend" -w 5 "$port" >"$T/bad.resp" || fail "bad input not answered"
grep -qa '"error": "header_not_json"' "$T/bad.resp" || fail "bad input: no error response"

# SIGTERM with connections open: one idle, one in the middle of a message
sleep 10 | timeout 20 "$BUILD/tools/srv_rawsend" -w 15 "$port" >/dev/null &
pids+=($!)
{ printf '\x00\x67{"byteorder"'; sleep 10; } | timeout 20 "$BUILD/tools/srv_rawsend" -w 15 "$port" >/dev/null &
pids+=($!)
sleep 0.5
kill -TERM $spid
wait $spid
rc=$?
[ $rc -eq 0 ] || fail "ASan server exited $rc after SIGTERM"

# the flood pair under ASan too
start_server s2 --no-read -q
port=$s2_port spid2=$s2_pid
c 0 --flood --duration 1
kill -TERM $spid2
wait $spid2 || fail "ASan --no-read server exited $? after SIGTERM"

! sanitizer_report "$T"/*.err || fail "sanitizer report in the files named above"
echo "ok: $i ASan client runs and two ASan servers, no sanitizer or leak report"
