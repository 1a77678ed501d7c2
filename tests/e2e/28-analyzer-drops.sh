#!/usr/bin/env bash
# Kernel drops, made on purpose: jmsg analyze -i lo with the smallest ring
# (-B 64k, -s 256) is stopped (SIGSTOP) for a second in the middle of the
# load client's run, so the kernel has to drop packets, then continued.  The analyzer must
#   - say so while it runs: a capture_drops event with the kernel's
#     counters, before the summary, counts never going down;
#   - name the gaps the drops leave (gap problems), and count the drops in
#     the summary;
#   - never invent a message: every message event is a request or a response
#     the client really sent or got (the search for morpheus), byte counts
#     and all, and no more requests than the client sent.
# Then a capture on the default ring, nothing stopped, 1000 requests/s:
# no drop, no capture_drops event, every request and response decoded.
# Last, SIGINT right after a client's exchange: what the kernel captured but
# had not yet handed over (the ring's last block) is still read.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
need python3
tmpdir tmp

SERVER_TIMEOUT=120 start_server s -q
port=$s_port

# capture NAME STOP RING LOAD: one analyzer run (ring options RING) around
# a 3-second load (client options LOAD); with STOP=1 the analyzer itself
# (not the timeout(1) around it) is stopped for a second while the load runs
capture() {
	local name=$1 stop=$2 ring=$3 load=$4
	# shellcheck disable=SC2086
	timeout 60 "$JMSG" analyze -i lo $ring --port "$port" --json tcp port "$port" \
		>"$tmp/$name.jsonl" 2>"$tmp/$name.err" &
	local apid=$!
	pids+=($apid)
	capture_started "$tmp/$name.err" $apid "$name: analyzer"
	local anpid
	anpid=$(child $apid) || fail "$name: no analyzer process under timeout"
	pids+=($anpid)
	# shellcheck disable=SC2086
	timeout 30 "$JMSG" client --port "$port" --load --conns 8 --duration 3 $load --json >"$tmp/$name.client" 2>&1 &
	local cpid=$!
	if [ "$stop" = 1 ]; then
		# stopped for a second in the middle: the same connections go on
		# after it, so what the ring lost shows as gaps in their streams
		sleep 0.5; kill -STOP "$anpid"; sleep 1; kill -CONT "$anpid"
	fi
	wait $cpid || fail "$name: load client failed: $(cat "$tmp/$name.client")"
	sleep 1
	kill -INT $apid
	wait $apid
	local rc=$?
	[ $rc -eq 0 ] || fail "$name: analyzer exited $rc: $(cat "$tmp/$name.err")"
}

capture stopped 1 "-B 64k -s 256" ""
capture running 0 "" "--rate 1000"

python3 - "$tmp" <<'EOF' || exit 1
import json, sys
tmp = sys.argv[1]

def load(name):
    ev = [json.loads(l) for l in open(f"{tmp}/{name}.jsonl")]
    client = json.load(open(f"{tmp}/{name}.client"))
    assert ev and ev[-1]["event"] == "summary", f"{name}: the last event is not the summary"
    return ev, client

REQ = {"action": "search", "value": "morpheus"}
RESP = {"result": "Follow the white rabbit. \U0001F430"}

def check_messages(name, ev, client):
    msgs = [e for e in ev if e["event"] == "message"]
    for m in msgs:
        want = REQ if m["dir"] == "request" else RESP
        assert m.get("content") == want, f"{name}: a message the client never sent or got: {m}"
        # as the tutorial's json.dumps writes it
        assert m["content_length"] == len(json.dumps(want, ensure_ascii=False).encode()), \
            f"{name}: wrong content length: {m}"
    s = ev[-1]
    assert s["requests"] <= client["requests"] + 8, \
        f"{name}: {s['requests']} requests decoded, the client sent {client['requests']}"
    return msgs

ev, client = load("stopped")
s = ev[-1]
drops = [e for e in ev if e["event"] == "capture_drops"]
assert s["kernel_dropped"] + s["if_dropped"] > 0, \
    f"stopped: the kernel dropped nothing, the test made no drops: {s}"
assert drops, "stopped: the kernel dropped packets but no capture_drops event came"
last = 0
for d in drops:
    for k in ("ts", "kernel_received", "kernel_dropped", "if_dropped"):
        assert k in d, f"capture_drops without {k}: {d}"
    n = d["kernel_dropped"] + d["if_dropped"]
    assert n > last, f"capture_drops counts did not grow: {drops}"
    last = n
assert last <= s["kernel_dropped"] + s["if_dropped"], "an event counted more drops than the summary"
assert ev.index(drops[0]) < len(ev) - 1
gaps = s["by_kind"].get("gap", 0)
assert gaps > 0, f"stopped: drops but no gap named: {s['by_kind']}"
msgs = check_messages("stopped", ev, client)
print(f"stopped: client {client['requests']} requests; kernel dropped {s['kernel_dropped']}; "
      f"{len(drops)} capture_drops events; {gaps} gaps; {len(msgs)} messages, all real")

ev, client = load("running")
s = ev[-1]
drops = [e for e in ev if e["event"] == "capture_drops"]
# the default ring and 1000 requests/s: nothing dropped, nothing reported
assert s["kernel_dropped"] + s["if_dropped"] == 0, f"running: the kernel dropped packets: {s}"
assert not drops, f"running: capture_drops with no drop: {drops}"
msgs = check_messages("running", ev, client)
assert s["requests"] == client["requests"] and s["responses"] == client["requests"], \
    f"running: {s['requests']} requests, {s['responses']} responses decoded; the client sent {client['requests']}"
print(f"running: client {client['requests']} requests; kernel dropped {s['kernel_dropped']}; "
      f"{len(msgs)} messages")
EOF
# SIGINT at once: the 10 packets of one exchange are in the ring's last
# block, which the kernel hands over up to 100 ms later.
for i in 1 2 3; do
	rm -f "$tmp/int.err"   # the last run's "listening" line is not this one's
	timeout 60 "$JMSG" analyze -i lo --port "$port" -q tcp port "$port" >"$tmp/int.out" 2>"$tmp/int.err" &
	apid=$!
	pids+=($apid)
	capture_started "$tmp/int.err" $apid "int: analyzer"
	timeout 20 "$JMSG" client --port "$port" -q search morpheus >/dev/null || fail "sigint: client failed"
	kill -INT $apid
	wait $apid || fail "sigint: analyzer exited $?"
	grep -q '^summary: 10 packets .* 2 messages (1 requests, 1 responses); 0 problems' "$tmp/int.out" \
		|| fail "sigint (run $i): packets still in the ring were not read: $(cat "$tmp/int.out")"
done
echo "sigint: every packet the kernel held was read, 3 runs"
echo "ok: drops are reported as they happen, gaps named, no message invented, nothing left in the ring"
