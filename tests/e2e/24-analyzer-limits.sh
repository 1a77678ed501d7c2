#!/usr/bin/env bash
# jmsg analyze's limits, each on a capture made for it with pcapgen:
#   --stream-memcap  out-of-order bytes held behind a hole, a JSON content
#                    too big to buffer, bytes held while hunting for a
#                    message boundary: "memcap" problems, memory stays
#                    bounded, the next message is still decoded
#   --max-streams    the least recently active stream is expired to make room
#   --idle-timeout   a stream idle longer than the timeout ends "expired"
# and the flags' bad values: one line, exit 2.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
need python3
pcapgen=$BUILD/tools/pcapgen
[ -x "$pcapgen" ] || make --no-print-directory BUILD="$BUILD" "$pcapgen" >/dev/null 2>&1
[ -x "$pcapgen" ] || { echo "skip: no pcapgen at $pcapgen"; exit 77; }
tmpdir tmp

# check FILE.jsonl PYTHON-EXPRESSION...: each must hold, with `ev` the
# events, `s` the summary, `msgs` the message events, `errs` the problems.
check() {
	local f=$1; shift
	python3 - "$f" "$@" <<'EOF' || exit 1
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = ev[-1]
msgs = [e for e in ev if e["event"] == "message"]
errs = [e for e in ev if e["event"] == "error"]
kinds = [e["kind"] for e in errs]
for expr in sys.argv[2:]:
    if not eval(expr):
        print(f"{sys.argv[1]}: not true: {expr}")
        print("  problems:", kinds, " messages:", [(m["stream"], m["dir"], m["offset"]) for m in msgs])
        sys.exit(1)
print(f"{sys.argv[1].rsplit('/', 1)[-1]}: {len(sys.argv) - 2} checks hold")
EOF
}

# 1. Held out-of-order bytes over the per-direction cap.
cat > "$tmp/ooo.script" <<'EOF'
client 10.0.0.1:41000
server 10.0.0.2:65432
handshake
c> message binary/custom-client-binary-type binary pattern:200000 drop=1
c> request search morpheus conn=keep-alive
s> response search morpheus
close
EOF
"$pcapgen" -o "$tmp/ooo.pcap" "$tmp/ooo.script" >/dev/null || fail "pcapgen ooo"
"$JMSG" analyze -r "$tmp/ooo.pcap" --json --stream-memcap 64k > "$tmp/ooo.jsonl" || fail "analyze ooo"
check "$tmp/ooo.jsonl" \
	'"memcap" in kinds' \
	'any(m["dir"] == "request" and m.get("content") == {"action": "search", "value": "morpheus"} for m in msgs)' \
	's["responses"] == 1'
# Without the cap the same capture holds the bytes and reports one gap.
"$JMSG" analyze -r "$tmp/ooo.pcap" --json > "$tmp/ooo-nocap.jsonl" || fail "analyze ooo without cap"
check "$tmp/ooo-nocap.jsonl" '"memcap" not in kinds' 'kinds.count("gap") == 1' \
	'[e["bytes"] for e in errs if e["kind"] == "gap"] == [1460]'

# 2. A JSON content bigger than the cap is skipped exactly, with no resync.
python3 - "$tmp/json.script" <<'EOF'
import sys
big = '{"items": [' + ", ".join(['"%06d"' % i for i in range(12000)]) + ']}'
open(sys.argv[1], "w").write(f"""client 10.0.0.1:41001
server 10.0.0.2:65432
handshake
c> message text/json utf-8 '{big}' conn=keep-alive
c> request search ring conn=keep-alive
s> response search ring
close
""")
EOF
"$pcapgen" -l -o "$tmp/json.pcap" "$tmp/json.script" > "$tmp/json.list" || fail "pcapgen json"
# Where the generator put the search request (after the big message).
ring_at=$(sed -n 's/.*message at offset \([0-9]*\):.*search request.*/\1/p' "$tmp/json.list")
[ -n "$ring_at" ] || fail "pcapgen -l did not list the search request"
"$JMSG" analyze -r "$tmp/json.pcap" --json --stream-memcap 64k > "$tmp/json.jsonl" || fail "analyze json"
check "$tmp/json.jsonl" \
	'kinds == ["memcap"]' \
	'errs[0]["offset"] == 0 and errs[0]["bytes"] > 65536' \
	"[m['offset'] for m in msgs if m['dir'] == 'request'] == [$ring_at]" \
	'msgs[0]["content"] == {"action": "search", "value": "ring"}'
