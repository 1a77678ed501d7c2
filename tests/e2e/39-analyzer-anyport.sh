#!/usr/bin/env bash
# The protocol on any port (tcp/stream.h, "Other ports"):
#   - the summary's note on TCP that held no message, text and JSON, with
#     the busiest ports first and "and N more" past five, the same with
#     --workers 3; exit status 0;
#   - --port decodes a port whatever its first bytes (the header without
#     its required keys is then reported as header_missing_field);
#   - --no-heuristic: only the configured ports, the note says so; the
#     BPF filter's ports count as --port's (tcp port N, src/dst port N,
#     "or"), a negated one does not;
#   - jmsg replay finds the conversations on any port, and says in one
#     line what the capture held when it finds none;
#   - a real capture: the server on a random port, tcpdump on lo, then
#     jmsg analyze with no --port.  Skipped (77) only without permission
#     to capture, after the rest passed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
need python3
tmpdir T
fx=tests/fixtures
pcapgen=$BUILD/tools/pcapgen
[ -x "$pcapgen" ] || fail "no $pcapgen (make)"

# analyze NAME ARGS...: jmsg analyze ARGS into T/NAME.out, exit 0 and
# nothing on stderr
analyze() {
	local name=$1; shift
	timeout 60 "$JMSG" analyze "$@" >"$T/$name.out" 2>"$T/$name.err"
	local rc=$?
	[ $rc -eq 0 ] || fail "analyze $*: exit $rc: $(cat "$T/$name.err")"
	[ ! -s "$T/$name.err" ] || fail "analyze $*: stderr: $(cat "$T/$name.err")"
}
# has NAME LINE: T/NAME.out holds exactly this line
has() {
	grep -qxF -- "$2" "$T/$1.out" || { cat "$T/$1.out"; fail "$1: no line '$2'"; }
}
# hasnt NAME TEXT: no line of T/NAME.out holds TEXT
hasnt() {
	! grep -qF -- "$2" "$T/$1.out" || { cat "$T/$1.out"; fail "$1: a line holds '$2'"; }
}

# --- The note.
analyze http -r "$fx/anyport-not-jmsg.pcap"
has http "note: 1 TCP stream (164 bytes) on port 8000 held no jmsg messages; try --port 8000"
analyze httpj -r "$fx/anyport-not-jmsg.pcap" --json
grep -q '"streams":0,.*,"undecoded_streams":1,"undecoded_bytes":164,"undecoded_ports":\[8000\]}$' "$T/httpj.out" ||
	{ cat "$T/httpj.out"; fail "JSON summary without the undecoded streams"; }
analyze tut -r "$fx/anyport-41001.pcap"
hasnt tut "note:"
analyze tutj -r "$fx/anyport-41001.pcap" --json
hasnt tutj "undecoded"
echo "ok the note: text and JSON, and none when every stream held messages"

# Seven streams that are not the protocol, on ports 1001..1007 with more
# bytes on higher ports, and the tutorial's exchange on 41001.
{
	echo "client 10.0.0.1:40000"
	echo "server 10.0.0.2:41001"
	echo "handshake"
	echo "c> request search morpheus"
	echo "s> response search morpheus"
	echo "close"
	for i in 1 2 3 4 5 6 7; do
		echo "conn x$i 10.0.0.1:$((40000 + i)) 10.0.0.2:$((1000 + i))"
		echo "handshake"
		echo "c> pattern:$((i * 100))"
		echo "close"
	done
} >"$T/many.script"
"$pcapgen" -o "$T/many.pcap" "$T/many.script" >/dev/null || fail "pcapgen many.script"
note="note: 7 TCP streams (2800 bytes) on ports 1007, 1006, 1005, 1004, 1003 and 2 more held no jmsg messages; try --port 1007"
for w in 1 3; do
	analyze many$w -r "$T/many.pcap" --workers $w
	has many$w "$note"
	[ "$(grep -c ' request \| response ' "$T/many$w.out")" -eq 2 ] || { cat "$T/many$w.out"; fail "--workers $w: not the 2 messages on 41001"; }
done
analyze manyq -r "$T/many.pcap" -q
has manyq "$note"
echo "ok the busiest ports first, then how many more; the same with --workers 3 and -q"

# --- --port decodes a port whatever its first bytes.
analyze keys -r "$fx/anyport-missing-keys.pcap" --port 9100 --json
grep -q '"kind":"header_missing_field"' "$T/keys.out" || { cat "$T/keys.out"; fail "--port 9100: no header_missing_field"; }
grep -q '"streams":1,' "$T/keys.out" || fail "--port 9100: not one stream"
hasnt keys "undecoded"
echo "ok --port decodes a port the heuristic says no to"

