#!/usr/bin/python3
"""Compares two record lists (tshark_msgs.py / analyzer_msgs.py /
mkpcap.py expectations) connection by connection and direction by
direction, in order.  Records whose error id is given with --skip are left
out of both sides first; with --stop-at ID a direction is compared only up
to the first such error in A (each test says why).  Prints every
difference; exit 0 when equal, 1 otherwise.

    compare.py [--skip ID]... [--stop-at ID] [--label A,B] A.jsonl B.jsonl
"""
import json
import sys


def load(path, skip):
    groups = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("kind") == "error" and r.get("id") in skip and r.get("id") != STOP[0]:
                continue
            key = (r.get("client"), r.get("server"), r.get("dir"))
            groups.setdefault(key, []).append(r)
    return groups


STOP = [None]


def cut(ra, rb):
    """Both lists up to A's first STOP error (which is left out)."""
    for n, r in enumerate(ra):
        if r.get("kind") == "error" and r.get("id") == STOP[0]:
            return ra[:n], rb[:n]
    return ra, rb


def main(argv):
    skip, labels, files = set(), ("expected", "got"), []
    i = 1
    while i < len(argv):
        if argv[i] == "--skip":
            skip.add(argv[i + 1])
            i += 2
        elif argv[i] == "--stop-at":
            STOP[0] = argv[i + 1]
            i += 2
        elif argv[i] == "--label":
            labels = tuple(argv[i + 1].split(",", 1))
            i += 2
        else:
            files.append(argv[i])
            i += 1
    if len(files) != 2:
        sys.stderr.write(__doc__)
        return 2
    a, b = load(files[0], skip), load(files[1], skip)
    bad = 0
    for key in sorted(set(a) | set(b), key=lambda k: tuple(map(str, k))):
        ra, rb = cut(a.get(key, []), b.get(key, []))
        if ra == rb:
            continue
        bad += 1
        print("%s -> %s %s:" % key)
        for n in range(max(len(ra), len(rb))):
            x = ra[n] if n < len(ra) else None
            y = rb[n] if n < len(rb) else None
            if x != y:
                strip = lambda r: r and {k: v for k, v in r.items() if k not in ("client", "server", "dir")}
                print("  #%d %s: %s" % (n, labels[0], json.dumps(strip(x), ensure_ascii=False)[:300]))
                print("  #%d %s: %s" % (n, labels[1], json.dumps(strip(y), ensure_ascii=False)[:300]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
