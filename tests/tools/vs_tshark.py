#!/usr/bin/env python3
"""One capture: jmsg analyze's messages against tshark's TCP reassembly.

    vs_tshark.py --mode clean|prefix --messages N|+ [--port P]... \\
                 [--max-hex B] [--max-content B] FIELDS FOLLOW JMSG_JSONL

FIELDS is `tshark --enable-protocol communityid -T fields -E separator=/t
-e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e tcp.flags.syn
-e tcp.flags.ack -e tcp.seq_raw -e tcp.len -e frame.len -e frame.cap_len
-e frame.number -e communityid`, FOLLOW is `tshark -q -z follow,tcp,raw,N`
for every stream, JMSG_JSONL is `jmsg analyze --json`.

Each direction of each stream tshark follows is framed here, without jmsg's
code: a 2-byte big-endian protoheader, a UTF-8 JSON object header with the
spec's required fields (byteorder little|big, content-type and
content-encoding strings, content-length a non-negative integer no larger
than --max-content), then content-length bytes of content, which for
text/json in utf-8 must be UTF-8 JSON.

Where the framing breaks (a bad header or content, bytes tshark says the
capture misses, the end of the data inside a message, or no handshake, so
offset 0 need not be a boundary), the direction is broken from the start of
that message M to the first later offset R where a complete valid message
starts (the resynchronisation point), or to the end of the data.  Framing
goes on from R.  Checked:

  - jmsg's messages are exactly the messages framed here, direction by
    direction: offset, header length, header value, content-type,
    content-encoding, content-length, and the content: text/json content as
    a JSON value (json.loads on both sides, types kept apart: 1, 1.0 and
    true differ; object members in order), other content as hex, cut to
    --max-hex bytes with content_hex_truncated exactly when it is longer;
    a text/json message in another encoding is framed, shown as bytes, and
    must carry jmsg's warning;
  - each break [M, R] holds at least one jmsg error event of that
    direction (that is where jmsg must say something is wrong);
  - no jmsg codec error (spec errors[]) lies outside a break: where the
    bytes frame cleanly, jmsg must not complain about them;
  - jmsg's gap and truncated_capture events are exactly the bytes tshark
    says are missing: its "[N bytes missing in capture file]" records in the
    follow output, and segments whose frame.cap_len < frame.len (snapshot
    length; tshark's follow shows their captured part with no mark, so the
    direction is compared only up to the first such cut);
  - a text/json message whose content is not UTF-8 or not JSON, behind a
    valid header, is still a jmsg message: its content as hex (cut to
    --max-hex) and content_error naming the fault (the framing breaks
    there all the same, and the error must be inside the break);
  - frames: a message's frame_last is the frame after which tshark's
    segments of its direction hold every byte up to its end (where
    Wireshark shows the reassembled message), its frame the one after which
    they hold every byte up to its first (the frame of its first byte, when
    segments come in order); checked for every message before the first
    hole in its direction.  Every error and stall event names frames of
    its own stream, frame <= frame_last;
  - community_id: every stream, message, error and stall event of a stream
    carries tshark's communityid for it (Community ID v1, seed 0);
  - --mode clean: no break anywhere, and jmsg reports no problem at all;
    --mode prefix: a break or a jmsg problem somewhere;
  - the number of messages compared is --messages (or at least one, '+');
  - a stream on no --port port is jmsg's exactly when a direction's first
    bytes start a message with the required keys (first_message); one
    picked up without a SYN has its server found as jmsg finds it; the
    streams with data that are not jmsg's, and their bytes, are the
    summary's undecoded_streams and undecoded_bytes.

The spec (spec/jmsg.json, or --spec) gives the codec error ids, the
encodings in which text/json content is JSON and the default content limit;
the header checks here are written out, and must cover the spec's required
fields (a spec that adds one stops this script until it is taught it).

Exit 0 if all hold (one line on stdout), 1 otherwise (what differs).
"""
import argparse
import json
import os
import re
import sys

# From the spec, in main().
JSON_ENCODINGS = ()
CODEC_ERRORS = set()
REQUIRED = ("byteorder", "content-length", "content-type", "content-encoding")
MISSING = re.compile(rb"\[(\d+) bytes missing in capture file\]\x00")


