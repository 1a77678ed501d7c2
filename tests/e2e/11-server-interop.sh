#!/usr/bin/env bash
# Interoperability by wire format: the tutorial's own programs' bytes, not
# this project's encoder.
#  1. The requests in the two real captures of app-client.py are sent to
#     jmsg server byte for byte; its responses must equal app-server.py's
#     responses in the same captures byte for byte (this machine is
#     little-endian like the one captured).  Without tshark, or on a
#     big-endian host, this part is not run and the test ends in a skip
#     (77) after part 2, unless part 2 failed.
#  2. The request bytes printed in the tutorial's text (a big-endian client,
#     header length 100) get the response the tutorial prints, decoded.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
FAIL_LOGS=s.err FAIL_TAIL=+1

# the tutorial's two captures, committed as fixtures
FIX=$PWD/tests/fixtures

start_server s -q
port=$s_port

# hex text -> bytes, with printf only
unhex() { printf "$(printf %s "$1" | sed 's/../\\x&/g')"; }

ran=0 not_run=
if ! command -v tshark >/dev/null; then
	not_run="tshark is not installed (make deps)"
elif [ "$(printf '\1\0' | od -An -tu2 | tr -d ' ')" != 1 ]; then
	not_run="big-endian host: the captured little-endian responses cannot match"
else
	for cap in tutorial-search-morpheus tutorial-binary-smiley; do
		pcap="$FIX/$cap.pcap"
		[ -e "$pcap" ] || fail "capture $pcap not found"
		# payload-carrying packets: the request, then the response
		tshark -r "$pcap" -Y 'tcp.len > 0' -T fields -e tcp.payload >"$T/$cap.hex" 2>/dev/null ||
			fail "tshark cannot read $pcap"
		[ "$(wc -l <"$T/$cap.hex")" -eq 2 ] || fail "$cap: expected 2 payload packets"
		unhex "$(sed -n 1p "$T/$cap.hex")" >"$T/$cap.req"
		unhex "$(sed -n 2p "$T/$cap.hex")" >"$T/$cap.want"
		timeout 10 "$BUILD/tools/srv_rawsend" "$port" <"$T/$cap.req" >"$T/$cap.got"
		rc=$?
		# 0: the server closed first, as app-server.py does
		[ $rc -eq 0 ] || fail "$cap: server did not answer and close (srv_rawsend exit $rc)"
		cmp "$T/$cap.want" "$T/$cap.got" || {
			echo "want:"; od -c "$T/$cap.want" | head; echo "got:"; od -c "$T/$cap.got" | head
			fail "$cap: response differs from app-server.py's"
		}
		ran=$((ran + 1))
	done
	echo "ok: $ran captured requests answered byte for byte as app-server.py does"
fi

# The tutorial's printed requests (header length \x00d = 100, from its
# big-endian client; the page's '41>' typo is '41}').
req_json() {
	local content=$1
	local hdr="{\"byteorder\": \"big\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": $(printf %s "$content" | wc -c)}"
	[ ${#hdr} -eq 100 ] || fail "test bug: header is ${#hdr} bytes, the tutorial's is 100"
	printf '\x00d%s%s' "$hdr" "$content"
}
req_json '{"action": "search", "value": "morpheus"}' >"$T/t1.req"
printf '\x00|{"byteorder": "big", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": 10}binary\xf0\x9f\x98\x83' >"$T/t3.req"
req_json "$(printf '{"action": "search", "value": "\xf0\x9f\x90\xb6"}')" >"$T/t2.req"
[ "$(head -c 2 "$T/t1.req" | od -An -tx1 | tr -d ' ')" = 0064 ] || fail "test bug: protoheader"

check() { # req-file expected-decoded-line expected-raw-header-length
	timeout 10 "$BUILD/tools/srv_rawsend" "$port" <"$1" >"$1.resp" || fail "$1: server did not answer and close"
	got=$("$BUILD/tools/srv_decode" <"$1.resp") || fail "$1: response does not decode: $got"
	[ "$got" = "$2" ] || fail "$1: got [$got], want [$2]"
	hl=$(head -c 2 "$1.resp" | od -An -tu1 | awk '{print $1 * 256 + $2}')
	[ "$hl" -eq "$3" ] || fail "$1: header length $hl, the tutorial's server sends $3"
}
# app-server.py on a little-endian machine answers with header lengths 103
# (text/json) and 127 (binary), as the tutorial shows.
check "$T/t1.req" 'text/json {"result": "Follow the white rabbit. 🐰"}' 103
check "$T/t2.req" 'text/json {"result": "🐾 Playing ball! 🏐"}' 103
check "$T/t3.req" "binary/custom-server-binary-type b'First 10 bytes of request: binary\\xf0\\x9f\\x98\\x83'" 127
# the tutorial prints "content-length": 37 for both of these answers
for f in t2 t3; do
	grep -qa '"content-length": 37}' "$T/$f.req.resp" || fail "$f: content-length is not the tutorial's 37"
done
echo "ok: the tutorial's printed requests get the tutorial's printed answers"
if [ -n "$not_run" ]; then
	echo "skip: $not_run; the captured requests (part 1) were not sent"
	exit 77
fi
