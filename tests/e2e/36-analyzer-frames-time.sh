#!/usr/bin/env bash
# jmsg analyze: frame numbers under a filter and among other packets, the
# text time column (--time), --fail-on's exit status, and what an error of
# a message's header shows.
#
#   1. Frame numbers are Wireshark's whatever the filter: a capture with a
#      UDP packet put in front of basic-search, read with and without a BPF
#      filter, with one thread and with --workers 2 (mapped file) and as
#      pcapng (libpcap's reader), gives frame/frame_last equal to tshark's
#      frame.number of the segments that carry the messages; a two-stream
#      capture filtered down to one stream keeps the numbers it had.
#   2. --time: relative counts from the capture's first packet, the same
#      with -q (times do not move); epoch is the JSON ts; absolute is the
#      time of day (TZ=UTC); delta is the distance to the line before;
#      --time delta with --workers 2 is a usage error (2).
#   3. --fail-on: never (default) 0; errors 3 only for a codec error;
#      problems 3 for a capture problem too; the summary is written first;
#      the same with --workers 2.
#   4. A header error names msg_offset, protoheader and the header's bytes:
#      as text when UTF-8, as hex when not, cut at --max-hex.
#   5. Live on lo (skipped without the right to capture): the messages'
#      frames are tshark's numbers of the data segments in the -w file.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
need tshark
need python3
[ -x "$JMSG" ] || { echo "FAIL: no jmsg binary at $JMSG"; exit 1; }
fx=tests/fixtures
pids=() procs=()
tmpdir tmp

# ---- 1. frames
# A UDP packet (Ethernet, IPv4) before every packet of basic-search.
python3 - "$fx/basic-search.pcap" "$tmp/udp-first.pcap" <<'PY' || fail "cannot write the capture"
import struct, sys
data = open(sys.argv[1], "rb").read()
hdr, rest = data[:24], data[24:]
ip = bytes.fromhex("4500001c0001000040110000") + bytes([10, 0, 0, 9, 10, 0, 0, 10])
udp = struct.pack(">HHHH", 5353, 5353, 8, 0)
frame = b"\x02\x00\x00\x00\x00\x09" * 2 + b"\x08\x00" + ip + udp
sec, usec = struct.unpack("<II", rest[:8])
rec = struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame
open(sys.argv[2], "wb").write(hdr + rec + rest)
PY
tshark -r "$tmp/udp-first.pcap" -F pcapng -w "$tmp/udp-first.pcapng" 2>/dev/null ||
	fail "tshark cannot write pcapng"
# tshark's frames of the segments with data: request and response.
want=$(tshark -r "$tmp/udp-first.pcap" -Y 'tcp.len > 0' -T fields -e frame.number 2>/dev/null | paste -sd' ')
[ "$want" = "5 7" ] || fail "tshark numbers the data segments '$want', expected '5 7'"
frames() { # FILE ARGS...: "frame-frame_last ..." of the message events
	local f=$1
	shift
	"$JMSG" analyze --json -r "$f" "$@" | python3 -c '
import json, sys
print(" ".join("%d-%d" % (e["frame"], e["frame_last"]) for e in map(json.loads, sys.stdin)
               if e["event"] == "message"))'
}
for f in udp-first.pcap udp-first.pcapng; do
	for args in "" "--workers 2" "tcp" "--workers 2 tcp port 65432"; do
		# shellcheck disable=SC2086
		got=$(frames "$tmp/$f" $args) || fail "jmsg analyze -r $f $args failed"
		[ "$got" = "5-5 7-7" ] || fail "$f $args: frames '$got', tshark's '5-5 7-7'"
	done
