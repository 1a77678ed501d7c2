#!/usr/bin/env bash
# jmsg analyze on mangled captures, under ASan+UBSan when that build
# exists: every pcap fixture is rewritten several ways (bytes flipped in the
# packets, packets shuffled, duplicated, dropped, cut short) with a fixed
# seed, and the analyzer must end every run with exit 0 (or 1 with one line
# on stderr for a file libpcap refuses), a summary line, and no sanitizer
# report.  Garbage in gives named problems out, never a crash.
set -u
cd "$(dirname "$0")/../.."
: "${JMSG:=build/jmsg}" "${JMSG_ASAN:=}" "${BUILD:=build}"
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
bin=$JMSG not_run=
if [ -n "$JMSG_ASAN" ] && [ -x "$JMSG_ASAN" ]; then
	bin=$JMSG_ASAN
else
	not_run="no ASan build of jmsg (JMSG_ASAN='$JMSG_ASAN'; make unit-asan): plain build only"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp" tests/fixtures/*.pcap <<'EOF'
import random, struct, sys, os
out = sys.argv[1]
rng = random.Random(20261123)
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    if len(data) < 24 or len(data) > 200000:
        continue
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        recs.append(bytearray(data[off:off + 16 + incl]))
        off += 16 + incl
    name = os.path.basename(path)[:-5]
    def write(tag, rs):
        with open(f"{out}/{name}-{tag}.pcap", "wb") as f:
            f.write(data[:24])
            for r in rs:
                f.write(r)
    for k in range(3):  # flip bytes in the frames, headers included
        rs = [bytearray(r) for r in recs]
        for r in rs:
            for _ in range(rng.randint(0, 4)):
                if len(r) > 16:
                    r[rng.randrange(16, len(r))] = rng.randrange(256)
        write(f"flip{k}", rs)
    rs = recs[:]; rng.shuffle(rs); write("shuffle", rs)
    rs = [r for r in recs for _ in range(rng.choice((1, 1, 2)))]; write("dup", rs)
    rs = [r for r in recs if rng.random() > 0.3]; write("drop", rs)
    cut = bytearray(data[:rng.randrange(24, len(data))]) if len(data) > 24 else bytearray(data)
    open(f"{out}/{name}-cut.pcap", "wb").write(cut)
EOF

runs=0 bad=0
for f in "$tmp"/*.pcap; do
	args=()
	base=$(basename "$f" .pcap); base=${base%-*}
	[ -f "tests/fixtures/$base.args" ] && read -r -a args < "tests/fixtures/$base.args"
	ASAN_OPTIONS=detect_leaks=1 timeout 60 "$bin" analyze -r "$f" -q "${args[@]}" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	runs=$((runs + 1))
	if grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/err" || [ $rc -gt 1 ] ||
	   { [ $rc -eq 1 ] && [ "$(wc -l < "$tmp/err")" -ne 1 ]; } ||
	   { [ $rc -eq 0 ] && ! grep -q '^summary:' "$tmp/out"; }; then
		bad=$((bad + 1))
		echo "FAIL: $(basename "$f"): exit $rc"
		head -n 15 "$tmp/err"
	fi
done
echo "mangled: $runs runs with $bin, $bad failed"
[ $runs -gt 0 ] || { echo "FAIL: nothing was run"; exit 1; }
[ $bad -eq 0 ] || exit 1
[ -z "$not_run" ] || { echo "skip: $not_run"; exit 77; }