"$JMSG" analyze -r "$tmp/json.pcap" --json > "$tmp/json-nocap.jsonl" || fail "analyze json without cap"
check "$tmp/json-nocap.jsonl" 'kinds == []' 'len(msgs[0]["content"]["items"]) == 12000'

# 2b. Picked up mid-stream on a false boundary that claims a 65535-byte
# header of plausible bytes: the hunt must hold them to decide, and that
# too is counted against the cap.
cat > "$tmp/hunt.script" <<'EOF'
client 10.0.0.1:41002
server 10.0.0.2:65432
tcp
c> hex:ffff7b22 fill:100000:61
c> request search morpheus conn=keep-alive
s> response search morpheus
close
EOF
"$pcapgen" -o "$tmp/hunt.pcap" "$tmp/hunt.script" >/dev/null || fail "pcapgen hunt"
"$JMSG" analyze -r "$tmp/hunt.pcap" --json --stream-memcap 64k > "$tmp/hunt.jsonl" || fail "analyze hunt"
check "$tmp/hunt.jsonl" '"memcap" in kinds' \
	'any(m["dir"] == "request" and m.get("content") == {"action": "search", "value": "morpheus"} for m in msgs)'
"$JMSG" analyze -r "$tmp/hunt.pcap" --json > "$tmp/hunt-nocap.jsonl" || fail "analyze hunt without cap"
check "$tmp/hunt-nocap.jsonl" '"memcap" not in kinds' \
	'any(m["dir"] == "request" and m.get("content") == {"action": "search", "value": "morpheus"} for m in msgs)'

# 3. Three connections at once with room for two.
cat > "$tmp/three.script" <<'EOF'
conn a 10.0.0.1:41010 10.0.0.2:65432
handshake
conn b 10.0.0.1:41011 10.0.0.2:65432
handshake
conn c 10.0.0.1:41012 10.0.0.2:65432
handshake
conn a
c> request search morpheus
s> response search morpheus
close
conn b
c> request search ring
s> response search ring
close
conn c
c> request search morpheus
s> response search morpheus
close
EOF
"$pcapgen" -o "$tmp/three.pcap" "$tmp/three.script" >/dev/null || fail "pcapgen three"
"$JMSG" analyze -r "$tmp/three.pcap" --json --max-streams 2 > "$tmp/three.jsonl" || fail "analyze three"
check "$tmp/three.jsonl" \
	'"memcap" in kinds' \
	'any(e["event"] == "stream" and e["state"] == "expired" for e in ev)' \
	's["peak_streams"] <= 2'
"$JMSG" analyze -r "$tmp/three.pcap" --json > "$tmp/three-nocap.jsonl" || fail "analyze three without cap"
check "$tmp/three-nocap.jsonl" 'kinds == []' 's["peak_streams"] == 3' 's["messages"] == 6'

# 4. Idle expiry: stream 0 of replay-spaced is quiet for a second between requests.
"$JMSG" analyze -r tests/fixtures/replay-spaced.pcap --json --idle-timeout 0.5 > "$tmp/idle.jsonl" || fail "analyze idle"
check "$tmp/idle.jsonl" \
	'any(e["event"] == "stream" and e["phase"] == "end" and e["state"] == "expired" for e in ev)' \
	'"midstream" in kinds'
"$JMSG" analyze -r tests/fixtures/replay-spaced.pcap --json > "$tmp/idle-none.jsonl" || fail "analyze idle default"
check "$tmp/idle-none.jsonl" \
	'not any(e["event"] == "stream" and e["state"] == "expired" for e in ev)' 'kinds == []'

# 5. Bad values: one line, exit 2.
for args in "--memcap 12" "--stream-memcap -1" "--max-streams 0" "--idle-timeout soon" \
	    "--port 70000" "--max-hex 1T" "-c 0" "--bogus" "tcp portt 5"; do
	"$JMSG" analyze -r tests/fixtures/basic-search.pcap $args > "$tmp/out" 2> "$tmp/err"
	rc=$?
	[ $rc -eq 2 ] || fail "'$args': exit $rc, want 2"
	[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "'$args': stderr is not one line: $(cat "$tmp/err")"
	[ -s "$tmp/out" ] && fail "'$args': wrote to stdout"
done
echo "limits: all hold"
