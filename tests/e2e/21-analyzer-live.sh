#!/usr/bin/env bash
# jmsg analyze live on lo, with a BPF filter for the test's port, while the
# reference server and client exchange messages: the analyzer's message
# events must be exactly what the clients sent and received, in order per
# stream, paired, with no problem; -w must write a pcap that, read back,
# gives the same messages; SIGINT must end it with the summary and exit 0;
# a quiet keep-alive stream must expire under --idle-timeout with no packet
# to trigger it.  Then the error paths: a missing interface, and capture
# without CAP_NET_RAW.
#
# Skips (77) only when this process may not capture on lo (the analyzer
# says so: not root, no CAP_NET_RAW); any other start-up failure fails.
# Without setpriv the no-CAP_NET_RAW path is not run and the test ends in
# a skip after the rest passed.
set -u
[ -n "${DEBUG_LIVE:-}" ] && set -x
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
need python3
tmpdir tmp
"$JMSG" server --help >/dev/null 2>&1 || fail "jmsg server --help failed"

SERVER_TIMEOUT=60 start_server s -q
port=$s_port

timeout 60 "$JMSG" analyze -i lo --port "$port" --json -w "$tmp/live.pcap" \
	tcp port "$port" >"$tmp/live.jsonl" 2>"$tmp/analyze.err" &
apid=$!
pids+=($apid)
capture_started "$tmp/analyze.err" $apid "analyzer"

# The conversations: what each client sent, and what it printed back.
: > "$tmp/sent"
client() {
	timeout 20 "$JMSG" client --port "$port" -q "$@" >>"$tmp/got" 2>&1 || fail "client $* failed: $(tail -n 3 "$tmp/got")"
	printf '%s\n' "$*" >> "$tmp/sent"
}
: > "$tmp/got"
client search morpheus
client search ring
client search "🐶"
client search nothing-here
client binary "☺"
client --keep-alive search morpheus
expected=12

# Wait (bounded) until every message has been seen, then stop the analyzer.
for _ in $(seq 200); do
	n=$(grep -c '"event":"message"' "$tmp/live.jsonl" 2>/dev/null || true)
	[ "${n:-0}" -ge $expected ] && break
	sleep 0.05
done
kill -INT $apid
wait $apid
rc=$?
[ $rc -eq 0 ] || fail "analyzer exited $rc after SIGINT: $(cat "$tmp/analyze.err")"

python3 - "$tmp/live.jsonl" "$tmp/sent" "$tmp/got" "$expected" <<'EOF' || exit 1
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
sent = [l.rstrip("\n").split(" ") for l in open(sys.argv[2])]
got = [l.rstrip("\n") for l in open(sys.argv[3])]
expected = int(sys.argv[4])
summary = events[-1]
assert summary["event"] == "summary", "the last event is not the summary"
assert summary["problems"] == 0, f"problems reported: {summary['by_kind']}"
assert "kernel_dropped" in summary, "no kernel drop count in a live summary"
msgs = [e for e in events if e["event"] == "message"]
assert len(msgs) == expected, f"{len(msgs)} messages, want {expected}"
streams = {}
for m in msgs:
    streams.setdefault(m["stream"], []).append(m)
assert len(streams) == len(sent), f"{len(streams)} streams, want {len(sent)}"
# Streams are numbered in the order the clients ran.
for (sid, ms), req, out in zip(sorted(streams.items()), sent, got):
    if req[0] == "--keep-alive":
        req = req[1:]
    rq = [m for m in ms if m["dir"] == "request"]
    rs = [m for m in ms if m["dir"] == "response"]
    assert len(rq) == 1 and len(rs) == 1, f"stream {sid}: {len(rq)} requests, {len(rs)} responses"
    rq, rs = rq[0], rs[0]
    assert rq["offset"] == 0 and rs["offset"] == 0
    assert "latency_ms" in rs and rs["latency_ms"] >= 0, f"stream {sid}: response not paired"
    if req[0] == "search":
        assert rq["content"] == {"action": "search", "value": req[1]}, rq["content"]
        assert out == "Got result: " + rs["content"]["result"], (out, rs["content"])
    else:
        body = bytes.fromhex(rq["content_hex"])
        assert body == (req[0] + req[1]).encode(), body
        answer = bytes.fromhex(rs["content_hex"])
        assert out == "Got response: " + repr(answer), (out, answer)
    print(f"stream {sid}: {' '.join(req)} -> {out}")
