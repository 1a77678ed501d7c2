#!/usr/bin/env bash
# Soak: nothing is lost, nothing grows.  On loopback, for SOAK_SECONDS:
#
#   jmsg server --port 0
#   jmsg analyze -i lo --json --port P tcp port P
#   jmsg client --port P --load --keep-alive --rate SOAK_RATE --duration SOAK_SECONDS
#               --conns SOAK_CONNS --json
#
# then checks, and exits 1 printing the counts if any fails:
#   - the client: every scheduled request sent and answered, no errors;
#   - the analyzer decoded exactly the client's requests (its "sent") and
#     responses (its answered "requests" + "server_errors"); the client
#     awaits every request it scheduled, and the analyzer is stopped only
#     after it has seen every connection end, so nothing is in flight and
#     the counts must be equal, not close;
#   - every response is paired: each response message event has latency_ms,
#     and there are as many message events as the summary counts;
#   - 0 protocol problems, no error events, 0 kernel drops (kernel_dropped +
#     if_dropped) and no capture_drops event;
#   - the server's RSS (VmRSS, sampled every second while the load runs) is
#     flat after a warm-up (the first 20% of the run, at least 1 s): max - min
#     under SOAK_RSS_KB (default 1024 KiB).  Why 1 MiB: at the warm-up's end
#     every connection is open and its buffers have their working size; in
#     steady state the server frees what it allocates for a request in the
#     same turn of its loop and glibc hands the same chunks back, so a
#     healthy server's RSS does not move (0 KiB over 24 samples of a 30 s
#     run at 2000/s).  1 MiB leaves room for one-off growth (a buffer
#     doubling, a first-touched page of code) yet any malloc a request that
#     is never freed fails the 60 s run: glibc's smallest chunk is 32 bytes,
#     and 32 bytes x 2000/s x the 48 s measured is 3 MiB.  The 3 s form
#     measures 2 s and catches only leaks of 256 bytes a request or more.
#   - the analyzer's RSS likewise, after the same warm-up, under
#     SOAK_ANALYZER_RSS_KB (default 2048 KiB).  Its kernel ring (128 MiB)
#     is mapped at start, before the warm-up ends; then it moves by a few
#     pages (32 KiB in the same 30 s run) as stream, reassembly and pairing
#     buffers settle, and it handles two messages a request, so the same
#     32-byte leak a message gives 6 MiB in 60 s.
#
# Environment: JMSG (default build/jmsg), SOAK_SECONDS (60), SOAK_RATE
# (2000), SOAK_CONNS (50), SOAK_RSS_KB, SOAK_ANALYZER_RSS_KB.  To watch the
# checks fail: SOAK_ANALYZE_ARGS="-B 64k -s 256" with SOAK_STOP_ANALYZER=S
# stops (SIGSTOP) the analyzer for S seconds in the middle of the run, so
# the kernel drops packets.
#
# Without permission to capture on lo it exits 77 (skip) with the reason.
# Any other failure to start the capture is a failure (exit 1).  Every
# process it starts runs under timeout(1) and is killed when it exits.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${JMSG:=build/jmsg}" "${SOAK_SECONDS:=60}" "${SOAK_RATE:=2000}" "${SOAK_CONNS:=50}"
: "${SOAK_RSS_KB:=1024}" "${SOAK_ANALYZER_RSS_KB:=2048}" "${SOAK_ANALYZE_ARGS:=}" "${SOAK_STOP_ANALYZER:=0}"
S=$SOAK_SECONDS R=$SOAK_RATE

. tests/lib.sh
MSG_PREFIX="soak: " FAIL_LOGS="s.err analyze.err client.err"
need python3
[ -x "$JMSG" ] || fail "$JMSG is missing (make first)"
case $S in ''|*[!0-9]*|0) echo "soak: FAIL: SOAK_SECONDS must be a whole number of seconds > 0"; exit 2;; esac
case $R in ''|*[!0-9]*|0) echo "soak: FAIL: SOAK_RATE must be a whole number > 0"; exit 2;; esac

tmpdir tmp
trap 'exit 130' INT TERM
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

limit=$((2 * S + 120)) # no process outlives a run that went badly wrong

SERVER_TIMEOUT=$limit start_server s -q
port=$s_port spid=$s_proc

