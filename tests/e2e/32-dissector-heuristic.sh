#!/usr/bin/env bash
# How the dissector finds the protocol: the heuristic on a port nobody
# registered (the tutorial's captures on 41001/41004, a scenario on 5555),
# never on ordinary HTTP (on port 80 and on 8081, with a JSON body that
# carries the protocol's header keys), "Decode As" and the port preference
# with the heuristic turned off, and `make install-dissector` into a personal
# plugin folder that tshark then loads by itself.
set -u
cd "$(dirname "$0")/../.."
. dissector/testlib.sh
dt_setup
$PY dissector/mkpcap.py "$TMP" || dt_fail "dissector/mkpcap.py could not write the scenarios"

# frames ARGS...: sets n to the number of frames tshark ARGS prints
frames() { dt_count "$@" -T fields -e frame.number; n=$DT_N; }
# Messages mkpcap.py wrote to altport.pcap, in all and to port 5555.
all=$(grep -c '"kind": "message"' "$TMP/altport.expect.jsonl")
p5555=$(grep '"kind": "message"' "$TMP/altport.expect.jsonl" | grep -c ':5555"')
[ "$all" -gt "$p5555" ] && [ "$p5555" -gt 0 ] || dt_fail "altport scenario changed shape"

# The heuristic: every message of a non-standard port, one-pass and two-pass
# (each message is in a frame of its own in this scenario).
for pass in "" "-2"; do
	frames $pass -r "$TMP/altport.pcap" -Y "jmsg.request || jmsg.response"
	[ "$n" -eq "$all" ] || dt_fail "heuristic ($pass): $n of $all messages on ports 5555 and 5556"
	for f in tests/fixtures/tutorial-search-morpheus.pcap tests/fixtures/tutorial-binary-smiley.pcap; do
		[ -f "$f" ] || continue
		frames $pass -r "$f" -Y "jmsg.request || jmsg.response"
		[ "$n" -eq 2 ] || dt_fail "heuristic ($pass): $n of 2 messages in $f"
	done
done
echo "ok heuristic finds the protocol on ports 5555, 5556, 41001, 41004"

# Ordinary HTTP is left to HTTP.
for pass in "" "-2"; do
	frames $pass -r "$TMP/http.pcap" -Y jmsg
	[ "$n" -eq 0 ] || dt_fail "heuristic ($pass) claimed $n HTTP frames"
	frames $pass -d tcp.port==8081,http -r "$TMP/http.pcap" -Y "http.request || http.response"
	[ "$n" -eq 4 ] || dt_fail "HTTP ($pass): $n of 4 requests and responses decoded as HTTP"
done
echo "ok HTTP on ports 80 and 8081 is not claimed"

# A port another dissector owns (HTTP on 8080): Wireshark tries that
# dissector and never the heuristic, so the capture shows plain TCP; Decode
# As, or the TCP preference that tries heuristics first, decodes it (the
# README's way).  The analyzer needs neither.
f=tests/fixtures/anyport-8080.pcap
for pass in "" "-2"; do
	frames $pass -r "$f" -Y jmsg
	[ "$n" -eq 0 ] || dt_fail "8080 ($pass): $n frames decoded with HTTP owning the port; the README's advice is wrong"
	frames $pass -d tcp.port==8080,jmsg -r "$f" -Y "jmsg.request || jmsg.response"
	[ "$n" -eq 4 ] || dt_fail "8080 ($pass): Decode As decoded $n of 4 messages"
	frames $pass -o tcp.try_heuristic_first:TRUE -r "$f" -Y "jmsg.request || jmsg.response"
	[ "$n" -eq 4 ] || dt_fail "8080 ($pass): tcp.try_heuristic_first decoded $n of 4 messages"
done
echo "ok on 8080 (HTTP's): Decode As and tcp.try_heuristic_first decode it"

# Not the protocol: HTTP on 8000, and a header without its required keys,
# are left alone by the dissector as by the analyzer (tests/e2e/22).
for f in tests/fixtures/anyport-not-jmsg.pcap tests/fixtures/anyport-missing-keys.pcap; do
	frames -2 -r "$f" -Y jmsg
	[ "$n" -eq 0 ] || dt_fail "$f: the heuristic claimed $n frames"
done
echo "ok HTTP on 8000 and a header without content-encoding on 9100 are not claimed"

# Without the heuristic (jmsg.heuristic preference off): nothing on 5555, unless Decode As or the preference says so.
frames -o jmsg.heuristic:FALSE -r "$TMP/altport.pcap" -Y jmsg
[ "$n" -eq 0 ] || dt_fail "jmsg.heuristic:FALSE still decoded $n frames"
frames -o jmsg.heuristic:FALSE -d tcp.port==5555,jmsg -r "$TMP/altport.pcap" -Y "jmsg.request || jmsg.response"
[ "$n" -eq "$p5555" ] || dt_fail "Decode As: $n of $p5555 messages"
frames -o jmsg.heuristic:FALSE -o jmsg.tcp_port:5555 -r "$TMP/altport.pcap" -Y "jmsg.request || jmsg.response"
[ "$n" -eq "$p5555" ] || dt_fail "port preference: $n of $p5555 messages"
frames -o jmsg.heuristic:FALSE -o jmsg.tcp_port:5555 -r "$TMP/keepalive.pcap" -Y jmsg
[ "$n" -eq 0 ] || dt_fail "port preference moved: still $n frames on the default port"
echo "ok Decode As and the jmsg.tcp_port preference"

# make install-dissector puts it where tshark looks for personal plugins.
make --no-print-directory -s BUILD="$BUILD" HOME="$TMP/home" install-dissector >/dev/null ||
	dt_fail "make install-dissector"
HOME="$TMP/home" WIRESHARK_CONFIG_DIR="$TMP/cfg" timeout 60 tshark -r "$TMP/altport.pcap" \
	-Y "jmsg.request || jmsg.response" -T fields -e frame.number >"$TMP/installed.out" 2>"$TMP/installed.err"
rc=$?
grep -v 'Running as user "root"' "$TMP/installed.err" >&2
[ $rc -eq 0 ] || dt_fail "installed plugin: tshark exited $rc"
! grep -qE "Lua Error|Lua: Error" "$TMP/installed.err" "$TMP/installed.out" || dt_fail "installed plugin: Lua error"
n=$(wc -l <"$TMP/installed.out")
[ "$n" -eq "$all" ] || dt_fail "installed plugin: $n of $all messages"
echo "ok make install-dissector: tshark loads $TMP/home/.local/lib/wireshark/plugins/jmsg.lua"
exit 0
