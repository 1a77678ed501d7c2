#!/usr/bin/env bash
# jmsg analyze -l: every event line leaves as soon as it is made, even when
# the capture comes from a pipe (-r -) and the output goes into one.  A
# feeder writes all packets of a fixture but the last, then holds the pipe
# open until the test has looked for the first message line in the output:
#   with -l (text and --json)  the line is out while the input is held
#   without -l                 it is not (64 KiB blocks; the control that
#                              shows the check can tell the two apart)
# and in every case the whole output, once the input ends, is byte for byte
# that of a plain read of the file.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
need python3
[ -x "$JMSG" ] || { echo "no jmsg binary at $JMSG"; exit 1; }
fx=tests/fixtures/basic-search.pcap
tmpdir tmp

# feed PCAP GOFILE: the pcap on stdout, its last packet only once GOFILE
# exists (or after 60 s).
cat > "$tmp/feed.py" <<'EOF'
import os, sys, time
data = open(sys.argv[1], "rb").read()
order = "little" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
off, last = 24, 24
while off < len(data):
    last = off
    off += 16 + int.from_bytes(data[off + 8:off + 12], order)
out = sys.stdout.buffer
out.write(data[:last])
out.flush()
deadline = time.time() + 60
while not os.path.exists(sys.argv[2]) and time.time() < deadline:
    time.sleep(0.05)
out.write(data[last:])
out.flush()
EOF

# run WAIT PATTERN ARGS...: analyze the fed pcap with ARGS; "early" is set
# to yes if PATTERN showed up in the output within WAIT seconds while the
# last packet was held back.
run() {
	local wait=$1 pat=$2 i
	shift 2
	rm -f "$tmp/go" "$tmp/out"
	: > "$tmp/out"
	python3 "$tmp/feed.py" "$fx" "$tmp/go" | "$JMSG" analyze -r - "$@" 2> "$tmp/err" | cat > "$tmp/out" &
	local pid=$!
	early=no
	for ((i = 0; i < wait * 10; i++)); do
		if grep -q -- "$pat" "$tmp/out"; then
			early=yes
			break
		fi
		sleep 0.1
	done
	touch "$tmp/go"
	wait "$pid" || fail "analyze $* on a pipe failed: $(cat "$tmp/err")"
	[ -s "$tmp/err" ] && fail "analyze $* wrote to stderr: $(cat "$tmp/err")"
	local a want=()
	for a in "$@"; do [ "$a" = -l ] || want+=("$a"); done
	"$JMSG" analyze -r "$fx" "${want[@]}" > "$tmp/want" || fail "analyze -r $fx ${want[*]} failed"
	cmp -s "$tmp/want" "$tmp/out" || { diff "$tmp/want" "$tmp/out" | head; fail "analyze $* through pipes: not the output of the file"; }
	grep -q -- "$pat" "$tmp/out" || fail "analyze $*: no line matching $pat at all"
}

run 20 '"event":"message"' -l --json
[ "$early" = yes ] || fail "-l --json: no message line within 20 s while the input was held"
echo "ok: -l --json, the message line was out before the input ended"

run 20 ' request ' -l
[ "$early" = yes ] || fail "-l: no message line within 20 s while the input was held"
echo "ok: -l, text, the message line was out before the input ended"

run 2 '"event":"message"' --json
[ "$early" = no ] || fail "without -l the line was out early: this check cannot tell -l's flush apart"
echo "ok: without -l, nothing came out before the input ended"