# shellcheck disable=SC2086
timeout "$limit" "$JMSG" analyze -i lo --json --port "$port" $SOAK_ANALYZE_ARGS tcp port "$port" \
	>"$tmp/analyze.jsonl" 2>"$tmp/analyze.err" &
atpid=$!
pids+=("$atpid")
capture_started "$tmp/analyze.err" $atpid "the capture"
apid=$(child $atpid) || fail "analyzer did not start"

echo "soak: ${S} s at $R requests/s on $SOAK_CONNS keep-alive connections, server :$port (pid $spid)," \
	"analyzer pid $apid; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

timeout $((2 * S + 60)) "$JMSG" client --port "$port" --load --keep-alive --rate "$R" --duration "$S" \
	--conns "$SOAK_CONNS" --json >"$tmp/client.json" 2>"$tmp/client.err" &
ctpid=$!
pids+=("$ctpid")

pids+=("$apid") # continued, if stopped, and killed at exit
if [ "$SOAK_STOP_ANALYZER" != 0 ]; then
	(
		sleep "$(awk -v s="$S" 'BEGIN { print s / 2 }')"
		echo "soak: stopping the analyzer for $SOAK_STOP_ANALYZER s (SOAK_STOP_ANALYZER)"
		kill -STOP "$apid"; sleep "$SOAK_STOP_ANALYZER"; kill -CONT "$apid"
	) &
	pids+=("$!")
fi

# RSS every second, on the second, while the load runs:
# "milliseconds server_kb analyzer_kb"
t0=${EPOCHREALTIME/./}
k=0
: >"$tmp/rss"
while kill -0 $ctpid 2>/dev/null; do
	now=${EPOCHREALTIME/./}
	srss=$(rss_kb "$spid") arss=$(rss_kb "$apid")
	printf '%s %s %s\n' "$(( (now - t0) / 1000 ))" "${srss:--}" "${arss:--}" >>"$tmp/rss"
	k=$((k + 1))
	us=$(( t0 + k * 1000000 - ${EPOCHREALTIME/./} ))
	[ $us -gt 0 ] && sleep "$((us / 1000000)).$(printf '%06d' $((us % 1000000)))"
done
wait $ctpid
crc=$?
# CPU seconds (user + system) the server and the analyzer used so far
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null; }
echo "cpu:      server $(cpu "$spid") s, analyzer $(cpu "$apid") s (user + system) for the ${S} s load"
[ $crc -eq 0 ] || fail "the load client exited $crc: $(cat "$tmp/client.json")"

# Settle: the client has every answer, so every connection is closing; wait
# (at most 10 s) until the analyzer has printed each one's end, then stop it.
conns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["connections"])' "$tmp/client.json") ||
	fail "the client's report is not JSON: $(cat "$tmp/client.json")"
for _ in $(seq 50); do
	[ "$(grep -c '"phase":"end"' "$tmp/analyze.jsonl")" -ge "$conns" ] && break
	kill -0 $atpid 2>/dev/null || break
	sleep 0.2
done
sleep 0.2
kill -INT $atpid
for _ in $(seq 150); do kill -0 $atpid 2>/dev/null || break; sleep 0.2; done
kill -0 $atpid 2>/dev/null && fail "the analyzer did not exit within 30 s of SIGINT"
wait $atpid
arc=$?
[ $arc -eq 0 ] || fail "the analyzer exited $arc"

python3 - "$tmp" "$S" "$R" "$SOAK_RSS_KB" "$SOAK_ANALYZER_RSS_KB" <<'EOF'
import json, sys
tmp, secs, rate, bound, abound = sys.argv[1], *map(int, sys.argv[2:6])
bad = []

cl = json.load(open(f"{tmp}/client.json"))
sent, answered = cl["sent"], cl["requests"] + cl["server_errors"]
print(f"client:   scheduled {cl['scheduled']}, sent {sent}, responses {answered} "
      f"(errors {cl['errors']}), {cl['requests_per_sec']:.0f} requests/s over {cl['seconds']:.1f} s, "
      f"latency p99 {cl['latency_us']['p99']:.0f} us, max {cl['latency_us']['max']:.0f} us, "
      f"{cl['connections']} connections")
