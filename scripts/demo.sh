#!/usr/bin/env bash
# jmsg on loopback, start to finish, in a few seconds:
#   1. the reference server, and a second one started --no-read (the
#      tutorial's app-server-test), both on ephemeral ports;
#   2. jmsg analyze capturing both ports on lo, writing the packets to
#      demo.pcap and the stall plot to stall.svg;
#   3. the tutorial's requests (search, emoji search, binary);
#   4. the tutorial's stall experiment: jmsg client --flood (app-client-test)
#      against the --no-read server, and jmsg sockets during the stall, the
#      server's Recv-Q and the client's Send-Q stuck, as netstat shows them;
#   5. what the analyzer decoded: the conversation and the stall report;
#   6. the files written, and the command that opens the capture in
#      Wireshark with the dissector.
# Without permission to capture (jmsg analyze says it needs CAP_NET_RAW),
# steps 1, 3 and 4 still run live, and step 5 shows the same analysis of
# captures shipped in tests/fixtures (the tutorial's own programs and a
# stall), merged into demo.pcap.
#
# Exit status 0 when every step worked; otherwise 1 and one line on stderr,
# "demo: FAILED: ...", naming the step (130 when interrupted).  Every
# process it starts, it stops, on every path; each also runs under a
# 60-second timeout(1), so none outlives a demo that was killed outright.
#
# Environment: JMSG (default build/jmsg), JMSG_LUA (default jmsg.lua next
# to JMSG), DEMO_DIR (default build/demo next to JMSG: where demo.pcap and
# stall.svg go), DEMO_FIXTURES (default tests/fixtures).
set -u
cd "$(dirname "$0")/.." || exit 1
JMSG=${JMSG:-build/jmsg}
JMSG_LUA=${JMSG_LUA:-$(dirname "$JMSG")/jmsg.lua}
DEMO_DIR=${DEMO_DIR:-$(dirname "$JMSG")/demo}
DEMO_FIXTURES=${DEMO_FIXTURES:-tests/fixtures}
FLOOD_SECONDS=1
WATCHDOG=60

pids=() tmp=""

# die MSG: the one line that says which step failed, then exit 1 (cleanup
# runs from the EXIT trap)
die() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

