#!/usr/bin/env bash
# jmsg analyze -r - -l on a pipe that is fed slowly, as `tcpdump -w - |`
# feeds it: the file's header and the packets of the first message go in,
# then the feeder waits.  The request's line must be on stdout while the
# pipe is still open; then the rest goes in and the whole output must be
# what the file gives.  For a classic pcap and a pcapng file, text and
# JSON, one thread and --workers.  Bounded: the feeder gives up after 20 s, the analyzer gets 30 s.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
fx=tests/fixtures
tmpdir tmp
need python3
[ -x "$JMSG" ] || fail "no jmsg binary at $JMSG"

# feed.py FILE N GO: FILE's header and first N packets to stdout, then the
# rest once the file GO exists.
cat > "$tmp/feed.py" <<'PY'
import os, struct, sys, time
data = open(sys.argv[1], 'rb').read()
n, go = int(sys.argv[2]), sys.argv[3]
if data[:4] == b'\x0a\x0d\x0d\x0a':          # pcapng: count Enhanced Packet Blocks
    e = '<' if data[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
    off = seen = 0
    while seen < n:
        btype, blen = struct.unpack(e + 'II', data[off:off + 8])
        seen += btype == 6
        off += blen
else:                                         # pcap: 24-byte header, 16-byte records
    e = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    off = 24
    for _ in range(n):
        off += 16 + struct.unpack(e + 'I', data[off + 8:off + 12])[0]
out = sys.stdout.buffer
out.write(data[:off])
out.flush()
for _ in range(200):
    if os.path.exists(go):
        break
    time.sleep(0.1)
out.write(data[off:])
PY

# check FILE N WANT NOTYET ARGS...: the first N packets must bring the line
# WANT, and not yet NOTYET (the feeder holds the rest back)
check() {
	local file=$1 n=$2 want=$3 notyet=$4
	shift 4
	rm -f "$tmp/go"
	python3 "$tmp/feed.py" "$file" "$n" "$tmp/go" |
		timeout 30 "$JMSG" analyze -r - -l "$@" > "$tmp/out" 2> "$tmp/err" &
	local pid=$! i
	for i in $(seq 100); do
		grep -q -- "$want" "$tmp/out" && break
		sleep 0.1
	done
	grep -q -- "$want" "$tmp/out" ||
		{ touch "$tmp/go"; wait $pid; fail "$file $*: after $n packets, 10 s on, no line with '$want' yet: $(cat "$tmp/out" "$tmp/err")"; }
	! grep -q -- "$notyet" "$tmp/out" ||
		{ touch "$tmp/go"; wait $pid; fail "$file $*: '$notyet' came before the feeder let it"; }
	touch "$tmp/go"
	wait $pid || fail "$file $*: exit $?: $(cat "$tmp/err")"
	"$JMSG" analyze -r "$file" "$@" > "$tmp/whole" || fail "$file $*: exit $?"
	cmp -s "$tmp/out" "$tmp/whole" ||
		{ diff "$tmp/whole" "$tmp/out"; fail "$file $*: the pipe's output is not the file's"; }
	echo "ok: $(basename "$file") $*: '$want' out after $n packets, while the pipe waited"
}
# basic-search: the request is in packet 4, the response in 6.
check "$fx/basic-search.pcap" 4 " request " " response "
check "$fx/basic-search.pcap" 5 '"dir":"request"' '"dir":"response"' --json
check "$fx/pcapng.pcapng" 4 '"dir":"request"' '"dir":"response"' --json
# --workers: the reader waits for the threads after each packet of a pipe
check "$fx/basic-search.pcap" 4 " request " " response " --workers 2
check "$fx/pcapng.pcapng" 4 '"dir":"request"' '"dir":"response"' --json --workers 3
echo "pipe: all passed"
