#!/usr/bin/env bash
# Open-loop load (jmsg client --load --rate R): requests go out on a fixed
# schedule, R per second in all, whatever the server does, and each
# request's latency runs from when it was due.  Checked against a real
# jmsg server on loopback:
#   - --rate 200 --duration 2 sends 400 requests spread over 2 s (a closed
#     loop sends tens of thousands in 2 s, or all 400 at once);
#   - a server stopped (SIGSTOP) for 0.6 s pushes p99 and max past 0.45 s
#     and 0.55 s, while the same run measured from each actual send, and a
#     run without the stall, stay far below (coordinated omission);
#   - requests that fell behind are all sent afterwards (catch-up);
#   - the in-flight limit holds against a server that never reads.
set -u
not_run=
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
FAIL_LOGS='*.err'

# field NAME JSON: the first "NAME": number; sub OBJ NAME JSON: inside "OBJ": {...}
field() { grep -o "\"$1\":[0-9.]*" <<<"$2" | head -n 1 | cut -d: -f2; }
sub() { grep -o "\"$1\":{[^}]*}" <<<"$3" | grep -o "\"$2\":[0-9.]*" | cut -d: -f2; }
# ok EXPR VAR=VALUE...: an awk condition on numbers
ok() { local e=$1; shift; local a=(); for v in "$@"; do a+=(-v "$v"); done; awk "${a[@]}" "BEGIN { exit !($e) }"; }
sends() { grep -c '^Sending ' "$T/s.out"; }
now_ms() { date +%s%3N; }

# ---- usage
for args in "--rate 100" "--load --rate 0" "--load --rate 10000001" "--flood --rate 5"; do
	# shellcheck disable=SC2086
	timeout 10 "$JMSG" client $args >"$T/u.out" 2>"$T/u.err"
	rc=$?
	[ $rc -eq 2 ] || fail "'jmsg client $args' exited $rc, want 2 (usage)"
done
"$JMSG" client --help | grep -q -- "--rate R" || fail "--help does not mention --rate"
"$JMSG" client --help | grep -q "in flight on each connection" || fail "--help does not name the in-flight limit"

start_server s
sport=$s_port

# ---- the rate is the schedule's: 400 requests over 2 s, not a burst
s0=$(sends)
t0=$(now_ms)
timeout 30 "$JMSG" client --port "$sport" --load --rate 200 --duration 2 --conns 4 --json >"$T/r.json" 2>"$T/r.err" &
cpid=$!
pids+=($cpid)
sleep 1
mid=$(( $(sends) - s0 ))
wait $cpid
rc=$?
t1=$(now_ms)
out=$(cat "$T/r.json")
[ $rc -eq 0 ] || fail "--rate 200 --duration 2 exited $rc: $out"
n=$(field requests "$out")
[ "$n" -eq 400 ] || fail "--rate 200 --duration 2: $n requests, want 400: $out"
[ "$(field errors "$out")" -eq 0 ] || fail "--rate 200: errors: $out"
[ "$(field scheduled "$out")" -eq 400 ] && [ "$(field sent "$out")" -eq 400 ] || fail "--rate 200: schedule: $out"
[ $(( $(sends) - s0 )) -eq 400 ] || fail "--rate 200: the server answered $(( $(sends) - s0 )), want 400"
# spread over the 2 s: about half done after 1 s, and the run lasted the
# schedule's 2 s (not only to the last answer, 5 ms before its end)
ok "m >= 100 && m <= 320" m="$mid" || fail "--rate 200: $mid of 400 answered after 1 s, want about 200"
ok "s >= 2 && s <= 4" s="$(field seconds "$out")" || fail "--rate 200: ran $(field seconds "$out") s, want 2: $out"
ok "w >= 2000" w=$((t1 - t0)) || fail "--rate 200: finished after $((t1 - t0)) ms"
ok "r >= 100 && r <= 200" r="$(field requests_per_sec "$out")" || fail "--rate 200: $(field requests_per_sec "$out") requests/s"
for k in min mean; do
	[ -n "$(sub latency_us "$k" "$out")" ] || fail "--json has no latency $k: $out"
done
ok "a > 0 && a <= m && m <= x" a="$(sub latency_us min "$out")" m="$(sub latency_us mean "$out")" \
	x="$(sub latency_us max "$out")" || fail "min/mean/max out of order: $out"
echo "ok: --rate 200 --duration 2: 400 requests in $(field seconds "$out") s, $mid after 1 s"

# the text report: the schedule line, min and mean, the from-send line
txt=$(timeout 30 "$JMSG" client --port "$sport" --load --rate 100 --requests 20 --conns 2) || fail "text report failed"
grep -q "^schedule:  100 requests/s open loop, 20 of 20 sent" <<<"$txt" || fail "text report: no schedule line: $txt"
grep -q "^latency:   p50 .* max .* us  min .* us  mean .* us$" <<<"$txt" || fail "text report: latency line: $txt"
grep -q "^from send: p50 " <<<"$txt" || fail "text report: no from-send line: $txt"
grep -q "^requests:  20 in " <<<"$txt" || fail "text report: requests line: $txt"

# --timeout counts only waits for an answer, not the gaps between due times
out=$(timeout 30 "$JMSG" client --port "$sport" --load --rate 2 --requests 3 --conns 1 --timeout 0.3 --json) ||
	fail "--rate 2 --timeout 0.3 exited $? though every answer came at once: $out"
