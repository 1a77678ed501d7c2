#!/usr/bin/env bash
# Bad input and bad targets: each gets one clear line and the documented
# exit code, in bounded time.  Usage mistakes, unreadable captures, a
# memory cap too small, a target that is not there, one that never reads,
# one that answers garbage, one that says more than the capture did; and
# incomplete captures replayed as far as they are known.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T

start_server ok -q
port=$ok_port
pcap=tests/fixtures/tutorial-search-morpheus.pcap
read -ra args <"${pcap%.pcap}.args"

# expect CODE PATTERN ARGS...: exit CODE, stdout empty, exactly one stderr
# line matching PATTERN
expect() {
	local code=$1 pat=$2; shift 2
	timeout 30 "$JMSG" replay "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	echo "replay $*: exit $rc: $(cat "$T/err")"
	[ $rc -eq "$code" ] || fail "exit $rc, expected $code"
	[ ! -s "$T/out" ] || { cat "$T/out"; fail "wrote to stdout"; }
	[ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err"; fail "not exactly one line on stderr"; }
	grep -q "^jmsg replay: $pat" "$T/err" || fail "message does not match '$pat'"
}
expect 2 "no capture file" --to "127.0.0.1:$port"
expect 2 "--to HOST:PORT is required" "$pcap"
expect 2 "--to must be" "$pcap" --to "127.0.0.1:99999"
expect 2 "--to must be" "$pcap" --to "::1:80"
expect 2 "--speed must be" "$pcap" --to "$port" --speed 0
expect 2 "--speed must be" "$pcap" --to "$port" --speed fast
expect 2 "--speed and --asap" "$pcap" --to "$port" --speed 2 --asap
expect 2 "--streams must be" "$pcap" --to "$port" --streams 3-1
expect 2 "--concurrency must be" "$pcap" --to "$port" --concurrency 0
expect 2 "--port must be" "$pcap" --to "$port" --port 0
expect 2 "unknown option '--bogus'" "$pcap" --to "$port" --bogus
expect 2 "one capture file at a time" "$pcap" "$pcap" --to "$port"
expect 2 "cannot open '$T/none.pcap'" "$T/none.pcap" --to "$port"
head -c 3000 /dev/urandom >"$T/junk.pcap"
expect 2 ".*junk.pcap" "$T/junk.pcap" --to "$port"
expect 2 ".*holds no jmsg stream: none on server port 65432, and 1 TCP stream on port 41001 was not decoded (--no-heuristic); try --port 41001" "$pcap" --to "$port" --no-heuristic
expect 2 ".*holds none of the streams" "$pcap" "${args[@]}" --to "$port" --streams 5
expect 2 ".*raise --memcap" tests/fixtures/live-many-clients.pcap --port 43565 --to "$port" --memcap 4k

# A target that is not there: one line, exit 2, not one per stream.
start_server gone -q
gone=$gone_port
kill "$gone_pid"; wait "$gone_pid" 2>/dev/null
expect 2 "cannot connect to 127.0.0.1:$gone: Connection refused" tests/fixtures/live-many-clients.pcap --port 43565 --to "127.0.0.1:$gone"

# A target that never reads: responses missing after --timeout, exit 1.
start_server deaf -q --no-read
t0=$(date +%s)
out=$(timeout 30 "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$(cat "$T/deaf.port")" --timeout 1)
rc=$?
echo "$out"
[ $rc -eq 1 ] || fail "never-reading target: exit $rc, expected 1"
grep -qx 'stream 0 response 0: missing: no progress for 1 s' <<<"$out" || fail "no missing line"
[ $(( $(date +%s) - t0 )) -lt 10 ] || fail "the timeout did not end the replay"

# A target that answers garbage, and one that answers twice.
ans() {  # ans CONTENT: a text/json response as the tutorial's server writes it
	local hdr="{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": $(printf %s "$1" | wc -c)}"
	printf '%b%s%s' "\\x$(printf %02x $((${#hdr} / 256)))\\x$(printf %02x $((${#hdr} % 256)))" "$hdr" "$1"
}
fake() {  # fake NAME < bytes: a one-connection server answering with stdin
	"$BUILD/tools/cli_fakeserver" "$T/$1.port" &
	pids+=($!)
	wait_for_file "$T/$1.port" 5 || fail "fake server $1 did not start"
}
[ -x "$BUILD/tools/cli_fakeserver" ] || fail "$BUILD/tools/cli_fakeserver is not built"
printf '\x00\x05{bad}' | fake garbage
out=$(timeout 30 "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$(cat "$T/garbage.port")")
rc=$?
echo "$out"
[ $rc -eq 1 ] || fail "garbage answer: exit $rc, expected 1"
grep -q '^stream 0 response 0: malformed: header_not_json' <<<"$out" || fail "no malformed line"

