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
cd "$(dirname "$0")/../.."
command -v tcpdump >/dev/null || { echo "skip: tcpdump not installed"; exit 77; }
T=$(mktemp -d)
pids=()
dump_pid=
cleanup() {
	[ -n "$dump_pid" ] && kill "$dump_pid" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$JMSG" server --port 0 --port-file "$T/port" -q >"$T/s.out" 2>"$T/s.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "server did not start: $(cat "$T/s.err")"
port=$(cat "$T/port")

# dump_start FILE / dump_stop: tcpdump on lo, this server's port only
dump_start() {
	timeout 120 tcpdump -i lo -s 262144 -B 32768 --immediate-mode -U -w "$1" "tcp port $port" 2>"$T/dump.log" &
	dump_pid=$!
	for _ in $(seq 50); do grep -q "listening on" "$T/dump.log" 2>/dev/null && break; sleep 0.1; done
	grep -q "listening on" "$T/dump.log" || { cat "$T/dump.log"; echo "skip: tcpdump cannot capture on lo"; exit 77; }
}
dump_stop() {
	sleep 1  # let tcpdump write the last FINs from its ring
	kill -INT "$dump_pid"
	wait "$dump_pid" 2>/dev/null
	dump_pid=
	grep -q "^0 packets dropped by kernel" "$T/dump.log" || { cat "$T/dump.log"; fail "tcpdump lost packets"; }
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
dump_start "$T/orig.pcap"
timeout 30 "$JMSG" client --port "$port" --load --conns 2 --requests 24 --pipeline 4 --keep-alive -q >"$T/c.out" 2>&1 ||
	{ cat "$T/c.out"; fail "client load run failed"; }
dump_stop
depths "$T/orig.pcap" >"$T/orig.depths"
echo "original: streams' pipelining depths: $(tr '\n' ' ' <"$T/orig.depths")"
[ -s "$T/orig.depths" ] || fail "no streams in the recorded capture"
[ "$(tail -n1 "$T/orig.depths")" -ge 2 ] || fail "the recorded run did not pipeline"

# 2. Its replay, recorded.
dump_start "$T/replay.pcap"
out=$(timeout 60 "$JMSG" replay "$T/orig.pcap" --port "$port" --to "127.0.0.1:$port" --asap)
rc=$?
dump_stop
echo "$out"
[ $rc -eq 0 ] || fail "replay of the pipelined run: exit $rc"
depths "$T/replay.pcap" >"$T/replay.depths"
echo "replay:   streams' pipelining depths: $(tr '\n' ' ' <"$T/replay.depths")"
diff "$T/orig.depths" "$T/replay.depths" >/dev/null || fail "the replay's pipelining differs from the original's"

# 3. Keep-alive without pipelining stays so, even as fast as possible.
pcap=tests/fixtures/live-keepalive.pcap
read -ra args <"${pcap%.pcap}.args"
dump_start "$T/ka.pcap"
out=$(timeout 60 "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$port" --asap)
rc=$?
dump_stop
[ $rc -eq 0 ] || { echo "$out"; fail "keep-alive replay: exit $rc"; }
echo "keep-alive replay: depths $(depths "$T/ka.pcap" | tr '\n' ' ')"
[ "$(depths "$T/ka.pcap" | sort -u)" = 1 ] || fail "an unpipelined capture was replayed pipelined"

# 4. --concurrency bounds the streams open at once.
pcap=tests/fixtures/live-many-clients.pcap
read -ra args <"${pcap%.pcap}.args"
dump_start "$T/conc.pcap"
out=$(timeout 60 "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$port" --asap --concurrency 3)
rc=$?
dump_stop
echo "$out"
[ $rc -eq 0 ] || fail "--concurrency 3 replay: exit $rc"
streams=$("$JMSG" analyze -r "$T/conc.pcap" --port "$port" -q | sed -n 's/.*; \([0-9]*\) streams;.*/\1/p')
open=$(most_open "$T/conc.pcap")
echo "--concurrency 3: $streams streams on the wire, at most $open open at once"
[ "$streams" -eq 32 ] || fail "expected the capture's 32 streams on the wire, saw $streams"
[ "$open" -ge 1 ] && [ "$open" -le 3 ] || fail "$open streams open at once with --concurrency 3"
