#!/usr/bin/env bash
# jmsg server --echo and jmsg client --echo (the tutorial's echo and
# multiconn programs), on loopback:
#  1. jmsg server --echo serves the tutorial's own echo-client.py and
#     multiconn-client.py (tests/seeds/, run unchanged but for the port);
#  2. jmsg client --echo runs against the tutorial's echo-server.py (which
#     serves one connection and exits) and multiconn-server.py, raw and in
#     each framing (those servers echo whatever bytes come);
#  3. jmsg client --echo against jmsg server --echo in every framing, with
#     the tutorial's output lines;
#  4. the client's exit statuses: an echo that differs or stops short (5),
#     no server (3), no answer (4), bad command lines (2);
#  5. bad input to the server: a non-digit length prefix, a delimiter never
#     seen within a framing file's max_payload, a jmsg header that is not
#     JSON, a connection reset in the middle of a message: one log line each, that connection closed, a
#     connection open alongside still echoed, the server still serving.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
FAIL_LOGS='*.out *.err' FAIL_TAIL=12
PY=/usr/bin/python3
[ -x $PY ] || skip "Debian's python3 is not installed (make deps)"
SEEDS=$PWD/tests/seeds
# The ASan+UBSan build when there is one: every server and client here then
# also runs under the sanitizers (a report fails the checks on stderr).
have_asan && JMSG=$JMSG_ASAN

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_listen PORT PID: until something listens on PORT (5 s at most)
wait_listen() {
	local i
	for ((i = 0; i < 100; i++)); do
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# py_server NAME SCRIPT ARGS...: a tutorial server in the background, its
# port in $port
py_server() {
	local name=$1 script=$2
	shift 2
	port=$(free_port)
	timeout 20 $PY -u "$SEEDS/$script" "$@" "$port" >"$T/$name.out" 2>"$T/$name.err" &
	pids+=($!)
	py_pid=$!
	wait_listen "$port" $! || fail "$script did not start"
}

# ---------------------------------------------------------------- 1
start_server srv --echo
timeout 10 $PY "$SEEDS/echo-client.py" "$srv_port" >"$T/ec.out" 2>"$T/ec.err" || fail "echo-client.py failed"
[ "$(cat "$T/ec.out")" = "Received b'Hello, world'" ] || fail "echo-client.py printed: $(cat "$T/ec.out")"
timeout 20 $PY "$SEEDS/multiconn-client.py" 127.0.0.1 "$srv_port" 3 >"$T/mc.out" 2>"$T/mc.err" ||
	fail "multiconn-client.py failed"
for i in 1 2 3; do
	grep -qx "Closing connection $i" "$T/mc.out" || fail "multiconn-client.py: connection $i did not finish"
	got=$(sed -n "s/^Received b'\(.*\)' from connection $i\$/\1/p" "$T/mc.out" | tr -d '\n')
	[ "$got" = "Message 1 from client.Message 2 from client." ] ||
		fail "multiconn-client.py: connection $i received '$got'"
done
grep -q "^Echoing b'Message 1 from client." "$T/srv.out" || fail "server did not log what it echoed"
echo "ok: jmsg server --echo serves the tutorial's echo-client.py and multiconn-client.py"

# ---------------------------------------------------------------- 2
# echo-server.py serves one connection, then exits: one run each
for fr in raw ascii-length fixed delimited close jmsg; do
	py_server es-$fr echo-server.py
	timeout 10 "$JMSG" client --echo --framing $fr --port "$port" "Hello, world" >"$T/c-es-$fr.out" 2>"$T/c-es-$fr.err" ||
		fail "client --echo --framing $fr against echo-server.py: exit $?: $(cat "$T/c-es-$fr.err")"
	wait "$py_pid" || fail "echo-server.py ended with an error"
done
# the tutorial's lines, in the raw run
cat >"$T/want-es" <<EOT
Starting connection 1 to ('127.0.0.1', $port)
Sending b'Hello, world' to connection 1
Received b'Hello, world' from connection 1
Closing connection 1
EOT
sed "s/$port/PORT/" "$T/want-es" >"$T/want-es.p"
# the port differs per run: compare with it masked
for fr in raw close; do
	sed -E "s/, [0-9]+\)/, PORT)/" "$T/c-es-$fr.out" >"$T/got-es-$fr"
	sed -E "s/, [0-9]+\)/, PORT)/" "$T/want-es" | diff - "$T/got-es-$fr" ||
		fail "client --echo --framing $fr against echo-server.py printed other lines"
done
grep -qx "Sending b'00012Hello, world' to connection 1" "$T/c-es-ascii-length.out" ||
	fail "ascii-length: the message was not sent as 00012Hello, world"

py_server ms multiconn-server.py 127.0.0.1
for fr in raw ascii-length fixed delimited jmsg; do
	timeout 10 "$JMSG" client --echo --conns 3 --framing $fr --port "$port" >"$T/c-ms-$fr.out" 2>"$T/c-ms-$fr.err" ||
		fail "client --echo --conns 3 --framing $fr against multiconn-server.py: exit $?: $(cat "$T/c-ms-$fr.err")"
	[ "$(grep -c '^Closing connection [123]$' "$T/c-ms-$fr.out")" = 3 ] || fail "$fr: not 3 connections closed"
done
timeout 10 "$JMSG" client --echo --framing close --port "$port" "one message" >"$T/c-ms-close.out" 2>&1 ||
	fail "client --echo --framing close against multiconn-server.py: $(cat "$T/c-ms-close.out")"
grep -q "^Echoing b'Message 1 from client.Message 2 from client.' to" "$T/ms.out" ||
	fail "multiconn-server.py did not echo the tutorial's messages"
echo "ok: jmsg client --echo runs against echo-server.py and multiconn-server.py, raw and in 5 framings"

# ---------------------------------------------------------------- 3
for fr in raw ascii-length fixed delimited close jmsg; do
	n=e_${fr//-/_}
	start_server "$n" --echo --framing $fr
	p=$(cat "$T/$n.port")
	msgs=("Message 1 from client." "Message 2 from client." "ünïcode ✓")
	[ $fr = close ] && msgs=("Hello, world ✓")
	timeout 10 "$JMSG" client --echo --conns 4 --framing $fr --port "$p" "${msgs[@]}" >"$T/c-e-$fr.out" 2>"$T/c-e-$fr.err" ||
		fail "client --echo --framing $fr against server --echo --framing $fr: exit $?: $(cat "$T/c-e-$fr.err")"
	[ "$(grep -c '^Closing connection [1-4]$' "$T/c-e-$fr.out")" = 4 ] || fail "$fr: not 4 connections closed"
	[ -s "$T/c-e-$fr.err" ] && fail "$fr: the client wrote on stderr: $(cat "$T/c-e-$fr.err")"
	grep -q "^Echoing b'" "$T/$n.out" || fail "$fr: the server logged no echo"
	grep -q "(echo, $fr framing)" "$T/$n.out" || fail "$fr: the server's Listening line does not name the framing"
done
# Each whole message framed again, not bytes as they come: a fixed
# message sent in two pieces is echoed once, whole.
$PY - "$(cat "$T/e_fixed.port")" >"$T/pieces.out" 2>&1 <<'EOT' || fail "fixed: pieces: $(cat "$T/pieces.out")"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"Hello, ")
time.sleep(0.3)
s.settimeout(0.3)
try:
    early = s.recv(100)
    sys.exit(f"echoed {early!r} before the message was whole")
except socket.timeout:
    pass
s.sendall(b"world" + b"#" * 18)
s.settimeout(5)
got = b""
while len(got) < 30:
    got += s.recv(100)
assert got == b"Hello, world" + b"#" * 18, got
EOT
echo "ok: jmsg client --echo and jmsg server --echo agree in raw, ascii-length, fixed, delimited, close and jmsg"

# ---------------------------------------------------------------- 4
# a server that echoes upper case, one that closes at once, one that never answers
bad_server() { # MODE: prints its port, serves one connection
	$PY -u - "$1" <<'EOT' &
import socket, struct, sys, time
mode = sys.argv[1]
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
data = c.recv(1024)
if mode == "upper":
    c.sendall(data.upper())
    time.sleep(2)
elif mode == "silent":
    time.sleep(5)
elif mode == "reset":
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
EOT
}
expect_exit() { # WANT PATTERN ARGS...: jmsg client ARGS exits WANT, stderr matches PATTERN
	local want=$1 pat=$2 rc
	shift 2
	timeout 10 "$JMSG" client "$@" >"$T/x.out" 2>"$T/x.err"
	rc=$?
	[ $rc -eq "$want" ] || fail "client $*: exit $rc, want $want: $(cat "$T/x.err")"
	grep -qE -- "$pat" "$T/x.err" || fail "client $*: stderr lacks '$pat': $(cat "$T/x.err")"
	[ "$(wc -l <"$T/x.err")" -le 1 ] || fail "client $*: more than one line on stderr: $(cat "$T/x.err")"
}
for mode in upper close silent reset; do
	rm -f "$T/bad.port"
	bad_server $mode >"$T/bad.port"
	pids+=($!)
	wait_for_file "$T/bad.port" 5 || fail "bad server did not start"
	bp=$(cat "$T/bad.port")
	case $mode in
	upper) expect_exit 5 "connection 1: byte 0 came back as 0x48, not 0x68 as sent" --echo --port "$bp" hello ;;
	close) expect_exit 5 "connection 1: the server closed the connection after 0 of the 5 bytes sent came back" --echo --port "$bp" hello ;;
	silent) expect_exit 4 "connection 1: nothing for 500 ms; 0 of the 5 bytes sent came back" --echo --timeout 0.5 --port "$bp" hello ;;
	reset) expect_exit 3 "connection 1: Connection reset by peer after 0 of the 5 bytes sent came back" --echo --port "$bp" hello ;;
	esac
