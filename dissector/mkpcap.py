#!/usr/bin/python3
"""Writes the dissector's own small captures (stdlib only, deterministic).

    mkpcap.py OUTDIR            all scenarios below: NAME.pcap, and
                                NAME.expect.jsonl, what a decoder must report
    mkpcap.py --bench N OUT     N request/response exchanges, for bench/

The message bytes follow the tutorial's programs (key order byteorder,
content-type, content-encoding, content-length; ", " and ": " separators;
non-ASCII raw), built here rather than by the codec so a test never shares a
bug with the code it checks.  Each scenario is a list of connections; each
connection a list of (direction, [segment bytes...], [expected...]) sends,
so a test can place a split anywhere: inside the protoheader, inside the
header, several messages in one segment.  The expectations are records in
the form dissector/tshark_msgs.py prints, worked out here from the bytes with
Python's own json module, never from a decoder under test.
"""
import json
import struct
import sys

CLIENT = "10.0.0.1"
SERVER = "10.0.0.2"


def header(ctype, enc, length, extra=None):
    h = {"byteorder": "little", "content-type": ctype, "content-encoding": enc,
         "content-length": length}
    if extra:
        h.update(extra)
    return json.dumps(h, ensure_ascii=False).encode()


def msg(content, ctype="text/json", enc="utf-8", extra=None):
    if isinstance(content, (dict, list)):
        content = json.dumps(content, ensure_ascii=False).encode()
    h = header(ctype, enc, len(content), extra)
    return struct.pack(">H", len(h)) + h + content


def raw_msg(hdr_bytes, content=b""):
    return struct.pack(">H", len(hdr_bytes)) + hdr_bytes + content


def search(value, extra=None):
    return msg({"action": "search", "value": value}, extra=extra)


def result(text, extra=None):
    return msg({"result": text}, extra=extra)


def good(m):
    """What a decoder reports for the well-formed message m."""
    hlen = struct.unpack(">H", m[:2])[0]
    h = json.loads(m[2:2 + hlen].decode("utf-8"))
    content = m[2 + hlen:]
    rec = {"kind": "message", "header_len": hlen, "content_type": h["content-type"],
           "content_length": h["content-length"]}
    if h["content-type"] == "text/json" and h["content-encoding"].lower() in ("utf-8", "utf8"):
        rec["content"] = json.loads(content.decode("utf-8"))
    else:
        rec["content_hex"] = content.hex()
    return rec


def err(kind):
    return {"kind": "error", "id": kind}


def split(data, *cuts):
    """data cut at the given offsets into segments."""
    out, last = [], 0
    for c in cuts:
        out.append(data[last:c])
        last = c
    out.append(data[last:])
    return [s for s in out if s]


def ip_csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


