#!/usr/bin/python3
"""A framed conversation over real loopback sockets, for e2e 68.

    framing_talk.py FRAMING PORTFILE GOFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE), waits (10 s at
most) until GOFILE exists, then a client connects and talks with an echo
server, both in this process, in FRAMING (raw, ascii-length, fixed,
delimited or close, as spec/framings/ and jmsg's framing.h define them).
Messages are cut on purpose: a length prefix and its payload in separate
writes, several delimited messages in one write, a fixed-size payload of
exactly 30 bytes, UTF-8 payloads.  Prints what was sent as JSON lines,
{"dir": "request"|"response", "payload": TEXT}, in order; exits 0 when every
message came back unchanged.
"""
import json
import os
import socket
import sys
import threading
import time

MSGS = ["Hello, world", "h\u00e9llo \u263a", "exactly thirty bytes, no pad!!"]


def frame(framing, p):
    b = p.encode("utf-8")
    if framing == "ascii-length":
        return [b"%05d" % len(b), b]          # prefix and payload apart
    if framing == "fixed":
        return [b + b"#" * (30 - len(b))]
    if framing == "delimited":
        return [b + b"#*#"]
    return [b]


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        c = s.recv(n - len(out))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(out), n))
        out += c
    return out


def read_msg(s, framing, buf):
    """One message from s: (payload, rest of buf)."""
    if framing == "ascii-length":
        n = int(recv_exact(s, 5))
        return recv_exact(s, n), buf
    if framing == "fixed":
        return recv_exact(s, 30).rstrip(b"#"), buf
    if framing == "delimited":
        while b"#*#" not in buf:
            c = s.recv(4096)
            if not c:
                raise EOFError("closed inside a message")
            buf += c
        i = buf.index(b"#*#")
        return buf[:i], buf[i + 3:]
    if framing == "close":
        out = b""
        while True:
            c = s.recv(4096)
            if not c:
                return out, buf
            out += c
    return s.recv(4096), buf                  # raw: one read


def send(s, parts):
    for i, p in enumerate(parts):
        if i:
            time.sleep(0.05)                  # its own segment
        s.sendall(p)


def serve(ls, framing, errors):
    try:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        n = 1 if framing == "close" else len(MSGS)
        for _ in range(n):
            p, buf = read_msg(c, framing, buf)
            send(c, frame(framing, p.decode("utf-8")))
        c.close()
    except Exception as e:                    # reported by the client's check
        errors.append("server: %s" % e)


def main():
    framing, portfile, gofile = sys.argv[1:4]
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    for _ in range(200):
        if os.path.exists(gofile):
            break
        time.sleep(0.05)
    else:
        sys.exit("no go file")
    errors = []
    t = threading.Thread(target=serve, args=(ls, framing, errors))
    t.start()
    s = socket.create_connection(ls.getsockname(), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msgs = MSGS[:1] if framing == "close" else MSGS
    buf, got = b"", []
    if framing == "delimited":                # all in one write
        s.sendall(b"".join(frame(framing, m)[0] for m in msgs))
    for m in msgs:
        if framing != "delimited":
            send(s, frame(framing, m))
        if framing == "close":
            s.shutdown(socket.SHUT_WR)
        p, buf = read_msg(s, framing, buf)
        got.append(p.decode("utf-8"))
    s.close()
    t.join(10)
    for m in msgs:
        print(json.dumps({"dir": "request", "payload": m}))
    for m in got:
        print(json.dumps({"dir": "response", "payload": m}))
    if got != msgs or errors:
        sys.exit("echo differs: sent %r, got %r %s" % (msgs, got, errors))


if __name__ == "__main__":
    main()
