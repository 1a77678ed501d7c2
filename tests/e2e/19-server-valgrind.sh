#!/usr/bin/env bash
# The same session as the ASan test, under valgrind's memcheck: the server
# and the client end with no memory in use and no error, after searches,
# binary requests, pipelined and one-shot load, a bad request and a
# refused connection.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
need valgrind
tmpdir T
VG=(valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=9)

SERVER_WRAP=("${VG[@]}" --log-file="$T/server.vg") SERVER_WAIT=30
start_server s -q
port=$s_port spid=$s_pid

i=0
for args in "search morpheus" "search nobody" "-v binary x" \
	"--load --conns 4 --requests 1000 --pipeline 4" "--load --one-shot --conns 2 --requests 50 --json"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	timeout 120 "${VG[@]}" --log-file="$T/client$i.vg" "$JMSG" client --port "$port" -q $args >"$T/c$i.out" 2>&1 ||
		fail "client $args under valgrind exited $?: $(cat "$T/client$i.vg")"
done
grep -q "Got result: Follow the white rabbit" "$T/c1.out" || fail "wrong answer under valgrind"
printf '\x00\x05{bad}' | timeout 60 "$BUILD/tools/srv_rawsend" -w 30 "$port" >"$T/bad.resp" || fail "bad request not answered"
grep -qa '"error": "header_not_json"' "$T/bad.resp" || fail "no error response"
kill -TERM $spid
wait $spid
rc=$?
[ $rc -eq 0 ] || fail "server under valgrind exited $rc: $(cat "$T/server.vg")"
timeout 60 "${VG[@]}" --log-file="$T/refused.vg" "$JMSG" client --port "$port" search x >/dev/null 2>&1
rc=$?
[ $rc -eq 3 ] || fail "refused client exited $rc under valgrind: $(cat "$T/refused.vg")"
for f in "$T"/*.vg; do
	[ ! -s "$f" ] || fail "valgrind reported: $(cat "$f")"
done
echo "ok: server and $((i + 1)) client runs under valgrind, nothing reported"
