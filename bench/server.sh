#!/usr/bin/env bash
# Server benchmark: jmsg server against redis-server on the same machine in
# the same run, each driven by its own load generator over loopback.
#
#   bench/server.sh                      (BUILD=build; make it first)
#   BUILD=build-x ROUNDS=3 bench/server.sh
#
#   1. 50 connections, one request in flight each:
#        redis-benchmark -t ping -c 50          vs  jmsg client --load --conns 50
#   2. the same with 16 pipelined requests per connection:
#        redis-benchmark -t ping -c 50 -P 16    vs  jmsg client --load --pipeline 16
#   3. one-shot, a connection per request as in the tutorial:
#        jmsg client --load --one-shot --conns 50   (connections per second)
#
# Each measurement runs ROUNDS times, alternating redis and jmsg so drift in
# the machine's load hits both; the median round is kept.  redis-benchmark
# runs PING twice (inline and multi-bulk); the better of the two is the
# reference.  Requests are keep-alive `search morpheus` (the answer cache
# makes repeated searches cheap, as a real client's would be).  The load
# generator and the server share the CPU, as redis-benchmark and
# redis-server do.  Prints a Markdown section for bench/RESULTS.md; with
# WRITE=1 it replaces the "## Server" section there.
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${ROUNDS:=3}" "${N1:=300000}" "${N16:=2000000}" "${NONE:=60000}" "${WRITE:=0}"
JMSG=${JMSG:-$BUILD/jmsg}
[ -x "$JMSG" ] || { echo "bench/server.sh: $JMSG is missing; run make BUILD=$BUILD first" >&2; exit 1; }
for t in redis-server redis-benchmark redis-cli; do
	command -v $t >/dev/null || { echo "bench/server.sh: $t is missing (make deps)" >&2; exit 1; }
done
tmp=$(mktemp -d)
rpid="" jpid=""
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	[ -n "$jpid" ] && kill "$jpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# redis has no "port 0": pick a free port
for _ in $(seq 50); do
	rport=$((20000 + RANDOM % 40000))
	[ -z "$(ss -Htln "sport = :$rport" 2>/dev/null)" ] && break
done
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
	>"$tmp/redis.log" 2>&1 &
rpid=$!
"$JMSG" server -q --port 0 --port-file "$tmp/jport" >"$tmp/jmsg.log" 2>&1 &
jpid=$!
for _ in $(seq 100); do
	redis-cli -p "$rport" ping >/dev/null 2>&1 && [ -s "$tmp/jport" ] && break
	sleep 0.1
done
redis-cli -p "$rport" ping >/dev/null 2>&1 || { echo "bench/server.sh: redis-server did not start" >&2; exit 1; }
[ -s "$tmp/jport" ] || { echo "bench/server.sh: jmsg server did not start" >&2; exit 1; }
jport=$(cat "$tmp/jport")

# CPU seconds (user + system) a process has used so far
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$1/stat"; }
# redis N [ARGS]: "rps p99_ms server_cpu_us_per_request" of the better PING
# test (redis-benchmark runs two, so the server answers 2N)
redis() {
	local c0 c1 out
	c0=$(cpu "$rpid")
	out=$(redis-benchmark -p "$rport" -t ping -c 50 -n "$1" "${@:2}" --csv 2>/dev/null |
		awk -F'"' '/PING/ { if ($4 + 0 > best) { best = $4 + 0; p99 = $14 } } END { printf "%.0f %s", best, p99 }')
	c1=$(cpu "$rpid")
	echo "$out $(awk -v a="$c0" -v b="$c1" -v n="$1" 'BEGIN { printf "%.2f", (b - a) * 1e6 / (2 * n) }')"
}
# jmsg N ARGS: "rps p99_ms server_cpu_us_per_request errors"
jmsg() {
	local c0 c1 out r p e
	c0=$(cpu "$jpid")
	out=$("$JMSG" client --port "$jport" --load --json --requests "$@" |
		awk '{ match($0, /"requests_per_sec":[0-9.]+/); r = substr($0, RSTART + 19, RLENGTH - 19);
		       match($0, /"p99":[0-9.]+/); p = substr($0, RSTART + 6, RLENGTH - 6);
		       match($0, /"errors":[0-9]+/); e = substr($0, RSTART + 9, RLENGTH - 9);
		       printf "%.0f %.3f %d", r, p / 1000, e }')
	c1=$(cpu "$jpid")
	read -r r p e <<<"$out"
	echo "$r $p $(awk -v a="$c0" -v b="$c1" -v n="$1" 'BEGIN { printf "%.2f", (b - a) * 1e6 / n }') $e"
}
median() { sort -n -k1,1 | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }

for r in $(seq "$ROUNDS"); do
	redis "$N1" >>"$tmp/r1"
	jmsg "$N1" --conns 50 >>"$tmp/j1"
	redis "$N16" -P 16 >>"$tmp/r16"
	jmsg "$N16" --conns 50 --pipeline 16 >>"$tmp/j16"
	jmsg "$NONE" --conns 50 --one-shot >>"$tmp/jone"
	echo "round $r: redis $(tail -n 1 "$tmp/r1") / jmsg $(tail -n 1 "$tmp/j1") | -P16 redis $(tail -n 1 "$tmp/r16") / jmsg $(tail -n 1 "$tmp/j16") | one-shot $(tail -n 1 "$tmp/jone")" >&2
	echo "  (each: requests/s, p99 ms, server CPU us per request[, errors])" >&2
done
read -r r1 r1p r1c <<<"$(median <"$tmp/r1")"
read -r j1 j1p j1c _ <<<"$(median <"$tmp/j1")"
read -r r16 r16p r16c <<<"$(median <"$tmp/r16")"
read -r j16 j16p j16c _ <<<"$(median <"$tmp/j16")"
read -r jo jop joc _ <<<"$(median <"$tmp/jone")"
# the ratio is the median of each round's jmsg/redis, both measured
# seconds apart, so a busy spell on the machine hits both sides of it
ratio() { paste -d' ' "$1" "$2" | awk '{ print 100 * $4 / $1 }' | sort -n |
	awk '{ a[NR] = $1 } END { printf "%.0f%% (rounds: %.0f%% to %.0f%%)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }
errs=$(cat "$tmp"/j1 "$tmp"/j16 "$tmp"/jone | awk '{ s += $4 } END { print s + 0 }')
rounds=$(paste -d' ' "$tmp/r1" "$tmp/j1" "$tmp/r16" "$tmp/j16" "$tmp/jone" |
	awk '{ printf "| %d | %s | %s | %s | %s | %s |\n", NR, $1, $4, $8, $11, $15 }')

section=$(cat <<MD
## Server

\`bench/server.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),
$(redis-server --version | awk '{print $1, $2, $3}'), load average at the start $(cut -d' ' -f1-3 /proc/loadavg).
Loopback; the load generator and the server share the 2 cores, exactly as
redis-benchmark and redis-server do. Median of $ROUNDS alternating rounds
(the ratio: median of the rounds' ratios); the redis figure is the better of
PING_INLINE and PING_MBULK. jmsg requests are
\`search morpheus\`, keep-alive; errors over all jmsg runs: $errs.

| 50 connections | redis-server PING | jmsg server search | jmsg / redis |
|---|---|---|---|
| 1 in flight each: requests/s | $r1 | $j1 | $(ratio "$tmp/r1" "$tmp/j1") |
| 1 in flight each: p99 | $r1p ms | $j1p ms | |
| 16 pipelined each: requests/s | $r16 | $j16 | $(ratio "$tmp/r16" "$tmp/j16") |
| 16 pipelined each: p99 | $r16p ms | $j16p ms | |
| one-shot (connection per request): connections/s | | $jo | |
| 1 in flight each: server CPU per request | $r1c us | $j1c us | |
| 16 pipelined each: server CPU per request | $r16c us | $j16c us | |
| one-shot: p99 (connect to response) | | $jop ms | |
| one-shot: server CPU per connection | | $joc us | |

Server CPU is user + system time from /proc/PID/stat over the run, divided by
the requests answered: it does not depend on how busy the rest of the machine
is, which requests/s on a shared 2-core machine does.

Every round (requests/s; r = redis PING, j = jmsg search):

| round | r, 1 in flight | j, 1 in flight | r, -P 16 | j, --pipeline 16 | j, one-shot conn/s |
|---|---|---|---|---|---|
$rounds

Commands: \`redis-benchmark -t ping -c 50 -n $N1 [-P 16 -n $N16]\`;
\`jmsg client --load --conns 50 --requests $N1 [--pipeline 16 --requests $N16 | --one-shot --requests $NONE]\`
against \`jmsg server -q\`.
MD
)
echo "$section"
if [ "$WRITE" = 1 ]; then
	f=bench/RESULTS.md
	[ -f "$f" ] || printf '# Benchmark results\n\n' >"$f"
	# replace our section (from "## Server" to the next "## "), or append it
	awk -v sec="$section" '
		/^## Server$/ { skip = 1; print sec; print ""; done = 1; next }
		skip && /^## / { skip = 0 }
		!skip { print }
		END { if (!done) { print ""; print sec } }' "$f" >"$tmp/results" && cp "$tmp/results" "$f"
	echo "bench/server.sh: wrote the Server section of $f" >&2
fi
