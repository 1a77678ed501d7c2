#!/usr/bin/python3
"""The generated framing dissector against jmsg analyze --framing, on one capture.

    framing_an_vs_tshark.py --jmsg JMSG --lua LUA --framing NAME [--port P]
                            [--two-pass] PCAP

tshark with LUA (registered by Decode As on port P, default 7342) and
`JMSG analyze --json --framing NAME --port P` read PCAP.  Per direction of
every TCP connection, both must show the same messages in the same order,
each with the same length on the wire, the same payload bytes (the
analyzer's content or content_hex against the dissector's payload field)
and the same frame (the analyzer's frame_last, where the last byte came:
the frame Wireshark shows a reassembled message in), and the same framing
error ids, except where they must differ:
  truncated_*   only the end of a direction reveals them, and a dissector
                does not know where a direction ends
  gap, resync, reset, midstream, memcap...
                the analyzer's capture problems, not the framing's
Prints one summary line; exits 0 when they agree, 1 when they differ, 2 when
a tool failed.
"""
import argparse
import json
import os
import subprocess
import sys

FRAMING_ERRORS = {"length_not_digit", "length_over_limit", "delimiter_not_found",
                  "message_over_limit", "no_resync", "framing_out_of_memory"}


def fail(msg, code=1):
    print(msg)
    sys.exit(code)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, timeout=300)
    out = r.stdout.decode("utf-8", "replace")
    err = "\n".join(l for l in r.stderr.decode("utf-8", "replace").splitlines()
                    if "Running as user" not in l)
    if r.returncode != 0 or "Lua" in err:
        fail("%s exited %d: %s" % (" ".join(cmd[:3]), r.returncode, err.strip()), 2)
    return out


def key(conn, direction):
    return "%s %s" % (conn, direction)


def analyzer(args):
    out = run([args.jmsg, "analyze", "-r", args.pcap, "--json", "--framing", args.framing,
               "--port", str(args.port)])
    msgs, errs = {}, {}
    for line in out.splitlines():
        e = json.loads(line)
        if e["event"] not in ("message", "error"):
            continue
        c = e["client"].rsplit(":", 1)[1]
        d = "c" if e["dir"] == "request" else "s"
        k = key(c, d)
        if e["event"] == "message":
            pay = e["content"].encode("utf-8").hex() if "content" in e else e["content_hex"]
            if e.get("content_hex_truncated"):
                fail("%s: content_hex truncated (raise --max-hex)" % args.pcap, 2)
            msgs.setdefault(k, []).append((e["length"], pay, e["frame_last"]))
        elif e["kind"] in FRAMING_ERRORS:
            errs.setdefault(k, []).append(e["kind"])
    return msgs, errs


def dissector(args):
    proto = "jmsg_" + args.framing.replace("-", "_")
    cmd = ["tshark", "-X", "lua_script:" + args.lua, "-r", args.pcap,
           "-o", "tcp.reassemble_out_of_order:TRUE",
           "-d", "tcp.port==%d,%s" % (args.port, proto)]
    if args.two_pass:
        cmd.append("-2")
    cmd += ["-T", "fields", "-E", "aggregator=;", "-e", "frame.number", "-e", "tcp.srcport",
            "-e", "tcp.dstport", "-e", proto + ".length", "-e", proto + ".payload",
            "-e", proto + ".error"]
    msgs, errs = {}, {}
    for line in run(cmd).splitlines():
        f = line.split("\t")
        if len(f) < 6:
            continue
        frame, sport, dport = int(f[0]), f[1], f[2]
        d = "s" if sport == str(args.port) else "c"
        k = key(dport if d == "s" else sport, d)
        lens = [x for x in f[3].split(";") if x]
        pays = f[4].split(";") if f[4] else []
        if len(pays) != len(lens):
            fail("frame %d: %d lengths and %d payloads" % (frame, len(lens), len(pays)), 2)
        for n, p in zip(lens, pays):
            msgs.setdefault(k, []).append((int(n), "" if p == "<MISSING>" else p, frame))
        for x in f[5].split(";"):
            if x and not x.startswith("truncated_"):
                errs.setdefault(k, []).append(x)
    return msgs, errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jmsg", required=True)
    ap.add_argument("--lua", required=True)
    ap.add_argument("--framing", required=True)
    ap.add_argument("--port", type=int, default=7342)
    ap.add_argument("--two-pass", action="store_true")
    ap.add_argument("pcap")
    args = ap.parse_args()
    am, ae = analyzer(args)
    dm, de = dissector(args)
    bad = []
    for k in sorted(set(am) | set(dm)):
        a, d = am.get(k, []), dm.get(k, [])
        if a != d:
            bad.append("%s messages (length, payload hex, frame):\n  analyzer  %r\n  dissector %r"
                       % (k, a, d))
    for k in sorted(set(ae) | set(de)):
        if ae.get(k, []) != de.get(k, []):
            bad.append("%s errors: analyzer %r, dissector %r" % (k, ae.get(k), de.get(k)))
    name = os.path.basename(args.pcap)
    if bad:
        fail("%s (%s): the dissector and the analyzer differ:\n%s" % (name, args.framing,
                                                                     "\n".join(bad)))
    n = sum(len(v) for v in am.values())
    if not n:
        fail("%s: no messages at all" % name)
    print("%s: %d messages, errors %r agree%s" % (name, n, sorted(sum(ae.values(), [])),
                                                 " (two-pass)" if args.two_pass else ""))


if __name__ == "__main__":
    main()
