#!/usr/bin/env bash
# The tutorial's stall experiment, live on lo: `jmsg server --no-read` and
# `jmsg client --flood` while `jmsg analyze -i lo` watches the port.  The
# analyzer must report one stall on the server's receive side in which the
# wire view saw the zero window and the kernel view saw the server
# socket's Recv-Q and the client socket's Send-Q above zero.  `jmsg
# sockets` must show the same queues while it lasts, and --plot must give
# valid XML.  Bounded: the flood runs 2 s, every process has a timeout.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
tmpdir tmp

SERVER_TIMEOUT=60 start_server s --no-read -q
port=$s_port

# timeout 45: a watchdog, not a timing assertion
timeout 45 "$JMSG" analyze -i lo --port "$port" --json --plot "$tmp/live.svg" \
	"tcp port $port" > "$tmp/live.jsonl" 2> "$tmp/analyze.err" &
apid=$!
pids+=($apid)
capture_started "$tmp/analyze.err" $apid "analyzer"

timeout 20 "$JMSG" client --port "$port" --flood --duration 2 > "$tmp/client.log" 2>&1 &
cpid=$!
pids+=($cpid)
sleep 1
"$JMSG" sockets --port "$port" --json > "$tmp/sockets.jsonl" || fail "jmsg sockets exited $?"
wait $cpid || fail "flood client failed: $(tail -n 3 "$tmp/client.log")"
sleep 0.5
kill -INT $apid
wait $apid; rc=$?
[ $rc -eq 0 ] || fail "analyzer exited $rc: $(cat "$tmp/analyze.err")"

python3 - "$tmp/sockets.jsonl" "$port" <<'PY' || fail "jmsg sockets did not show the stuck queues: $(cat "$tmp/sockets.jsonl")"
import json, sys
port = int(sys.argv[2])
rows = [json.loads(l) for l in open(sys.argv[1])]
est = [r for r in rows if r["state"] == "ESTAB"]
srv = [r for r in est if r["local"].endswith(":%d" % port)]
cli = [r for r in est if r["foreign"].endswith(":%d" % port)]
assert srv and srv[0]["recvq"] > 0, srv
assert cli and cli[0]["sendq"] > 0, cli
print("sockets: server Recv-Q %d, client Send-Q %d" % (srv[0]["recvq"], cli[0]["sendq"]))
PY
python3 - "$tmp/live.jsonl" "$port" <<'PY' || fail "no joint wire+kernel stall: $(grep stall "$tmp/live.jsonl")"
import json, sys
port = sys.argv[2]
ev = [json.loads(l) for l in open(sys.argv[1])]
st = [e for e in ev if e["event"] == "stall"]
assert len(st) == 1, st
s = st[0]
assert s["side"] == "server" and s["receiver"].endswith(":" + port), s
assert s["duration_ms"] >= 200, s
w, k = s["wire"], s["kernel"]
assert w and w["zero_windows"] > 0 and w["zero_window_probes"] > 0, s
assert k and k["recvq"]["peak"] > 0 and k["sendq"]["peak"] > 0, s
assert k["receiver_process"] and k["receiver_process"]["comm"] == "jmsg", s
print("live stall: %.0f ms, %d zero windows, %d probes, kernel Recv-Q peak %d, Send-Q peak %d"
      % (s["duration_ms"], w["zero_windows"], w["zero_window_probes"], k["recvq"]["peak"], k["sendq"]["peak"]))
PY
xmllint --noout "$tmp/live.svg" || fail "plot is not valid XML"
grep -q 'Recv-Q of the server socket' "$tmp/live.svg" || fail "plot lacks the kernel series"
echo "live stall: ok"