# ------------------------------------------------------------------ JSON

class Pairs(dict):
    """A JSON object that remembers its members in order."""
    def __init__(self, pairs):
        super().__init__(pairs)
        self.pairs = pairs


def no_constant(name):
    raise ValueError(f"{name} is not JSON")


def loads(text):
    return json.loads(text, object_pairs_hook=Pairs, parse_constant=no_constant)


def canon(v):
    """A JSON value as a comparable tuple: types kept apart (True != 1,
    1 != 1.0), object members in order, duplicates kept."""
    if isinstance(v, Pairs):
        return ("o", tuple((k, canon(x)) for k, x in v.pairs))
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, int):
        return ("i", v)
    if isinstance(v, float):
        return ("f", repr(v))
    if isinstance(v, str):
        return ("s", v)
    if v is None:
        return ("n",)
    if isinstance(v, list):
        return ("a", tuple(canon(x) for x in v))
    raise TypeError(type(v))


# ------------------------------------------------------------------ framing

class Direction:
    """The bytes tshark has for one direction: known chunks at stream
    offsets, with the holes tshark reports between them."""
    def __init__(self):
        self.chunks = []      # [start, bytearray]
        self.gaps = []        # (offset, bytes missing)
        self.end = 0          # offset after the last byte (known or not)
        self.cut_at = None    # first offset a snapshot length cut

    def add(self, data):
        m = MISSING.fullmatch(data)
        if m:
            n = int(m.group(1))
            self.gaps.append((self.end, n))
            self.end += n
            return
        if self.chunks and self.chunks[-1][0] + len(self.chunks[-1][1]) == self.end:
            self.chunks[-1][1] += data
        else:
            self.chunks.append([self.end, bytearray(data)])
        self.end += len(data)

    def chunk_at(self, off):
        for start, data in self.chunks:
            if start <= off < start + len(data):
                return start, data
        return None

    def next_known(self, off):
        """The first known offset at or after off, or None."""
        for start, data in self.chunks:
            if off < start + len(data):
                return max(off, start)
        return None


def header_problems(hdr, max_content):
    """The spec's error ids that apply to a parsed header (all of them)."""
    bad = []
    for key in REQUIRED:
        if key not in hdr:
            bad.append("header_missing_field")
    for key in ("byteorder", "content-type", "content-encoding"):
        if key in hdr and not isinstance(hdr[key], str):
            bad.append("header_field_type")
    cl = hdr.get("content-length")
    if "content-length" in hdr and (isinstance(cl, bool) or not isinstance(cl, int)):
        bad.append("header_field_type")
        cl = None
    if isinstance(hdr.get("byteorder"), str) and hdr["byteorder"] not in ("little", "big"):
        bad.append("header_field_value")
    if isinstance(cl, int) and cl < 0:
        bad.append("content_length_negative")
    if isinstance(cl, int) and cl > max_content:
        bad.append("content_length_too_large")
    return bad


def parse_at(d, off, max_content, limit):
    """Frame one message at offset off, using known bytes before limit.
    Returns (message, end), or (None, kinds): the spec ids of what is wrong
    (the bytes are not a valid message, or the ones it needs are not all
    known: "truncated" where the data ends, "gap" at a hole tshark reports,
    "truncated_capture" at a snapshot-length cut)."""
    c = d.chunk_at(off)
    if off >= limit:
        return None, ["no bytes"]
    if c is None:
        return None, ["gap"]     # off is in a hole
    start, data = c
    p = off - start
    lim = min(len(data), limit - start)
    if start + lim == limit and d.cut_at is not None:
        short = ["truncated_capture"]
    elif start + lim < d.end:
        short = ["gap"]
    else:
        short = ["truncated"]
    if p + 2 > lim:
        return None, short
    hl = data[p] << 8 | data[p + 1]
    if hl == 0:
        return None, ["header_empty"]
    if p + 2 + hl > lim:
        return None, short
    raw = bytes(data[p + 2:p + 2 + hl])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, ["header_not_utf8"]
    try:
        hdr = loads(text)
    except ValueError:
        return None, ["header_not_json"]
    if not isinstance(hdr, Pairs):
        return None, ["header_not_object"]
    bad = header_problems(hdr, max_content)
    if bad:
        # Where the length is known, the content must still be there.
        cl = hdr.get("content-length")
        if isinstance(cl, int) and not isinstance(cl, bool) and 0 <= cl and p + 2 + hl + cl > lim:
            bad += short
        return None, bad
    cl = hdr["content-length"]
    cs = p + 2 + hl
    if cs + cl > lim:
        return None, short
    content = bytes(data[cs:cs + cl])
    ctype, cenc = hdr["content-type"], hdr["content-encoding"]
    flagged = False
    bad_content = None
    if ctype == "text/json" and cenc.lower() in JSON_ENCODINGS:
        value = content   # as bytes, if it is not JSON
        try:
            value = ("json", canon(loads(content.decode("utf-8"))))
        except UnicodeDecodeError:
            bad_content = "content_not_utf8"
        except ValueError:
            bad_content = "content_not_json"
    else:
        flagged = ctype == "text/json"   # content_encoding_unsupported
        value = content
    msg = dict(offset=off, header_len=hl, header=canon(hdr), content_type=ctype,
               content_encoding=cenc, content_length=cl, content=value, flagged=flagged,
               content_error=bad_content)
    return msg, off + 2 + hl + cl