done
np=$(free_port)
expect_exit 3 "connection 1: cannot connect to \('127.0.0.1', $np\): Connection refused" --echo --port "$np"
expect_exit 2 "give one MESSAGE, not 2" --echo --framing close --port 1 a b
expect_exit 2 "MESSAGE 1 cannot be sent in fixed framing: a payload of 31 bytes does not fit a 30-byte message" \
	--echo --framing fixed --port 1 "$(printf '%031d' 0)"
expect_exit 2 "MESSAGE 2 cannot be sent in delimited framing: the payload holds the delimiter" \
	--echo --framing delimited --port 1 ok "a#*#b"
expect_exit 2 '--framing nosuch: unknown framing "nosuch"' --echo --framing nosuch
expect_exit 2 '--framing goes with --echo or --interactive' --framing raw search x
echo "ok: client --echo exits 5, 4, 3 and 2 with one line saying why"

# ---------------------------------------------------------------- 5
cat >"$T/small-delim.json" <<'EOT'
{"framing_version": 1, "name": "small-delim", "kind": "delimited", "delimiter": "#*#",
 "limits": {"max_payload": 16}}
EOT
start_server al --echo --framing ascii-length
start_server sd --echo --framing "$T/small-delim.json"
grep -q "(echo, small-delim framing)" "$T/sd.out" || fail "the framing file was not used"
# A connection B opens and sends half a message; the bad connection comes
# and goes; B then finishes and must get its echo.
$PY - "$al_port" "$sd_port" >"$T/bad-in.out" 2>&1 <<'EOT' || fail "bad input: $(cat "$T/bad-in.out")"
import socket, struct, sys, time
al, sd = int(sys.argv[1]), int(sys.argv[2])
def conn(p):
    return socket.create_connection(("127.0.0.1", p), timeout=5)
