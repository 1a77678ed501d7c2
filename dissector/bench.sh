#!/usr/bin/env bash
# Dissector benchmark: tshark on a generated capture with and without the
# generated dissector (printing a field with -T fields: -q alone skips
# dissection), and jmsg analyze on the same file.  RUNS rounds, each running
# every case once (so a change in the machine's load touches every case
# alike); best user CPU and wall seconds per case.  The cost per message is
# the user CPU difference divided by the messages the analyzer counts.
# With IR=1 each tshark case runs once under cachegrind instead and the
# cost is in instructions per message, which the machine's load cannot
# move (use a smaller capture: PACKETS=40k STREAMS=2000).  Prints a
# Markdown table for the "Dissector" section of bench/RESULTS.md.
#
# Three floors show what any Lua dissector of this protocol pays in tshark
# 4.0: one that only frames messages through dissect_tcp_pdus (get_len
# reads the protoheader and content-length); the same with FLOOR_ITEMS
# (default 11, about what jmsg.lua adds per message) tree items per
# message, each with a range of its own, and nothing else; and one that
# builds the tree the issue asks for (fields, header members, JSON
# sub-dissector, a link) in the cheapest way found, with no connection
# state at all.
#
#   dissector/bench.sh                  (BUILD=build; make it first)
#   BUILD=build-x PACKETS=200k RUNS=3 dissector/bench.sh
#   IR=1 PACKETS=40k STREAMS=2000 dissector/bench.sh    (needs valgrind)
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${RUNS:=3}" "${PACKETS:=200k}" "${STREAMS:=10000}" "${FLOOR_ITEMS:=11}" "${IR:=0}"
for f in "$BUILD/jmsg" "$BUILD/jmsg.lua" "$BUILD/bench/gen_capture"; do
	[ -e "$f" ] || { echo "dissector/bench.sh: $f is missing; run make BUILD=$BUILD first" >&2; exit 1; }
done
command -v tshark >/dev/null || { echo "dissector/bench.sh: tshark is not installed" >&2; exit 1; }
[ "$IR" != 1 ] || command -v valgrind >/dev/null ||
	{ echo "dissector/bench.sh: IR=1 needs valgrind (cachegrind), which is not installed" >&2; exit 1; }
mkdir -p "$BUILD/bench-data"
cap="$BUILD/bench-data/dissector-$PACKETS-$STREAMS.pcap"
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

cat > "$tmp/tree.lua" <<'LUA'
-- The tree the issue asks for and nothing else: messages framed in one
-- loop per segment (pinfo.desegment_*), a protocol item, the direction,
-- the header length, the header with its four members, the content, the
-- JSON dissector on text/json, and the request link on responses.  No
-- connection state: the direction comes from the port, the link is a
-- made-up frame number, and nothing is kept for later passes.
local p = Proto("jmsgtree", "Lua tree floor")
local A = "jmsgtree"
local F = {
	header_len = ProtoField.uint16(A .. ".header_len", "Header length", base.DEC),
	header = ProtoField.string(A .. ".header", "JSON header", base.UNICODE),
	content = ProtoField.bytes(A .. ".content", "Content"),
	request = ProtoField.bool(A .. ".request", "Request"),
	response = ProtoField.bool(A .. ".response", "Response"),
	byteorder = ProtoField.string(A .. ".byteorder", "byteorder", base.UNICODE),
	content_length = ProtoField.int64(A .. ".content_length", "content-length", base.DEC),
	content_type = ProtoField.string(A .. ".content_type", "content-type", base.UNICODE),
	content_encoding = ProtoField.string(A .. ".content_encoding", "content-encoding", base.UNICODE),
	request_in = ProtoField.framenum(A .. ".request_in", "Request in frame", base.NONE, frametype.REQUEST),
}
local KEYF = { byteorder = F.byteorder, ["content-length"] = F.content_length,
	["content-type"] = F.content_type, ["content-encoding"] = F.content_encoding }
