#!/usr/bin/env bash
# No false stall: a busy but healthy keep-alive load (jmsg client --load at
# full speed for 3 s, 20 connections) watched live by jmsg analyze with the
# kernel view on must give messages and no stall event.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
tmpdir tmp

SERVER_TIMEOUT=60 start_server s -q
port=$s_port

# timeout 45: a watchdog, not a timing assertion
timeout 45 "$JMSG" analyze -i lo --port "$port" --json -q "tcp port $port" \
	> "$tmp/live.jsonl" 2> "$tmp/analyze.err" &
apid=$!
pids+=($apid)
capture_started "$tmp/analyze.err" $apid "analyzer"
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
