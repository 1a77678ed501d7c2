#!/usr/bin/env bash
# The generated Wireshark dissector ($BUILD/jmsg.lua) under tshark, on
# captures whose contents are known: the dissector's own scenarios
# (dissector/mkpcap.py: splits inside the protoheader and the header, several
# messages per segment, one connection per spec error kind, a non-standard
# port, HTTP) with expectations mkpcap.py works out from the bytes it writes,
# and the tutorial's two real captures.
#
# Every capture is read one-pass, two-pass (-2) and with TCP reassembly off;
# a Lua error in any of them fails the test.  Checked: the messages and
# error ids per connection and direction, the Info column, request/response
# links, expert infos with the spec's ids and texts, and filterable fields.
set -u
cd "$(dirname "$0")/../.."
. dissector/testlib.sh
dt_setup

OOO="-o tcp.reassemble_out_of_order:TRUE"
$PY dissector/mkpcap.py "$TMP" || dt_fail "dissector/mkpcap.py could not write the scenarios"

for n in keepalive malformed altport http; do
	pcap="$TMP/$n.pcap"
	dt_tshark -2 $OOO -r "$pcap" -T json >"$TMP/$n.2.json" || exit 1
	$PY dissector/tshark_msgs.py "$TMP/$n.2.json" >"$TMP/$n.2.got" || dt_fail "$n: tshark_msgs.py"
	$PY dissector/compare.py "$TMP/$n.expect.jsonl" "$TMP/$n.2.got" ||
		dt_fail "$n: two-pass dissection differs from the expectation"
	# One pass cannot know, while it reads, that the capture ends inside a
	# message: "truncated" is reported by the two-pass run only.
	dt_tshark $OOO -r "$pcap" -T json >"$TMP/$n.1.json" || exit 1
	$PY dissector/tshark_msgs.py "$TMP/$n.1.json" >"$TMP/$n.1.got" || dt_fail "$n: tshark_msgs.py"
	$PY dissector/compare.py --skip truncated "$TMP/$n.expect.jsonl" "$TMP/$n.1.got" ||
		dt_fail "$n: one-pass dissection differs from the expectation"
	# Without reassembly a split message cannot be decoded whole; what
	# counts is that nothing breaks.
	dt_tshark -o tcp.desegment_tcp_streams:FALSE -r "$pcap" -V >/dev/null || exit 1
	dt_tshark -2 -o tcp.desegment_tcp_streams:FALSE -r "$pcap" -V >/dev/null || exit 1
	echo "ok $n: $(wc -l <"$TMP/$n.expect.jsonl") expected records, one-pass, two-pass, no reassembly"
done
[ "$(grep -c '"kind": "message"' "$TMP/keepalive.expect.jsonl")" -ge 10 ] ||
	dt_fail "keepalive scenario lost its messages"

# Info column, links and time, from the two-pass run.
dt_tshark -2 -r "$TMP/keepalive.pcap" -Y jmsg -T fields -E separator=/t -E occurrence=a \
	-e frame.number -e jmsg.request -e jmsg.response -e jmsg.response_in -e jmsg.request_in \
	-e jmsg.time -e _ws.col.Info >"$TMP/ka.fields" || exit 1
$PY - "$TMP/ka.fields" "$TMP/keepalive.expect.jsonl" spec/jmsg.json <<'EOF' || dt_fail "keepalive: Info column or request/response links"
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
exp = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
summary = json.load(open(sys.argv[3]))["content"]["summary"]
info = " | ".join(r[6] for r in rows)
# The Info text each message must produce, by the rule the spec states.
for e in exp:
    word = "Request" if e["dir"] == "request" else "Response"
    c = e.get("content")
    if isinstance(c, dict):
        parts = [word] + ([c[summary["verb"]]] if summary["verb"] in c else [])
        parts += ['"%s"' % c[k] for k in summary["quoted"] if k in c]
        want = " ".join(parts)
    else:
        n = e["content_length"]
        want = "%s %s %d byte%s" % (word, e["content_type"], n, "" if n == 1 else "s")
    assert want in info, "Info lacks %r" % want
by_frame = {r[0]: r for r in rows}
links = 0
for r in rows:
    for resp in filter(None, r[3].split(",")):
        links += 1
        assert r[0] in by_frame[resp][4].split(","), "response %s does not point back to %s" % (resp, r[0])
    for t in filter(None, r[5].split(",")):
        assert float(t) > 0, "time since request %s" % t
