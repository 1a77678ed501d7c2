#!/usr/bin/env bash
# Pipelining and concurrency, seen on the wire.  Records a pipelined
# keep-alive load run with tcpdump on lo, replays it (--asap) while
# recording again, and holds the two captures against each other with
# `jmsg analyze`: each stream's pipelining depth (most requests in flight)
# must be the same in the replay as in the original.  A keep-alive capture
# without pipelining must stay unpipelined even with --asap, and
# --concurrency N must never have more than N streams open at once.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
need tcpdump "tcpdump not installed"
tmpdir T

start_server s -q
port=$s_port

# dump_start FILE / dump_stop: tcpdump on lo, this server's port only.  A
# modest ring with a short snapshot (these messages are small) holds
# thousands of packets and comes up fast; a tcpdump that does not come
# up in 10 s is tried again.  Only a permission error (not root, no
# CAP_NET_RAW) skips the test; tcpdump failing to start otherwise fails it.
dump_start() {
	for _ in 1 2 3; do
		rm -f "$T/dump.log"   # the last run's "listening" line is not this one's
		timeout 120 tcpdump -i lo -s 4096 -B 16384 --immediate-mode -U -w "$1" "tcp port $port" 2>"$T/dump.log" &
		dump_pid=$!
		pids+=("$dump_pid")
		wait_for_line "$T/dump.log" "listening on" 10 "$dump_pid" && return 0
		kill "$dump_pid" 2>/dev/null; wait "$dump_pid" 2>/dev/null; dump_pid=
		if grep -qE "You don't have permission|Operation not permitted" "$T/dump.log"; then
			echo "skip: no permission to capture on lo: $(tr '\n' ' ' <"$T/dump.log")"; exit 77
		fi
	done
	fail "tcpdump did not start capturing on lo (3 tries): $(cat "$T/dump.log")"
}
# dump_stop: returns 1 if tcpdump lost packets (a busy machine), so the
# caller records again
dump_stop() {
	sleep 1  # let tcpdump write the last FINs from its ring
	kill -INT "$dump_pid"
	wait "$dump_pid" 2>/dev/null
	dump_pid=
	grep -q "^0 packets dropped by kernel" "$T/dump.log" && return 0
	echo "note: tcpdump lost packets: $(grep dropped "$T/dump.log" | tr '\n' ' ')"
	return 1
}
# recorded FILE CMD...: run CMD while recording; up to 3 tries for a
# capture without losses.  CMD's output is in $T/cmd.out, its status in $cmd_rc.
recorded() {
	local file=$1; shift
	for try in 1 2 3; do
		dump_start "$file"
		timeout 60 "$@" >"$T/cmd.out" 2>&1
		cmd_rc=$?
		dump_stop && return 0
	done
	fail "tcpdump lost packets three times; the machine is too busy for this test"
}
# depths FILE: each stream's most requests in flight, sorted, one a line
depths() {
	"$JMSG" analyze -r "$1" --port "$port" --json | grep '"event":"message"' |
		sed -n 's/.*"stream":\([0-9]*\),.*"dir":"\([a-z]*\)".*/\1 \2/p' |
		awk '{ if ($2 == "request") o[$1]++; else o[$1]--; if (o[$1] > m[$1]) m[$1] = o[$1] }
		     END { for (s in m) print m[s] }' | sort -n
}
# most_open FILE: most streams open at once
most_open() {
	"$JMSG" analyze -r "$1" --port "$port" --json | grep '"event":"stream"' |
		sed -n 's/.*"phase":"\([a-z]*\)".*/\1/p' |
		awk '{ if ($1 == "begin") n++; else n--; if (n > m) m = n } END { print m + 0 }'
}

# 1. A pipelined load run, recorded.
recorded "$T/orig.pcap" "$JMSG" client --port "$port" --load --conns 2 --requests 24 --pipeline 4 --keep-alive -q
[ $cmd_rc -eq 0 ] || { cat "$T/cmd.out"; fail "client load run failed"; }
depths "$T/orig.pcap" >"$T/orig.depths"
echo "original: streams' pipelining depths: $(tr '\n' ' ' <"$T/orig.depths")"
[ -s "$T/orig.depths" ] || fail "no streams in the recorded capture"
[ "$(tail -n1 "$T/orig.depths")" -ge 2 ] || fail "the recorded run did not pipeline"

# 2. Its replay, recorded.
recorded "$T/replay.pcap" "$JMSG" replay "$T/orig.pcap" --port "$port" --to "127.0.0.1:$port" --asap
out=$(cat "$T/cmd.out") rc=$cmd_rc
echo "$out"
[ $rc -eq 0 ] || fail "replay of the pipelined run: exit $rc"
depths "$T/replay.pcap" >"$T/replay.depths"
echo "replay:   streams' pipelining depths: $(tr '\n' ' ' <"$T/replay.depths")"
diff "$T/orig.depths" "$T/replay.depths" >/dev/null || fail "the replay's pipelining differs from the original's"

# 3. Keep-alive without pipelining stays so, even as fast as possible.
pcap=tests/fixtures/live-keepalive.pcap
read -ra args <"${pcap%.pcap}.args"
recorded "$T/ka.pcap" "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$port" --asap
out=$(cat "$T/cmd.out") rc=$cmd_rc
[ $rc -eq 0 ] || { echo "$out"; fail "keep-alive replay: exit $rc"; }
echo "keep-alive replay: depths $(depths "$T/ka.pcap" | tr '\n' ' ')"
[ "$(depths "$T/ka.pcap" | sort -u)" = 1 ] || fail "an unpipelined capture was replayed pipelined"

# 4. --concurrency bounds the streams open at once.
pcap=tests/fixtures/live-many-clients.pcap
read -ra args <"${pcap%.pcap}.args"
recorded "$T/conc.pcap" "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$port" --asap --concurrency 3
out=$(cat "$T/cmd.out") rc=$cmd_rc
echo "$out"
[ $rc -eq 0 ] || fail "--concurrency 3 replay: exit $rc"
streams=$("$JMSG" analyze -r "$T/conc.pcap" --port "$port" -q | sed -n 's/.*; \([0-9]*\) streams;.*/\1/p')
open=$(most_open "$T/conc.pcap")
echo "--concurrency 3: $streams streams on the wire, at most $open open at once"
[ "$streams" -eq 32 ] || { cat "$T/dump.log"; ls -la "$T"; fail "expected the capture's 32 streams on the wire, saw $streams"; }
[ "$open" -ge 1 ] && [ "$open" -le 3 ] || fail "$open streams open at once with --concurrency 3"