done
# Packets counts: the summary counts what the filter passed.
n=$("$JMSG" analyze -r "$tmp/udp-first.pcap" --json tcp | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
[ "$n" = 10 ] || fail "with the filter 'tcp' the summary counts $n packets, not 10"
# Two streams, one filtered out: the other keeps its frame numbers.
p=$fx/pcapng-usec.pcapng
port=$("$JMSG" analyze -r "$p" --json | python3 -c '
import json, sys
print([e for e in map(json.loads, sys.stdin) if e["event"] == "stream"][-1]["client"].rsplit(":", 1)[1])')
all=$("$JMSG" analyze -r "$p" --json | grep "\"client\":\"[^\"]*:$port\"" | grep '"event":"message"' |
	grep -o '"frame":[0-9]*,"frame_last":[0-9]*')
one=$("$JMSG" analyze -r "$p" --json tcp port "$port" | grep '"event":"message"' |
	grep -o '"frame":[0-9]*,"frame_last":[0-9]*')
[ -n "$all" ] && [ "$all" = "$one" ] || fail "filtered to port $port, frames '$one', unfiltered '$all'"
echo "frames: as tshark numbers them, with other packets, filters, pcapng and workers"

# ---- 2. --time
p=$fx/tcp-lost-segment.pcap
t1=$(tshark -r "$p" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
"$JMSG" analyze -r "$p" --json > "$tmp/j" || fail "--json failed"
"$JMSG" analyze -r "$p" > "$tmp/text" || fail "text failed"
"$JMSG" analyze -r "$p" -q > "$tmp/q" || fail "-q failed"
python3 - "$t1" "$tmp/j" "$tmp/text" "$tmp/q" <<'PY' || fail "--time relative"
import json, sys
from decimal import Decimal
t1 = Decimal(sys.argv[1])
ev = [json.loads(l) for l in open(sys.argv[2]) if '"event":"message"' in l or '"event":"error"' in l]
text = [l for l in open(sys.argv[3]) if not l.startswith("summary")]
q = [l for l in open(sys.argv[4]) if not l.startswith("summary")]
assert len(ev) == len(text), (len(ev), len(text))
for e, l in zip(ev, text):
    want = (Decimal(str(e["ts"])) - t1).quantize(Decimal("0.000001"))
    assert Decimal(l.split()[0]) == want, (l, want)
errs = [l for l in text if " ! " in l]
assert errs and errs == q, (errs, q)
PY
"$JMSG" analyze -r "$p" --time epoch > "$tmp/epoch" || fail "--time epoch failed"
"$JMSG" analyze -r "$p" --time delta > "$tmp/delta" || fail "--time delta failed"
TZ=UTC "$JMSG" analyze -r "$p" --time absolute > "$tmp/abs" || fail "--time absolute failed"
python3 - "$tmp/j" "$tmp/epoch" "$tmp/delta" "$tmp/abs" <<'PY' || fail "--time epoch, delta or absolute"
import json, sys, time
from decimal import Decimal
ev = [json.loads(l) for l in open(sys.argv[1]) if '"event":"message"' in l or '"event":"error"' in l]
rows = [[l.split()[0] for l in open(f) if not l.startswith("summary")] for f in sys.argv[2:]]
prev = None
for i, e in enumerate(ev):
    ts = Decimal(str(e["ts"])).quantize(Decimal("0.000001"))
    assert Decimal(rows[0][i]) == ts, ("epoch", rows[0][i], ts)
    d = ts - prev if prev is not None else Decimal(0)
    assert Decimal(rows[1][i]) == d, ("delta", rows[1][i], d)
    prev = ts
    want = time.strftime("%H:%M:%S", time.gmtime(int(ts))) + f".{int((ts % 1) * 1000000):06d}"
    assert rows[2][i] == want, ("absolute", rows[2][i], want)
PY
"$JMSG" analyze -r "$p" --time delta --workers 2 > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q -- '--time delta needs --workers 1' "$tmp/err" ||
	fail "--time delta --workers 2: exit $rc, $(cat "$tmp/err")"
"$JMSG" analyze -r "$p" --time later > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "wants relative, absolute, epoch or delta, not 'later'" "$tmp/err" ||
	fail "--time later: exit $rc, $(cat "$tmp/err")"
echo "--time: relative from the first packet (-q the same), epoch, delta, absolute"

# ---- 3. --fail-on
check() { # WANT FIXTURE ARGS...
	local want=$1 f=$2
	shift 2
	"$JMSG" analyze -r "$fx/$f.pcap" -q "$@" > "$tmp/out" 2> "$tmp/err"
	local rc=$?
	[ $rc -eq "$want" ] || fail "$f $*: exit $rc, expected $want ($(cat "$tmp/err"))"
	grep -q '^summary:' "$tmp/out" || fail "$f $*: no summary"
	[ -s "$tmp/err" ] && fail "$f $*: stderr: $(cat "$tmp/err")"
	return 0
}
for w in "" "--workers 2"; do
	# shellcheck disable=SC2086
	{
		check 0 basic-search --fail-on problems $w
		check 0 basic-search --fail-on errors $w
		check 0 tcp-lost-segment $w
		check 0 tcp-lost-segment --fail-on never $w
		check 0 tcp-lost-segment --fail-on errors $w
		check 3 tcp-lost-segment --fail-on problems $w
		check 3 malformed-header-not-json --fail-on errors $w
		check 3 malformed-content-encoding-unsupported --fail-on errors $w
		check 3 malformed-header-not-json --fail-on problems $w
	}
done
"$JMSG" analyze -r "$fx/basic-search.pcap" --fail-on sometimes > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "wants problems, errors or never, not 'sometimes'" "$tmp/err" ||
	fail "--fail-on sometimes: exit $rc, $(cat "$tmp/err")"
echo "--fail-on: errors and problems exit 3 after the summary, never 0"

# ---- 4. header errors
python3 - "$JMSG" "$fx" <<'PY' || fail "header errors"
import json, subprocess, sys
jm, fx = sys.argv[1], sys.argv[2]
def err(name, *args):
    out = subprocess.run([jm, "analyze", "-r", f"{fx}/{name}.pcap", "--json", *args],
                         capture_output=True, check=True).stdout.decode()
    return [json.loads(l) for l in out.splitlines() if '"event":"error"' in l][0]
e = err("malformed-header-not-utf8")
assert e["kind"] == "header_not_utf8" and e["msg_offset"] == 0 and e["protoheader"] == 99, e
raw = bytes.fromhex(e["header_hex"])
assert len(raw) == 99 and raw.startswith(b'{"byteorder": "\xfe\xff"'), raw
assert "header_text" not in e and "header_truncated" not in e, e
e = err("malformed-header-not-json")
assert e["msg_offset"] == 0 and e["protoheader"] == 104 and len(e["header_text"]) == 104, e
assert e["header_text"].endswith('"content-length": 41,}'), e
e = err("malformed-header-not-json", "--max-hex", "10")
assert e["header_text"] == '{"byteorde' and e["header_truncated"] is True, e
e = err("malformed-header-empty")
assert e["protoheader"] == 0 and e["header_text"] == "", e
e = err("malformed-content-not-json")
assert "msg_offset" not in e and e["kind"] == "content_not_json", e
PY
out=$("$JMSG" analyze -r "$fx/malformed-header-not-utf8.pcap" -q | head -n 1)
case $out in
*'; message at offset 0, protoheader 99, header {"byteorder": "\xfe\xff", '*) ;;
*) fail "text header error: $out" ;;
esac
echo "header errors: msg_offset, protoheader, header_text or header_hex, cut at --max-hex"

# ---- 5. live: frames count the packets captured, the numbers of -w's file
# (last: it skips where capturing on lo is not allowed)
start_server srv
timeout 30 "$JMSG" analyze -i lo --json -w "$tmp/live.pcap" --port "$srv_port" tcp port "$srv_port" \
	> "$tmp/live.json" 2> "$tmp/live.err" &
apid=$!
pids+=("$apid")
capture_started "$tmp/live.err" "$apid" "the live analyzer"
timeout 10 "$JMSG" client --port "$srv_port" -q search morpheus > /dev/null ||
	fail "the client failed"
timeout 10 "$JMSG" client --port "$srv_port" -q search ring > /dev/null || fail "the client failed"
sleep 0.5
anpid=$(child "$apid") || fail "no analyzer process under timeout"
kill -INT "$anpid"
wait "$apid" || fail "the live analyzer exited $?: $(cat "$tmp/live.err")"
live=$(grep '"event":"message"' "$tmp/live.json" | grep -o '"frame":[0-9]*,"frame_last":[0-9]*')
want=$(tshark -r "$tmp/live.pcap" -Y 'tcp.len > 0' -T fields -e frame.number 2>/dev/null |
	sed 's/.*/"frame":&,"frame_last":&/')
[ -n "$live" ] && [ "$(grep -c . <<<"$live")" = 4 ] && [ "$live" = "$want" ] ||
	fail "live frames '$live', tshark on the -w file '$want'"
echo "live: frames as tshark numbers the file -w wrote"
