#!/usr/bin/python3
"""Turn capture files into fuzz_packets inputs (fuzz/fuzz_packets.c says
the format): one input per file, written to OUTDIR under the file's name.

    mkpackets.py OUTDIR FILE.pcap|FILE.pcapng...

pcap (either byte order, micro- or nanoseconds) and pcapng (the first
interface's link type; enhanced and simple packet blocks).  Files of other
kinds are skipped with a line on stderr.  Times become millisecond steps
(at most 0xfffe each), frames longer than 65535 bytes are cut.
"""
import os
import struct
import sys

LINKS = [1, 0, 108, 113, 276, 12, 101, 228, 229, 147]


def pcap_packets(b):
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None
    nsec = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", b[20:24])[0] & 0xffff
    at = 24
    while at + 16 <= len(b):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", b[at:at + 16])
        at += 16
        yield link, sec * 1000 + (frac // 1000000 if nsec else frac // 1000), b[at:at + incl]
        at += incl


def pcapng_packets(b):
    if b[:4] != b"\x0a\x0d\x0d\x0a":
        return None
    e = "<" if b[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    links, at = [], 0
    while at + 12 <= len(b):
        btype, blen = struct.unpack(e + "II", b[at:at + 8])
        if blen < 12:
            break
        body = b[at + 8:at + blen - 4]
        if btype == 1:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            ifc, hi, lo, incl = struct.unpack(e + "IIII", body[:16])
            ms = ((hi << 32) | lo) // 1000  # the default resolution, microseconds
            yield (links[ifc] if ifc < len(links) else 1), ms, body[20:20 + incl]
        elif btype == 3 and links:
            yield links[0], 0, body[4:]
        at += blen


def convert(b):
    pk = pcap_packets(b)
    if pk is None:
        pk = pcapng_packets(b)
    if pk is None:
        return None
    out, last = bytearray([0]), None
    for link, ms, frame in pk:
        step = 0 if last is None else max(0, min(ms - last, 0xfffe))
        last = ms
        frame = frame[:65535]
        sel = LINKS.index(link) if link in LINKS else len(LINKS) - 1
        out += struct.pack(">BHH", sel, step, len(frame)) + frame
    return bytes(out)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            data = convert(f.read())
        if data is None:
            print("mkpackets: %s: not a pcap or pcapng file, skipped" % path, file=sys.stderr)
            continue
        with open(os.path.join(outdir, os.path.basename(path)), "wb") as f:
            f.write(data)


main()
