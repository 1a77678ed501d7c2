#!/usr/bin/env python3
"""Line and branch coverage per folder and per file from a gcovr JSON summary,
and the coverage targets `make coverage` enforces (TESTING.md).

usage: coverage.py SUMMARY.json [--min PCT] [--target PATH]... [--files PATH]...

  --target PATH  PATH must have at least PCT percent of its lines covered; a
                 folder (ending in /) counts all its files together
  --files PATH   also print a row per file for PATH (a folder or one file)

Prints one line per folder, then the per-file rows, then one line per target.
exit status: 0 every target met, 1 a target missed (one line names each),
2 usage or unreadable summary
"""
import argparse
import json
import sys


def pct(covered, total):
    return 100.0 * covered / total if total else 100.0


class Sum:
    def __init__(self):
        self.lc = self.lt = self.bc = self.bt = 0

    def add(self, f):
        self.lc += f["line_covered"]
        self.lt += f["line_total"]
        self.bc += f["branch_covered"]
        self.bt += f["branch_total"]
        return self


def row(name, s):
    return (f"{name:<26} {s.lc:>6}/{s.lt:<6} {pct(s.lc, s.lt):6.1f}%   "
            f"{s.bc:>6}/{s.bt:<6} {pct(s.bc, s.bt):6.1f}%")


def header(title):
    return f"{title:<26} {'lines':>13} {'':7}   {'branches':>13}"


def matches(path, name):
    return name.startswith(path) if path.endswith("/") else name == path


def main():
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument("summary")
    ap.add_argument("--min", type=float, default=85.0)
    ap.add_argument("--target", action="append", default=[])
    ap.add_argument("--files", action="append", default=[])
    a = ap.parse_args()
    try:
        with open(a.summary) as fh:
            files = json.load(fh)["files"]
    except (OSError, ValueError, KeyError) as e:
        print(f"coverage: cannot read {a.summary}: {e}", file=sys.stderr)
        return 2

    folders = {}
    total = Sum()
    for f in files:
        name = f["filename"]
        d = name.split("/")[0] + "/" if "/" in name else "./"
        folders.setdefault(d, Sum()).add(f)
        total.add(f)
    print(header("folder"))
    for d in sorted(folders):
        print(row(d, folders[d]))
    print(row("all", total))

    shown = [f for f in files if any(matches(p, f["filename"]) for p in a.files)]
    if shown:
        print()
        print(header("file"))
        for f in sorted(shown, key=lambda f: f["filename"]):
            print(row(f["filename"], Sum().add(f)))

    missed = 0
    if a.target:
        print()
    for t in a.target:
        s = Sum()
        n = 0
        for f in files:
            if matches(t, f["filename"]):
                s.add(f)
                n += 1
        p = pct(s.lc, s.lt)
        if n == 0 or s.lt == 0:
            print(f"coverage: TARGET MISSED: {t}: no coverage data (not built or never run)")
            missed += 1
        elif p + 1e-9 < a.min:
            print(f"coverage: TARGET MISSED: {t}: {p:.1f}% of lines covered "
                  f"({s.lc}/{s.lt}), the target is {a.min:g}%")
            missed += 1
        else:
            print(f"coverage: target met: {t}: {p:.1f}% of lines covered "
                  f"({s.lc}/{s.lt}) >= {a.min:g}%")
    if missed:
        print(f"coverage: {missed} of {len(a.target)} targets missed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
