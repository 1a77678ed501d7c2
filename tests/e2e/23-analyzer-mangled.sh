#!/usr/bin/env bash
# jmsg analyze on mangled captures, under ASan+UBSan: every pcap and pcapng
# fixture is rewritten several ways with a fixed seed, and each run must
# end with the exit status `jmsg analyze --help` gives for what was done
# to the file, and no sanitizer report.  Garbage in gives named problems
# out, never a crash.
#
#   flip0..2  bytes flipped inside the packets (link, IP and TCP headers
#             included), the file's framing intact
#   shuffle, dup, drop   packets reordered, duplicated, removed
#   cutrec    the file cut at a packet boundary: still a whole file
#       -> exit 0, a summary line, nothing on stderr
#   cut       the file cut inside a packet record (pcap) or block (pcapng)
#       -> exit 1 ("could not be read"), the summary of what was read, one
#          line on stderr: "reading FILE: truncated ..."
#   cuthead   the file cut inside its file header (pcapng: the Section
#             Header Block)
#       -> exit 1 ("could not be opened"), nothing on stdout, one line on
#          stderr: "cannot read 'FILE': truncated ..." (or "unknown file
#          format" when the cut leaves no whole magic number)
#
# Without the ASan build (JMSG_ASAN) the plain build runs and the test ends
# in a skip (77) unless something failed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${JMSG_ASAN:=}" "${BUILD:=build}"
need python3
bin=$JMSG not_run=
if have_asan; then
	bin=$JMSG_ASAN
else
	not_run="no ASan build of jmsg (JMSG_ASAN='$JMSG_ASAN'; make unit-asan): plain build only"
fi
tmpdir tmp

python3 - "$tmp" tests/fixtures/*.pcap tests/fixtures/*.pcapng <<'EOF' || { echo "FAIL: cannot mangle the fixtures"; exit 1; }
import random, struct, sys, os
out = sys.argv[1]
rng = random.Random(20261123)
PACKET_BLOCKS = (2, 3, 6)  # pcapng: obsolete packet, simple packet, enhanced packet


def pcap_split(data):
    """File header, then (record, first packet byte, end of packet) each."""
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        recs.append((bytearray(data[off:off + 16 + incl]), 16, 16 + incl))
        off += 16 + incl
    assert off == len(data), "trailing bytes"
    return data[:24], recs


def pcapng_split(data):
    """Blocks before the first packet block, then the packet blocks."""
    endian = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    head, recs, off = b"", [], 0
    while off < len(data):
        btype, blen = struct.unpack(endian + "II", data[off:off + 8])
        block = bytearray(data[off:off + blen])
        if btype == 6:  # enhanced packet block: data after 28 bytes, caplen at 20
            cap = struct.unpack(endian + "I", block[20:24])[0]
            recs.append((block, 28, 28 + cap))
        elif btype in PACKET_BLOCKS:
            recs.append((block, 16, 16))  # framing only: no flips
        elif recs:
            raise AssertionError(f"block type {btype:#x} after the packets: not mangled here")
        else:
            head += bytes(block)
        off += blen
    return head, recs


for path in sys.argv[2:]:
    data = open(path, "rb").read()
    if len(data) > 200000:
        continue
    ng = path.endswith(".pcapng")
    try:
        head, recs = (pcapng_split if ng else pcap_split)(data)
    except AssertionError as e:
        sys.exit(f"{path}: {e}")
    assert recs, f"{path}: no packets"
    name, ext = os.path.splitext(os.path.basename(path))
    def write(tag, body):
        with open(f"{out}/{name}-{tag}{ext}", "wb") as f:
            f.write(head if tag != "cuthead" else b"")
            f.write(body)
    for k in range(3):  # flip bytes in the packets, their headers included
        rs = [bytearray(r) for r, _, _ in recs]
        for r, (_, a, b) in zip(rs, recs):
            for _ in range(rng.randint(0, 4)):
                if b > a:
                    r[rng.randrange(a, b)] = rng.randrange(256)
        write(f"flip{k}", b"".join(rs))
    rs = [r for r, _, _ in recs]
    sh = rs[:]; rng.shuffle(sh); write("shuffle", b"".join(sh))
    write("dup", b"".join(r for r in rs for _ in range(rng.choice((1, 1, 2)))))
    write("drop", b"".join(r for r in rs if rng.random() > 0.3))
    k = rng.randrange(len(rs))
    write("cutrec", b"".join(rs[:k]))
    write("cut", b"".join(rs[:k]) + rs[k][:rng.randrange(1, len(rs[k]))])
    # inside the pcap file header, or inside the pcapng section header block
    hl = 24 if not ng else struct.unpack(("<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">") + "I", data[4:8])[0]
    write("cuthead", data[:rng.randrange(1, hl)])
EOF

runs=0 bad=0 pcapng=0
for f in "$tmp"/*.pcap "$tmp"/*.pcapng; do
	[ -f "$f" ] || continue
	args=()
	file=$(basename "$f"); stem=${file%.*}; tag=${stem##*-}; base=${stem%-*}
	[ -f "tests/fixtures/$base.args" ] && read -r -a args < "tests/fixtures/$base.args"
	ASAN_OPTIONS=detect_leaks=1 timeout 60 "$bin" analyze -r "$f" -q "${args[@]}" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	runs=$((runs + 1))
	case $f in *.pcapng) pcapng=$((pcapng + 1)) ;; esac
	why=
	if grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/err"; then
		why="sanitizer report"
	else
		case $tag in
		flip[0-9] | shuffle | dup | drop | cutrec)
			[ $rc -eq 0 ] || why="exit $rc, want 0"
			[ -n "$why" ] || [ ! -s "$tmp/err" ] || why="exit 0 with a message on stderr"
			[ -n "$why" ] || grep -q '^summary:' "$tmp/out" || why="no summary line" ;;
		cut)
			[ $rc -eq 1 ] || why="exit $rc, want 1 (a truncated file)"
			[ -n "$why" ] || [ "$(wc -l < "$tmp/err")" -eq 1 ] || why="not one line on stderr"
			[ -n "$why" ] || grep -q "^jmsg analyze: reading .*: truncated" "$tmp/err" || why="stderr does not say truncated"
			[ -n "$why" ] || grep -q '^summary:' "$tmp/out" || why="no summary of what was read" ;;
		cuthead)
			[ $rc -eq 1 ] || why="exit $rc, want 1 (a file that cannot be opened)"
			[ -n "$why" ] || [ "$(wc -l < "$tmp/err")" -eq 1 ] || why="not one line on stderr"
			[ -n "$why" ] || grep -qE "^jmsg analyze: cannot read '.*': (truncated|unknown file format)" "$tmp/err" ||
				why="stderr does not say truncated (or unknown format: cut before the magic number)"
			[ -n "$why" ] || [ ! -s "$tmp/out" ] || why="output for a file that cannot be opened" ;;
		*) why="test bug: unknown mangling '$tag'" ;;
		esac
	fi
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		echo "FAIL: $file: $why"
		head -n 15 "$tmp/err"
	fi
done
echo "mangled: $runs runs ($pcapng on pcapng files) with $bin, $bad failed"
[ $runs -gt 0 ] && [ $pcapng -gt 0 ] || { echo "FAIL: nothing was run (or no pcapng)"; exit 1; }
[ $bad -eq 0 ] || exit 1
[ -z "$not_run" ] || skip "$not_run"
