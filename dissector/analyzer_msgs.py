#!/usr/bin/python3
"""Reads `jmsg analyze --json` output and prints the same records as
tshark_msgs.py: one JSON line per message and per error, in stream order
(a message with content_error is left out: its error event stands for it).
Usage: analyzer_msgs.py ANALYZE.jsonl > MSGS.jsonl
"""
import json
import sys


def main(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            kind = ev.get("event")
            if kind not in ("message", "error"):
                continue
            base = {"client": ev["client"], "server": ev["server"], "dir": ev.get("dir")}
            if kind == "error":
                print(json.dumps(dict(base, kind="error", id=ev["kind"]), ensure_ascii=False))
                continue
            if "content_error" in ev:
                # A message whose content the codec rejects: the dissector
                # reports its error alone, as does the error event that
                # follows this one.
                continue
            rec = dict(base, kind="message", header_len=ev["header_len"],
                       content_type=ev["content_type"], content_length=ev["content_length"])
            if "content" in ev:
                rec["content"] = ev["content"]
            else:
                rec["content_hex"] = ev["content_hex"]
                if ev.get("content_hex_truncated"):
                    rec["content_hex_truncated"] = True
            print(json.dumps(rec, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: analyzer_msgs.py ANALYZE.jsonl\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
