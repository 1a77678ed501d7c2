#!/usr/bin/python3
"""Writes captures of TCP edge cases for the differential test
(tests/e2e/31-dissector-vs-analyzer.sh), where `jmsg analyze` is the
reference; they have no expectations of their own.

    mkedge.py OUTDIR

  mid-ack         picked up mid-way with a bare ACK first, then the tail of a
                  message and a whole one: midstream, resync, the message
  mid-sameport    a client port used by an earlier client on another
                  address; the second connection is picked up mid-way
  resync-split    an empty header, then a message split over two segments:
                  the resync is reported on the reassembled message
  reuse-unanswered, reuse-cut, reuse-hunt
                  a port pair used again after a close, the first connection
                  left with an unanswered request, a cut message, lost framing
  snap-cut        the snapshot length cuts a segment that holds a whole message
                  and the start of the next: decoding resumes at the message
                  after them
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkpcap as M  # noqa: E402

SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


class Writer(M.Writer):
    """mkpcap's writer, with a free choice of client address and initial
    sequence numbers."""

    def conn(self, client, cport, sends, base=0, handshake=True, close=True):
        """sends: [(">" or "<", [segments])]; ">" is client to server."""
        c, s, port = client, M.SERVER, M.PORT
        cseq, sseq = 1000 + base, 5000 + base
        if handshake:
            self.packet(c, s, cport, port, cseq, 0, SYN)
            self.packet(s, c, port, cport, sseq, cseq + 1, SYN | ACK)
            self.packet(c, s, cport, port, cseq + 1, sseq + 1, ACK)
        cseq, sseq = cseq + 1, sseq + 1
        for d, segs in sends:
            for seg in segs:
                if d == ">":
                    self.packet(c, s, cport, port, cseq, sseq, PSH | ACK, seg)
                    cseq += len(seg)
                else:
                    self.packet(s, c, port, cport, sseq, cseq, PSH | ACK, seg)
                    sseq += len(seg)
        if close:
            self.packet(s, c, port, cport, sseq, cseq, FIN | ACK)
            self.packet(c, s, cport, port, cseq, sseq + 1, FIN | ACK)
            self.packet(s, c, port, cport, sseq + 1, cseq + 1, ACK)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: mkedge.py OUTDIR\n")
        return 2
    out = argv[1]
    r1, a1 = M.search("morpheus"), M.result("Follow the white rabbit.")
    r2, a2 = M.search("ring"), M.result("In the caves.")
    empty = b"\x00\x00" + b'{"junk": 1}'
    C, C2, S, P = M.CLIENT, "10.0.0.3", M.SERVER, M.PORT

    w = Writer(out + "/mid-ack.pcap")
    w.packet(S, C, P, 40001, 5000, 1000, ACK)
    w.packet(C, S, 40001, P, 1000, 5000, PSH | ACK, r1[60:] + r2)
    w.packet(S, C, P, 40001, 5000, 1000 + len(r1) - 60 + len(r2), PSH | ACK, a2)
    w.close()

    w = Writer(out + "/mid-sameport.pcap")
    w.conn(C, 40002, [(">", [r1]), ("<", [a1])])
    w.conn(C2, 40002, [(">", [r1[60:] + r2]), ("<", [a2])], base=100000, handshake=False)
    w.close()

    w = Writer(out + "/resync-split.pcap")
    w.conn(C, 40004, [(">", [empty + r2[:130], r2[130:]]), ("<", [a2])])
    w.close()

    for name, first in (("reuse-unanswered", r1), ("reuse-cut", r1[:100]), ("reuse-hunt", empty)):
        w = Writer("%s/%s.pcap" % (out, name))
        w.conn(C, 40000, [(">", [first])])
        w.conn(C, 40000, [(">", [r2]), ("<", [a2])], base=100000)
        w.close()

    w = Writer(out + "/snap-cut.pcap")
    cseq, sseq = 1001, 5001
    w.packet(C, S, 40040, P, 1000, 0, SYN)
    w.packet(S, C, P, 40040, 5000, 1001, SYN | ACK)
    w.packet(C, S, 40040, P, 1001, 5001, ACK)
    for seg, snap in ((r1 + r2[:60], 54 + 120), (r2[60:], None), (r1, None), (r2, None)):
        w.snap = snap
        w.packet(C, S, 40040, P, cseq, sseq, PSH | ACK, seg)
        cseq += len(seg)
    w.snap = None
    for seg in (a1, a2):
        w.packet(S, C, P, 40040, sseq, cseq, PSH | ACK, seg)
        sseq += len(seg)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
