#!/usr/bin/env bash
# The tutorial's stall experiment: jmsg server --no-read accepts and never
# reads; jmsg client --flood sends without reading.  The server's Recv-Q
# fills, then the client's Send-Q, and send() reports it would block.  The
# kernel's own view (ss) must agree with what the client reports.  Without
# ss (iproute2) that part is not checked and the test ends in a skip (77)
# unless the rest failed.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
FAIL_LOGS='*'

start_server s --no-read
port=$s_port spid=$s_pid
grep -q "no-read" "$T/s.out" || fail "server does not say it is not reading"

timeout 30 "$JMSG" client --port "$port" --flood --duration 3 binary test >"$T/flood.out" 2>"$T/flood.err" &
fpid=$!
pids+=($fpid)
# while it runs, the server side of the connection holds unread bytes
recvq=0 not_run=
if command -v ss >/dev/null; then
	for _ in $(seq 40); do
		recvq=$(ss -Htn state established "( sport = :$port )" | awk '{ if ($1 > m) m = $1 } END { print m + 0 }')
		[ "$recvq" -gt 0 ] && break
		sleep 0.05
	done
	[ "$recvq" -gt 0 ] || fail "server socket's Recv-Q stayed empty"
else
	not_run="ss is not installed (make deps: iproute2), the server's Recv-Q was not checked"
fi
wait $fpid
rc=$?
[ $rc -eq 0 ] || fail "flood exited $rc"
[ ! -s "$T/flood.err" ] || fail "flood wrote errors"
grep -q "^send() would block after [0-9]* bytes to 127.0.0.1:$port: Resource temporarily unavailable" "$T/flood.out" ||
	fail "flood never reported a blocked send()"
[ "$(grep -c '^flood: ' "$T/flood.out")" -ge 3 ] || fail "fewer than 3 status lines in 3 s"
queued=$(grep -o 'Closing connection to [^:]*:[0-9]*: [0-9]* bytes queued' "$T/flood.out" | awk '{print $(NF-2)}')
blocked_at=$(grep -o 'would block after [0-9]*' "$T/flood.out" | awk '{print $NF}')
[ -n "$queued" ] && [ "$queued" -ge "$blocked_at" ] || fail "final count missing or below the first block"
# what the kernel held on the server side cannot exceed what was sent
[ "$recvq" -le "$queued" ] || fail "Recv-Q $recvq is more than the client says it queued ($queued)"
grep -q "Accepted connection from 127.0.0.1:" "$T/s.out" || fail "server did not log the connection"
kill -TERM $spid
wait $spid || fail "server exited $? after SIGTERM"
echo "ok: flood blocked after $blocked_at bytes, queued $queued; server Recv-Q reached $recvq"
[ -z "$not_run" ] || skip "$not_run"
