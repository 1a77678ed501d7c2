#!/usr/bin/env bash
# Analyzer benchmark: wall time of jmsg analyze on a large generated capture
# against the floor (a bare libpcap read loop), tcpflow, and tshark (plain,
# and with the generated Lua dissector); jmsg analyze --workers 2 against
# --workers 1; then peak memory with 100,000 concurrent streams.  Prints a
# Markdown table for bench/RESULTS.md.
#
#   bench/analyze.sh            (BUILD=build by default; make it first)
#   RUNS=3 BUILD=build-x bench/analyze.sh
#
# The captures are generated under $BUILD/bench-data by bench/gen_capture
# (deterministic: same flags, same bytes) and never committed.  Each fast
# tool is timed RUNS times (best kept); tshark once, it is slow.
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${RUNS:=3}"
JMSG=${JMSG:-$BUILD/jmsg}
data=$BUILD/bench-data
cap=$data/capture.pcap
conc=$data/concurrent.pcap
mkdir -p "$data"
for b in "$JMSG" "$BUILD/bench/gen_capture" "$BUILD/bench/pcap_floor"; do
	[ -x "$b" ] || { echo "bench/analyze.sh: $b is missing; run make BUILD=$BUILD first" >&2; exit 1; }
done
[ -f "$cap" ] || "$BUILD/bench/gen_capture" -o "$cap" >&2
[ -f "$conc" ] || "$BUILD/bench/gen_capture" --concurrent -o "$conc" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# secs CMD...: "WALL CPU" seconds of one run (output discarded), or "fail".
# CPU (user + system) is printed too: on a shared machine the wall time
# also counts waiting for a core.
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || { echo fail; return; }
	t1=$(date +%s.%N)
	awk -v w="$(echo "$t1 - $t0" | bc -l)" '{printf "%.3f %.2f\n", w, $1 + $2}' "$tmp/time"
}
best() {
	local b="" t
	for _ in $(seq "$RUNS"); do
		t=$(secs "$@")
		[ "$t" = fail ] && { echo fail; return; }
		if [ -z "$b" ] || [ "$(echo "${t% *} < ${b% *}" | bc -l)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

packets=$("$BUILD/bench/pcap_floor" "$cap" | awk '{print $1}')
streams=$("$JMSG" analyze -r "$cap" -q --json | tail -n 1 | sed 's/.*"streams":\([0-9]*\).*/\1/')
echo "capture: $cap, $packets packets, $streams streams, $(du -mL "$cap" | cut -f1) MB" >&2

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_floor=$(best "$BUILD/bench/pcap_floor" "$cap")
t_jmsg=$(best "$JMSG" analyze -r "$cap" -q)
t_w2=$(best "$JMSG" analyze -r "$cap" -q --workers 2)
t_json1=$(best "$JMSG" analyze -r "$cap" --json --workers 1)
t_json2=$(best "$JMSG" analyze -r "$cap" --json --workers 2)
rm -rf "$tmp/flow"; mkdir -p "$tmp/flow"
t_tcpflow=$(secs tcpflow -r "$cap" -o "$tmp/flow")
rm -rf "$tmp/flow"
t_tshark=fail t_dis=fail
if command -v tshark >/dev/null; then
	t_tshark=$(secs tshark -r "$cap" -T fields -e tcp.stream -e tcp.len)
	if [ -f "$BUILD/jmsg.lua" ]; then
		t_dis=$(secs tshark -X lua_script:"$BUILD/jmsg.lua" -r "$cap" -T fields -e jmsg.content_length)
	fi
fi
mem=$( { /usr/bin/time -f '%M' "$JMSG" analyze -r "$conc" -q >/dev/null; } 2>&1 | tail -n 1)
t_conc=$(secs "$JMSG" analyze -r "$conc" -q)
conc_streams=$("$JMSG" analyze -r "$conc" -q --json | tail -n 1 | sed 's/.*"peak_streams":\([0-9]*\).*/\1/')
load1=$(cut -d' ' -f1-3 /proc/loadavg)

wall() { [ "$1" = fail ] && echo fail || echo "${1% *}"; }
cpu() { [ "$1" = fail ] && echo n/a || echo "${1#* }"; }
ratio() { # wall a / wall b, or n/a
	local a b
	a=$(wall "$1"); b=$(wall "$2")
	if [ "$a" = fail ] || [ "$b" = fail ]; then echo n/a; else echo "$a / $b" | bc -l | xargs printf '%.1f'; fi
}
speedup() { # wall a / wall b, two decimals, or n/a
	local a b
	a=$(wall "$1"); b=$(wall "$2")
	if [ "$a" = fail ] || [ "$b" = fail ]; then echo n/a; else echo "$a / $b" | bc -l | xargs printf '%.2f'; fi
}
rate() { # packets per second of wall time
	local a
	a=$(wall "$1")
	[ "$a" = fail ] && { echo n/a; return; }
	echo "$packets / $a" | bc -l | xargs printf '%.0f'
}
pct=$(echo "100 * $(wall "$t_floor") / $(wall "$t_jmsg")" | bc -l | xargs printf '%.0f')
cat <<EOF
| tool | wall (s) | CPU (s) | packets/s (wall) | jmsg is faster by |
|---|---:|---:|---:|---:|
| bare libpcap read (\`bench/pcap_floor\`) | $(wall "$t_floor") | $(cpu "$t_floor") | $(rate "$t_floor") | (jmsg runs at $pct% of this rate) |
| \`jmsg analyze -r FILE -q\` | $(wall "$t_jmsg") | $(cpu "$t_jmsg") | $(rate "$t_jmsg") | 1 |
| \`tcpflow -r FILE -o DIR\` | $(wall "$t_tcpflow") | $(cpu "$t_tcpflow") | $(rate "$t_tcpflow") | $(ratio "$t_tcpflow" "$t_jmsg")x |
| \`tshark -r FILE -T fields -e tcp.stream -e tcp.len\` | $(wall "$t_tshark") | $(cpu "$t_tshark") | $(rate "$t_tshark") | $(ratio "$t_tshark" "$t_jmsg")x |
| \`tshark -X lua_script:jmsg.lua ... -e jmsg.content_length\` | $(wall "$t_dis") | $(cpu "$t_dis") | $(rate "$t_dis") | $(ratio "$t_dis" "$t_jmsg")x |

| threads (\`jmsg analyze -r FILE ...\`) | wall (s) | CPU (s) | packets/s (wall) | --workers 2 is faster by |
|---|---:|---:|---:|---:|
| \`-q --workers 1\` (the default) | $(wall "$t_jmsg") | $(cpu "$t_jmsg") | $(rate "$t_jmsg") | |
| \`-q --workers 2\` | $(wall "$t_w2") | $(cpu "$t_w2") | $(rate "$t_w2") | $(speedup "$t_jmsg" "$t_w2")x |
| \`--json --workers 1\` (output to /dev/null) | $(wall "$t_json1") | $(cpu "$t_json1") | $(rate "$t_json1") | |
| \`--json --workers 2\` | $(wall "$t_json2") | $(cpu "$t_json2") | $(rate "$t_json2") | $(speedup "$t_json1" "$t_json2")x |

Best of $RUNS runs for the first two and the thread rows, one run for the others.  Load
average before and after: $load0 / $load1.  Peak memory with $conc_streams concurrent streams
(\`$(basename "$conc")\`, each holding a partial message at the peak): $((mem / 1024)) MiB
max RSS; that run took $(wall "$t_conc") s.
EOF