EOF

# The pcap written with -w holds the same conversation.
"$JMSG" analyze -r "$tmp/live.pcap" --port "$port" --json > "$tmp/replayed.jsonl" || fail "cannot read back the -w pcap"
python3 - "$tmp/live.jsonl" "$tmp/replayed.jsonl" <<'EOF' || exit 1
import json, sys
def msgs(p):
    return [(e["stream"], e["dir"], e["offset"], e["header"], e.get("content"), e.get("content_hex"))
            for e in map(json.loads, open(p)) if e["event"] == "message"]
a, b = msgs(sys.argv[1]), msgs(sys.argv[2])
assert a == b, "the -w capture decodes differently"
print(f"-w capture: the same {len(b)} messages")
EOF

# Idle expiry on a quiet link: a keep-alive connection that says nothing
# for 2.5 s ends "expired" under --idle-timeout 1, with no packet to
# trigger it.
timeout 30 "$JMSG" analyze -i lo --port "$port" --json --idle-timeout 1 tcp port "$port" \
	>"$tmp/idle.jsonl" 2>"$tmp/idle.err" &
ipid=$!
pids+=($ipid)
capture_started "$tmp/idle.err" $ipid "idle analyzer"
python3 - "$port" "$tmp/idle.jsonl" <<'EOF' || exit 1
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
body = json.dumps({"action": "search", "value": "ring"}).encode()
hdr = json.dumps({"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8",
                  "content-length": len(body), "connection": "keep-alive"}).encode()
s.sendall(len(hdr).to_bytes(2, "big") + hdr + body)
s.recv(4096)
deadline = time.time() + 8  # bounded: expiry is due 1 s after the answer
while time.time() < deadline:
    ev = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    if any(e["event"] == "stream" and e.get("state") == "expired" for e in ev):
        break
    time.sleep(0.1)
s.close()
assert any(e["event"] == "stream" and e.get("state") == "expired" for e in ev), \
    f"no expiry on a quiet link after {time.time() - deadline + 8:.1f} s: {[(e['event'], e.get('state')) for e in ev]}"
print("idle: the quiet keep-alive stream expired while its connection was still open")
EOF
kill -INT $ipid
wait $ipid || fail "idle analyzer exit $?"

# Error paths: one clear line, a documented exit status.
"$JMSG" analyze -i no-such-if0 > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "missing interface: exit $rc"
grep -q "no such interface 'no-such-if0'" "$tmp/err" || fail "missing interface: $(cat "$tmp/err")"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "missing interface: more than one line"
# Without CAP_NET_RAW: as root, run as nobody; otherwise (the capability
# comes from the file or the ambient set) run a copy, which has no file
# capabilities, with the ambient set cleared.
not_run=
if command -v setpriv >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			"$JMSG" analyze -i lo > "$tmp/out" 2> "$tmp/err"
	else
		cp "$JMSG" "$tmp/jmsg-nocap"
		timeout 10 setpriv --inh-caps=-all --ambient-caps=-all "$tmp/jmsg-nocap" analyze -i lo > "$tmp/out" 2> "$tmp/err"
	fi
	rc=$?
	[ $rc -eq 1 ] || fail "no CAP_NET_RAW: exit $rc"
	grep -q "CAP_NET_RAW" "$tmp/err" || fail "no CAP_NET_RAW: $(cat "$tmp/err")"
	[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "no CAP_NET_RAW: more than one line: $(cat "$tmp/err")"
else
	not_run="setpriv is not installed (util-linux): capture without CAP_NET_RAW not tried"
fi
echo "live: $expected messages match what the clients sent and received"
[ -z "$not_run" ] || skip "$not_run"