{ ans '{"result": "Follow the white rabbit. 🐰"}'; ans '{"result": "and one more"}'; } | fake twice
out=$(timeout 30 "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$(cat "$T/twice.port")" --json)
rc=$?
echo "$out"
[ $rc -eq 1 ] || fail "extra answer: exit $rc, expected 1"
grep -q '^{"event":"extra","stream":0,"response":1,"content_type":"text/json","content_length":26,"content":"{\\"result\\": \\"and one more\\"}"}$' <<<"$out" ||
	fail "no extra line"
grep -q '"identical":1,.*"extra":1,' <<<"$out" || fail "summary does not count one identical, one extra"

# Incomplete captures: replayed as far as they are known, and said so.
# (Their synthesized responses lack the keep-alive member jmsg server
# echoes: a legitimate difference, ignored here.)
for f in tcp-lost-segment tcp-midstream tcp-rst; do
	out=$(timeout 30 "$JMSG" replay "tests/fixtures/$f.pcap" --to "127.0.0.1:$port" --asap --ignore-header connection)
	rc=$?
	echo "$f: exit $rc"; echo "$out"
	[ $rc -eq 0 ] || fail "$f: exit $rc, expected 0"
	grep -q '^stream [0-9]*: incomplete capture, replayed as far as it is known: ' <<<"$out" || fail "$f: no incomplete note"
done
grep -q 'gap in the client' <(timeout 30 "$JMSG" replay tests/fixtures/tcp-lost-segment.pcap --to "127.0.0.1:$port" --asap --ignore-header connection) ||
	fail "tcp-lost-segment: the gap is not named"
out=$(timeout 30 "$JMSG" replay tests/fixtures/malformed-truncated.pcap --to "127.0.0.1:$port" --asap)
echo "$out"
grep -q '^stream 0: not replayed: capture ends inside request 0' <<<"$out" || fail "truncated request not reported"

# --streams picks streams by the analyzer's numbers.
out=$(timeout 30 "$JMSG" replay tests/fixtures/replay-spaced.pcap --to "127.0.0.1:$port" --asap --streams 1 --json)
echo "$out"
grep -q '"streams":1,.*"requests":1,.*"identical":1,' <<<"$out" || fail "--streams 1 did not replay only stream 1"

# SIGINT ends the replay early with a summary of what was done, exit 2.
timeout 30 "$JMSG" replay tests/fixtures/replay-spaced.pcap --to "127.0.0.1:$port" --json >"$T/int.out" 2>"$T/int.err" &
rpid=$!
sleep 0.5
kill -INT "$rpid"
wait "$rpid"
rc=$?
cat "$T/int.out" "$T/int.err"
[ $rc -eq 2 ] || fail "interrupted replay: exit $rc, expected 2"
grep -q '"event":"summary",.*"interrupted":true,"exit":2}' "$T/int.out" || fail "no summary after SIGINT"
[ "$(wc -l <"$T/int.err")" -eq 1 ] && grep -q '^jmsg replay: interrupted' "$T/int.err" || fail "not one 'interrupted' line"
