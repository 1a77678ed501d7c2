#!/usr/bin/python3
"""Compare a generated framing dissector (build/jmsg-NAME.lua) with the C
framing decoder on the same capture.

    framing_vs_tshark.py --lua LUA --framing NAME --decoder FRAMING_DECODE
                         [--port N] [--register decode-as|pref] [--two-pass]
                         [--expect-clean] PCAP

The capture's TCP stream 0 is read by tshark (-z follow,tcp,raw): each
direction's bytes go to the C decoder (tests/tools/framing_decode), fed all
at once and one byte at a time, which must agree.  tshark then decodes the
capture with the dissector, registered on the port by Decode As (-d) or by
its preference (-o PROTO.tcp_port:N), in one pass or two (-2), and shows length and payload of every
message; per direction these must be the C decoder's messages, in order, and
its error ids must be the C decoder's, except the truncated_* errors that only
the end of the direction reveals (the dissector does not know where a
direction ends; --expect-clean makes the C decoder's clean end a condition).  Prints one line per direction and exits 0 when all agree,
1 on a difference, 2 on a tool failure.
"""
import argparse
import os
import subprocess
import sys


def fail(msg, code=1):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(code)


def tshark(args, env):
    r = subprocess.run(["tshark"] + args, capture_output=True, env=env, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    out = r.stdout.decode("utf-8", "replace")
    if "Lua Error" in err or "Lua Error" in out or "Lua: Error" in err:
        fail("Lua error from tshark %s:\n%s%s" % (" ".join(args), err, out), 2)
    if r.returncode != 0:
        fail("tshark %s exited %d: %s" % (" ".join(args), r.returncode, err.strip()), 2)
    return out


def directions(pcap, port, env):
    """The client's and the server's bytes of stream 0."""
    out = tshark(["-r", pcap, "-q", "-z", "follow,tcp,raw,0"], env)
    lines = out.splitlines()
    node0 = next((l for l in lines if l.startswith("Node 0:")), "")
    start = next(i for i, l in enumerate(lines) if l.startswith("Node 1:")) + 1
    c, s = [], []
    for l in lines[start:]:
        if l.startswith("====="):
            break
        (s if l.startswith("\t") else c).append(l.strip())
    c, s = bytes.fromhex("".join(c)), bytes.fromhex("".join(s))
    if node0.endswith(":%d" % port):  # the server sent the first packet
        c, s = s, c
    return {"c": c, "s": s}


def c_decode(decoder, framing, data, step=None):
    args = [decoder] + (["-s", str(step)] if step else []) + [framing]
    r = subprocess.run(args, input=data, capture_output=True, timeout=60)
    if r.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(args), r.returncode, r.stderr.decode().strip()), 2)
    return r.stdout.decode().splitlines()


def c_events(lines):
    msgs, errs = [], []
    for l in lines:
        w = l.split()
        if w[0] == "message":
            kv = dict(x.split("=", 1) for x in w[1:])
            msgs.append((int(kv["length"]), kv["payload"]))
        elif w[0] == "error" and not w[1].startswith("truncated_"):
            errs.append(w[1])
    return msgs, errs


def dissector_events(pcap, lua, proto, port, register, two_pass, env):
    reg = (["-d", "tcp.port==%d,%s" % (port, proto)] if register == "decode-as"
           else ["-o", "%s.tcp_port:%d" % (proto, port)])
    out = tshark(["-X", "lua_script:" + lua, "-r", pcap] + reg + (["-2"] if two_pass else []) +
                 ["-T", "fields", "-E", "aggregator=;", "-e", "tcp.srcport",
                  "-e", proto + ".length", "-e", proto + ".payload", "-e", proto + ".error"], env)
    got = {"c": ([], []), "s": ([], [])}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 4:
            continue
        d = "s" if f[0] == str(port) else "c"
        lens = [x for x in f[1].split(";") if x]
        pays = f[2].split(";") if f[2] else []
        if len(pays) != len(lens):
            fail("frame with %d lengths and %d payloads: %r" % (len(lens), len(pays), line), 2)
        for n, p in zip(lens, pays):
            got[d][0].append((int(n), "" if p == "<MISSING>" else p))
        got[d][1].extend(x for x in f[3].split(";") if x)
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lua", required=True)
    ap.add_argument("--framing", required=True)
    ap.add_argument("--decoder", required=True)
    ap.add_argument("--port", type=int, default=7342)
    ap.add_argument("--register", choices=["decode-as", "pref"], default="decode-as")
    ap.add_argument("--two-pass", action="store_true", help="run tshark -2")
    ap.add_argument("--expect-clean", action="store_true",
                    help="the C decoder must end both directions cleanly (end clean=1)")
    ap.add_argument("pcap")
    a = ap.parse_args()
    proto = "jmsg_" + os.path.basename(a.lua)[len("jmsg-"):-len(".lua")].replace("-", "_")
    env = dict(os.environ)
    bytes_of = directions(a.pcap, a.port, env)
    got = dissector_events(a.pcap, a.lua, proto, a.port, a.register, a.two_pass, env)
    rc = 0
    for d in ("c", "s"):
        whole = c_decode(a.decoder, a.framing, bytes_of[d])
        if c_decode(a.decoder, a.framing, bytes_of[d], 1) != whole:
            fail("%s: %s> the C decoder gives other events fed one byte at a time" % (a.pcap, d))
        if a.expect_clean and whole[-1:] != ["end clean=1"]:
            fail("%s: %s> the C decoder does not end cleanly: %s" % (a.pcap, d, whole))
        want = c_events(whole)
        if got[d] != want:
            print("FAIL: %s: %s> the dissector (%s%s) and the C decoder differ:\n  dissector: %r\n"
                  "  decoder:   %r" % (a.pcap, d, a.register, ", -2" if a.two_pass else "",
                                      got[d], want), file=sys.stderr)
            rc = 1
        else:
            print("ok: %s: %s> %d messages, errors %s, the same in %s and the C decoder"
                  % (os.path.basename(a.pcap), d, len(want[0]), want[1] or "none", proto))
    sys.exit(rc)


if __name__ == "__main__":
    main()
