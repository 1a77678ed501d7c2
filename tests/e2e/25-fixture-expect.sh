#!/usr/bin/env bash
# Every scripted fixture's machine-readable "expect:" lines hold for what
# `jmsg analyze --json` reports on it.
#
# The format is described in tests/fixtures/README.md ("Machine-readable
# expectations").  The messages and problems listed are all there may be;
# a response paired with no request must carry no latency; a paired one
# must carry the latency the script's own packet times give (from
# `pcapgen -t`: the capture time of the packet that completed the
# response's last byte minus that of the packet that brought the
# request's first byte), and the latency_ms written on its `pair` line
# must be that value too.  A request the codec rejects whose end is known
# (a `rejected` line: no message there, a codec error inside its bytes)
# may be the request of a `pair` line: it still counts in pairing.  Every message's first- and last-byte times are
# checked the same way wherever the capture holds its bytes without a
# hole before them.  Nothing here is taken from the analyzer's output or
# from the golden files.  A script with no expectation fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
need python3
pcapgen=$BUILD/tools/pcapgen
[ -x "$pcapgen" ] || { echo "25-fixture-expect: $pcapgen is not built (make BUILD=$BUILD)"; exit 1; }
tmpdir tmp

cat > "$tmp/check.py" <<'EOF'
import bisect, json, re, sys
from decimal import Decimal

script, packets, events = sys.argv[1:4]
name = script.rsplit("/", 1)[-1]
errors = []
def bad(msg):
    errors.append(msg)

# ---------------------------------------------------------------- expectations
LOC = re.compile(r"^(?:(\d+):)?([cs])>(\d+)$")
def loc(word, line):
    m = LOC.match(word)
    if not m:
        raise SyntaxError(f"line {line}: '{word}' is not a location ([STREAM:]c>OFFSET or s>OFFSET)")
    return (int(m.group(1) or 0), "request" if m.group(2) == "c" else "response", int(m.group(3)))

def attrs(words, allowed, line):
    out = {}
    for w in words:
        k, eq, v = w.partition("=")
        if not eq or k not in allowed:
            raise SyntaxError(f"line {line}: '{w}' is not one of {', '.join(a + '=' for a in allowed)}")
        out[k] = v
    return out

def ints(d, keys, line):
    for k in keys:
        if k in d:
            if not re.fullmatch(r"\d+", d[k]):
                raise SyntaxError(f"line {line}: {k}= wants a number, not '{d[k]}'")
            d[k] = int(d[k])