local fl = {}
for _, f in pairs(F) do fl[#fl + 1] = f end
p.fields = fl
local byte, find = string.byte, string.find
local json = Dissector.get("json")
local I64, n64 = {}, 0
local function message(tvb, pinfo, tree, off, hlen, raw, total, isreq)
	local item = tree:add(p, tvb:range(off, total), isreq and "Request" or "Response")
	item:add(isreq and F.request or F.response, true):set_generated()
	item:add(F.header_len, tvb:range(off, 2))
	local h = item:add(F.header, tvb:range(off + 2, hlen))
	h:set_text("JSON header (" .. hlen .. " bytes)")
	local q, clen, ctype = 2, 0, nil
	while true do
		local _, e, k = find(raw, '^[ \t\r\n]*"([^"\\]*)"[ \t\r\n]*:[ \t\r\n]*', q)
		if not e then break end
		local s2, e2, v = find(raw, '^"([^"\\%z\1-\31]*)"', e + 1)
		local f = KEYF[k]
		if s2 then
			if f then h:add(f, tvb:range(off + 1 + s2, e2 - s2 + 1), v) end
			if k == "content-type" then ctype = v end
		else
			s2, e2, v = find(raw, '^(-?%d+)', e + 1)
			if not s2 then break end
			local n = tonumber(v)
			if k == "content-length" then clen = n end
			local iv = I64[n]
			if not iv then
				if n64 >= 256 then I64, n64 = {}, 0 end
				iv, n64 = Int64(n), n64 + 1
				I64[n] = iv
			end
			if f then h:add(f, tvb:range(off + 1 + s2, e2 - s2 + 1), iv) end
		end
		local _, e3, c = find(raw, '^[ \t\r\n]*([,}])', e2 + 1)
		if c ~= "," then break end
		q = e3 + 1
	end
	if clen > 0 then
		local cr = tvb:range(off + 2 + hlen, clen)
		item:add(F.content, cr)
		if ctype == "text/json" then json:call(cr:tvb(), pinfo, item) end
	end
	if not isreq then item:add(F.request_in, pinfo.number - 1):set_generated() end
end
function p.dissector(tvb, pinfo, tree)
	local len, off = tvb:len(), 0
	local isreq = pinfo.dst_port == 65432
	while off < len do
		local avail = len - off
		if avail < 2 then break end
		local b1, b2 = byte(tvb:raw(off, 2), 1, 2)
		local hlen = b1 * 256 + b2
		if avail < 2 + hlen then break end
		local raw = tvb:raw(off + 2, hlen)
		local total = 2 + hlen + (tonumber(string.match(raw, '"content%-length":%s*(%d+)')) or 0)
		if avail < total then
			pinfo.desegment_offset, pinfo.desegment_len = off, total - avail
			return len
		end
		message(tvb, pinfo, tree, off, hlen, raw, total, isreq)
		off = off + total
	end
	if off < len then
		pinfo.desegment_offset, pinfo.desegment_len = off, DESEGMENT_ONE_MORE_SEGMENT
	end
	local cols = pinfo.cols
	cols.protocol = "JMSG"
	cols.info = isreq and "Request" or "Response"
	return len
end
DissectorTable.get("tcp.port"):add(65432, p)
LUA

/usr/bin/python3 - "$cap" "$RUNS" "$BUILD" "$tmp" "$IR" <<'EOF'
import os, re, resource, subprocess, sys, time
cap, runs, build, tmp, ir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1"
env = dict(os.environ, HOME=tmp + "/home", WIRESHARK_CONFIG_DIR=tmp + "/cfg")
lua = ["-X", "lua_script:" + build + "/jmsg.lua"]
floor = ["tshark", "-X", "lua_script:" + tmp + "/floor.lua", "-r", cap, "-T", "fields", "-e", "tcp.len"]
items = os.environ.get("FLOOR_ITEMS", "11")
cases = [  # (row, command, FLOOR_ITEMS)
    ("tshark, no dissector (`-T fields -e tcp.len`)", ["tshark", "-r", cap, "-T", "fields", "-e", "tcp.len"], None),
    ("Lua floor: framing only, through `dissect_tcp_pdus`", floor, "0"),
    ("Lua floor + %s tree items per message" % items, floor, items),
    ("Lua floor: the required tree, no connection state",
     ["tshark", "-X", "lua_script:" + tmp + "/tree.lua", "-r", cap, "-T", "fields", "-e", "tcp.len"], None),
    ("tshark + jmsg.lua (`-T fields -e jmsg.content_length`)",
     ["tshark"] + lua + ["-r", cap, "-T", "fields", "-e", "jmsg.content_length"], None),
    ("tshark + jmsg.lua, `-o jmsg.json:FALSE`",
     ["tshark"] + lua + ["-o", "jmsg.json:FALSE", "-r", cap, "-T", "fields", "-e", "jmsg.content_length"], None),
    ("`jmsg analyze --json`", [build + "/jmsg", "analyze", "-r", cap, "--json"], None),
]
def run(cmd, items):
    e = dict(env, FLOOR_ITEMS=items) if items is not None else env
    if ir:
        p = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                            "--cachegrind-out-file=/dev/null"] + cmd,
                           env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
        return int(re.search(r"I\s+refs:\s+([\d,]+)", p.stderr).group(1).replace(",", "")), 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    t = time.time()
    subprocess.run(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before, time.time() - t
out = subprocess.run([build + "/jmsg", "analyze", "-r", cap, "--json"], capture_output=True, text=True).stdout
msgs = out.count('"event":"message"')
pkts = int(subprocess.run(["capinfos", "-M", "-c", "-T", cap], capture_output=True, text=True, env=env)
           .stdout.splitlines()[-1].split("\t")[-1])
if ir:
    cases = [c for c in cases if not c[0].startswith("`jmsg")]
    runs = 1
best = {}
for _ in range(runs):
    for name, cmd, it in cases:
        r = run(cmd, it)
        if name not in best or r[0] < best[name][0]:
            best[name] = r
base = best[cases[0][0]][0]
print("capture: %s, %d packets, %d messages\n" % (os.path.basename(cap), pkts, msgs))
if ir:
    print("| run | instructions (millions) | instructions per message over plain tshark (thousands) |")
    print("|---|---:|---:|")
    for name, _, _ in cases:
        n = best[name][0]
        extra = "" if n == base else "%.0f" % ((n - base) / msgs / 1000)
        print("| %s | %.0f | %s |" % (name, n / 1e6, extra))
    sys.exit(0)
print("| run | user CPU s | wall s | packets/s (wall) | CPU µs per message over plain tshark |")
print("|---|---:|---:|---:|---:|")
for name, _, _ in cases:
    u, w = best[name]
    extra = "" if name.startswith("`jmsg") or u == base else "%.0f" % ((u - base) / msgs * 1e6)
    extra = "0" if extra == "-0" else extra   # a floor within the noise
    print("| %s | %.2f | %.2f | %.0f | %s |" % (name, u, w, pkts / w, extra))
EOF
