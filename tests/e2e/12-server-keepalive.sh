#!/usr/bin/env bash
# Connection lifetime: one-shot requests are answered and the server closes
# first (as in the tutorial's capture); "connection": "keep-alive" keeps the
# connection, and 100 requests pipelined on one connection (all sent before
# any response is read) are answered in order.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
FAIL_LOGS=s.err FAIL_TAIL=+1

start_server s
port=$s_port

# msg VALUE [EXTRA-HEADER-MEMBER]: one text/json search request
msg() {
	local content="{\"action\": \"search\", \"value\": \"$1\"}"
	local hdr="{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": ${#content}${2:+, $2}}"
	printf '%b%s%s' "\\x$(printf %02x $((${#hdr} / 256)))\\x$(printf %02x $((${#hdr} % 256)))" "$hdr" "$content"
}
KA='"connection": "keep-alive"'

# One-shot: the client side never closes (srv_rawsend waits for the
# server's FIN), so exit 0 means the server closed first.
msg morpheus >"$T/one.req"
timeout 10 "$BUILD/tools/srv_rawsend" -w 5 "$port" <"$T/one.req" >"$T/one.resp"
rc=$?
[ $rc -eq 0 ] || fail "one-shot: the server did not close after answering (srv_rawsend exit $rc)"
[ "$("$BUILD/tools/srv_decode" <"$T/one.resp")" = 'text/json {"result": "Follow the white rabbit. 🐰"}' ] ||
	fail "one-shot: wrong answer"
"$BUILD/tools/srv_decode" -k connection <"$T/one.resp" | grep -qx 'header connection none' ||
	fail "one-shot response claims keep-alive"

# Keep-alive, one request: answered, and the connection stays open (the
# client's wait runs out: exit 3).
msg ring "$KA" >"$T/ka.req"
timeout 10 "$BUILD/tools/srv_rawsend" -w 1 "$port" <"$T/ka.req" >"$T/ka.resp"
rc=$?
[ $rc -eq 3 ] || fail "keep-alive: expected the server to keep the connection (srv_rawsend exit $rc)"
"$BUILD/tools/srv_decode" -k connection <"$T/ka.resp" >"$T/ka.txt"
grep -qx 'header connection "keep-alive"' "$T/ka.txt" || fail "keep-alive response lacks the connection member: $(cat "$T/ka.txt")"
grep -qx 'text/json {"result": "In the caves beneath the Misty Mountains. 💍"}' "$T/ka.txt" || fail "keep-alive: wrong answer"

# 100 pipelined requests in one write; the last one without keep-alive, so
# the server closes after answering it.  Each value is distinct, so the
# order of the answers shows.
: >"$T/pipe.req"
for i in $(seq 1 99); do msg "v-$i" "$KA" >>"$T/pipe.req"; done
msg "v-100" >>"$T/pipe.req"
timeout 20 "$BUILD/tools/srv_rawsend" -w 10 "$port" <"$T/pipe.req" >"$T/pipe.resp"
rc=$?
[ $rc -eq 0 ] || fail "pipelined: server did not answer all and close (srv_rawsend exit $rc)"
"$BUILD/tools/srv_decode" <"$T/pipe.resp" >"$T/pipe.txt" || fail "pipelined responses do not decode"
for i in $(seq 1 100); do echo "text/json {\"result\": \"No match for 'v-$i'.\"}"; done >"$T/pipe.want"
diff "$T/pipe.want" "$T/pipe.txt" >/dev/null || { diff "$T/pipe.want" "$T/pipe.txt" | head; fail "pipelined answers are wrong or out of order"; }

# A request after a one-shot request on the same connection is never
# answered: the server closes after the first.
{ msg morpheus; msg ring "$KA"; } >"$T/two.req"
timeout 10 "$BUILD/tools/srv_rawsend" -w 5 "$port" <"$T/two.req" >"$T/two.resp"
rc=$?
[ $rc -eq 0 ] || fail "one-shot then more: server did not close (exit $rc)"
[ "$("$BUILD/tools/srv_decode" <"$T/two.resp" | wc -l)" -eq 1 ] || fail "one-shot then more: answered more than one"

# The load generator pipelines through the same path: 16 in flight on each
# of 4 keep-alive connections, and one-shot connections close every time.
out=$(timeout 60 "$JMSG" client --port "$port" --load --conns 4 --pipeline 16 --requests 2000 --json) ||
	fail "keep-alive load failed: $out"
grep -q '"requests":2000,"errors":0,' <<<"$out" || fail "keep-alive load: $out"
grep -q '"connections":4,' <<<"$out" || fail "keep-alive load opened more than 4 connections: $out"
out=$(timeout 60 "$JMSG" client --port "$port" --load --one-shot --conns 4 --requests 200 --json) ||
	fail "one-shot load failed: $out"
grep -q '"requests":200,"errors":0,' <<<"$out" || fail "one-shot load: $out"
grep -q '"connections":200,' <<<"$out" || fail "one-shot load did not use a connection per request: $out"
echo "ok: one-shot close, keep-alive, 100 pipelined in order, load keep-alive and one-shot"