pairs = 0
for conn in {(e["client"], e["server"]) for e in exp}:
    q = sum(1 for e in exp if (e["client"], e["server"]) == conn and e["dir"] == "request")
    a = sum(1 for e in exp if (e["client"], e["server"]) == conn and e["dir"] == "response")
    pairs += min(q, a)
assert links == pairs, "%d request->response links, %d expected" % (links, pairs)
print("ok Info column for %d messages, %d request/response links" % (len(exp), links))
EOF

# Expert infos: every error of the malformed scenario, with the spec's
# severity, text and id.
dt_tshark -2 -r "$TMP/malformed.pcap" -V >"$TMP/malformed.txt" || exit 1
$PY - "$TMP/malformed.txt" "$TMP/malformed.expect.jsonl" spec/jmsg.json <<'EOF' || dt_fail "malformed: expert infos"
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
spec = json.load(open(sys.argv[3]))
known = {e["id"]: e for e in spec["errors"] + spec["stream_problems"]}
sev = {"error": "Error", "warning": "Warning", "note": "Note"}
ids = {json.loads(l)["id"] for l in open(sys.argv[2]) if '"error"' in l}
assert ids, "no errors expected?"
for i in sorted(ids):
    e = known[i]
    want = "[Expert Info (%s/" % sev[e["severity"]]
    line = "%s [%s]" % (e["text"], i)
    assert any(want in l and line in l for l in text.splitlines()), "no expert info %r %r" % (want, line)
# "wire": false (out_of_memory) is the decoder's own trouble, not in any capture
codec = {e["id"] for e in spec["errors"] if e.get("wire", True)}
missing = codec - ids
assert not missing, "the scenario does not exercise %s" % sorted(missing)
print("ok expert infos for %d error ids (every codec error kind a capture can hold)" % len(ids))
EOF

# Filterable fields: spec fields, other header keys, JSON members.  Each
# count is exact: the frames of mkpcap.py's scenario that hold a match.
count() { # PCAP FILTER WANT WHAT
	dt_count -2 -r "$1" -Y "$2" -T fields -e frame.number
	[ "$DT_N" -eq "$3" ] || dt_fail "$4: $DT_N frames match '$2', $3 expected"
}
count "$TMP/keepalive.pcap" 'jmsg.connection == "keep-alive"' 2 "jmsg.connection filter"
count "$TMP/keepalive.pcap" 'jmsg.header.key == "x-trace"' 1 "jmsg.header.key filter"
count "$TMP/keepalive.pcap" 'json.value.string == "morpheus"' 1 "JSON member filter"
# The scenario's 7 text/json messages (little, utf-8) are in 6 frames: two
# responses share a segment.
[ "$(grep -c '"content_type": "text/json"' "$TMP/keepalive.expect.jsonl")" -eq 7 ] ||
	dt_fail "keepalive scenario changed: not 7 text/json messages"
count "$TMP/keepalive.pcap" 'jmsg.byteorder == "little" && jmsg.content_type == "text/json" && jmsg.content_encoding == "utf-8"' 6 \
	"header field filters"
count "$TMP/malformed.pcap" 'jmsg.expert.header_not_json' 1 "expert field filter"
echo "ok filters: jmsg.connection, jmsg.header.key, json.value.string, header fields, jmsg.expert.*"

# The tutorial's own programs, as captured (port 41001/41004: the heuristic).
for f in tests/fixtures/tutorial-search-morpheus.pcap tests/fixtures/tutorial-binary-smiley.pcap; do
	[ -f "$f" ] || f=/work/shared/captures/$(basename "$f" | sed 's/tutorial-search-morpheus/a-search-morpheus/; s/tutorial-binary-smiley/d-binary-smiley/')
	[ -f "$f" ] || dt_fail "missing capture $f"
	dt_tshark -2 -r "$f" -Y jmsg -T fields -e _ws.col.Info >"$TMP/tut.info" || exit 1
	dt_tshark -o tcp.desegment_tcp_streams:FALSE -r "$f" -V >/dev/null || exit 1
	cat "$TMP/tut.info"
done >"$TMP/tutorial.info"
grep -qx 'Request search "morpheus"' "$TMP/tutorial.info" || dt_fail "tutorial request Info"
grep -qx 'Response "Follow the white rabbit. 🐰"' "$TMP/tutorial.info" || dt_fail "tutorial response Info"
grep -qx 'Request binary/custom-client-binary-type 9 bytes' "$TMP/tutorial.info" || dt_fail "tutorial binary Info"
echo "ok tutorial captures:"
sed 's/^/    /' "$TMP/tutorial.info"
exit 0
