#!/usr/bin/env bash
# Bad input never hurts anyone else.  For every error kind in the spec, a
# client sends a request the codec rejects and gets {"error": KIND, ...}
# before the server closes, while a second client, connected at the same
# time and sending slowly, is answered normally.  Requests the codec passes
# but the server cannot act on get "bad_request".  Idle clients (silent, or
# stopped in the middle of a message) are closed after --idle-timeout;
# connections beyond --max-conns are refused while the others are served.
# The server runs under ASan+UBSan and must stop on SIGTERM with exit 0 and
# no sanitizer or leak report.  Without that build (JMSG_ASAN) the plain
# server is tested and the test ends in a skip (77) unless something failed.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
SPEC=$PWD/spec/jmsg.json
SERVER=$JMSG not_run=
if have_asan; then
	SERVER=$JMSG_ASAN
else
	not_run="no ASan build of jmsg (JMSG_ASAN='${JMSG_ASAN:-}'; make unit-asan): the plain server passed, sanitizers not run"
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
tmpdir T
FAIL_LOGS='*.err' FAIL_TAIL=30
RAW=$BUILD/tools/srv_rawsend
DEC=$BUILD/tools/srv_decode

# start_server (tests/lib.sh) runs $SERVER
stop_server() { # NAME: SIGTERM, exit 0, no sanitizer report
	local pid_var="${1}_pid"
	kill -TERM "${!pid_var}"
	wait "${!pid_var}"
	local rc=$?
	[ $rc -eq 0 ] || fail "server $1 exited $rc after SIGTERM"
	if sanitizer_report "$T/$1.err"; then fail "server $1: sanitizer report"; fi
}

# hdr HEADER-JSON: protoheader + header
hdr() { printf '%b%s' "\\x$(printf %02x $((${#1} / 256)))\\x$(printf %02x $((${#1} % 256)))" "$1"; }
json_hdr() { # LENGTH [CONTENT-TYPE] [ENCODING] [EXTRA]
	hdr "{\"byteorder\": \"little\", \"content-type\": \"${2:-text/json}\", \"content-encoding\": \"${3:-utf-8}\", \"content-length\": $1${4:+, $4}}"
}
msg() { json_hdr ${#1}; printf %s "$1"; }
GOOD='{"action": "search", "value": "morpheus"}'

# One row per spec error kind: the bytes that provoke it.  A kind added to
# the spec without a row here fails the test; a kind no bytes can cause
# ("wire": false: out_of_memory) has none.
SHUT=""
bad_bytes() {
	SHUT=""
	case $1 in
	header_empty) printf '\x00\x00' ;;
	header_not_utf8) printf '\x00\x04{"\xff"' ;;
	header_not_json) hdr '{"byteorder": little}' ;;
	header_not_object) hdr '["byteorder", "little"]' ;;
	header_missing_field) hdr '{"byteorder": "little", "content-type": "text/json", "content-length": 2}'; printf '{}' ;;
	header_field_type) hdr '{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "2"}'; printf '{}' ;;
	header_field_value) hdr '{"byteorder": "middle", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2}'; printf '{}' ;;
	content_length_negative) json_hdr -1 ;;
	content_length_too_large) json_hdr 5000; head -c 100 /dev/zero ;;
	content_not_utf8) json_hdr 4; printf '"\xc3("' ;;
	content_not_json) json_hdr 5; printf '{bad}' ;;
	content_encoding_unsupported) json_hdr ${#GOOD} text/json latin-1; printf %s "$GOOD" ;;
	truncated) json_hdr 10; printf '{"a"'; SHUT=-s ;;
	*) return 1 ;;
	esac
}

start_server b --max-content 1000 --idle-timeout 20
# the codec's errors (the spec's "errors"; its "framing_errors" belong to other framings)
kinds=$(python3 -c 'import json, sys
for e in json.load(open(sys.argv[1]))["errors"]:
    if e.get("wire", True): print(e["id"])' "$SPEC")
[ -n "$kinds" ] || fail "no error kinds found in $SPEC"
n=0
for kind in $kinds; do
	bad_bytes "$kind" >"$T/$kind.req" || fail "no bad-input row for spec error kind '$kind'"
	# the bystander: connected first, sends its request in two parts
	{ head -c 20 <(msg "$GOOD"); sleep 0.3; msg "$GOOD" | tail -c +21; } |
		timeout 20 "$RAW" -w 10 "$b_port" >"$T/$kind.other" &
	other=$!
	sleep 0.1
	timeout 20 "$RAW" $SHUT -w 10 "$b_port" <"$T/$kind.req" >"$T/$kind.resp"
	rc=$?
	[ $rc -eq 0 ] || fail "$kind: server did not answer and close (srv_rawsend exit $rc)"
	got=$("$DEC" <"$T/$kind.resp")
	case $got in
	"text/json {\"error\": \"$kind\", \"detail\": \""*'"}') ;;
	*) fail "$kind: got [$got]" ;;
	esac
	wait $other || fail "$kind: the other client was not answered (exit $?)"
	[ "$("$DEC" <"$T/$kind.other")" = 'text/json {"result": "Follow the white rabbit. 🐰"}' ] ||
		fail "$kind: the other client got [$("$DEC" <"$T/$kind.other")]"
	n=$((n + 1))