msgs, pairs, probs, stream_end = {}, [], [], {}
n_streams = None
n_expect = 0
try:
    for i, text in enumerate(open(script, encoding="utf-8"), 1):
        m = re.match(r"^#\s+expect:\s*(.*?)\s*$", text)
        if not m:
            if re.match(r"^#\s*expect", text):
                raise SyntaxError(f"line {i}: 'expect:' must follow '#' and blanks: {text.strip()}")
            continue
        n_expect += 1
        w = m.group(1).split()
        if not w:
            raise SyntaxError(f"line {i}: empty expectation")
        what, args = w[0], w[1:]
        if what == "streams":
            if len(args) != 1 or not args[0].isdigit():
                raise SyntaxError(f"line {i}: streams N")
            n_streams = int(args[0])
        elif what == "stream":
            if len(args) != 2 or not args[0].isdigit():
                raise SyntaxError(f"line {i}: stream N end=STATE")
            a = attrs(args[1:], ["end"], i)
            if a.get("end") not in ("closed", "reset", "expired", "open"):
                raise SyntaxError(f"line {i}: end= is closed, reset, expired or open")
            stream_end[int(args[0])] = a["end"]
        elif what == "message":
            if not args:
                raise SyntaxError(f"line {i}: message LOC hdr=N len=N [json=yes|no]")
            l = loc(args[0], i)
            a = attrs(args[1:], ["hdr", "len", "json"], i)
            ints(a, ["hdr", "len"], i)
            if "hdr" not in a or "len" not in a:
                raise SyntaxError(f"line {i}: message needs hdr= and len=")
            if a.get("json", "yes") not in ("yes", "no"):
                raise SyntaxError(f"line {i}: json= is yes or no")
            if l in msgs:
                raise SyntaxError(f"line {i}: a second message at {args[0]}")
            msgs[l] = dict(a, line=i)
        elif what == "rejected":
            if not args:
                raise SyntaxError(f"line {i}: rejected LOC hdr=N len=N")
            l = loc(args[0], i)
            a = attrs(args[1:], ["hdr", "len"], i)
            ints(a, ["hdr", "len"], i)
            if "hdr" not in a or "len" not in a:
                raise SyntaxError(f"line {i}: rejected needs hdr= and len=")
            if l in msgs:
                raise SyntaxError(f"line {i}: a second message at {args[0]}")
            msgs[l] = dict(a, line=i, rejected=True)
        elif what == "pair":
            if len(args) != 3:
                raise SyntaxError(f"line {i}: pair REQUEST-LOC RESPONSE-LOC latency_ms=X")
            q, r = loc(args[0], i), loc(args[1], i)
            if q[1] != "request" or r[1] != "response" or q[0] != r[0]:
                raise SyntaxError(f"line {i}: pair wants a c> location, then an s> one of the same stream")
            a = attrs(args[2:], ["latency_ms"], i)
            if not re.fullmatch(r"\d+\.\d{3}", a.get("latency_ms", "")):
                raise SyntaxError(f"line {i}: latency_ms= wants milliseconds with three decimals")
            pairs.append((q, r, Decimal(a["latency_ms"]), i))
        elif what == "problem":
            if len(args) < 2:
                raise SyntaxError(f"line {i}: problem KIND LOC [bytes=N]")
            a = attrs(args[2:], ["bytes"], i)
            ints(a, ["bytes"], i)
            probs.append((args[0], loc(args[1], i), a.get("bytes"), i))
        else:
            raise SyntaxError(f"line {i}: unknown expectation '{what}' "
                              "(streams, stream, message, rejected, pair, problem)")
except SyntaxError as e:
    print(f"{name}: {e}")
    sys.exit(1)
if n_expect == 0:
    print(f"{name}: no machine-readable expectation ('#   expect: ...' lines)")
    sys.exit(1)
for k in (0, 1):
    seen = [p[k] for p in pairs]
    if len(seen) != len(set(seen)):
        print(f"{name}: a {'request' if k == 0 else 'response'} is in two pair lines")
        sys.exit(1)
for q, r, _, i in pairs:
    for l in (q, r):
        if l not in msgs:
            print(f"{name}: line {i}: pair names {l[1]} at {l[0]}:{l[2]}, which no message line lists")
            sys.exit(1)
    if msgs[r].get("rejected"):
        print(f"{name}: line {i}: pair names a rejected response, which carries no latency")
        sys.exit(1)

# ---------------------------------------------------------------- the script's times
# pcapgen -t: N TIME_NS CONN DIR SEQ LEN CAPLEN FLAGS.  For each stream and
# direction, when did each byte become deliverable in order?  A byte's time
# is that of the packet after which it and every byte before it had been
# captured (the first copy counts; retransmissions change nothing).  Past
# a byte the capture lacks (dropped, cut by the snapshot length), times
# are unknown.  Offsets count from the first byte after the SYN, or, for a
# direction the capture holds no SYN of, from its first captured byte.
class Half:
    def __init__(self):
        self.base = None      # pcapgen's offset of the analyzer's offset 0
        self.next = 0         # every byte before this has been captured
        self.held = []        # captured intervals beyond next, [lo, hi)
        self.spans = []       # (lo, hi, ns): bytes [lo, hi) complete at ns
    def time(self, off):
        i = bisect.bisect_right([s[0] for s in self.spans], off) - 1
        if i < 0 or off >= self.spans[i][1]:
            return None
        return self.spans[i][2]

