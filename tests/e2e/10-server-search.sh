#!/usr/bin/env bash
# jmsg server and client on loopback: every search case of the tutorial's
# table, an unknown value, an invalid action, binary requests, a custom
# search table, the server's log lines, IPv6 on ::1, and a clean SIGTERM.
set -u
not_run=
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
FAIL_LOGS='*.out *.err'

start_server s
grep -q "^Listening on 127.0.0.1:$s_port\$" "$T/s.out" || fail "no 'Listening on 127.0.0.1:$s_port' line"

# expect ACTION VALUE EXPECTED-LINE
expect() {
	local out rc
	out=$(timeout 10 "$JMSG" client --port "$s_port" -q "$1" "$2" 2>"$T/client.err")
	rc=$?
	[ $rc -eq 0 ] || fail "client $1 '$2' exited $rc: $(cat "$T/client.err")"
	[ "$out" = "$3" ] || fail "client $1 '$2': got [$out], want [$3]"
	[ ! -s "$T/client.err" ] || fail "client $1 '$2' wrote to stderr: $(cat "$T/client.err")"
}
expect search morpheus "Got result: Follow the white rabbit. 🐰"
expect search ring "Got result: In the caves beneath the Misty Mountains. 💍"
expect search 🐶 "Got result: 🐾 Playing ball! 🏐"
expect search nobody "Got result: No match for 'nobody'."
expect search 'say "hi"' "Got result: No match for 'say \"hi\"'."
# a binary request's content is ACTION then VALUE; the answer echoes its
# first 10 bytes, even when that cuts a UTF-8 character
expect binary ☺ "Got response: b'First 10 bytes of request: binary\\xe2\\x98\\xba'"
expect binary 0123456789 "Got response: b'First 10 bytes of request: binary0123'"
expect binary 'abc☺' "Got response: b'First 10 bytes of request: binaryabc\\xe2'"

# The default output follows the tutorial's client, line for line.
out=$(timeout 10 "$JMSG" client --port "$s_port" search morpheus) || fail "client search failed"
for want in "Starting connection to 127.0.0.1:$s_port" "Received response" \
	"Got result: Follow the white rabbit. 🐰" "Closing connection to 127.0.0.1:$s_port"; do
	grep -qF "$want" <<<"$out" || fail "client output lacks '$want': $out"
done

# The tutorial's command line, app-client.py HOST PORT ACTION VALUE.
out=$(timeout 10 "$JMSG" client -q 127.0.0.1 "$s_port" search morpheus 2>"$T/client.err") ||
	fail "client 127.0.0.1 $s_port search morpheus: $(cat "$T/client.err")"
[ "$out" = "Got result: Follow the white rabbit. 🐰" ] || fail "positional search: got [$out]"
out=$(timeout 10 "$JMSG" client 127.0.0.1 "$s_port" binary ☺ 2>"$T/client.err") ||
	fail "client 127.0.0.1 $s_port binary: $(cat "$T/client.err")"
grep -qxF "Got response: b'First 10 bytes of request: binary\xe2\x98\xba'" <<<"$out" ||
	fail "positional binary: got [$out]"
grep -qxF "Starting connection to 127.0.0.1:$s_port" <<<"$out" || fail "positional binary: $out"

# A JSON request whose action is not "search" (the jmsg client sends
# binary for those, so write the bytes).
content='{"action": "find", "value": "x"}'
hdr="{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": ${#content}}"
printf '\x00%b%s%s' "\\x$(printf %02x ${#hdr})" "$hdr" "$content" >"$T/find.req"
timeout 10 "$BUILD/tools/srv_rawsend" "$s_port" <"$T/find.req" >"$T/find.resp" || fail "raw find request: server did not answer and close"
got=$("$BUILD/tools/srv_decode" <"$T/find.resp") || fail "find response does not decode"
[ "$got" = "text/json {\"result\": \"Error: invalid action 'find'.\"}" ] || fail "invalid action: got [$got]"

# The server logged each step, one line each, as the tutorial's does.
for want in "Accepted connection from 127.0.0.1:" "Received request {\"action\":\"search\",\"value\":\"morpheus\"} from" \
	"Received binary/custom-client-binary-type request from" "Sending " "Closing connection to 127.0.0.1:"; do
	grep -qF "$want" "$T/s.out" || fail "server log lacks '$want'"
done

# --search-table replaces the tutorial's table.
printf '{"neo": "The One.", "morpheus": "Captain of the Nebuchadnezzar."}' >"$T/table.json"
start_server t --search-table "$T/table.json" -q
out=$(timeout 10 "$JMSG" client --port "$t_port" -q search neo) || fail "custom table search failed"
[ "$out" = "Got result: The One." ] || fail "custom table: got [$out]"
out=$(timeout 10 "$JMSG" client --port "$t_port" -q search ring) || fail "custom table search failed"
[ "$out" = "Got result: No match for 'ring'." ] || fail "custom table still has the default: [$out]"
[ "$(wc -l <"$T/t.out")" -eq 1 ] || fail "-q server logged more than its Listening line"
# a bad table is one clear error and exit 1
printf '{"neo": 1}' >"$T/bad.json"
"$JMSG" server --port 0 --search-table "$T/bad.json" >/dev/null 2>"$T/bad.err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "bad table: exit $rc, stderr: $(cat "$T/bad.err")"
"$JMSG" server --port 0 --search-table "$T/none.json" >/dev/null 2>"$T/bad.err"
grep -q "cannot open search table '$T/none.json': No such file or directory" "$T/bad.err" || fail "missing table: $(cat "$T/bad.err")"
# and the same port twice is refused clearly
"$JMSG" server --port "$s_port" >/dev/null 2>"$T/inuse.err"
rc=$?
[ $rc -eq 1 ] && grep -q "Address already in use" "$T/inuse.err" || fail "port in use: exit $rc, $(cat "$T/inuse.err")"

# IPv6 on ::1
if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
	start_server six --host ::1
	grep -q "^Listening on \[::1\]:$six_port\$" "$T/six.out" || fail "IPv6: no Listening line"
	out=$(timeout 10 "$JMSG" client --host ::1 --port "$six_port" -q search morpheus) || fail "IPv6 client failed"
	[ "$out" = "Got result: Follow the white rabbit. 🐰" ] || fail "IPv6: got [$out]"
	grep -q "Accepted connection from \[::1\]:" "$T/six.out" || fail "IPv6: no accept log"
else
	not_run="no ::1 on this host: the IPv6 part was not run"
fi

# SIGTERM: stop accepting, exit 0.
kill -TERM "$s_pid"
wait "$s_pid"
rc=$?
[ $rc -eq 0 ] || fail "server exited $rc after SIGTERM"
grep -q "^Stopped" "$T/s.out" || fail "server did not log its stop"
echo "ok: search table, binary, invalid action, custom table, logging, IPv6, SIGTERM"
[ -z "$not_run" ] || skip "$not_run"
