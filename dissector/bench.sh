#!/usr/bin/env bash
# Dissector benchmark: tshark on a generated capture with and without the
# generated dissector (printing a field with -T fields: -q alone skips
# dissection), and jmsg analyze on the same file.  Best of RUNS, user CPU and
# wall seconds; the cost per message is the user CPU difference divided by
# the messages the analyzer counts.  Prints a Markdown table for the
# "Dissector" section of bench/RESULTS.md.
#
# Two floors show what any Lua dissector of this protocol pays in tshark
# 4.0: one that only frames messages through dissect_tcp_pdus (get_len
# reads the protoheader and content-length), and the same with FLOOR_ITEMS
# (default 11, about what jmsg.lua adds per message) tree items per
# message, each with a range of its own, and nothing else.
#
#   dissector/bench.sh                  (BUILD=build; make it first)
#   BUILD=build-x PACKETS=200k RUNS=3 dissector/bench.sh
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${RUNS:=3}" "${PACKETS:=200k}" "${STREAMS:=10000}" "${FLOOR_ITEMS:=11}"
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
cat > "$tmp/floor.lua" <<'LUA'
-- Framing only, plus FLOOR_ITEMS tree items per message when asked.
local p = Proto("jmsgfloor", "Lua dissector floor")
local f_x = ProtoField.uint16("jmsgfloor.x", "x")
p.fields = { f_x }
local ITEMS = tonumber(os.getenv("FLOOR_ITEMS") or "0")
local byte, match = string.byte, string.match
local function get_len(tvb, pinfo, offset)
	local avail = tvb:len() - offset
	if avail < 2 then return 0 end
	local ph = tvb:raw(offset, 2)
	local hl = byte(ph, 1) * 256 + byte(ph, 2)
	if avail < 2 + hl then return 0 end
	local cl = match(tvb:raw(offset + 2, hl), '"content%-length":%s*(%d+)')
	return 2 + hl + (tonumber(cl) or 0)
end
local function dissect(tvb, pinfo, tree)
	if ITEMS > 0 then
		local t = tree:add(p, tvb())
		for _ = 2, ITEMS do t:add(f_x, tvb(0, 2)) end
	end
	return tvb:len()
end
function p.dissector(tvb, pinfo, tree)
	dissect_tcp_pdus(tvb, tree, 2, get_len, dissect, true)
	return tvb:len()
end
DissectorTable.get("tcp.port"):add(65432, p)
LUA

/usr/bin/python3 - "$cap" "$RUNS" "$BUILD" "$tmp" <<'EOF'
import os, resource, subprocess, sys, time
cap, runs, build, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
env = dict(os.environ, HOME=tmp + "/home", WIRESHARK_CONFIG_DIR=tmp + "/cfg")
lua = ["-X", "lua_script:" + build + "/jmsg.lua"]
floor = ["tshark", "-X", "lua_script:" + tmp + "/floor.lua", "-r", cap, "-T", "fields", "-e", "tcp.len"]
items = os.environ.get("FLOOR_ITEMS", "11")
cases = [
    ("tshark, no dissector (`-T fields -e tcp.len`)", ["tshark", "-r", cap, "-T", "fields", "-e", "tcp.len"]),
    ("Lua floor: framing only, through `dissect_tcp_pdus`", ["env", "FLOOR_ITEMS=0"] + floor),
    ("Lua floor + %s tree items per message" % items, ["env", "FLOOR_ITEMS=" + items] + floor),
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
    extra = "0" if extra == "-0" else extra   # a floor within the noise
    print("| %s | %.2f | %.2f | %.0f | %s |" % (name, u, w, pkts / w, extra))
EOF
