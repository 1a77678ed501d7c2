#!/usr/bin/env bash
# What the dissector keeps.  One-pass tshark keeps only the connections still
# open: its Lua heap at the end of a capture of 4,000 connections (at most
# about 1,000 open at once) must be no larger than after one of 1,000, give or
# take half a megabyte.  tshark -2 looks back at every frame, so it must keep
# per-message records: its heap on the same capture must be larger by more
# than a megabyte, and its links must be the one-pass links and more
# (response_in, which one pass cannot know yet).  The heap is read by a
# wrapper script that loads the dissector and reports collectgarbage("count")
# after a full collection when tshark has read the whole capture.
set -u
cd "$(dirname "$0")/../.."
. dissector/testlib.sh
dt_setup
GEN="$BUILD/bench/gen_capture"
[ -x "$GEN" ] || { echo "skip: $GEN is not built"; exit 77; }

cat >"$TMP/heap.lua" <<'LUA'
dofile(os.getenv("JMSG_LUA"))
local tap = Listener.new("frame", "frame.number == 1")
function tap.draw()
	collectgarbage("collect")
	io.stderr:write(string.format("lua-heap-kb %d\n", collectgarbage("count")))
end
LUA
# heap_kb PCAP [tshark options]: the Lua heap in KB after the whole capture.
heap_kb() {
	local pcap=$1
	shift
	JMSG_LUA="$LUA" HOME="$TMP/home" WIRESHARK_CONFIG_DIR="$TMP/cfg" timeout 300 \
		tshark -X "lua_script:$TMP/heap.lua" "$@" -r "$pcap" -T fields -e jmsg.content_length \
		2>"$TMP/heap.err" >/dev/null || { cat "$TMP/heap.err" >&2; dt_fail "tshark $* -r $pcap"; }
	grep -qE "Lua Error|Lua: Error" "$TMP/heap.err" && { cat "$TMP/heap.err" >&2; dt_fail "Lua error"; }
	awk '/^lua-heap-kb/ { print $2 }' "$TMP/heap.err"
}

"$GEN" -o "$TMP/c1000.pcap" --packets 10k --streams 1000 >/dev/null 2>&1 || dt_fail "gen_capture"
"$GEN" -o "$TMP/c4000.pcap" --packets 40k --streams 4000 >/dev/null 2>&1 || dt_fail "gen_capture"
small=$(heap_kb "$TMP/c1000.pcap")
large=$(heap_kb "$TMP/c4000.pcap")
two=$(heap_kb "$TMP/c4000.pcap" -2)
[ -n "$small" ] && [ -n "$large" ] && [ -n "$two" ] || dt_fail "no heap reading from the wrapper"
echo "one pass: ${small} KB after 1,000 connections, ${large} KB after 4,000; two passes: ${two} KB"
[ "$large" -le $((small + 512)) ] ||
	dt_fail "one pass keeps closed connections: ${large} KB after 4,000 against ${small} KB after 1,000"
[ "$two" -gt $((large + 1024)) ] ||
	dt_fail "tshark -2 does not keep per-message records (${two} KB against ${large} KB in one pass)"

links() { dt_tshark "$@" -r "$TMP/c1000.pcap" -Y jmsg -T fields -e frame.number -e jmsg.request_in -e jmsg.response_in; }
links >"$TMP/l1" || exit 1
links -2 >"$TMP/l2" || exit 1
n1=$(awk -F'\t' '$2 != ""' "$TMP/l1" | wc -l)
n2=$(awk -F'\t' '$2 != ""' "$TMP/l2" | wc -l)
r1=$(awk -F'\t' '$3 != ""' "$TMP/l1" | wc -l)
r2=$(awk -F'\t' '$3 != ""' "$TMP/l2" | wc -l)
[ "$n1" -gt 0 ] && [ "$n1" -eq "$n2" ] || dt_fail "request links: $n1 in one pass, $n2 in two"
[ "$r1" -eq 0 ] && [ "$r2" -eq "$n2" ] ||
	dt_fail "response links: $r1 in one pass (0 expected), $r2 in two ($n2 expected)"
cut -f1,2 "$TMP/l1" >"$TMP/l1.req"
cut -f1,2 "$TMP/l2" >"$TMP/l2.req"
cmp -s "$TMP/l1.req" "$TMP/l2.req" || dt_fail "one pass and two passes link different requests"
echo "ok $n1 frames link back to their requests alike in one pass and two; with two passes $r2 also link forward"
