#!/usr/bin/env bash
# Analyzer benchmark: wall time of jmsg analyze on a large generated capture
# against the floor (a bare libpcap read loop), tcpflow, and tshark (plain,
# and with the generated Lua dissector); then peak memory with 100,000
# concurrent streams; then the cost of the output: -q, text and --json
# against each other and the floor; then --workers 2 against one thread.
# Prints Markdown tables for bench/RESULTS.md.
#
#   bench/analyze.sh            (BUILD=build by default; make it first)
#   RUNS=3 BUILD=build-x bench/analyze.sh
#   ONLY=output bench/analyze.sh             just the output table
#   ONLY=workers bench/analyze.sh            just the --workers table
#   BEFORE=/tmp/old/jmsg ONLY=output bench/analyze.sh
#                               the output table for that binary too
#   IR=1 ...                    the output table also counts instructions
#                               (one run each under cachegrind: the
#                               measure a busy machine does not move)
#   PROFILE=1 ...               then where -q's time goes, per function:
#                               instructions (cachegrind) and, when perf
#                               can sample here, CPU time (perf record)
#
# The captures are generated under $BUILD/bench-data by bench/gen_capture
# (deterministic: same flags, same bytes) and never committed.  Each fast
# tool is timed RUNS times (best kept); tshark once, it is slow.  The output
# table uses hyperfine when it is installed (median and min of RUNS rounds
# that each run every command once; output to /dev/null), else the best
# of RUNS.
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
[ -f "$conc" ] || [ -n "${ONLY:-}" ] || "$BUILD/bench/gen_capture" --concurrent -o "$conc" >&2
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

if [ -z "${ONLY:-}" ]; then
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_floor=$(best "$BUILD/bench/pcap_floor" "$cap")
t_jmsg=$(best "$JMSG" analyze -r "$cap" -q)
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

