#!/usr/bin/env bash
# jmsg analyze -i lo --framing NAME, live, for each framing: a Python client
# and echo server (tests/tools/framing_talk.py) talk over a real loopback
# connection in that framing (a length prefix and its payload in separate
# writes, several delimited messages in one write, a 30-byte fixed payload,
# UTF-8; close: one message each way, ended by shutdown), while the analyzer
# captures with a filter for their port.  Its message events must be what
# was sent, in order per direction, with the framing's name, each length on
# the wire and no problem; SIGINT ends it with the summary, which counts
# them.  Then the same with jmsg's own `server --echo` and `client --echo`
# in each framing.  Bounded: 20 s per framing and program at most.
#
# Skips (77) only when this process may not capture on lo (the analyzer
# says so: cap_denied in tests/lib.sh); any other start-up failure fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY is not installed (make deps)"
[ -x "$JMSG" ] || fail "no jmsg binary at $JMSG"
tmpdir tmp
FAIL_LOGS='*.err'

for framing in raw ascii-length fixed delimited close; do
	rm -f "$tmp/port" "$tmp/go" "$tmp/an.err"
	timeout 20 "$PY" tests/tools/framing_talk.py "$framing" "$tmp/port" "$tmp/go" \
		>"$tmp/sent.jsonl" 2>"$tmp/talk.err" &
	tpid=$!
	pids+=($tpid)
	wait_for_file "$tmp/port" 10 $tpid || fail "$framing: the talker did not start: $(cat "$tmp/talk.err")"
	port=$(cat "$tmp/port")
	timeout 20 "$JMSG" analyze -i lo --json --framing "$framing" tcp port "$port" \
		>"$tmp/live.jsonl" 2>"$tmp/an.err" &
	apid=$!
	pids+=($apid)
	capture_started "$tmp/an.err" $apid "analyzer ($framing)"
	touch "$tmp/go"
	wait $tpid || fail "$framing: the talk failed: $(cat "$tmp/talk.err")"
	want=$(wc -l <"$tmp/sent.jsonl")
	for _ in $(seq 100); do
		n=$(grep -c '"event":"message"' "$tmp/live.jsonl" 2>/dev/null || true)
		[ "${n:-0}" -ge "$want" ] && break
		sleep 0.05
	done
	kill -INT $apid
	wait $apid
	st=$?
	[ $st -eq 0 ] || fail "$framing: the analyzer exited $st after SIGINT: $(cat "$tmp/an.err")"
	"$PY" - "$framing" "$tmp/live.jsonl" "$tmp/sent.jsonl" <<'PYEOF' || fail "$framing: $(cat "$tmp/live.jsonl")"
import json, sys
framing, live, sent = sys.argv[1:]
events = [json.loads(l) for l in open(live)]
want = [json.loads(l) for l in open(sent)]
assert events and events[-1]["event"] == "summary", "no summary at the end"
s = events[-1]
assert s["problems"] == 0, "problems: %r" % s["by_kind"]
msgs = [e for e in events if e["event"] == "message"]
assert s["messages"] == len(msgs) == len(want), "%d messages (summary %d), want %d" % (
    len(msgs), s["messages"], len(want))
wire = {"raw": 0, "close": 0, "ascii-length": 5, "delimited": 3}
for d in ("request", "response"):
    got = [m for m in msgs if m["dir"] == d]
    exp = [w["payload"] for w in want if w["dir"] == d]
    assert [m["content"] for m in got] == exp, "%s: %r, want %r" % (d, [m.get("content") for m in got], exp)
    off = 0
    for m in got:
        assert m["framing"] == framing and len(m["content"]) > 0
        n = 30 if framing == "fixed" else len(m["content"].encode()) + wire[framing]
        assert m["length"] == n, "%s at %d: length %d, want %d" % (d, m["offset"], m["length"], n)
        assert m["offset"] == off, "%s: offset %d, want %d" % (d, m["offset"], off)
        off += n
print("%s: %d messages, as sent" % (framing, len(msgs)))
PYEOF
done

# jmsg's own programs: `jmsg server --echo` and `jmsg client --echo` in each
# framing, captured the same way: the analyzer shows each MESSAGE going out
# and coming back.
for framing in raw ascii-length fixed delimited close; do
	msgs=("Hello, world" "héllo ☺")
	[ "$framing" = close ] && msgs=("Hello, world")
	[ "$framing" = raw ] && msgs=("Hello, world")    # raw: one read, one message
	rm -f "$tmp/an.err"
	SERVER_TIMEOUT=30 start_server "echo_${framing//-/_}" --echo --framing "$framing" -q
	eval "port=\$echo_${framing//-/_}_port"
	timeout 20 "$JMSG" analyze -i lo --json --framing "$framing" tcp port "$port" \
		>"$tmp/live.jsonl" 2>"$tmp/an.err" &
	apid=$!
	pids+=($apid)
	capture_started "$tmp/an.err" $apid "analyzer ($framing, jmsg echo)"
	timeout 20 "$JMSG" client --echo --framing "$framing" --port "$port" -q "${msgs[@]}" \
		>"$tmp/client.out" 2>&1 || fail "$framing: jmsg client --echo failed: $(cat "$tmp/client.out")"
	want=$((2 * ${#msgs[@]}))
	for _ in $(seq 100); do
		n=$(grep -c '"event":"message"' "$tmp/live.jsonl" 2>/dev/null || true)
		[ "${n:-0}" -ge "$want" ] && break
		sleep 0.05
	done
	kill -INT $apid
	wait $apid
	st=$?
	[ $st -eq 0 ] || fail "$framing (jmsg echo): the analyzer exited $st after SIGINT: $(cat "$tmp/an.err")"
	"$PY" - "$framing" "$tmp/live.jsonl" "${msgs[@]}" <<'PYEOF' || fail "$framing (jmsg echo): $(cat "$tmp/live.jsonl")"
import json, sys
framing, live, msgs = sys.argv[1], sys.argv[2], sys.argv[3:]
events = [json.loads(l) for l in open(live)]
assert events and events[-1]["event"] == "summary", "no summary at the end"
assert events[-1]["problems"] == 0, "problems: %r" % events[-1]["by_kind"]
m = [e for e in events if e["event"] == "message"]
for d in ("request", "response"):
    got = [e["content"] for e in m if e["dir"] == d and e["framing"] == framing]
    assert got == msgs, "%s: %r, want %r" % (d, got, msgs)
print("%s: jmsg echo, %d messages each way" % (framing, len(msgs)))
PYEOF
done
echo "ok: every framing analyzed live on lo"
