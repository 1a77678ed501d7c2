#!/usr/bin/python3
"""Reads `tshark -T json` output of a capture dissected with jmsg.lua and
prints one JSON line per message and per error, in capture order:

  {"client": "ip:port", "server": "ip:port", "dir": "request"|"response",
   "kind": "message", "header_len": N, "content_type": T, "content_length": N,
   "content": <JSON value> | "content_hex": "..."}
  {"client": ..., "server": ..., "dir": ..., "kind": "error", "id": ID}

A message is a complete message the codec would report (no error, or only
the content_encoding_unsupported warning or the resync note); its errors
come before it, as the codec emits them.  Usage: tshark_msgs.py TSHARK.json > MSGS.jsonl
"""
import json
import sys

# Errors after which the message still stands: the codec's warning, and the
# note that decoding resumed at this message.
WARNINGS = {"content_encoding_unsupported", "resync"}


def pairs(items):
    """Keep duplicate keys (tshark repeats "jmsg" for each message)."""
    return items


def get(items, key):
    for k, v in items:
        if k == key:
            return v
    return None


def get_all(items, key):
    return [v for k, v in items if k == key]


def walk(items, key, out):
    """Every value of `key` in the subtree, in document order."""
    for k, v in items:
        if k == key:
            out.append(v)
        if isinstance(v, list) and v and isinstance(v[0], tuple):
            walk(v, key, out)
    return out


def content_value(hexstr, ctype, errors):
    raw = bytes.fromhex(hexstr.replace(":", "")) if hexstr else b""
    if ctype == "text/json" and "content_encoding_unsupported" not in errors:
        try:
            return {"content": json.loads(raw.decode("utf-8"))}
        except ValueError:
            pass
    return {"content_hex": raw.hex()}


def main(path):
    with open(path, encoding="utf-8") as f:
        frames = json.load(f, object_pairs_hook=pairs)
    for fr in frames:
        layers = get(get(fr, "_source"), "layers")
        ip = get(layers, "ip") or get(layers, "ipv6")
        tcp = get(layers, "tcp")
        if not ip or not tcp:
            continue
        # "ip:port", or "[ip6]:port" as the analyzer writes it.
        fam, fmt = ("ip", "%s:%s") if get(layers, "ip") else ("ipv6", "[%s]:%s")
        src = fmt % (get(ip, fam + ".src"), get(tcp, "tcp.srcport"))
        dst = fmt % (get(ip, fam + ".dst"), get(tcp, "tcp.dstport"))
        for m in get_all(layers, "jmsg"):
            if get(m, "jmsg.request") == "1":
                d, client, server = "request", src, dst
            elif get(m, "jmsg.response") == "1":
                d, client, server = "response", dst, src
            else:
                continue    # bytes not decoded: no message starts here
            base = {"client": client, "server": server, "dir": d}
            errors = walk(m, "jmsg.error", [])
            for e in errors:
                print(json.dumps(dict(base, kind="error", id=e), ensure_ascii=False))
            if [e for e in errors if e not in WARNINGS]:
                continue
            hdr = get(m, "jmsg.header_tree") or []
            rec = dict(base, kind="message",
                       header_len=int(get(m, "jmsg.header_len")),
                       content_type=get(hdr, "jmsg.content_type"),
                       content_length=int(get(hdr, "jmsg.content_length")))
            rec.update(content_value(get(m, "jmsg.content"), rec["content_type"], errors))
            print(json.dumps(rec, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: tshark_msgs.py TSHARK.json\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
