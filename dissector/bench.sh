#!/usr/bin/env bash
# Dissector benchmark: tshark on a generated capture with and without the
# generated dissector (printing a field with -T fields: -q alone skips
# dissection), and jmsg analyze on the same file.  Best of RUNS, user CPU and
# wall seconds; the cost per message is the user CPU difference divided by
# the messages the analyzer counts.  Prints a Markdown table for the
# "Dissector" section of bench/RESULTS.md.
#
#   dissector/bench.sh                  (BUILD=build; make it first)
#   BUILD=build-x PACKETS=200k RUNS=3 dissector/bench.sh
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${RUNS:=3}" "${PACKETS:=200k}" "${STREAMS:=10000}"
for f in "$BUILD/jmsg" "$BUILD/jmsg.lua" "$BUILD/bench/gen_capture"; do
	[ -e "$f" ] || { echo "dissector/bench.sh: $f is missing; run make BUILD=$BUILD first" >&2; exit 1; }
done
command -v tshark >/dev/null || { echo "dissector/bench.sh: tshark is not installed" >&2; exit 1; }
mkdir -p "$BUILD/bench-data"
cap="$BUILD/bench-data/dissector-$PACKETS.pcap"
[ -f "$cap" ] || "$BUILD/bench/gen_capture" -o "$cap" --packets "$PACKETS" --streams "$STREAMS" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/cfg"

/usr/bin/python3 - "$cap" "$RUNS" "$BUILD" "$tmp" <<'EOF'
import os, resource, subprocess, sys, time
cap, runs, build, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
env = dict(os.environ, HOME=tmp + "/home", WIRESHARK_CONFIG_DIR=tmp + "/cfg")
lua = ["-X", "lua_script:" + build + "/jmsg.lua"]
cases = [
    ("tshark, no dissector (`-T fields -e tcp.len`)", ["tshark", "-r", cap, "-T", "fields", "-e", "tcp.len"]),
    ("tshark + jmsg.lua (`-T fields -e jmsg.content_length`)",
     ["tshark"] + lua + ["-r", cap, "-T", "fields", "-e", "jmsg.content_length"]),
    ("tshark + jmsg.lua, `-o jmsg.json:FALSE`",
     ["tshark"] + lua + ["-o", "jmsg.json:FALSE", "-r", cap, "-T", "fields", "-e", "jmsg.content_length"]),
    ("`jmsg analyze --json`", [build + "/jmsg", "analyze", "-r", cap, "--json"]),
]
def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    t = time.time()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before, time.time() - t
out = subprocess.run([build + "/jmsg", "analyze", "-r", cap, "--json"], capture_output=True, text=True).stdout
msgs = out.count('"event":"message"')
pkts = int(subprocess.run(["capinfos", "-M", "-c", "-T", cap], capture_output=True, text=True, env=env)
           .stdout.splitlines()[-1].split("\t")[-1])
res = []
for name, cmd in cases:
    best = min((run(cmd) for _ in range(runs)), key=lambda r: r[0])
    res.append((name, best))
base = res[0][1][0]
print("capture: %s, %d packets, %d messages\n" % (os.path.basename(cap), pkts, msgs))
print("| run | user CPU s | wall s | packets/s (wall) | CPU µs per message over plain tshark |")
print("|---|---:|---:|---:|---:|")
for name, (u, w) in res:
    extra = "" if name.startswith("`jmsg") or u == base else "%.0f" % ((u - base) / msgs * 1e6)
    print("| %s | %.2f | %.2f | %.0f | %s |" % (name, u, w, pkts / w, extra))
EOF
