#!/usr/bin/env bash
# jmsg's main job on loopback, start to finish: the reference server on an
# ephemeral port, the analyzer capturing on lo, the tutorial's requests from
# the reference client (search, emoji search, binary) and a pipelined
# keep-alive burst, then the analyzer's decoded conversation and summary.
# Capturing needs root (CAP_NET_RAW); without it the analyzer is skipped and
# the script says so.  Everything it starts, it stops.
set -u
cd "$(dirname "$0")/.."
JMSG=${JMSG:-build/jmsg}
[ -x "$JMSG" ] || { echo "demo: $JMSG is not built; run 'make' first" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$JMSG" server --port 0 --port-file "$tmp/port" -q &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "demo: the server did not start" >&2; exit 1; }
port=$(cat "$tmp/port")
echo "== jmsg server listening on 127.0.0.1:$port"

capture=0
if [ "$(id -u)" = 0 ]; then
	"$JMSG" analyze -i lo --port "$port" "tcp port $port" > "$tmp/analyze.out" 2> "$tmp/analyze.err" &
	apid=$!
	pids+=($apid)
	for _ in $(seq 50); do grep -q listening "$tmp/analyze.err" 2>/dev/null && break; sleep 0.1; done
	capture=1
	echo "== jmsg analyze capturing on lo, filter 'tcp port $port'"
else
	echo "== not root: skipping the live capture (it needs CAP_NET_RAW)"
fi

echo "== jmsg client: the tutorial's requests"
"$JMSG" client --port "$port" search morpheus
"$JMSG" client --port "$port" search 🐶
"$JMSG" client --port "$port" binary ☺
echo "== jmsg client --load: 8 requests, 2 keep-alive connections, 4 pipelined"
"$JMSG" client --port "$port" --load --conns 2 --requests 8 --pipeline 4 --keep-alive |
	sed -n '1,3p'

if [ $capture = 1 ]; then
	sleep 0.5
	kill -INT "$apid"
	wait "$apid" 2>/dev/null
	echo "== jmsg analyze: what was on the wire"
	cat "$tmp/analyze.out"
	# anything the analyzer said besides its start line (nothing, normally)
	grep -v listening "$tmp/analyze.err" || true
fi
