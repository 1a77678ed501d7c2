#!/usr/bin/env bash
# Stalls from capture files, checked to the packet:
#  - zero-window.pcap (synthesized): the window fills at 0.099070 (frame 20),
#    the zero window lasts from 0.100000 (frame 21) to 1.600000 (frame 27),
#    three Linux-style probes, two answered;
#  - stall-flood.pcap (jmsg server --no-read, jmsg client --flood on lo):
#    the expected frames and counts come from tshark's own TCP analysis
#    (window full, zero window, keep-alive = Linux zero-window probe);
#  - --plot writes an SVG that xmllint accepts; bad --plot/--stall-ms values
#    give one error line and exit 2.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
tmpdir tmp
fx=tests/fixtures

"$JMSG" analyze -r $fx/zero-window.pcap --json --plot "$tmp/zw.svg" > "$tmp/zw.jsonl" || fail "analyze zero-window exited $?"
python3 - "$tmp/zw.jsonl" <<'PY' || fail "zero-window stall does not match the script"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
st = [e for e in ev if e["event"] == "stall"]
assert len(st) == 1, st
s = st[0]; w = s["wire"]
assert s["side"] == "server" and s["receiver"] == "10.0.0.2:65432", s
assert w["start_frame"] == 20 and abs(w["start"] - 1700000000.099070) < 1e-6, w
assert w["zero_window_start_frame"] == 21 and abs(w["zero_window_start"] - 1700000000.100000) < 1e-6, w
assert w["end_frame"] == 27 and abs(w["end"] - 1700000001.600000) < 1e-6, w
assert w["zero_window_end_frame"] == 27, w
assert w["zero_window_probes"] == 3 and w["probe_acks"] == 2, w
assert w["window_scale"] == 7 and w["recvq_estimate"] == 16384, w
assert s["open"] is False and s["ended_by"] == "window_opened" and s["kernel"] is None, s
print("zero-window: stall frames 20-27, zero window 21-27, 3 probes, 2 acked")
PY
xmllint --noout "$tmp/zw.svg" || fail "zero-window plot is not valid XML"
grep -q 'stall' "$tmp/zw.svg" || fail "plot has no shaded stall"

# stall-flood: tshark is the oracle.
read -r -a args < $fx/stall-flood.args
port=${args[1]}
"$JMSG" analyze -r $fx/stall-flood.pcap --json --port "$port" --plot "$tmp/fl.svg" > "$tmp/fl.jsonl" || fail "analyze stall-flood exited $?"
tshark -r $fx/stall-flood.pcap -T fields -E separator=, -e frame.number -e tcp.srcport \
	-e tcp.analysis.window_full -e tcp.analysis.zero_window -e tcp.analysis.keep_alive \
	> "$tmp/tshark.csv" 2>/dev/null || fail "tshark failed"
python3 - "$tmp/fl.jsonl" "$tmp/tshark.csv" "$port" <<'PY' || fail "stall-flood stall does not match tshark"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
st = [e for e in ev if e["event"] == "stall"]
assert len(st) == 1, st
s = st[0]; w = s["wire"]
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[2])]
full = [int(r[0]) for r in rows if r[2]]
zero = [int(r[0]) for r in rows if r[3] and r[1] == sys.argv[3]]
probes = [int(r[0]) for r in rows if r[4] and r[1] != sys.argv[3]]
assert full and zero and probes, (full, zero, probes)
assert w["start_frame"] == full[-1], (w, full)
assert w["zero_window_start_frame"] == zero[0], (w, zero)
assert w["zero_windows"] == len(zero), (w, zero)
assert w["zero_window_probes"] == len(probes), (w, probes)
assert s["side"] == "server" and s["open"] is True and s["end"] is None, s
assert s["duration_ms"] >= 200, s
print("stall-flood: window full at frame %d, zero window from frame %d, %d probes, as tshark says"
      % (full[-1], zero[0], len(probes)))
PY
xmllint --noout "$tmp/fl.svg" || fail "stall-flood plot is not valid XML"

# Bad values: one line, exit 2.
for a in "--stall-ms 0" "--stall-ms x" "--sample-ms 1" "--plot-stream -1"; do
	"$JMSG" analyze -r $fx/zero-window.pcap $a > "$tmp/out" 2> "$tmp/err"; rc=$?
	[ $rc -eq 2 ] || fail "'$a' exited $rc"
	[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "'$a' printed: $(cat "$tmp/err")"
done
"$JMSG" analyze -r $fx/zero-window.pcap --plot /nonexistent/dir/x.svg > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "cannot write '/nonexistent/dir/x.svg'" "$tmp/err" || fail "unwritable --plot: exit $rc, $(cat "$tmp/err")"
echo "offline stalls: ok"
