#!/usr/bin/env bash
# The README's replay walk-through, as a test: record a session with
# `jmsg analyze -i lo -w`, replay it against the same server (no
# difference, exit 0), then against a server whose search table changed
# (exactly the morpheus responses differ, exit 1).
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T

start_server a -q
port=$a_port

# Record: the analyzer on lo, writing what it reads.  A busy machine can
# make the kernel drop packets; then record again (three tries).
c() { timeout 10 "$JMSG" client --port "$port" -q "$@" >/dev/null || fail "client $* failed"; }
for try in 1 2 3; do
	rm -f "$T/session.pcap" "$T/an.err"
	timeout 60 "$JMSG" analyze -i lo -s 4096 -w "$T/session.pcap" --port "$port" "tcp port $port" >"$T/an.out" 2>"$T/an.err" &
	cap_pid=$!
	pids+=("$cap_pid")
	capture_started "$T/an.err" "$cap_pid" "the analyzer (capturing on lo)" 20
	c search morpheus
	c search ring
	c binary ☺
	c --load --conns 2 --requests 6 --pipeline 3 --keep-alive --value morpheus
	sleep 1
	kill -INT "$cap_pid"; wait "$cap_pid"; rc=$?; cap_pid=
	[ $rc -eq 0 ] || fail "the recording analyzer exited $rc after SIGINT: $(cat "$T/an.err")"
	tail -n 2 "$T/an.out"
	"$JMSG" analyze -r "$T/session.pcap" --port "$port" --json | grep '"dir":"response"' >"$T/responses"
	grep -q ' 0 dropped by the kernel' "$T/an.out" && [ "$(wc -l <"$T/responses")" -eq 9 ] && break
	echo "note: the recording lost packets; recording again"
done
morpheus=$(grep -c 'Follow the white rabbit' "$T/responses")
all=$(wc -l <"$T/responses")
echo "recorded: $all responses, $morpheus of them morpheus's"
[ "$all" -eq 9 ] || fail "expected 9 responses in the recording, found $all"

# Replay against the same server: nothing differs.
out=$(timeout 60 "$JMSG" replay "$T/session.pcap" --port "$port" --to "127.0.0.1:$port")
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "replay against the same server: exit $rc"
grep -q "^replay: 5 streams (0 incomplete, 0 skipped), 9 requests, 9 responses compared: 9 identical, 0 different" <<<"$out" ||
	fail "replay summary is not 9 identical"

# A server with another answer for morpheus: exactly those differ.
printf '{"morpheus": "Take the blue pill.", "ring": "In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d"}\n' >"$T/table.json"
start_server b -q --search-table "$T/table.json"
out=$(timeout 60 "$JMSG" replay "$T/session.pcap" --port "$port" --to "127.0.0.1:$(cat "$T/b.port")")
rc=$?
echo "$out"
[ $rc -eq 1 ] || fail "replay against the changed server: exit $rc, expected 1"
[ "$(grep -c 'content.result: "Follow the white rabbit. 🐰" -> "Take the blue pill."' <<<"$out")" -eq "$morpheus" ] ||
	fail "not exactly the $morpheus morpheus responses differ"
[ "$(grep -c '^stream ' <<<"$out")" -eq "$morpheus" ] || fail "lines other than the changed responses"