halves = {}
rows = [t.split() for t in open(packets)]
syn = {(int(r[2]), r[3]) for r in rows if "S" in r[7]}
for n, ns, conn, d, seq, ln, cap, flags in rows:
    key = (int(conn), "request" if d == "c" else "response")
    h = halves.setdefault(key, Half())
    if int(cap) == 0:
        continue
    if h.base is None:
        h.base = 0 if (int(conn), d) in syn else int(seq)
    lo = int(seq) - h.base
    h.held.append((lo, lo + int(cap)))
    h.held.sort()
    start = h.next
    while h.held and h.held[0][0] <= h.next:
        h.next = max(h.next, h.held.pop(0)[1])
    if h.next > start:
        h.spans.append((start, h.next, int(ns)))

def msg_times(l, m):
    h = halves.get((l[0], l[1]))
    if not h:
        return None, None
    return h.time(l[2]), h.time(l[2] + 2 + m["hdr"] + m["len"] - 1)

# ---------------------------------------------------------------- what the analyzer said
# Numbers as decimals, so times and latencies compare exactly to the digit.
ev = [json.loads(x, parse_float=Decimal) for x in open(events, encoding="utf-8")]
summary = ev[-1] if ev and ev[-1].get("event") == "summary" else None
if summary is None:
    bad("no summary event at the end of the output")
got_msgs = {}
for e in ev:
    if e["event"] == "message":
        l = (e["stream"], e["dir"], e["offset"])
        if l in got_msgs:
            bad(f"two messages at {l}")
        got_msgs[l] = e
got_probs = [e for e in ev if e["event"] == "error"]

def where(l):
    return f"{l[0]}:{'c' if l[1] == 'request' else 's'}>{l[2]}"

def ts_ns(v):     # a JSON time (seconds, 6 decimals) in nanoseconds
    return int(v * 1000000000)
def show(ns):
    return f"{ns // 10**9}.{ns % 10**9:09d}"
HALF_US = 500    # ns: what printing to the microsecond may move a time
HALF_LAST = Decimal("0.0005")  # ms: what printing latency_ms to 3 decimals may move it
CAPTURE_PROBLEMS = {"gap", "resync", "midstream", "reset", "truncated_capture", "overlap_conflict",
                    "memcap"}
for l, m in msgs.items():
    e = got_msgs.get(l)
    if m.get("rejected"):
        # No message there, or one whose content the codec rejects (the
        # framing held: shown as bytes, with content_error), and a codec
        # error inside its bytes.
        end = l[2] + 2 + m["hdr"] + m["len"]
        if e and not ("content_error" in e and "content_hex" in e and
                      e["header_len"] == m["hdr"] and e["content_length"] == m["len"]):
            bad(f"line {m['line']}: a message at {where(l)}, which the codec should reject")
        if e and not any(p["kind"] == e["content_error"] and (p["stream"], p["dir"]) == l[:2]
                         and l[2] <= p["offset"] < end for p in got_probs):
            bad(f"line {m['line']}: the message at {where(l)} names content_error "
                f"{e['content_error']}, and no such error event is there")
        if not any(p["kind"] not in CAPTURE_PROBLEMS and (p["stream"], p["dir"]) == l[:2]
                   and l[2] <= p["offset"] < end for p in got_probs):
            bad(f"line {m['line']}: no codec error between {where(l)} and offset {end}")
        continue
    if not e:
        bad(f"line {m['line']}: no message at {where(l)}")
        continue
    if e["header_len"] != m["hdr"]:
        bad(f"line {m['line']}: message at {where(l)}: header {e['header_len']}, want {m['hdr']}")
    if e["content_length"] != m["len"]:
        bad(f"line {m['line']}: message at {where(l)}: content-length {e['content_length']}, want {m['len']}")
    if "json" in m and ("content" in e) != (m["json"] == "yes"):
        bad(f"line {m['line']}: message at {where(l)}: content {'is' if 'content' in e else 'is not'} JSON, "
            f"want json={m['json']}")
    first, last = msg_times(l, m)
    if first is not None and abs(ts_ns(e["ts"]) - first) > HALF_US:
        bad(f"line {m['line']}: message at {where(l)}: first byte at {e['ts']}, "
            f"the script's times give {show(first)}")
    if last is not None and abs(ts_ns(e["ts_last"]) - last) > HALF_US:
        bad(f"line {m['line']}: message at {where(l)}: last byte at {e['ts_last']}, "
            f"the script's times give {show(last)}")
