#!/usr/bin/env bash
# No false stall: a busy but healthy keep-alive load (jmsg client --load at
# full speed for 3 s, 20 connections) watched live by jmsg analyze with the
# kernel view on must give messages and no stall event.
set -u
cd "$(dirname "$0")/../.."
: "${JMSG:=build/jmsg}"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
. tests/lib.sh

timeout 60 "$JMSG" server --port 0 --port-file "$tmp/port" -q > "$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || fail "server did not start: $(cat "$tmp/server.log")"
port=$(cat "$tmp/port")

"$JMSG" analyze -i lo --port "$port" --json -q "tcp port $port" \
	> "$tmp/live.jsonl" 2> "$tmp/analyze.err" &
apid=$!
pids+=($apid)
( sleep 45; kill -TERM $apid 2>/dev/null ) &   # a watchdog, not a timing assertion
pids+=($!)
for _ in $(seq 100); do grep -q 'listening on lo' "$tmp/analyze.err" && break; sleep 0.05; done
if ! grep -q 'listening on lo' "$tmp/analyze.err"; then
	if cap_denied "$tmp/analyze.err"; then
		echo "skip: no permission to capture on lo: $(cat "$tmp/analyze.err")"; exit 77
	fi
	fail "analyzer did not start: $(cat "$tmp/analyze.err")"
fi
timeout 30 "$JMSG" client --port "$port" --load --conns 20 --duration 3 --json > "$tmp/load.json" 2>&1 \
	|| fail "load failed: $(tail -n 3 "$tmp/load.json")"
sleep 0.5
kill -INT $apid
wait $apid; rc=$?
[ $rc -eq 0 ] || fail "analyzer exited $rc: $(cat "$tmp/analyze.err")"
python3 - "$tmp/live.jsonl" <<'PY' || fail "false stall or no traffic: $(grep -m3 stall "$tmp/live.jsonl")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
summary = [e for e in ev if e["event"] == "summary"][-1]
stalls = [e for e in ev if e["event"] == "stall"]
assert summary["messages"] > 1000, summary
assert not stalls, stalls[:3]
print("healthy load: %d messages, no stall" % summary["messages"])
PY
echo "no false stall: ok"