# cleanup: SIGTERM to every process started, SIGKILL to any still there
# 3 s later, then wait for all of them; the temporary directory goes
cleanup() {
	local p i
	trap - INT TERM
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for ((i = 0; i < 30; i++)); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT
trap 'echo "demo: terminated" >&2; exit 143' TERM

# first_line FILE: FILE's first non-empty line, for a one-line message
first_line() {
	grep -m 1 . "$1" 2>/dev/null
}

# start_server NAME [ARGS...]: a jmsg server on an ephemeral port, under
# the watchdog; sets NAME_port and NAME_pid, or dies with its error
start_server() {
	local name=$1 i
	shift
	timeout "$WATCHDOG" "$JMSG" server --port 0 --port-file "$tmp/$name.port" -q "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	printf -v "${name}_pid" %s $!
	for ((i = 0; i < 100; i++)); do
		[ -s "$tmp/$name.port" ] && break
		kill -0 $! 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$tmp/$name.port" ] ||
		die "jmsg server $* did not start: $(first_line "$tmp/$name.err")"
	printf -v "${name}_port" %s "$(cat "$tmp/$name.port")"
}

# start_capture: jmsg analyze -i lo on both servers' ports, writing
# demo.pcap and stall.svg.  Status 0 once it is capturing, 1 when it may
# not capture here (its own message says so: no CAP_NET_RAW); any other
# failure ends the demo.
start_capture() {
	local i
	timeout "$WATCHDOG" "$JMSG" analyze -i lo --port "$app_port" --port "$noread_port" \
		-w "$DEMO_DIR/demo.pcap" --plot "$DEMO_DIR/stall.svg" \
		"tcp port $app_port or tcp port $noread_port" >"$tmp/analyze.out" 2>"$tmp/analyze.err" &
	analyze_pid=$!
	pids+=($!)
	for ((i = 0; i < 200; i++)); do
		grep -qs 'listening on' "$tmp/analyze.err" && return 0
		kill -0 $analyze_pid 2>/dev/null || break
		sleep 0.05
	done
	wait $analyze_pid 2>/dev/null
	grep -qE "needs the CAP_NET_RAW capability|cannot capture on '[^']*': .*(Operation not permitted|Permission denied)" \
		"$tmp/analyze.err" && return 1
	die "jmsg analyze -i lo did not start: $(first_line "$tmp/analyze.err")"
}

# run_client ARGS...: one jmsg client request to the reference server, its
# result line shown; dies if it fails
run_client() {
	"$JMSG" client --port "$app_port" -q "$@" 2>"$tmp/client.err" ||
		die "jmsg client $* exited $?: $(first_line "$tmp/client.err")"
}

# stall_experiment: the flood client against the --no-read server, and jmsg
# sockets in the middle of it
stall_experiment() {
	local flood_pid rc
	echo "== the stall: jmsg client --flood for ${FLOOD_SECONDS} s against the --no-read server (app-client-test)"
	timeout "$WATCHDOG" "$JMSG" client --port "$noread_port" --flood --duration "$FLOOD_SECONDS" \
		>"$tmp/flood.out" 2>&1 &
	flood_pid=$!
	pids+=($!)
	sleep 0.6
	"$JMSG" sockets --port "$noread_port" >"$tmp/sockets.out" 2>"$tmp/sockets.err" ||
		die "jmsg sockets exited $?: $(first_line "$tmp/sockets.err")"
	wait $flood_pid
	rc=$?
	cat "$tmp/flood.out"
	[ $rc = 0 ] || die "jmsg client --flood exited $rc: $(tail -n 1 "$tmp/flood.out")"
	echo "== jmsg sockets --port $noread_port, 0.6 s into the flood: the server's Recv-Q and the client's Send-Q stuck"
	cat "$tmp/sockets.out"
}

# stop PID WHAT FILE: SIGINT to PID (a timeout(1) that passes it on); its
# exit status must be 0, else the last line of FILE (its stderr) is shown
stop() {
	local rc
	kill -INT "$1" 2>/dev/null
	wait "$1"
	rc=$?
	[ $rc = 0 ] || die "$2 exited $rc: $(tail -n 1 "$3" 2>/dev/null)"
}

# fixture_capture: demo.pcap from the shipped captures, each shifted to
# start half a second after the one before ends (editcap -t), merged in
# order (mergecap); sets fixture_ports
fixture_capture() {
	local f prev_end="" first last parts=() n=0
	local files=(tutorial-search-morpheus tutorial-binary-smiley stall-flood)
	fixture_ports=(--port 41001 --port 41004 --port 36541)
	for t in editcap mergecap capinfos; do
		command -v $t >/dev/null ||
			die "$t is missing, needed to replay the shipped captures (Debian: apt-get install wireshark-common, or make deps)"
	done
	for f in "${files[@]}"; do
		f=$DEMO_FIXTURES/$f.pcap
		[ -r "$f" ] || die "the shipped capture $f cannot be read"
		read -r first last < <(capinfos -T -r -S -a -e "$f" | cut -f 2,3) ||
			die "capinfos could not read $f"
		n=$((n + 1))
		if [ -z "$prev_end" ]; then
			cp "$f" "$tmp/part$n.pcap"
		else
			editcap -t "$(awk -v a="$prev_end" -v b="$first" 'BEGIN { printf "%.6f", a + 0.5 - b }')" \
				"$f" "$tmp/part$n.pcap" || die "editcap could not shift $f"
			last=$(awk -v a="$prev_end" -v b="$first" -v c="$last" 'BEGIN { printf "%.6f", c + a + 0.5 - b }')
		fi
		prev_end=$last
		parts+=("$tmp/part$n.pcap")
	done
	mergecap -F pcap -w "$DEMO_DIR/demo.pcap" "${parts[@]}" || die "mergecap could not write $DEMO_DIR/demo.pcap"
}

# show_analysis FILE PORT: the analyzer's output, the flood's requests to
# PORT shown once and counted, its cut last message explained
show_analysis() {
	local n
	n=$(grep -c -E -e "-> [^ ]*:$2 request  #[0-9-]+ hdr=" "$1")
	awk -v pat="-> [^ ]*:$2 request  #[0-9-]+ hdr=" -v cut=":$2 request  #[0-9-]+ ! error truncated" -v n="$n" '
		$0 ~ pat { if (++seen == 1) print; else if (seen == 2) printf "   ... %d more requests of the flood, the same\n", n - 1; next }
		$0 ~ cut { print; print "   (the capture ended during the stall, inside a message of the flood)"; next }
		{ print }' "$1"
}

[ -x "$JMSG" ] || die "$JMSG is not built; run 'make' first"
[ -r "$JMSG_LUA" ] || die "$JMSG_LUA is not built; run 'make' first"
tmp=$(mktemp -d) || die "mktemp -d failed"
mkdir -p "$DEMO_DIR" || die "cannot create $DEMO_DIR"
rm -f "$DEMO_DIR/demo.pcap" "$DEMO_DIR/stall.svg"
[ -w "$DEMO_DIR" ] || die "cannot write to $DEMO_DIR (set DEMO_DIR)"

start_server app
start_server noread --no-read
echo "== jmsg server on 127.0.0.1:$app_port, and jmsg server --no-read on 127.0.0.1:$noread_port (app-server-test)"

live=1
if start_capture; then
	echo "== jmsg analyze -i lo: capturing 'tcp port $app_port or tcp port $noread_port' into $DEMO_DIR/demo.pcap"
else
	live=0
	echo "== no capture: $(first_line "$tmp/analyze.err" | sed 's/^jmsg analyze: //'); the analysis below is of captures shipped in $DEMO_FIXTURES"
fi

echo "== the tutorial's requests: jmsg client -q search morpheus, search 🐶, binary ☺"
run_client search morpheus
run_client search 🐶
run_client binary ☺
stall_experiment

if [ $live = 1 ]; then
	sleep 0.3
	stop "$analyze_pid" "jmsg analyze" "$tmp/analyze.err"
	grep -v 'listening on' "$tmp/analyze.err" >&2
	echo "== jmsg analyze: what was on the wire"
	stall_port=$noread_port
else
	fixture_capture
	echo "== jmsg analyze -r $DEMO_DIR/demo.pcap: the tutorial's programs, then a stall ($DEMO_FIXTURES)"
	"$JMSG" analyze -r "$DEMO_DIR/demo.pcap" "${fixture_ports[@]}" --plot "$DEMO_DIR/stall.svg" \
		>"$tmp/analyze.out" 2>"$tmp/analyze.err" ||
		die "jmsg analyze -r $DEMO_DIR/demo.pcap exited $?: $(first_line "$tmp/analyze.err")"
	stall_port=36541
fi
show_analysis "$tmp/analyze.out" "$stall_port"
grep -q ' stopped reading ' "$tmp/analyze.out" || die "jmsg analyze reported no stall"
grep -q 'Follow the white rabbit' "$tmp/analyze.out" || die "jmsg analyze did not decode the search response"

stop "$app_pid" "jmsg server" "$tmp/app.err"
stop "$noread_pid" "jmsg server --no-read" "$tmp/noread.err"
for f in demo.pcap stall.svg; do
	[ -s "$DEMO_DIR/$f" ] || die "$DEMO_DIR/$f was not written"
done
echo "== written: $DEMO_DIR/demo.pcap (the capture), $DEMO_DIR/stall.svg (the stall, plotted)"
echo "== open it in Wireshark: wireshark -X lua_script:$JMSG_LUA -r $DEMO_DIR/demo.pcap"
