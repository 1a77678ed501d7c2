#!/usr/bin/env bash
# Replay every recorded capture of the reference programs (the tutorial's
# own Python programs, and jmsg server/client live captures) against a
# fresh `jmsg server`: every response must come back identical, and the
# number compared must be the number of responses `jmsg analyze` finds in
# the capture.  Re-encoded and --raw, and once under ASan.
set -u
not_run=
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T

start_server s -q
port=$s_port

# field NAME LINE: a number from a JSON summary line
field() { sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p" <<<"$2"; }

n=0
for pcap in tests/fixtures/tutorial-*.pcap tests/fixtures/live-*.pcap; do
	[ -e "$pcap" ] || continue
	args=()
	[ -f "${pcap%.pcap}.args" ] && read -ra args <"${pcap%.pcap}.args"
	want=$("$JMSG" analyze -r "$pcap" "${args[@]}" -q | sed -n 's/.* \([0-9]*\) responses).*/\1/p')
	[ -n "$want" ] && [ "$want" -gt 0 ] || fail "$pcap: analyze finds no responses"
	for mode in "" --raw; do
		out=$(timeout 60 "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$port" --json $mode)
		rc=$?
		sum=$(grep '"event":"summary"' <<<"$out")
		echo "$pcap ${mode:-re-encoded}: exit $rc, $sum"
		[ $rc -eq 0 ] || { echo "$out"; fail "$pcap $mode: exit $rc, expected 0"; }
		[ "$(grep -vc '"event":"summary"' <<<"$out")" -eq 0 ] || { echo "$out"; fail "$pcap $mode: lines besides the summary"; }
		[ "$(field identical "$sum")" = "$want" ] || fail "$pcap $mode: $(field identical "$sum") identical, analyze finds $want responses"
		[ "$(field different "$sum")" = 0 ] && [ "$(field missing "$sum")" = 0 ] && [ "$(field extra "$sum")" = 0 ] ||
			fail "$pcap $mode: differences in the summary"
	done
	n=$((n + 1))
done
[ $n -ge 2 ] || fail "fewer than two recorded captures found"

# The tutorial's IPv4 capture replayed to an IPv6 target.
if try_start_server s6 --host ::1 -q; then
	pcap=tests/fixtures/tutorial-search-morpheus.pcap
	read -ra args <"${pcap%.pcap}.args"
	out=$(timeout 30 "$JMSG" replay "$pcap" "${args[@]}" --to "[::1]:$s6_port")
	rc=$?
	echo "IPv6: $out"
	[ $rc -eq 0 ] || fail "IPv6 replay: exit $rc"
	grep -q '1 identical' <<<"$out" || fail "IPv6 replay: not identical"
else
	not_run="no IPv6 on loopback: the IPv6 replay was not tried"
fi

# Under ASan+UBSan, a capture with many streams.
if have_asan; then
	pcap=tests/fixtures/live-many-clients.pcap
	read -ra args <"${pcap%.pcap}.args"
	out=$(timeout 120 "$JMSG_ASAN" replay "$pcap" "${args[@]}" --to "127.0.0.1:$port" --asap --concurrency 4 2>"$T/asan.err")
	rc=$?
	echo "ASan: $out"
	[ $rc -eq 0 ] || { cat "$T/asan.err"; fail "ASan replay: exit $rc"; }
	[ ! -s "$T/asan.err" ] || { cat "$T/asan.err"; fail "ASan replay wrote to stderr"; }
fi
echo "replayed $n captures with no difference"
[ -z "$not_run" ] || skip "$not_run"