for l, e in got_msgs.items():
    if l not in msgs:
        bad(f"a message no line expects: {e['dir']} at {where(l)} (header {e['header_len']}, "
            f"content-length {e['content_length']})")

paired = {}
for q, r, stated, i in pairs:
    qf, _ = msg_times(q, msgs[q])
    _, rl = msg_times(r, msgs[r])
    if qf is None or rl is None:
        bad(f"line {i}: the script's times do not give this latency (a byte before the "
            "request's first or the response's last is not in the capture)")
        continue
    want = Decimal(rl - qf) / 1000000
    if abs(stated - want) > HALF_LAST:
        bad(f"line {i}: latency_ms={stated} is written, the script's times give {want}")
    paired[r] = (want, i)
for l, e in got_msgs.items():
    if e["dir"] != "response" or l not in msgs:
        continue
    if l in paired:
        want, i = paired[l]
        if "latency_ms" not in e:
            bad(f"line {i}: response at {where(l)} has no latency, want {want} ms")
        elif abs(e["latency_ms"] - want) > HALF_LAST:
            bad(f"line {i}: response at {where(l)} has latency {e['latency_ms']} ms, "
                f"the script's times give {want}")
    elif "latency_ms" in e:
        bad(f"line {msgs[l]['line']}: response at {where(l)} has latency {e['latency_ms']} ms, "
            "but no pair line pairs it")

left = list(got_probs)
for kind, l, nbytes, i in probs:
    hit = next((e for e in left if e["kind"] == kind and (e["stream"], e["dir"], e["offset"]) == l), None)
    if not hit:
        bad(f"line {i}: no problem {kind} at {where(l)}")
        continue
    left.remove(hit)
    if nbytes is not None and hit.get("bytes") != nbytes:
        bad(f"line {i}: problem {kind} at {where(l)}: bytes {hit.get('bytes')}, want {nbytes}")
for e in left:
    bad(f"a problem no line expects: {e['kind']} at {where((e['stream'], e['dir'], e['offset']))}: {e.get('detail')}")

if n_streams is not None and summary and summary["streams"] != n_streams:
    bad(f"{summary['streams']} streams, want {n_streams}")
ends = {e["stream"]: e["state"] for e in ev if e["event"] == "stream" and e["phase"] == "end"}
for s, state in stream_end.items():
    if ends.get(s) != state:
        bad(f"stream {s} ended {ends.get(s)}, want {state}")

if errors:
    for x in errors:
        print(f"{name}: {x}")
    sys.exit(1)
print(f"{name}: {n_expect} expectations hold ({len(msgs)} messages, {len(pairs)} pairs, {len(probs)} problems)")
EOF

fail=0 n=0
for script in tests/fixtures/*.script; do
	name=$(basename "$script" .script)
	ext=pcap
	grep -q '^format[[:space:]]\+pcapng' "$script" && ext=pcapng
	n=$((n + 1))
	if ! timeout 60 "$pcapgen" -t "$tmp/$name.packets" -o "$tmp/$name.$ext" "$script" >/dev/null; then
		echo "25-fixture-expect: $name: pcapgen failed"; fail=1; continue
	fi
	if ! timeout 60 "$JMSG" analyze -r "$tmp/$name.$ext" --json > "$tmp/$name.jsonl" 2>"$tmp/$name.err"; then
		echo "25-fixture-expect: $name: jmsg analyze failed: $(head -n 3 "$tmp/$name.err")"; fail=1; continue
	fi
	timeout 60 python3 "$tmp/check.py" "$script" "$tmp/$name.packets" "$tmp/$name.jsonl" || fail=1
	rm -f "$tmp/$name.$ext"
done
[ $n -gt 0 ] || { echo "25-fixture-expect: no scripts in tests/fixtures"; exit 1; }
[ $fail -eq 0 ] || exit 1
echo "25-fixture-expect: the expectations of all $n scripts hold"
