#!/usr/bin/env bash
# Live capture under the heaviest load this machine makes: jmsg server on
# loopback, driven by the closed-loop load client (keep-alive, CONNS
# connections, one request in flight each) for DURATION seconds, while one
# of these captures runs on lo, filtered on the server's port:
#
#   none        no capture: the load's own ceiling
#   tcpdump     tcpdump -i lo -w /dev/null (the peer: a capture that only copies)
#   analyze-q   jmsg analyze -i lo -q
#   analyze     jmsg analyze -i lo          (text events)
#   json        jmsg analyze -i lo --json
#   old-q       jmsg analyze -i lo -q --immediate -B 32m (the defaults before
#               block reads; not in the default MODES)
#
# For each: the client's requests/s, the kernel's drop counter, and how many
# of the client's requests and responses the analyzer decoded.  The modes
# alternate within each of ROUNDS rounds, so drift in the machine's load hits
# all of them; the median round is kept.  Needs root (capture on lo).
#
#   BUILD=build ROUNDS=3 DURATION=5 CONNS=50 bench/live.sh
#
# Prints a Markdown table for bench/RESULTS.md.  Nothing here asserts a time.
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${ROUNDS:=3}" "${DURATION:=5}" "${CONNS:=50}" "${MODES:=none tcpdump analyze-q analyze json}"
JMSG=${JMSG:-$BUILD/jmsg}
[ -x "$JMSG" ] || { echo "bench/live.sh: $JMSG is missing; run make first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench/live.sh: capturing on lo needs root" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "bench/live.sh: tcpdump is missing (make deps)" >&2; exit 1; }
tmp=$(mktemp -d)
spid="" cpid=""
cleanup() {
	[ -n "$cpid" ] && { pkill -INT -P "$cpid"; kill -INT "$cpid"; } 2>/dev/null
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# wait_for FILE TEXT: until FILE holds TEXT, at most 5 s
wait_for() {
	for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "bench/live.sh: no '$2' in $1:" >&2; cat "$1" >&2; return 1
}

# one MODE ROUND: prints "mode rps drops decoded_req decoded_resp client_req peak_rss_kb"
one() {
	local mode=$1 out=$tmp/$1.$2
	rm -f "$tmp/port"
	"$JMSG" server --port 0 --port-file "$tmp/port" --max-conns 4096 >/dev/null 2>&1 &
	spid=$!
	wait_for "$tmp/port" . || return 1
	local port; port=$(cat "$tmp/port")
	case $mode in
	none) ;;
	tcpdump)
		tcpdump -i lo -n -w /dev/null -B 32768 "tcp port $port" 2>"$out.err" &
		cpid=$! ;;
	analyze-q|analyze|json|old-q)
		local flags=(-q)
		[ "$mode" = analyze ] && flags=()
		[ "$mode" = json ] && flags=(--json)
		[ "$mode" = old-q ] && flags=(-q --immediate -B 32m)
		/usr/bin/time -f 'rss %M' -o "$out.time" "$JMSG" analyze -i lo --port "$port" "${flags[@]}" tcp port "$port" \
			>"$out.out" 2>"$out.err" &
		cpid=$! ;;
	esac
	[ -n "$cpid" ] && { wait_for "$out.err" listening || return 1; }
	"$JMSG" client --port "$port" --load --conns "$CONNS" --duration "$DURATION" --json >"$out.client" 2>&1 \
		|| { echo "bench/live.sh: the load client failed:" >&2; cat "$out.client" >&2; return 1; }
	sleep 0.5
	# GNU time ignores SIGINT while it waits: signal its child, the capture
	if [ -n "$cpid" ]; then pkill -INT -P "$cpid" || kill -INT "$cpid"; wait "$cpid"; cpid=""; fi
	kill "$spid"; wait "$spid" 2>/dev/null; spid=""
	/usr/bin/python3 - "$mode" "$out" <<'EOF'
import json, re, sys
mode, out = sys.argv[1], sys.argv[2]
cl = json.load(open(out + ".client"))
rps, creq = cl["requests_per_sec"], cl["requests"]
drops, dreq, dresp, rss = "-", "-", "-", "-"
if mode == "tcpdump":
    m = re.search(r"(\d+) packets dropped by kernel", open(out + ".err").read())
    drops = m.group(1) if m else "?"
elif mode != "none":
    text = open(out + ".out").read()
    if mode == "json":
        s = json.loads(text.strip().splitlines()[-1])
        drops, dreq, dresp = s["kernel_dropped"] + s["if_dropped"], s["requests"], s["responses"]
    else:
        m = re.search(r"\((\d+) requests, (\d+) responses\)", text)
        dreq, dresp = m.group(1), m.group(2)
        k = re.search(r"(\d+) dropped by the kernel, (\d+) dropped by the interface", text)
        drops = int(k.group(1)) + int(k.group(2))
    rss = re.search(r"rss (\d+)", open(out + ".time").read()).group(1)
print(mode, f"{rps:.0f}", drops, dreq, dresp, creq, rss)
EOF
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $CONNS connections, ${DURATION}s, $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
	for m in $MODES; do
		one "$m" "$r" >>"$tmp/results" || exit 1
		tail -n1 "$tmp/results" | sed "s/^/round $r: /"
	done
done
echo
echo "| capture running during the load | client requests/s (median of $ROUNDS) | vs tcpdump | kernel drops (all rounds) | decoded of the client's requests, responses (median round) | peak RSS |"
echo "|---|---:|---:|---:|---|---:|"
/usr/bin/python3 - "$tmp/results" "$MODES" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ref = None
for mode in sys.argv[2].split():
    rs = sorted((r for r in rows if r[0] == mode), key=lambda r: float(r[1]))
    med = rs[len(rs) // 2]
    rps = float(med[1])
    if mode == "tcpdump":
        ref = rps
for mode in sys.argv[2].split():
    rs = sorted((r for r in rows if r[0] == mode), key=lambda r: float(r[1]))
    med = rs[len(rs) // 2]
    rps = float(med[1])
    name = {"none": "none", "tcpdump": "`tcpdump -i lo -w /dev/null`",
            "analyze-q": "`jmsg analyze -i lo -q`", "analyze": "`jmsg analyze -i lo` (text)",
            "json": "`jmsg analyze -i lo --json`",
            "old-q": "`jmsg analyze -i lo -q --immediate -B 32m`"}[mode]
    vs = f"{rps / ref:.0%}" if ref else ""
    drops = "" if mode == "none" else str(sum(int(r[2]) for r in rs if r[2].isdigit()))
    dec = f"{med[3]} of {med[5]}, {med[4]}" if med[3] != "-" else ""
    rss = f"{int(med[6]) // 1024} MiB" if med[6] != "-" else ""
    print(f"| {name} | {rps:,.0f} | {vs} | {drops} | {dec} | {rss} |")
EOF