if not (secs * rate == cl["scheduled"] == sent == answered == cl["requests"]) or cl["errors"]:
    bad.append(f"the client: {secs * rate} due, scheduled {cl['scheduled']}, sent {sent}, answered {answered}, "
               f"errors {cl['errors']}")

summary = None
req_ev = resp_ev = paired = 0
drops_ev, errors_ev = [], []
with open(f"{tmp}/analyze.jsonl") as f:
    for n, line in enumerate(f, 1):
        try:
            e = json.loads(line)
        except ValueError:
            bad.append(f"analyzer output line {n} is not JSON: {line[:200]!r}")
            continue
        k = e.get("event")
        if k == "message":
            if e["dir"] == "request":
                req_ev += 1
            else:
                resp_ev += 1
                paired += "latency_ms" in e
        elif k == "capture_drops":
            drops_ev.append(e)
        elif k == "error":
            errors_ev.append(e)
        elif k == "summary":
            summary = e
if summary is None:
    bad.append("the analyzer printed no summary")
    summary = {"requests": -1, "responses": -1, "problems": -1, "kernel_dropped": -1,
               "if_dropped": -1, "by_kind": {}, "kernel_received": -1, "streams": -1}
kdrops = summary["kernel_dropped"] + summary["if_dropped"]
print(f"analyzer: requests {summary['requests']}, responses {summary['responses']}, "
      f"message events {req_ev} requests + {resp_ev} responses, {paired} responses paired; "
      f"{summary['streams']} streams; problems {summary['problems']} {summary['by_kind']}; "
      f"kernel drops {summary['kernel_dropped']} + interface {summary['if_dropped']} "
      f"of {summary['kernel_received']}; {len(drops_ev)} capture_drops events")
if summary["requests"] != sent or summary["responses"] != answered:
    bad.append(f"counts differ: analyzer {summary['requests']} requests, {summary['responses']} "
               f"responses; client sent {sent}, got {answered} responses")
if req_ev != summary["requests"] or resp_ev != summary["responses"]:
    bad.append(f"message events ({req_ev} requests, {resp_ev} responses) differ from the summary")
if paired != resp_ev:
    bad.append(f"{resp_ev - paired} of {resp_ev} responses not paired (no latency_ms)")
if summary["problems"] or errors_ev:
    bad.append(f"protocol problems: {summary['problems']} {summary['by_kind']}, "
               f"{len(errors_ev)} error events, first: {errors_ev[:1]}")
if kdrops or drops_ev:
    bad.append(f"kernel drops: {summary['kernel_dropped']} + {summary['if_dropped']}, "
               f"{len(drops_ev)} capture_drops events, last: {drops_ev[-1:]}")

# RSS: the samples after the warm-up
warm = max(1.0, 0.2 * secs)
rows = []
for line in open(f"{tmp}/rss"):
    p = line.split()
    if "-" in p:
        bad.append(f"the {'server' if p[1] == '-' else 'analyzer'} was gone {int(p[0]) / 1000:.1f} s into the load")
    else:
        rows.append((int(p[0]) / 1000, int(p[1]), int(p[2])))
after = [r for r in rows if r[0] >= warm]
print(f"rss:      {len(rows)} samples, {len(after)} after the {warm:g} s warm-up")
if len(after) < 2:
    bad.append(f"only {len(after)} RSS samples after the warm-up: {rows}")
else:
    for name, i, b in (("server", 1, bound), ("analyzer", 2, abound)):
        vals = [r[i] for r in after]
        lo, hi = min(vals), max(vals)
        print(f"          {name}: {rows[0][i]} KiB at the start; after the warm-up min {lo} KiB, "
              f"max {hi} KiB, max - min {hi - lo} KiB (bound {b} KiB), last {vals[-1]} KiB")
        if hi - lo >= b:
            bad.append(f"{name} RSS grew: max - min {hi - lo} KiB >= {b} KiB after the warm-up; "
                       "samples (s:KiB): " + " ".join(f"{r[0]:.0f}:{r[i]}" for r in rows))
for b in bad:
    print("soak: FAIL:", b)
sys.exit(1 if bad else 0)
EOF
rc=$?
[ $rc -eq 0 ] || exit 1
echo "soak: PASS: ${S} s, nothing lost, nothing grew"
