#!/usr/bin/env bash
# --speed scales the capture's spacing: a capture whose requests span two
# seconds replays in about two seconds at --speed 1 and about a fifth of a
# second at --speed 10.  The times are printed; the checks are loose on
# purpose (well under 1.5 s, over 1.5 s): a busy machine may be slow, never
# faster than the schedule.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T

start_server s -q
port=$s_port

pcap=tests/fixtures/replay-spaced.pcap
# The span, from the capture: first to last request.
span=$("$JMSG" analyze -r "$pcap" --json | grep '"dir":"request"' | sed -n 's/.*"ts":\([0-9.]*\),.*/\1/p' |
	awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.3f", b - a }')
echo "capture: requests span $span s"
awk -v s="$span" 'BEGIN { exit !(s >= 1.8) }' || fail "the fixture should span about 2 s, spans $span"

# run ARGS...: one replay; sets secs to its wall-clock seconds.  Not
# called in $(...), so its fail ends the test.
run() {
	local t0 t1
	t0=$(date +%s.%N)
	timeout 30 "$JMSG" replay "$pcap" --to "127.0.0.1:$port" "$@" >"$T/out" 2>&1
	local rc=$?
	t1=$(date +%s.%N)
	[ $rc -eq 0 ] || { cat "$T/out"; fail "replay $*: exit $rc"; }
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	[[ $secs =~ ^[0-9]+\.[0-9]+$ ]] || fail "replay $*: no time measured ($secs)"
}
run --speed 1; t1=$secs
run --speed 10; t10=$secs
run --asap; tasap=$secs
echo "replay times: --speed 1: $t1 s, --speed 10: $t10 s, --asap: $tasap s"
awk -v t="$t10" 'BEGIN { exit !(t < 1.5) }' || fail "--speed 10 took $t10 s, expected well under 1.5 s"
awk -v t="$t1" 'BEGIN { exit !(t > 1.5) }' || fail "--speed 1 took $t1 s, expected over 1.5 s"
awk -v a="$tasap" -v b="$t1" 'BEGIN { exit !(a < b) }' || fail "--asap ($tasap s) not faster than --speed 1 ($t1 s)"
