#!/usr/bin/env bash
# scripts/demo.sh, the script `make demo` runs, on four paths.  Each run is
# in a session of its own (setsid), so every process the demo started, even
# one that escaped into a process group of its own, is found by its session
# id afterwards; none may be left.
#   1. as this test runs (live when the analyzer can capture here, which is
#      decided by trying it): exit 0, the server, the tutorial's requests
#      and their decoded messages, jmsg sockets with the stuck queues, a
#      stall report (live: with the kernel's view), the files written and
#      readable, the Wireshark line, which run as tshark decodes the
#      capture; short and quick.
#   2. Ctrl-C during the stall (SIGINT to its process group, as a terminal
#      sends it): exit 130, "demo: interrupted", nothing left.
#   3. a step that fails (jmsg sockets, through a wrapper that fails it):
#      exit 1, one "demo: FAILED: jmsg sockets ..." line, nothing left.
#   4. as nobody (setpriv, no capabilities), from a copy of the tree it can
#      read: one line saying it cannot capture, then the same analysis of
#      the shipped captures; exit 0, files written, nothing left.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
tmpdir tmp
LUA=$BUILD/jmsg.lua
need setsid
need tshark
need xmllint
[ -r "$LUA" ] || fail "$LUA is not built"

# run_demo NAME [COMMAND...]: runs COMMAND (default: bash scripts/demo.sh)
# as the leader of a new session, stdout in T/NAME.out, stderr in
# T/NAME.err; sets rc, secs, and left (the processes still in its session
# once it ended, one per line).  DEMO_ENV: an array of VAR=value for it.
run_demo() {
	local name=$1 start sid
	shift
	[ $# -gt 0 ] || set -- bash scripts/demo.sh
	rm -f "$tmp/$name.sid"
	start=$(date +%s.%N)
	timeout --kill-after=5 60 setsid -w bash -c 'echo $$ >"$0"; exec "$@"' "$tmp/$name.sid" \
		env "${DEMO_ENV[@]}" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	demo_pid=$!
	pids+=($demo_pid)
	if [ -n "${DEMO_SIGINT_AT:-}" ]; then
		wait_for_line "$tmp/$name.out" "$DEMO_SIGINT_AT" 20 $demo_pid ||
			fail "$name: '$DEMO_SIGINT_AT' never came: $(cat "$tmp/$name.out" "$tmp/$name.err")"
		sleep 0.2
		kill -INT -- -"$(cat "$tmp/$name.sid")"
	fi
	wait $demo_pid
	rc=$?
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	sid=$(cat "$tmp/$name.sid" 2>/dev/null) || fail "$name: the demo did not start: $(cat "$tmp/$name.err")"
	sleep 0.2
	left=$(ps -e -o sid=,pid=,args= | awk -v s="$sid" '$1 == s')
	echo "$name: exit $rc in ${secs}s"
}

# expect NAME TEXT: a line of NAME's stdout contains TEXT (fixed string)
expect() {
	grep -qF -e "$2" "$tmp/$1.out" || fail "$1: no line with '$2' in its output:
$(cat "$tmp/$1.out" "$tmp/$1.err")"
}

# expect_msg NAME DIR REST: a decoded DIR line, its frames (#F or #F-L), then REST
expect_msg() {
	local line
	while IFS= read -r line; do
		case "$line" in *" $2 #"*) ;; *) continue ;; esac
		line=${line#*" $2 #"}
		line=${line#*" "}
		case "$line" in "$3"*) return 0 ;; esac
	done < "$tmp/$1.out"
	fail "$1: no '$2 #F $3' line in its output:
$(cat "$tmp/$1.out" "$tmp/$1.err")"
}

# nothing_left NAME: no process of NAME's session is left
nothing_left() {
	[ -z "$left" ] && return 0
	# ended here, so that a failing run leaves nothing either
	kill $(awk '{ print $2 }' <<<"$left") 2>/dev/null
	fail "$1: processes the demo started are still running:
$left"
}