done
echo "ok: $n spec error kinds answered with their id; the concurrent client was served each time"

# Valid messages the server cannot act on.
for content in '[1, 2]' '{"value": "x"}' '{"action": 5}' '{"action": "search"}' '{"action": "search", "value": 7}'; do
	msg "$content" >"$T/br.req"
	timeout 20 "$RAW" -w 10 "$b_port" <"$T/br.req" >"$T/br.resp" || fail "bad_request '$content': no answer and close"
	got=$("$DEC" <"$T/br.resp")
	case $got in
	'text/json {"error": "bad_request", "detail": "'*) ;;
	*) fail "bad_request '$content': got [$got]" ;;
	esac
done
echo "ok: undecidable requests get bad_request"

# A big binary request inside the limit is streamed, never an error.
{ json_hdr 900 binary/custom-client-binary-type binary; head -c 900 /dev/zero | tr '\0' x; } >"$T/big.req"
timeout 20 "$RAW" -w 10 "$b_port" <"$T/big.req" >"$T/big.resp" || fail "900-byte binary request not answered"
[ "$("$DEC" <"$T/big.resp")" = "binary/custom-server-binary-type b'First 10 bytes of request: xxxxxxxxxx'" ] ||
	fail "900-byte binary request: $("$DEC" <"$T/big.resp")"
stop_server b

# Idle clients.
start_server i --idle-timeout 0.5
sleep 2 | timeout 20 "$RAW" -w 10 "$i_port" >"$T/idle1.resp" || fail "silent client was not closed by the server"
[ ! -s "$T/idle1.resp" ] || fail "silent client got bytes"
{ printf '\x00\x67{"byteorder": "lit'; sleep 2; } | timeout 20 "$RAW" -w 10 "$i_port" >"$T/idle2.resp" ||
	fail "client stopped mid-message was not closed by the server"
grep -q "idle timeout)" "$T/i.out" || fail "no idle-timeout log line"
grep -q "idle timeout in the middle of a message" "$T/i.out" || fail "no mid-message idle-timeout log line"
stop_server i
echo "ok: idle clients closed after --idle-timeout"

# --max-conns 2: two slow clients hold the places; a third is refused with
# server_busy; the two are still answered; then there is room again.
start_server m --max-conns 2 --idle-timeout 20
msg "$GOOD" >"$T/good.req"
for h in 1 2; do
	{ sleep 1.5; cat "$T/good.req"; } | timeout 20 "$RAW" -w 10 "$m_port" >"$T/hold$h.resp" &
	eval "hold$h=\$!"
done
for _ in $(seq 100); do [ "$(grep -c '^Accepted connection' "$T/m.out")" -ge 2 ] && break; sleep 0.05; done
timeout 20 "$JMSG" client --port "$m_port" -q search morpheus >"$T/third.out" 2>"$T/third.err"
rc=$?
[ $rc -eq 6 ] || fail "third client over --max-conns: exit $rc, want 6 (server error)"
grep -q "server error: server_busy" "$T/third.err" || fail "third client: $(cat "$T/third.err")"
[ "$(wc -l <"$T/third.err")" -eq 1 ] || fail "third client: more than one error line"
# shellcheck disable=SC2154
wait "$hold1" || fail "first held client not answered"
wait "$hold2" || fail "second held client not answered"
for h in 1 2; do
	[ "$("$DEC" <"$T/hold$h.resp")" = 'text/json {"result": "Follow the white rabbit. 🐰"}' ] || fail "held client $h: wrong answer"
done
out=$(timeout 20 "$JMSG" client --port "$m_port" -q search ring) || fail "no room after the held clients left"
grep -q "Got result: In the caves" <<<"$out" || fail "after max-conns: $out"
# a flood of connections beyond the limit: every one answered or refused
# with server_busy, then closed by the server (srv_rawsend exit 0); the
# server stays up and serves afterwards
flood=()
for i in $(seq 30); do timeout 20 "$RAW" -w 5 "$m_port" <"$T/good.req" >"$T/flood$i.resp" & flood+=($!); done
i=0 answered=0 refused=0
for j in "${flood[@]}"; do
	i=$((i + 1))
	wait "$j"
	rc=$?
	[ $rc -eq 0 ] || fail "flood connection $i: srv_rawsend exit $rc, want 0 (an answer, then the server closes)"
	got=$("$DEC" <"$T/flood$i.resp")
	case $got in
	'text/json {"result": "Follow the white rabbit. 🐰"}') answered=$((answered + 1)) ;;
	'text/json {"error": "server_busy", "detail": "'*) refused=$((refused + 1)) ;;
	*) fail "flood connection $i: got [$got], want the answer or server_busy" ;;
	esac
done
[ $answered -ge 1 ] || fail "flood: none of the 30 connections was served"
out=$(timeout 20 "$JMSG" client --port "$m_port" -q search morpheus) || fail "server does not serve after a connection flood"
grep -q "Got result: Follow the white rabbit" <<<"$out" || fail "after the flood: $out"
stop_server m
echo "ok: --max-conns refuses the extra connection and keeps serving; flood of 30: $answered answered, $refused refused"
[ -z "$not_run" ] || skip "$not_run"