Best of $RUNS runs for the first two, one run for the others.  Load average before and
after: $load0 / $load1.  Peak memory with $conc_streams concurrent streams
(\`$(basename "$conc")\`, each holding a partial message at the peak): $((mem / 1024)) MiB
max RSS; that run took $(wall "$t_conc") s.
EOF
fi

# timings: run every command of cmds (strings of words); one line per
# command in $tmp/stats, "median min cpu" (seconds), and how in $how.
timings() {
if command -v hyperfine >/dev/null; then
	# Round robin: each round runs every command once, so a change in the
	# machine's load falls on all of them alike; round 0 is a warm-up.
	for r in $(seq 0 "$RUNS"); do
		hyperfine -N -r 1 --export-json "$tmp/hf.$r.json" "${cmds[@]}" >/dev/null 2>"$tmp/hf.err" ||
			{ cat "$tmp/hf.err" >&2; exit 1; }
	done
	rm -f "$tmp/hf.0.json"
	how="hyperfine -N, $RUNS rounds (after a warm-up round), each running every command once in turn; wall is the median (min), CPU the median user + system"
	# one line per command: median min cpu
	python3 -c 'import json,sys,statistics as st
runs = [json.load(open(f))["results"] for f in sys.argv[1:]]
for i in range(len(runs[0])):
    w = [r[i]["mean"] for r in runs]
    c = [r[i]["user"] + r[i]["system"] for r in runs]
    print("%.3f %.3f %.3f" % (st.median(w), min(w), st.median(c)))' "$tmp"/hf.*.json > "$tmp/stats"
	rm -f "$tmp"/hf.*.json
else
	how="hyperfine is not installed: best of $RUNS runs, wall and CPU of that run"
	: > "$tmp/stats"
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086 # the command is words
		t=$(best $c)
		[ "$t" = fail ] && { echo "bench/analyze.sh: $c failed" >&2; exit 1; }
		echo "${t% *} ${t% *} ${t#* }" >> "$tmp/stats"
	done
fi
}

# ---- the output: -q (every message still decoded, nothing printed), text,
# --json; each against -q and against the bare read.
if [ -z "${ONLY:-}" ] || [ "$ONLY" = output ]; then
load0=$(cut -d' ' -f1-3 /proc/loadavg)
names=("bare libpcap read (\`bench/pcap_floor\`)")
cmds=("$BUILD/bench/pcap_floor $cap")
for bin in ${BEFORE:+"$BEFORE"} "$JMSG"; do
	tag=""
	[ -n "${BEFORE:-}" ] && { [ "$bin" = "$BEFORE" ] && tag=" (before)" || tag=" (after)"; }
	for mode in "-q" "" "--json"; do
		names+=("\`jmsg analyze -r FILE${mode:+ $mode}\`$tag")
		cmds+=("$bin analyze -r $cap${mode:+ $mode}")
	done
done
timings
load1=$(cut -d' ' -f1-3 /proc/loadavg)
mapfile -t st < "$tmp/stats"
ir=()
if [ "${IR:-0}" = 1 ]; then
	command -v valgrind >/dev/null || { echo "bench/analyze.sh: IR=1 needs valgrind" >&2; exit 1; }
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086 # the command is words
		valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null $c \
			>/dev/null 2>"$tmp/cg" || { cat "$tmp/cg" >&2; exit 1; }
		ir+=("$(sed -n 's/.*I *refs: *//p' "$tmp/cg" | tr -d ,)")
	done
fi
echo
if [ ${#ir[@]} -gt 0 ]; then
	echo "| run | wall (s) | CPU (s) | instructions (M) | wall / -q | CPU / -q | instructions / -q | wall / bare read | instructions / bare read |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
else
	echo "| run | wall (s) | CPU (s) | wall / -q | CPU / -q | wall / bare read |"
	echo "|---|---:|---:|---:|---:|---:|"
fi
q=1
for i in "${!cmds[@]}"; do
	read -r mean min cpu <<< "${st[$i]}"
	case ${cmds[$i]} in *" -q") q=$i ;; esac
	read -r qmean _ qcpu <<< "${st[$q]}"
	read -r fmean _ _ <<< "${st[0]}"
	if [ "$i" = 0 ]; then r1="" r2="" r3=1; else
		r1=$(echo "$mean / $qmean" | bc -l | xargs printf '%.2f')
		r2=$(echo "$cpu / $qcpu" | bc -l | xargs printf '%.2f')
		r3=$(echo "$mean / $fmean" | bc -l | xargs printf '%.1f')
	fi
	wall="$mean ($min)"
	if [ ${#ir[@]} -gt 0 ]; then
		m=$(echo "${ir[$i]} / 1000000" | bc -l | xargs printf '%.0f')
		if [ "$i" = 0 ]; then i1="" i2=1; else
			i1=$(echo "${ir[$i]} / ${ir[$q]}" | bc -l | xargs printf '%.2f')
			i2=$(echo "${ir[$i]} / ${ir[0]}" | bc -l | xargs printf '%.1f')
		fi
		echo "| ${names[$i]} | $wall | $cpu | $m | $r1 | $r2 | $i1 | $r3 | $i2 |"
	else
		echo "| ${names[$i]} | $wall | $cpu | $r1 | $r2 | $r3 |"
	fi
done
echo
echo "$how.  Output to /dev/null.  Load average before and after: $load0 / $load1."
# -q's rate against the bare read's, from the medians above.
for i in "${!cmds[@]}"; do
	case ${cmds[$i]} in *" -q") ;; *) continue ;; esac
	read -r mean _ _ <<< "${st[$i]}"
	read -r fmean _ _ <<< "${st[0]}"
	echo "${names[$i]} runs at $(echo "100 * $fmean / $mean" | bc -l | xargs printf '%.0f') % of the bare read's rate (median wall times)."
done

# ---- the profile of -q: the top functions by instructions (cachegrind,
# exact and unmoved by the machine's load) and by CPU samples (perf; a
# virtual machine may offer only its clock to sample with, which it then
# uses).  Functions are named as the tools name them; ??? is libpcap's
# own code (no symbols).
if [ "${PROFILE:-0}" = 1 ]; then
	command -v valgrind >/dev/null || { echo "bench/analyze.sh: PROFILE=1 needs valgrind" >&2; exit 1; }
	valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$tmp/cg.out" \
		"$JMSG" analyze -r "$cap" -q >/dev/null 2>"$tmp/cg" || { cat "$tmp/cg" >&2; exit 1; }
	echo
	echo "| function (\`-q\`, cachegrind) | file | instructions (M) | share | per packet |"
	echo "|---|---|---:|---:|---:|"
	cg_annotate "$tmp/cg.out" 2>/dev/null | awk -v pk="$packets" '
		/file:function/ { on = 1; next }
		on && seen && NF == 0 { exit }
		on && $1 ~ /^[0-9,]+$/ && match($0, /\([ 0-9.]+%\)/) {
			seen = 1
			ir = $1; gsub(",", "", ir)
			pct = substr($0, RSTART + 1, RLENGTH - 2); gsub(" ", "", pct)
			n = split($NF, a, ":"); fn = a[n]; file = substr($NF, 1, length($NF) - length(fn) - 1)
			sub(/.*\//, "", file)
			if (++rows > 25) exit
			printf "| `%s` | %s | %.0f | %s | %.0f |\n", fn, file, ir / 1e6, pct, ir / pk
		}'
	if command -v perf >/dev/null && perf record -q -F 10000 -o "$tmp/perf.data" "$JMSG" analyze -r "$cap" -q \
		>/dev/null 2>"$tmp/perf.err"; then
		echo
		echo "| function (\`-q\`, perf) | where | share of CPU samples |"
		echo "|---|---|---:|"
		perf report -i "$tmp/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null | awk '
			/^#/ || NF < 4 { next }
			$1 ~ /%$/ { if (++rows > 25) exit; sym = $4; for (i = 5; i <= NF; i++) sym = sym " " $i
				    printf "| `%s` | %s | %s |\n", sym, $2 == "[kernel.kallsyms]" ? "kernel" : $2, $1 }'
	fi
fi
fi

# ---- threads: --workers 2 against one thread (the same output but for the
# stream numbers), for -q, text and --json.
if [ -z "${ONLY:-}" ] || [ "$ONLY" = workers ]; then
load0=$(cut -d' ' -f1-3 /proc/loadavg)
cmds=()
for mode in "-q" "" "--json"; do
	for n in 1 2; do
		cmds+=("$JMSG analyze -r $cap${mode:+ $mode} --workers $n")
	done
done
timings
load1=$(cut -d' ' -f1-3 /proc/loadavg)
mapfile -t st < "$tmp/stats"
echo
echo "| \`jmsg analyze -r FILE ...\` | --workers 1: wall (s) | CPU (s) | --workers 2: wall (s) | CPU (s) | speed-up (median, min) |"
echo "|---|---:|---:|---:|---:|---:|"
i=0
for mode in "-q" "text" "--json"; do
	read -r m1 n1 c1 <<< "${st[$i]}"
	read -r m2 n2 c2 <<< "${st[$((i + 1))]}"
	s1=$(echo "$m1 / $m2" | bc -l | xargs printf '%.2f')
	s2=$(echo "$n1 / $n2" | bc -l | xargs printf '%.2f')
	echo "| $mode | $m1 ($n1) | $c1 | $m2 ($n2) | $c2 | ${s1}x (${s2}x) |"
	i=$((i + 2))
done
echo
echo "$how.  Output to /dev/null.  $(nproc) cores.  Load average before and after: $load0 / $load1."
fi