# --- --no-heuristic, and the filter's ports.
analyze noh -r "$fx/anyport-41001.pcap" --no-heuristic
has noh "note: 1 TCP stream (294 bytes) on port 41001 was not decoded (--no-heuristic); try --port 41001"
hasnt noh " request "
for filter in "tcp port 41001" "src port 41001 or dst port 41001" "port 80 or 41001" "(tcp dst port 41001) or (tcp src port 41001)"; do
	# shellcheck disable=SC2086
	analyze filt -r "$fx/anyport-41001.pcap" --no-heuristic $filter
	[ "$(grep -c ' request \| response ' "$T/filt.out")" -eq 2 ] || { cat "$T/filt.out"; fail "--no-heuristic $filter: the port was not decoded"; }
	hasnt filt "note:"
done
# (the packets pass the filter; the port is not named by it)
analyze neg -r "$fx/anyport-41001.pcap" --no-heuristic not port 41001 or host 127.0.0.1
has neg "note: 1 TCP stream (294 bytes) on port 41001 was not decoded (--no-heuristic); try --port 41001"
echo "ok --no-heuristic; the ports a filter names are decoded, a negated one is not"

# --- replay.
start_server srv -q
timeout 30 "$JMSG" replay "$fx/anyport-41001.pcap" --to "127.0.0.1:$srv_port" >"$T/rp.out" 2>"$T/rp.err"
rc=$?
[ $rc -eq 0 ] || fail "replay of the 41001 capture with no --port: exit $rc: $(cat "$T/rp.out" "$T/rp.err")"
# expect_replay CODE LINE ARGS...: exit CODE, exactly LINE on stderr
expect_replay() {
	local code=$1 line=$2; shift 2
	timeout 30 "$JMSG" replay "$@" --to "127.0.0.1:$srv_port" >"$T/rp.out" 2>"$T/rp.err"
	local rc=$?
	[ $rc -eq "$code" ] || fail "replay $*: exit $rc, expected $code: $(cat "$T/rp.err")"
	[ "$(cat "$T/rp.err")" = "$line" ] || fail "replay $*: stderr '$(cat "$T/rp.err")', expected '$line'"
}
expect_replay 2 "jmsg replay: '$fx/anyport-not-jmsg.pcap' holds no jmsg stream: none on server port 65432, and 1 TCP stream on port 8000 held no jmsg messages; try --port 8000" \
	"$fx/anyport-not-jmsg.pcap"
expect_replay 2 "jmsg replay: '$fx/anyport-41001.pcap' holds no jmsg stream: none on server port 65432, and 1 TCP stream on port 41001 was not decoded (--no-heuristic); try --port 41001" \
	"$fx/anyport-41001.pcap" --no-heuristic
expect_replay 2 "jmsg replay: '$T/many.pcap' holds no jmsg stream: none on server ports 1,2, and 8 TCP streams on ports 1007, 1006, 1005, 1004, 1003 and 3 more were not decoded (--no-heuristic); try --port 1007" \
	"$T/many.pcap" --no-heuristic --port 1,2
echo "ok replay: a capture on 41001 with no --port; one line when nothing is found"

# --- A real capture on a random port, analyzed with no --port.
need tcpdump
start_server live -q
port=$live_port
timeout 30 tcpdump -i lo --immediate-mode -U -w "$T/live.pcap" "tcp port $port" 2>"$T/tcpdump.err" &
tpid=$!
pids+=($tpid)
wait_for_line "$T/tcpdump.err" "listening on" 10 $tpid ||
	{ grep -qiE "permission|not permitted" "$T/tcpdump.err" && skip "tcpdump may not capture on lo: $(cat "$T/tcpdump.err")"; fail "tcpdump did not start: $(cat "$T/tcpdump.err")"; }
timeout 20 "$JMSG" client --port "$port" -q search morpheus >"$T/c1.out" 2>&1 || fail "client: $(cat "$T/c1.out")"
timeout 20 "$JMSG" client --port "$port" -q binary "☺" >"$T/c2.out" 2>&1 || fail "client: $(cat "$T/c2.out")"
sleep 0.3
kill -INT $tpid
wait $tpid 2>/dev/null
analyze live -r "$T/live.pcap" --json
python3 - "$T/live.out" "$port" <<'EOF' || fail "the live capture on port $port was not decoded as it should be"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
port = sys.argv[2]
msgs = [e for e in ev if e["event"] == "message"]
assert len(msgs) == 4, f"{len(msgs)} messages, want 4"
for m in msgs:
    assert m["server"].endswith(":" + port), m["server"]
assert [m["dir"] for m in msgs] == ["request", "response"] * 2
assert msgs[0]["content"] == {"action": "search", "value": "morpheus"}
assert all("latency_ms" in m for m in msgs if m["dir"] == "response")
s = ev[-1]
assert s["event"] == "summary" and s["problems"] == 0 and "undecoded_streams" not in s, s
print(f"live capture on port {port}: 4 messages, paired, no problem, no --port")
EOF
echo "ok a real capture on port $port, decoded with no --port"