# can_capture: jmsg analyze -i lo starts here (0), or says it may not (1)
can_capture() {
	timeout 10 "$JMSG" analyze -i lo "tcp port 9" >/dev/null 2>"$tmp/probe.err" &
	local p=$!
	pids+=($p)
	wait_for_line "$tmp/probe.err" 'listening on' 5 $p && { kill -INT $p; wait $p; return 0; }
	cap_denied "$tmp/probe.err" && return 1
	fail "jmsg analyze -i lo neither started nor said it may not capture: $(cat "$tmp/probe.err")"
}

# ---- 1. the demo as it runs here
if can_capture; then live=1; else live=0; fi
DEMO_ENV=(JMSG="$JMSG" JMSG_LUA="$LUA" DEMO_DIR="$tmp/demo")
run_demo main
[ $rc = 0 ] || fail "main: the demo exited $rc: $(tail -n 3 "$tmp/main.err")"
nothing_left main
expect main "== jmsg server on 127.0.0.1:"
expect main "and jmsg server --no-read on 127.0.0.1:"
expect main "Got result: Follow the white rabbit. 🐰"
expect main "Got result: 🐾 Playing ball! 🏐"
expect main "Got response: b'First 10 bytes of request: binary\xe2\x98\xba'"
expect_msg main 'request ' 'hdr=103 text/json 41 {"action":"search","value":"morpheus"}'
expect_msg main response 'hdr=103 text/json 43 {"result":"Follow the white rabbit. 🐰"} latency='
expect_msg main response "hdr=127 binary/custom-server-binary-type 36 First 10 bytes of request"
expect main "more requests of the flood, the same"
expect main "== written: $tmp/demo/demo.pcap (the capture), $tmp/demo/stall.svg (the stall, plotted)"
expect main "== open it in Wireshark: wireshark -X lua_script:$LUA -r $tmp/demo/demo.pcap"
# the sockets table, during the stall: the server's Recv-Q and the client's
# Send-Q above zero
noread=$(sed -n 's/.*jmsg server --no-read on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/main.out")
awk -v p=":$noread" '$1 == "tcp" && $6 == "ESTAB" && $4 ~ p"$" && $2 > 0 { s = 1 }
	$1 == "tcp" && $6 == "ESTAB" && $5 ~ p"$" && $3 > 0 { c = 1 } END { exit !(s && c) }' "$tmp/main.out" ||
	fail "main: jmsg sockets did not show the server's Recv-Q and the client's Send-Q stuck: $(grep -A4 'jmsg sockets' "$tmp/main.out")"
if [ $live = 1 ]; then
	expect main "== jmsg analyze -i lo: capturing"
	grep -E " stall stream [0-9]+: server 127\.0\.0\.1:$noread stopped reading .*; kernel: Recv-Q" "$tmp/main.out" >/dev/null ||
		fail "main: no live stall report with the kernel's view: $(grep stall "$tmp/main.out")"
else
	echo "main: this test may not capture, so the demo analyzed the shipped captures"
	expect main "== no capture: capturing on 'lo' needs the CAP_NET_RAW capability"
	expect main "stall stream 2: server 127.0.0.1:36541 stopped reading"
fi
lines=$(wc -l <"$tmp/main.out")
[ "$lines" -le 40 ] || fail "main: $lines lines of output, more than 40"
awk -v s="$secs" 'BEGIN { exit !(s < 20) }' || fail "main: took ${secs}s, more than 20"
[ ! -s "$tmp/main.err" ] || fail "main: wrote to stderr: $(cat "$tmp/main.err")"
xmllint --noout "$tmp/demo/stall.svg" || fail "main: stall.svg is not valid XML"
# the Wireshark line, run as tshark (the same -X and -r)
ws=$(sed -n 's/^== open it in Wireshark: wireshark //p' "$tmp/main.out")
read -r -a ws_args <<<"$ws"
timeout 60 tshark "${ws_args[@]}" -Y jmsg >"$tmp/tshark.out" 2>"$tmp/tshark.err" ||
	fail "tshark ${ws_args[*]} -Y jmsg failed: $(cat "$tmp/tshark.err")"
grep -q 'JMSG .* Response "Follow the white rabbit. 🐰"' "$tmp/tshark.out" ||
	fail "tshark ${ws_args[*]} did not decode the search response: $(head -n 5 "$tmp/tshark.out" "$tmp/tshark.err")"
echo "main: ok ($lines lines; tshark decoded $(grep -c JMSG "$tmp/tshark.out") messages of demo.pcap)"

# ---- 2. Ctrl-C during the stall
DEMO_SIGINT_AT='== the stall' run_demo interrupted
[ $rc = 130 ] || fail "interrupted: exit $rc, not 130: $(cat "$tmp/interrupted.err")"
nothing_left interrupted
grep -qx 'demo: interrupted' "$tmp/interrupted.err" || fail "interrupted: no 'demo: interrupted' line: $(cat "$tmp/interrupted.err")"
echo "interrupted: ok"

# ---- 3. a step that fails: jmsg sockets, through a wrapper
mkdir -p "$tmp/bin"
real=$(realpath "$JMSG")
cat >"$tmp/bin/jmsg" <<EOF
#!/bin/sh
if [ "\$1" = sockets ]; then echo "jmsg sockets: made to fail by the test" >&2; exit 1; fi
exec "$real" "\$@"
EOF
chmod +x "$tmp/bin/jmsg"
DEMO_ENV=(JMSG="$tmp/bin/jmsg" JMSG_LUA="$LUA" DEMO_DIR="$tmp/failing")
run_demo failing
[ $rc = 1 ] || fail "failing: exit $rc, not 1"
nothing_left failing
[ "$(cat "$tmp/failing.err")" = "demo: FAILED: jmsg sockets exited 1: jmsg sockets: made to fail by the test" ] ||
	fail "failing: stderr is not the one line naming the step: $(cat "$tmp/failing.err")"
echo "failing: ok"

# ---- 4. as nobody, without capabilities
if [ "$(id -u)" != 0 ]; then
	echo "nobody: skipped, this test is not root (it cannot switch user); run 1 was without root"
	exit 0
fi
need setpriv
id nobody >/dev/null 2>&1 || skip "there is no user nobody"
# a copy of what the demo reads, in a tree nobody can read
tree=$tmp/tree
mkdir -p "$tree/scripts" "$tree/build" "$tree/tests/fixtures"
cp scripts/demo.sh "$tree/scripts/"
cp "$JMSG" "$tree/build/jmsg"
cp "$LUA" "$tree/build/jmsg.lua"
cp tests/fixtures/tutorial-search-morpheus.pcap tests/fixtures/tutorial-binary-smiley.pcap \
	tests/fixtures/stall-flood.pcap "$tree/tests/fixtures/"
chmod -R a+rX "$tmp"
chown nobody "$tree/build"
DEMO_ENV=(HOME=/nonexistent)
run_demo nobody setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	--bounding-set=-all --no-new-privs bash "$tree/scripts/demo.sh"
[ $rc = 0 ] || fail "nobody: the demo exited $rc: $(cat "$tmp/nobody.out" "$tmp/nobody.err")"
nothing_left nobody
expect nobody "== no capture: capturing on 'lo' needs the CAP_NET_RAW capability"
expect nobody "the analysis below is of captures shipped in tests/fixtures"
expect nobody "Got result: Follow the white rabbit. 🐰"
expect nobody "== jmsg analyze -r build/demo/demo.pcap: the tutorial's programs, then a stall (tests/fixtures)"
expect_msg nobody response 'hdr=103 text/json 43 {"result":"Follow the white rabbit. 🐰"} latency='
expect nobody "stall stream 2: server 127.0.0.1:36541 stopped reading 127.0.0.1:46016"
expect nobody "== open it in Wireshark: wireshark -X lua_script:build/jmsg.lua -r build/demo/demo.pcap"
[ "$(grep -c 'CAP_NET_RAW' "$tmp/nobody.out")" = 1 ] || fail "nobody: not one line about the capture"
[ "$(stat -c %U "$tree/build/demo/demo.pcap")" = nobody ] || fail "nobody: demo.pcap not written by nobody"
xmllint --noout "$tree/build/demo/stall.svg" || fail "nobody: stall.svg is not valid XML"
echo "nobody: ok"
