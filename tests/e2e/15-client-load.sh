#!/usr/bin/env bash
# Load mode: the counts it reports are the counts that happened.  The
# server's log is the witness: each request it answered is one "Sending"
# line, each connection one "Accepted" line.  Percentiles are ordered
# (p50 <= p90 <= p99 <= p99.9 <= max); --duration stops by itself; binary
# requests work too.  No speed is asserted here (see bench/).
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T

start_server s
port=$s_port

field() { grep -o "\"$1\":[0-9.]*" <<<"$2" | head -n 1 | cut -d: -f2; }
count() { grep -c "$1" "$T/s.out"; }

run() { # expect N requests and C connections; args to jmsg client
	local n=$1 c=$2; shift 2
	local sends0 acc0 out
	sends0=$(count '^Sending ')
	acc0=$(count '^Accepted connection')
	out=$(timeout 120 "$JMSG" client --port "$port" --load --json "$@") || fail "load $* exited $?: $out"
	# one line, its event first, compact as every jmsg JSON line
	[[ "$out" =~ ^\{\"event\":\"load_report\",\"mode\":\"(keep-alive|one-shot)\",[^$'\n']*\}$ ]] ||
		fail "load $*: not one {\"event\":\"load_report\",...} line: $out"
	! grep -q '": \|, "' <<<"$out" || fail "load $*: not compact: $out"
	[ "$(field requests "$out")" -eq "$n" ] || fail "load $*: requests $(field requests "$out"), want $n"
	[ "$(field errors "$out")" -eq 0 ] || fail "load $*: errors: $out"
	[ "$(field connections "$out")" -eq "$c" ] || fail "load $*: connections $(field connections "$out"), want $c"
	[ $(( $(count '^Sending ') - sends0 )) -eq "$n" ] || fail "load $*: server answered $(( $(count '^Sending ') - sends0 )), client says $n"
	[ $(( $(count '^Accepted connection') - acc0 )) -eq "$c" ] || fail "load $*: server accepted a different number of connections"
	awk -v a="$(field p50 "$out")" -v b="$(field p90 "$out")" -v c="$(field p99 "$out")" \
		-v d="$(field p99.9 "$out")" -v e="$(field max "$out")" \
		'BEGIN { exit !(a > 0 && a <= b && b <= c && c <= d && d <= e) }' || fail "load $*: percentiles out of order: $out"
	awk -v r="$(field requests_per_sec "$out")" 'BEGIN { exit !(r > 0) }' || fail "load $*: no rate"
	echo "$out" >"$T/last.json"
}
run 3000 10 --conns 10 --requests 3000
run 3000 3 --conns 3 --requests 3000 --pipeline 8
run 300 300 --conns 5 --requests 300 --one-shot
run 500 5 --conns 5 --requests 500 binary 0123456789
grep -q '"bytes_received":[1-9]' "$T/last.json" || fail "no bytes counted"

# durations take a unit: 500ms is half a second
out=$(timeout 60 "$JMSG" client --port "$port" --load --conns 2 --duration 500ms --json) || fail "--duration 500ms: $out"
awk -v s="$(field seconds "$out")" 'BEGIN { exit !(s >= 0.45 && s < 5) }' || fail "--duration 500ms ran $(field seconds "$out") s"

# --duration: runs for about that long and stops by itself; the server saw
# at least as many answers as the client counted.
sends0=$(count '^Sending ')
out=$(timeout 60 "$JMSG" client --port "$port" --load --conns 4 --duration 1 --json) || fail "duration load: $out"
n=$(field requests "$out")
[ "$n" -gt 0 ] || fail "duration load did nothing: $out"
[ $(( $(count '^Sending ') - sends0 )) -ge "$n" ] || fail "duration load counted answers the server never sent"

# the text report has every figure the issue asks for
out=$(timeout 60 "$JMSG" client --port "$port" --load --conns 2 --requests 100) || fail "text report failed"
for want in "requests/s" "errors:" "MB/s" "p50" "p90" "p99 " "p99.9" "max"; do
	grep -qF -- "$want" <<<"$out" || fail "text report lacks '$want': $out"
done
echo "ok: load counts match the server's, percentiles ordered, duration stops"