[ "$(field requests "$out")" -eq 3 ] || fail "--rate 2 --requests 3: $out"

# ---- coordinated omission: a 0.6 s stall, and the same run without it
run_stall() { # STALL(0|1) OUTFILE
	timeout 30 "$JMSG" client --port "$sport" --load --rate 200 --duration 2.5 --conns 2 --json >"$2" 2>"$2.err" &
	local c=$!
	pids+=($c)
	if [ "$1" = 1 ]; then
		sleep 0.8
		kill -STOP "$spid"
		sleep 0.6
		kill -CONT "$spid"
	fi
	wait $c
}
spid=$s_proc
run_stall 0 "$T/calm.json" || fail "calm run exited $?: $(cat "$T/calm.json")"
calm=$(cat "$T/calm.json")
[ "$(field requests "$calm")" -eq 500 ] || fail "calm run: $(field requests "$calm") requests, want 500"
ok "p < 300000 && x < 500000" p="$(sub latency_us p99 "$calm")" x="$(sub latency_us max "$calm")" ||
	fail "calm run: p99 $(sub latency_us p99 "$calm") us, max $(sub latency_us max "$calm") us without a stall"
s0=$(sends)
run_stall 1 "$T/stall.json" || fail "stall run exited $?: $(cat "$T/stall.json")"
st=$(cat "$T/stall.json")
# catch-up: every request the stall held back was sent and answered
[ "$(field requests "$st")" -eq 500 ] && [ "$(field errors "$st")" -eq 0 ] || fail "stall run: requests/errors: $st"
[ $(( $(sends) - s0 )) -eq 500 ] || fail "stall run: the server answered $(( $(sends) - s0 )), want 500"
ok "p >= 450000 && x >= 550000" p="$(sub latency_us p99 "$st")" x="$(sub latency_us max "$st")" ||
	fail "stall run: p99 $(sub latency_us p99 "$st") us, max $(sub latency_us max "$st") us: the 0.6 s stall does not show: $st"
# the same requests timed from when they were written miss the stall: the
# ones that waited in the client were written after it
ok "p < 300000" p="$(sub from_send_us p99 "$st")" ||
	fail "stall run: p99 from the send $(sub from_send_us p99 "$st") us, want well under the stall: $st"
ok "b >= 400000" b="$(field behind_max_us "$st")" || fail "stall run: nothing was sent late: $st"
echo "ok: 0.6 s stall: p99 $(sub latency_us p99 "$st") us, max $(sub latency_us max "$st") us" \
	"(from the send: p99 $(sub from_send_us p99 "$st") us; calm: p99 $(sub latency_us p99 "$calm") us)"

# ---- one-shot: a connection per request, at the schedule's pace
a0=$(grep -c '^Accepted connection' "$T/s.out")
out=$(timeout 30 "$JMSG" client --port "$sport" --load --rate 100 --duration 1 --conns 4 --one-shot --json) ||
	fail "one-shot --rate exited $?: $out"
[ "$(field requests "$out")" -eq 100 ] && [ "$(field connections "$out")" -eq 100 ] || fail "one-shot --rate: $out"
[ $(( $(grep -c '^Accepted connection' "$T/s.out") - a0 )) -eq 100 ] || fail "one-shot --rate: server accepted a different number"
ok "s >= 1" s="$(field seconds "$out")" || fail "one-shot --rate 100 --duration 1 ran $(field seconds "$out") s"

# pipelined keep-alive
out=$(timeout 30 "$JMSG" client --port "$sport" --load --rate 500 --duration 1 --conns 2 --pipeline 8 --json) ||
	fail "pipelined --rate exited $?: $out"
[ "$(field requests "$out")" -eq 500 ] || fail "pipelined --rate: $out"

# ---- the in-flight limit: a server that never reads gets conns x pipeline
# requests and no more; the rest wait in the client until --timeout
start_server nr --no-read
port=$nr_port
out=$(timeout 30 "$JMSG" client --port "$port" --load --rate 1000 --duration 2 --conns 3 --pipeline 4 \
	--timeout 0.7 --json 2>"$T/nr.err")
rc=$?
[ $rc -eq 4 ] || fail "--rate against --no-read exited $rc, want 4 (timeout): $out"
[ "$(field sent "$out")" -eq 12 ] || fail "--rate against --no-read: sent $(field sent "$out"), want 12 (3 x 4): $out"
ok "b > 0" b="$(field bytes_sent "$out")" || fail "--no-read: nothing written"
grep -q "no response" "$T/nr.err" || fail "--no-read: no timeout message"

# ---- no leaks or undefined behaviour in the open loop
if have_asan; then
	export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
	for args in "--conns 3 --pipeline 4" "--conns 3 --one-shot --json"; do
		# shellcheck disable=SC2086
		timeout 60 "$JMSG_ASAN" client --port "$sport" --load --rate 300 --duration 0.5 $args \
			>"$T/asan.out" 2>"$T/asan.err" || fail "ASan client --rate $args exited $?"
		! sanitizer_report "$T/asan.err" || fail "ASan client --rate $args: sanitizer report"
	done
else
	not_run="no ASan build (JMSG_ASAN): the open loop was not checked under ASan"
fi
echo "ok: open-loop load: schedule, catch-up, coordinated omission, in-flight limit"
[ -z "$not_run" ] || skip "$not_run"
