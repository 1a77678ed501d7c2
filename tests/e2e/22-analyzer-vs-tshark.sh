#!/usr/bin/env bash
# jmsg analyze against tshark's own TCP reassembly: for every fixture whose
# streams are clean (jmsg reports no problem), tshark's "follow tcp raw"
# bytes of each stream are framed independently (protoheader, JSON header,
# content-length) and the messages found (direction, offset, header length,
# content length, content bytes) must equal jmsg's message events.
set -u
cd "$(dirname "$0")/../.."
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
command -v tshark >/dev/null || { echo "skip: tshark is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

checked=0 failed=0
for pcap in tests/fixtures/*.pcap tests/fixtures/*.pcapng; do
	[ -f "$pcap" ] || continue
	name=$(basename "$pcap"); name=${name%.pcapng}; name=${name%.pcap}
	args=()
	[ -f "tests/fixtures/$name.args" ] && read -r -a args < "tests/fixtures/$name.args"
	timeout 60 "$JMSG" analyze -r "$pcap" --json "${args[@]}" > "$tmp/jm.jsonl" || { echo "FAIL: $name: jmsg exit $?"; failed=$((failed + 1)); continue; }
	# Only clean captures: with gaps or errors the two tools may rightly differ.
	if ! python3 -c 'import json,sys; s=[json.loads(l) for l in open(sys.argv[1])][-1]; sys.exit(0 if s["problems"]==0 and s["messages"]>0 else 1)' "$tmp/jm.jsonl"; then
		continue
	fi
	nstreams=$(tshark -r "$pcap" -T fields -e tcp.stream 2>/dev/null | sort -un | wc -l)
	follow=()
	for ((i = 0; i < nstreams; i++)); do follow+=(-z "follow,tcp,raw,$i"); done
	timeout 120 tshark -r "$pcap" -q "${follow[@]}" 2>/dev/null > "$tmp/ts.txt"
	if python3 - "$tmp/ts.txt" "$tmp/jm.jsonl" <<'EOF'
import json, sys

def frame(data):
    """The messages of one direction, framed as the tutorial does."""
    out, off = [], 0
    while off + 2 <= len(data):
        hl = data[off] << 8 | data[off + 1]
        hdr = json.loads(data[off + 2:off + 2 + hl].decode())
        cl = hdr["content-length"]
        start = off + 2 + hl
        # jmsg shows at most --max-hex (default 1024) bytes of binary content
        out.append((off, hl, cl, data[start:start + cl].hex(), data[start:start + cl]))
        off = start + cl
    return out

streams = []           # per tshark stream: (client, server, {0: bytes, 1: bytes})
cur = None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("Node 0:"):
        cur = {"c": line.split(": ", 1)[1], 0: b"", 1: b""}
        streams.append(cur)
    elif line.startswith("Node 1:"):
        cur["s"] = line.split(": ", 1)[1]
    elif cur is not None and line and not line.startswith("=") and ":" not in line:
        if line.startswith("\t"):
            cur[1] += bytes.fromhex(line.strip())
        else:
            cur[0] += bytes.fromhex(line.strip())

want = set()
for st in streams:
    for d, name in ((0, "request"), (1, "response")):
        for off, hl, cl, hexc, raw in frame(st[d]):
            want.add((st["c"], st["s"], name, off, hl, cl, hexc, raw))

got = set()
for l in open(sys.argv[2]):
    e = json.loads(l)
    if e["event"] != "message":
        continue
    if "content" in e:
        c = json.dumps(e["content"], ensure_ascii=False)
        hexc = None  # compare JSON content by value below
    else:
        hexc = e["content_hex"]
    got.add((e["client"], e["server"], e["dir"], e["offset"], e["header_len"],
             e["content_length"], hexc))

# JSON contents are compared by value (jmsg checked and kept them); binary
# contents by their first 1024 bytes.
w = set()
for (c, sv, d, o, h, l, x, b) in want:
    try:
        json.loads(b.decode())
        is_json = b[:1] in (b"{", b"[", b'"')
    except Exception:
        is_json = False
    w.add((c, sv, d, o, h, l, None if is_json else x[:2048]))
if w != got:
    print("tshark only:", str(sorted(w - got, key=str)[:3])[:600])
    print("jmsg only:  ", str(sorted(got - w, key=str)[:3])[:600])
    sys.exit(1)
print(f"{len(got)} messages agree")
EOF
	then
		checked=$((checked + 1))
	else
		echo "FAIL: $name: jmsg and tshark disagree"
		failed=$((failed + 1))
	fi
done
echo "vs tshark: $checked fixtures agree, $failed disagree"
[ $checked -gt 0 ] || { echo "FAIL: no fixture compared"; exit 1; }
[ $failed -eq 0 ]