def valid(m):
    """A whole valid message (one with bad content breaks the framing)."""
    return m is not None and m["content_error"] is None


def may_start(d, k):
    """Can a valid message start at k: is the byte after a protoheader the
    start of a JSON object (a quick test before parsing)?"""
    start, data = d.chunk_at(k)
    p = k - start + 2
    while p < len(data) and data[p] in b" \t\r\n":
        p += 1
    return p < len(data) and data[p] == ord("{")


def frame(d, midstream, max_content):
    """Messages and breaks [(M, R, kinds)] of one direction: the framing
    breaks at M for one of the reasons in kinds (spec ids), and a whole
    valid message starts again at R (or R is the end of the data)."""
    msgs, breaks = [], []
    limit = d.end if d.cut_at is None else d.cut_at
    pos, kinds = 0, None
    if midstream:
        kinds = ["midstream"]   # offset 0 need not be a message boundary
    while pos < limit:
        if kinds is None:
            m, end = parse_at(d, pos, max_content, limit)
            if valid(m):
                msgs.append(m)
                pos = end
                continue
            if m is not None:   # its content is bad, its framing held
                msgs.append(m)
                end = [m["content_error"]]
            kinds = end
        # Broken at pos: the first later offset where a whole valid message
        # starts (pos itself when no handshake was seen).
        k = pos if kinds == ["midstream"] else pos + 1
        found = None
        while True:
            k = d.next_known(k)
            if k is None or k >= limit:
                break
            if may_start(d, k) and valid(parse_at(d, k, max_content, limit)[0]):
                found = k
                break
            k += 1
        breaks.append((pos, limit if found is None else found, kinds))
        if found is None:
            break
        pos, kinds = found, None
    return msgs, breaks


# ------------------------------------------------------------------ inputs

def read_fields(path, ports):
    """Per tshark stream: the client endpoint, whether a SYN was seen, and
    the first snapshot-length cut of each direction."""
    st = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 12 or not f[0]:
            continue
        sid = int(f[0])
        if f[2]:
            src = f"[{f[2]}]:{f[3]}"
        else:
            src = f"{f[1]}:{f[3]}"
        syn, ack = f[4] in ("1", "True"), f[5] in ("1", "True")
        seq, tlen = int(f[6]), int(f[7] or 0)
        flen, clen = int(f[8]), int(f[9])
        s = st.setdefault(sid, {"eps": [], "client": None, "syn": set(), "first": {}, "cuts": {},
                                "frames": set(), "segs": [], "cid": set()})
        s["frames"].add(int(f[10]))
        if f[11]:
            s["cid"].add(f[11])
        if src not in s["eps"]:
            s["eps"].append(src)
        if syn:
            s["syn"].add(src)
            s["first"][src] = (seq + 1) & 0xffffffff
            if not ack:
                s["client"] = src
            elif s["client"] is None:
                s["client_not"] = src
        elif tlen and src not in s["first"]:
            s["first"][src] = seq
        if tlen:
            off = (seq - s["first"][src]) & 0xffffffff
            s["segs"].append((src, int(f[10]), off, off + tlen))
        if tlen and clen < flen and src not in s["cuts"]:
            lost = min(flen - clen, tlen)
            off = (seq - s["first"][src]) & 0xffffffff
            s["cuts"][src] = (off + tlen - lost, lost)
    for s in st.values():
        if s["client"] is None and "client_not" in s:
            s["client"] = next((e for e in s["eps"] if e != s["client_not"]), None)
        if s["client"] is None:
            srv = [e for e in s["eps"] if int(e.rsplit(":", 1)[1]) in ports]
            if len(srv) == 1 and len(s["eps"]) == 2:
                s["client"] = next(e for e in s["eps"] if e != srv[0])
        s["midstream"] = not s["syn"]
    return st