def until_closed(s):
    got = b""
    while True:
        try:
            b = s.recv(1000)
        except ConnectionResetError:
            return got
        if not b:
            return got
        got += b
for port, good, bad in (
        (al, (b"00012Hel", b"lo, world"), b"00012Hello, world" + b"0x012oops"),
        (sd, (b"Hello, ", b"world#*#"), b"12345678901234567890#*#")):
    b = conn(port)
    b.sendall(good[0])
    a = conn(port)
    a.sendall(bad)
    got = until_closed(a)
    # what came before the error is still echoed
    want = b"00012Hello, world" if port == al else b""
    assert got == want, (port, got)
    b.sendall(good[1])
    want = b"".join(good)
    got = b""
    while len(got) < len(want):
        got += b.recv(100)
    assert got == want, (port, got)
    b.close()
# reset in the middle of a message
r = conn(al)
r.sendall(b"00010hel")
time.sleep(0.2)
r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
r.close()
time.sleep(0.3)
print("done")
EOT
wait_for_line "$T/al.out" "Framing error from 127.0.0.1:[0-9]*: length_not_digit: byte 0x78 at offset 18" 5 ||
	fail "no log line for the non-digit length prefix"
wait_for_line "$T/sd.out" "Framing error from 127.0.0.1:[0-9]*: delimiter_not_found: no delimiter in the 19 bytes from offset 0 (max_payload 16)" 5 ||
	fail "no log line for the missing delimiter"
wait_for_line "$T/al.out" "Closing connection to 127.0.0.1:[0-9]* (Connection reset by peer in the middle of a message)" 5 ||
	fail "no log line for the reset"
# jmsg: the application client's binary request comes back as it went,
# its content-type and content-encoding kept; then a header that is not JSON
start_server jm --echo --framing jmsg
$PY - "$jm_port" >"$T/jm-bin.out" 2>&1 <<'EOT' || fail "jmsg echo of a binary request: $(cat "$T/jm-bin.out")"
import json, socket, sys
hdr = json.dumps({"byteorder": sys.byteorder, "content-type": "binary/custom-client-binary-type",
                  "content-encoding": "binary", "content-length": 10}).encode()
req = len(hdr).to_bytes(2, "big") + hdr + "binary😃".encode()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(req)
got = b""
while len(got) < len(req):
    got += s.recv(1000)
assert got == req, got
EOT
# an empty content (content-length 0) is a message too
timeout 10 "$JMSG" client --echo --framing jmsg --port "$jm_port" "" >"$T/jm-empty.out" 2>&1 ||
	fail "jmsg echo of an empty content: $(cat "$T/jm-empty.out")"