class Writer:
    snap = None  # a snapshot length: frames longer are cut to it

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.t = 1_700_000_000.0
        self.expect = []

    def packet(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        self.t += 0.000137
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        total = 20 + len(tcp) + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0,
                         bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
        ip = ip[:10] + struct.pack("!H", ip_csum(ip)) + ip[12:]
        eth = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00"
        frame = eth + ip + tcp + payload
        cap = frame[:self.snap] if self.snap else frame
        sec = int(self.t)
        usec = int(round((self.t - sec) * 1e6))
        self.f.write(struct.pack("<IIII", sec, usec, len(cap), len(frame)) + cap)

    def conversation(self, cport, sport, sends, close=True, handshake=True):
        """sends: [(">" or "<", [segments], [expected records])]; ">" is
        client to server.  Without expectations each segment list is taken
        to be whole well-formed messages laid end to end."""
        cseq, sseq = 1000, 5000
        SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
        if handshake:
            self.packet(CLIENT, SERVER, cport, sport, cseq, 0, SYN)
            self.packet(SERVER, CLIENT, sport, cport, sseq, cseq + 1, SYN | ACK)
            self.packet(CLIENT, SERVER, cport, sport, cseq + 1, sseq + 1, ACK)
        cseq += 1
        sseq += 1
        for send in sends:
            d, segs = send[0], send[1]
            exp = send[2] if len(send) > 2 else messages_in(b"".join(segs))
            for e in exp:
                self.expect.append(dict({"client": "%s:%d" % (CLIENT, cport),
                                         "server": "%s:%d" % (SERVER, sport),
                                         "dir": "request" if d == ">" else "response"}, **e))
            for s in segs:
                if d == ">":
                    self.packet(CLIENT, SERVER, cport, sport, cseq, sseq, PSH | ACK, s)
                    cseq += len(s)
                    self.packet(SERVER, CLIENT, sport, cport, sseq, cseq, ACK)
                else:
                    self.packet(SERVER, CLIENT, sport, cport, sseq, cseq, PSH | ACK, s)
                    sseq += len(s)
                    self.packet(CLIENT, SERVER, cport, sport, cseq, sseq, ACK)
        if close:
            self.packet(SERVER, CLIENT, sport, cport, sseq, cseq, FIN | ACK)
            self.packet(CLIENT, SERVER, cport, sport, cseq, sseq + 1, FIN | ACK)
            self.packet(SERVER, CLIENT, sport, cport, sseq + 1, cseq + 1, ACK)

    def close(self):
        self.f.close()


def messages_in(data):
    out = []
    while data:
        hlen = struct.unpack(">H", data[:2])[0]
        clen = json.loads(data[2:2 + hlen].decode("utf-8"))["content-length"]
        out.append(good(data[:2 + hlen + clen]))
        data = data[2 + hlen + clen:]
    return out


PORT = 65432
KA = {"connection": "keep-alive"}


def keepalive(w):
    """One keep-alive connection: a split inside the protoheader, a split
    inside the header, two messages in one segment, an empty content."""
    r1, r2, r3 = search("morpheus", KA), search("ring", KA), search("\U0001F436")
    a1 = result("Follow the white rabbit. \U0001F430")
    a2 = result("In the caves beneath the Misty Mountains. \U0001F48D")
    a3 = result("\U0001F43E Playing ball! \U0001F3D0")
    w.conversation(40001, PORT, [
        (">", split(r1, 1)),
        ("<", split(a1, 40, 90)),
        (">", [r2 + r3[:1], r3[1:]]),
        ("<", [a2 + a3]),
        (">", [msg(b"", ctype="binary/empty", enc="binary")]),
        ("<", split(msg(b"First 10 bytes of request: ", ctype="binary/custom-server-binary-type",
                        enc="binary"), 2, 3)),
    ])
    bin_req = msg("binary\u263a".encode(), ctype="binary/custom-client-binary-type", enc="binary",
                  extra={"x-trace": [1, {"a": None}]})
    w.conversation(40002, PORT, [(">", [bin_req]), ("<", [result("No match for 'x'.")])])


def malformed(w):
    """One connection per spec error kind, each followed by a good request
    so a test sees whether framing survived."""
    ok = search("after")
    cases = [
        ("header_empty", b"\x00\x00" + b'{"junk": 1}'),
        ("header_not_utf8", raw_msg(b'{"byteorder": "l\xfftle", "content-type": "text/json", '
                                    b'"content-encoding": "utf-8", "content-length": 2}', b"{}")),
        ("header_not_json", raw_msg(b'{"byteorder": "little", "content-type": "text/json",', b"{}")),
        ("header_not_object", raw_msg(b'["byteorder", "little"]', b"{}")),
        ("header_missing_field", raw_msg(b'{"content-type": "text/json", "content-encoding": '
                                         b'"utf-8", "content-length": 2}', b"{}")),
        ("header_field_type", raw_msg(b'{"byteorder": "little", "content-type": 7, '
                                      b'"content-encoding": "utf-8", "content-length": 2}', b"{}")),
        ("header_field_value", raw_msg(b'{"byteorder": "middle", "content-type": "text/json", '
                                       b'"content-encoding": "utf-8", "content-length": 2}', b"{}")),
        ("content_length_negative", raw_msg(b'{"byteorder": "little", "content-type": "text/json", '
                                            b'"content-encoding": "utf-8", "content-length": -1}', b"{}")),
        ("content_not_utf8", msg(b'{"a": "\xff"}')),
        ("content_not_json", msg(b'{"a": ')),
        ("content_encoding_unsupported", msg(b'{"a": 1}', enc="utf-16")),
    ]
    # What follows the bad message depends on the spec's recovery: after
    # lost framing decoding resumes at the next plausible message start
    # (a resync note); the others go on directly.
    lost = {"header_empty", "header_not_utf8", "header_not_json", "header_not_object",
            "content_length_negative"}
    after = messages_in(ok)
    port = 41000
    for kind, data in cases:
        port += 1
        exp = [err(kind)]
        if kind == "content_encoding_unsupported":
            exp.append(good(data))     # a warning: the message stands, as bytes
        w.conversation(port, PORT, [(">", [data], exp),
                                    (">", [ok], [err("resync")] + after if kind in lost else after)])
    # Oversized: the content is skipped, the stream ends inside it.
    big = raw_msg(b'{"byteorder": "little", "content-type": "binary/x", '
                  b'"content-encoding": "binary", "content-length": 100000000}', b"0123456789")
    w.conversation(41100, PORT, [(">", [big], [err("content_length_too_large"), err("truncated")])])
    # Truncated: the stream ends inside a message.
    w.conversation(41101, PORT, [(">", [ok[:40]], [err("truncated")])])


def altport(w):
    """A normal exchange on a port nobody registered: the heuristic's job.
    On the second connection the server sends first: the handshake, not
    the order of messages, says which side is the client."""
    w.conversation(42001, 5555, [(">", [search("morpheus")]),
                                 ("<", [result("Follow the white rabbit. \U0001F430")])])
    w.conversation(42002, 5556, [("<", [result("Welcome.")]), (">", [search("ring")])])


def http(w):
    """Ordinary HTTP, on its own port and on an unusual one, with a JSON body
    that has a length-like prefix nowhere: no heuristic may claim it."""
    req = b"GET /search?q=morpheus HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n"
    body = b'{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 0}'
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body
    w.conversation(43001, 80, [(">", [req], []), ("<", [resp], [])])
    w.conversation(43002, 8081, [(">", [req], []), ("<", [resp], [])])


SCENARIOS = {"keepalive": keepalive, "malformed": malformed, "altport": altport, "http": http}


def bench(n, path):
    w = Writer(path)
    req = search("morpheus")
    ans = result("Follow the white rabbit. \U0001F430")
    for i in range(n):
        w.conversation(20000 + i % 40000, PORT, [(">", [req]), ("<", [ans])])
    w.close()


def main(argv):
    if len(argv) == 4 and argv[1] == "--bench":
        bench(int(argv[2]), argv[3])
        return 0
    if len(argv) != 2:
        sys.stderr.write("usage: mkpcap.py OUTDIR | mkpcap.py --bench N OUT.pcap\n")
        return 2
    for name, fn in SCENARIOS.items():
        w = Writer("%s/%s.pcap" % (argv[1], name))
        fn(w)
        w.close()
        with open("%s/%s.expect.jsonl" % (argv[1], name), "w", encoding="utf-8") as f:
            for e in w.expect:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