def first_message(d):
    """The message at offset 0 of a direction as (header, content bytes or
    None when not all there), if its first bytes pass the rule jmsg and the
    Wireshark dissector use to find the protocol on a port nobody named: a
    2-byte length, then that many bytes of a UTF-8 JSON object, starting
    with '{', with every required key.  None if they do not."""
    c = d.chunk_at(0)
    if not c:
        return None
    data = bytes(c[1])
    if len(data) < 4:
        return None
    n = int.from_bytes(data[:2], "big")
    if n < 1 or len(data) < 2 + n or data[2] != 0x7b:
        return None
    try:
        hdr = loads(data[2:2 + n].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(hdr, dict) or any(k not in hdr for k in REQUIRED):
        return None
    cl = hdr.get("content-length")
    ok = isinstance(cl, int) and not isinstance(cl, bool) and cl >= 0
    return hdr, (data[2 + n:2 + n + cl] if ok and len(data) >= 2 + n + cl else None)


def is_response(d):
    """Is a direction's first message a response: a JSON object content
    with a "result" key, as the tutorial's responses carry?"""
    m = first_message(d)
    if not m or m[1] is None or m[0].get("content-type") != "text/json":
        return False
    try:
        v = loads(m[1].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(v, dict) and "result" in v


def classify(fields, follow, ports):
    """Which tshark streams jmsg must decode: those on a --port port, and
    those where a direction's first bytes start a message (first_message).
    For one picked up without a SYN on no such port, the server is the side
    whose first message is a response, else the one with the lower port."""
    port = lambda e: int(e.rsplit(":", 1)[1])
    for sid, info in fields.items():
        f = follow.get(sid)
        on_port = any(port(e) in ports for e in info["eps"])
        info["jmsg"] = on_port or bool(f and any(first_message(f[s]) for s in (0, 1)))
        if info["client"] is None and f and not on_port and None not in f["nodes"]:
            resp = [s for s in (0, 1) if is_response(f[s])]
            server = f["nodes"][resp[0]] if resp else min(f["nodes"], key=port)
            info["client"] = f["nodes"][1 - f["nodes"].index(server)]


def read_follow(path):
    """{stream: {"nodes": [node0, node1], 0: Direction, 1: Direction}}"""
    out, cur = {}, None
    for line in open(path, encoding="ascii", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("Filter: tcp.stream eq "):
            cur = {"nodes": [None, None], 0: Direction(), 1: Direction()}
            out[int(line.split()[-1])] = cur
        elif line.startswith("Node 0: ") and cur is not None:
            cur["nodes"][0] = line[8:]
        elif line.startswith("Node 1: ") and cur is not None:
            cur["nodes"][1] = line[8:]
        elif cur is not None and re.fullmatch(r"\t?[0-9a-f]+", line):
            side = 1 if line.startswith("\t") else 0
            cur[side].add(bytes.fromhex(line.strip()))
    return out


def jmsg_record(e, max_hex):
    if "content" in e:
        content = ("json", canon(e["content"]))
    else:
        content = ("hex", e["content_hex"], bool(e.get("content_hex_truncated", False)))
    return (e["offset"], e["header_len"], canon(e["header"]), e["content_type"],
            e["content_encoding"], e["content_length"], content, "warning" in e,
            e.get("content_error"))


def framed_record(m, max_hex):
    c = m["content"]
    if not (isinstance(c, tuple) and c[0] == "json"):
        c = ("hex", c[:max_hex].hex(), len(c) > max_hex)
    return (m["offset"], m["header_len"], m["header"], m["content_type"],
            m["content_encoding"], m["content_length"], c, m["flagged"], m["content_error"])


FIELDS = ("offset", "header_len", "header", "content_type", "content_encoding",
          "content_length", "content", "warning", "content_error")


def in_order_frames(segs):
    """[(frame, upto)]: after each frame, the offset up to which the
    direction's bytes are all there (tshark's segments, in capture order;
    one out of order waits for the hole before it)."""
    upto, held, out = 0, [], []
    for frame, lo, hi in segs:
        held.append((lo, hi))
        moved = True
        while moved:
            moved = False
            for r in list(held):
                if r[0] <= upto:
                    upto = max(upto, r[1])
                    held.remove(r)
                    moved = True
        out.append((frame, upto))
    return out


def frame_when(steps, off):
    """The first frame after which every byte before off is there."""
    return next((f for f, upto in steps if upto >= off), None)


def check_frames(where, jm, steps, hole, errs):
    """jmsg's frame/frame_last of the messages before the first hole;
    returns how many were checked."""
    n = 0
    for e in jm:
        end = e["offset"] + 2 + e["header_len"] + e["content_length"]
        if hole is not None and end > hole:
            continue
        n += 1
        want = (frame_when(steps, e["offset"] + 1), frame_when(steps, end))
        got = (e.get("frame"), e.get("frame_last"))
        if got != want:
            errs.append(f"{where}: message at {e['offset']}: frame/frame_last {got}, "
                        f"tshark's segments say {want}")
    return n


def differences(where, tshark_only, jmsg_only):
    """What differs, message by message (paired by offset)."""
    out = []
    t = {r[0]: r for r in tshark_only}
    j = {r[0]: r for r in jmsg_only}
    for off in sorted(set(t) | set(j)):
        if off not in j:
            out.append(f"{where}: message at {off} only in tshark's bytes: {short(t[off])}")
        elif off not in t:
            out.append(f"{where}: message at {off} only in jmsg's output: {short(j[off])}")
        else:
            for name, a, b in zip(FIELDS, t[off], j[off]):
                if a != b and name == "content" and a[0] == b[0] == "hex":
                    i = next((i for i in range(0, min(len(a[1]), len(b[1])), 2)
                              if a[1][i:i + 2] != b[1][i:i + 2]), min(len(a[1]), len(b[1])))
                    out.append(f"{where}: message at {off}: content: tshark {len(a[1]) // 2} bytes "
                               f"(cut: {a[2]}), jmsg {len(b[1]) // 2} (cut: {b[2]}), first "
                               f"difference at content byte {i // 2}")
                elif a != b:
                    out.append(f"{where}: message at {off}: {name}: tshark {short(a, 150)}, "
                               f"jmsg {short(b, 150)}")
    return out[:6]


def inside(off, lo, hi, end):
    """off is in the break [lo, hi): hi is where a valid message starts,
    unless it is the end of the data, where a stream can end short."""
    return lo <= off < hi or off == hi == end


def short(x, n=300):
    s = str(x)
    return s if len(s) <= n else s[:n] + "..."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("clean", "prefix"), required=True)
    ap.add_argument("--messages", required=True)
    ap.add_argument("--port", type=int, action="append", default=[])
    ap.add_argument("--max-hex", type=int, default=1024)
    ap.add_argument("--max-content", type=int)
    ap.add_argument("--spec", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "..", "..", "spec", "jmsg.json"))
    ap.add_argument("fields")
    ap.add_argument("follow")
    ap.add_argument("jsonl")
    a = ap.parse_args()
    global JSON_ENCODINGS, CODEC_ERRORS
    spec = json.load(open(a.spec, encoding="utf-8"))
    CODEC_ERRORS = {e["id"] for e in spec["errors"]}
    JSON_ENCODINGS = tuple(x.lower() for x in spec["content"]["cases"]["text/json"]["encodings"])
    if a.max_content is None:
        a.max_content = spec["limits"]["default_max_content_len"]
    if sorted(spec["header"]["required"]) != sorted(REQUIRED):
        print(f"    the spec's required header fields {spec['header']['required']} are not "
              f"the ones checked here {list(REQUIRED)}")
        return 1
    ports = set(a.port or [65432])
    errs = []

    fields = read_fields(a.fields, ports)
    follow = read_follow(a.follow)
    classify(fields, follow, ports)

    events = [json.loads(l, object_pairs_hook=Pairs) for l in open(a.jsonl, encoding="utf-8")]
    summary = events[-1] if events and events[-1]["event"] == "summary" else None
    if summary is None:
        errs.append("jmsg printed no summary")
    jstreams = {}
    for e in events:
        if e["event"] == "stream" and e["phase"] == "begin":
            jstreams.setdefault((e["client"], e["server"]), []).append(e["stream"])

    # tshark streams, keyed as jmsg keys them: (client, server, n-th).
    tkeys = {}
    for sid in sorted(follow):
        f = follow[sid]
        info = fields.get(sid)
        if info is None or info["client"] is None or info["client"] not in f["nodes"]:
            errs.append(f"tshark stream {sid}: cannot tell its client ({f['nodes']})")
            continue
        cside = f["nodes"].index(info["client"])
        server = f["nodes"][1 - cside]
        key = (info["client"], server)
        tkeys.setdefault(key, []).append((sid, cside))
    smap = {}   # jmsg stream id -> (tshark sid, client side)
    undecoded = undecoded_bytes = 0   # tshark streams with data jmsg must not decode
    for key in set(tkeys) | set(jstreams):
        t, j = tkeys.get(key, []), jstreams.get(key, [])
        for i, jid in enumerate(j):
            if i < len(t):
                smap[jid] = t[i]
            else:
                errs.append(f"jmsg stream {jid} {key} has no tshark stream")
        for sid, cside in t[len(j):]:
            f = follow[sid]
            if (f[0].end or f[1].end) and fields[sid]["jmsg"]:
                errs.append(f"tshark stream {sid} {key} carries data but jmsg has no stream")
            elif f[0].end or f[1].end:
                undecoded += 1
                undecoded_bytes += f[0].end + f[1].end
        for jid in j[:len(t)]:
            if not fields[smap[jid][0]]["jmsg"]:
                errs.append(f"jmsg stream {jid} {key}: decoded, but it is on no --port port "
                            f"and neither direction starts with a message")

    # Frame every direction; collect what jmsg says about it.
    before = after = 0
    nbreaks = nframes = 0
    jmsg_problems = sum(e["event"] == "error" for e in events)
    for jid, (sid, cside) in sorted(smap.items()):
        info, f = fields[sid], follow[sid]
        for dname, side in (("request", cside), ("response", 1 - cside)):
            d = f[side]
            node = f["nodes"][side]
            if node in info["cuts"]:
                off, n = info["cuts"][node]
                d.cut_at = off
                d.gaps = [g for g in d.gaps if g[0] < off] + [(off, n)]
            msgs, breaks = frame(d, info["midstream"], a.max_content)
            end = d.end if d.cut_at is None else d.cut_at
            nbreaks += len(breaks)
            first_break = breaks[0][0] if breaks else None
            # A text/json message in another encoding is framed, but jmsg
            # must say so within it.
            warned = [(m["offset"], m["offset"] + 2 + m["header_len"] + m["content_length"],
                       ["content_encoding_unsupported"]) for m in msgs if m["flagged"]]
            where = f"stream {jid} {dname}"
            mine = [e for e in events if e.get("stream") == jid and e.get("dir") == dname]
            jm = [e for e in mine if e["event"] == "message"]
            je = [e for e in mine if e["event"] == "error"]
            segs = [(fr, lo, hi) for src, fr, lo, hi in info["segs"] if src == node]
            hole = min([g[0] for g in d.gaps] + ([d.cut_at] if d.cut_at is not None else []),
                       default=None)
            nframes += check_frames(where, jm, in_order_frames(segs), hole, errs)
            limit = d.cut_at if d.cut_at is not None else None
            got = {jmsg_record(e, a.max_hex) for e in jm if limit is None or e["offset"] < limit}
            want = {framed_record(m, a.max_hex) for m in msgs}
            if len(got) != len([e for e in jm if limit is None or e["offset"] < limit]):
                errs.append(f"{where}: jmsg reports a message twice")
            if got != want:
                errs += differences(where, want - got, got - want)
            for m in msgs:
                if first_break is None or m["offset"] < first_break:
                    before += 1
                else:
                    after += 1
            for lo, hi, kinds in breaks + warned:
                if kinds == ["midstream"]:
                    # One midstream event per stream, in either direction.
                    ok = any(e["event"] == "error" and e.get("stream") == jid and
                             e["kind"] == "midstream" for e in events)
                else:
                    ok = any(inside(e["offset"], lo, hi, end) and e["kind"] in kinds for e in je)
                if not ok:
                    errs.append(f"{where}: the framing breaks at {lo} ({' or '.join(kinds)}) "
                                f"until {hi}; jmsg reports no such problem there")
            for e in je:
                if e["kind"] in CODEC_ERRORS and not any(inside(e["offset"], lo, hi, end)
                                                         for lo, hi, _ in breaks + warned):
                    errs.append(f"{where}: jmsg reports {e['kind']} at {e['offset']}, "
                                "where the bytes frame cleanly")
            jgaps = sorted((e["offset"], e.get("bytes")) for e in je
                           if e["kind"] in ("gap", "truncated_capture"))
            if jgaps != sorted(d.gaps):
                errs.append(f"{where}: missing bytes: tshark {sorted(d.gaps)}, jmsg {jgaps}")
    # Community ID, and frames of every event, stream by stream.
    for jid, (sid, cside) in sorted(smap.items()):
        info = fields[sid]
        if len(info["cid"]) != 1:
            errs.append(f"tshark stream {sid}: communityid {sorted(info['cid'])}")
            continue
        cid = next(iter(info["cid"]))
        for e in events:
            if e.get("stream") != jid or e["event"] not in ("stream", "message", "error", "stall"):
                continue
            if e.get("community_id") != cid:
                errs.append(f"stream {jid} {e['event']}: community_id {e.get('community_id')}, "
                            f"tshark's {cid}")
                break
            if e["event"] in ("message", "error", "stall") and e.get("frame") is not None:
                f0, f1 = e["frame"], e.get("frame_last")
                if f0 not in info["frames"] or f1 not in info["frames"] or f0 > f1:
                    errs.append(f"stream {jid} {e['event']}: frames {f0}-{f1} are not "
                                f"frames of tshark's stream {sid}")
            elif e["event"] in ("message", "error"):
                errs.append(f"stream {jid} {e['event']}: no frame")
    # Error events of streams tshark does not know.
    for e in events:
        if e["event"] == "error" and e.get("stream") not in smap:
            errs.append(f"jmsg error in stream {e.get('stream')} that tshark does not follow: {short(dict(e))}")

    n = before + after
    if summary is not None:
        if summary["problems"] != jmsg_problems:
            errs.append(f"jmsg's summary counts {summary['problems']} problems, "
                        f"its error events {jmsg_problems}")
        if a.mode == "clean" and (summary["problems"] or jmsg_problems or nbreaks):
            errs.append(f"clean capture: jmsg reports {summary['problems']} problems, "
                        f"the framing here {nbreaks} breaks")
        if a.mode == "prefix" and not (jmsg_problems or nbreaks):
            errs.append("listed as faulty, but neither jmsg nor the framing here finds a problem")
        # TCP that is not the protocol: counted in the summary's note, with
        # every payload byte tshark follows.
        got = (summary.get("undecoded_streams", 0), summary.get("undecoded_bytes", 0))
        if got != (undecoded, undecoded_bytes):
            errs.append(f"streams that are not the protocol: tshark {undecoded} "
                        f"({undecoded_bytes} bytes), jmsg's summary {got[0]} ({got[1]} bytes)")
    if a.messages == "+":
        if n == 0:
            errs.append("no message compared")
    elif n != int(a.messages):
        errs.append(f"{n} messages compared, {a.messages} expected")

    detail = f"{n} messages compared, all agree, frames of {nframes}"
    if undecoded:
        detail += f"; {undecoded} TCP streams ({undecoded_bytes} bytes) not the protocol, as jmsg says"
    if a.mode == "prefix":
        detail += (f" ({before} before the first break, {after} after resynchronising);"
                   f" framing breaks: {nbreaks}")
    if errs:
        for e in errs[:12]:
            print("   ", e)
        print(f"    ({n} messages framed from tshark's bytes)")
        return 1
    print(detail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