$PY - "$jm_port" >"$T/jm-bad.out" 2>&1 <<'EOT' || fail "jmsg bad header: $(cat "$T/jm-bad.out")"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"\x00\x05nojsn")
assert s.recv(100) == b""
EOT
wait_for_line "$T/jm.out" "Framing error from 127.0.0.1:[0-9]*: header_not_json: " 5 ||
	fail "no log line for the jmsg header that is not JSON"
timeout 10 "$JMSG" client --echo --framing jmsg --port "$jm_port" after >/dev/null 2>"$T/after.err" ||
	fail "the jmsg echo server no longer echoes: $(cat "$T/after.err")"
# still serving, both
timeout 10 "$JMSG" client --echo --framing ascii-length --port "$al_port" after >/dev/null 2>"$T/after.err" ||
	fail "the ascii-length server no longer echoes: $(cat "$T/after.err")"
timeout 10 "$JMSG" client --echo --framing "$T/small-delim.json" --port "$sd_port" after >/dev/null 2>"$T/after.err" ||
	fail "the small-delim server no longer echoes: $(cat "$T/after.err")"
# the limits: --max-conns (one more is closed at once, with a line) and
# --idle-timeout (a silent connection is closed, with a line)
start_server lim --echo --framing delimited --max-conns 1 --idle-timeout 0.5
$PY - "$lim_port" >"$T/lim.py.out" 2>&1 <<'EOT' || fail "limits: $(cat "$T/lim.py.out")"
import socket, sys, time
port = int(sys.argv[1])
first = socket.create_connection(("127.0.0.1", port), timeout=5)
first.sendall(b"par")
time.sleep(0.1)
second = socket.create_connection(("127.0.0.1", port), timeout=5)
assert second.recv(100) == b"", "a connection over --max-conns was served"
start = time.monotonic()
assert first.recv(100) == b"", "the idle connection got bytes"
took = time.monotonic() - start
assert 0.2 < took < 3, f"idle connection closed after {took:.2f} s, not about 0.5"
EOT
grep -q "^Refusing connection from 127.0.0.1:[0-9]*: 1 connections open (--max-conns)" "$T/lim.out" ||
	fail "no line for the connection over --max-conns"
grep -q "^Closing connection to 127.0.0.1:[0-9]* (idle timeout in the middle of a message)" "$T/lim.out" ||
	fail "no line for the idle timeout"
for s in al sd srv lim jm; do
	kill -0 "$(eval echo "\$${s}_proc")" 2>/dev/null || fail "server $s has ended"
	sanitizer_report "$T/$s.err" && fail "server $s: sanitizer report"
done
echo "ok: bad input closes that connection alone, with one log line; the others are echoed"

# A client that sends without reading: the server stops reading it once
# SRV_OUT_HIGH (256 KiB) of echo is queued, so the client's send() blocks
# long before 64 MiB and the server's memory stays small; then the client
# reads, and every byte comes back.
start_server bp --echo
$PY - "$bp_port" "$bp_proc" >"$T/bp.py.out" 2>&1 <<'EOT' || fail "back-pressure: $(cat "$T/bp.py.out")"
import select, socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
before = rss()
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.setblocking(False)
chunk = bytes(range(256)) * 256  # 64 KiB
sent, total, stuck_since = 0, 64 << 20, None
while sent < total:
    try:
        sent += s.send(chunk[: min(len(chunk), total - sent)])
        stuck_since = None
    except BlockingIOError:
        stuck_since = stuck_since or time.monotonic()
        if time.monotonic() - stuck_since > 1.0:
            break
        select.select([], [s], [], 0.1)
grew = rss() - before
assert sent < total, f"all {sent} bytes went in: the server never stopped reading"
assert grew < 24 << 20, f"the server grew by {grew} bytes while {sent} were unread"
got = 0
s.setblocking(True)
s.shutdown(socket.SHUT_WR)
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    got += len(b)
assert got == sent, (got, sent)
print(f"sent {sent} bytes before send() blocked; the server grew by {grew}")
EOT
cat "$T/bp.py.out"

# SIGTERM: each server stops, exit 0, after all that (and, on an ASan
# build, without a leak)
for s in al sd jm lim srv bp; do
	kill -TERM "$(eval echo "\$${s}_proc")"
	wait "$(eval echo "\$${s}_pid")"
	rc=$?
	[ $rc -eq 0 ] || fail "server $s: exit $rc after SIGTERM, want 0"
	grep -q "^Stopped$" "$T/$s.out" || fail "server $s did not say it stopped"
	sanitizer_report "$T/$s.err" && fail "server $s: sanitizer report"
done
echo "ok: SIGTERM stops the echo servers, exit 0"
