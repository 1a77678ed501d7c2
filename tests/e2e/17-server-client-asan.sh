#!/usr/bin/env bash
# No leaks, no undefined behaviour: a whole session with both the server
# and the client built with ASan+UBSan (leak checking on).  Every process
# must exit as it should and print no sanitizer report, including a server
# stopped by SIGTERM while connections are open.
set -u
: "${JMSG:?}" "${BUILD:?}"
if [ -z "${JMSG_ASAN:-}" ] || [ ! -x "$JMSG_ASAN" ]; then
	echo "skip: no ASan build of jmsg (JMSG_ASAN)"
	exit 77
fi
A=$JMSG_ASAN
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }
clean() { ! grep -lE "Sanitizer|runtime error" "$@" >/dev/null 2>&1; }

"$A" server --port 0 --port-file "$T/port" --idle-timeout 5 >"$T/s.out" 2>"$T/s.err" &
spid=$!
pids+=($spid)
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "ASan server did not start"
port=$(cat "$T/port")

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
"$A" server --port 0 --port-file "$T/port2" --no-read -q >"$T/s2.out" 2>"$T/s2.err" &
spid2=$!
pids+=($spid2)
for _ in $(seq 200); do [ -s "$T/port2" ] && break; sleep 0.05; done
[ -s "$T/port2" ] || fail "ASan --no-read server did not start"
port=$(cat "$T/port2")
c 0 --flood --duration 1
kill -TERM $spid2
wait $spid2 || fail "ASan --no-read server exited $? after SIGTERM"

clean "$T"/*.err || fail "sanitizer report in $(grep -lE 'Sanitizer|runtime error' "$T"/*.err)"
echo "ok: $i ASan client runs and two ASan servers, no sanitizer or leak report"
