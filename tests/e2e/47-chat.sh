#!/usr/bin/env bash
# jmsg client --interactive and jmsg server --interactive (the
# tutorialspoint chat), on loopback, with piped input:
#  1. the two talk in every framing: the prompts, "Received from server:",
#     "Connection from:", "from connected user:" lines, in order; a line
#     "q" or the end of input stops the client; the end of the server's
#     input stops the server; close framing makes one connection per line;
#  2. each runs against the tutorial's own program (tests/seeds/chat-*.py);
#  3. errors: no answer within --timeout (exit 4), no server or a reset (3), a
#     server's answer not in the framing (5); a line the framing cannot
#     carry (empty in raw, too long for fixed) is refused and the prompt
#     comes again; bad framed input to the server closes
#     that connection with one line and the server takes the next one.
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

printf 'hi back\nsecond answer\n' >"$T/answers"
printf 'hello\nwörld ✓\nq\nnot sent\n' >"$T/lines"
cat >"$T/want-client" <<'EOT'
type message: hello
Received from server: hi back
type message: wörld ✓
Received from server: second answer
type message: q
EOT

# chat_server NAME INPUT ARGS...: jmsg server ARGS with standard input
# from the file INPUT (start_server's background job would read
# /dev/null); sets NAME_port and NAME_pid
chat_server() {
	local name=$1 input=$2 pid
	shift 2
	timeout 60 "$JMSG" server --port 0 --port-file "$T/$name.port" "$@" <"$input" \
		>"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	pids+=("$pid")
	wait_for_file "$T/$name.port" 10 "$pid" || fail "server $name did not start: $(cat "$T/$name.err")"
	printf -v "${name}_port" %s "$(cat "$T/$name.port")"
	printf -v "${name}_pid" %s "$pid"
}

# ---------------------------------------------------------------- 1
for fr in raw ascii-length fixed delimited close jmsg; do
	n=s_${fr//-/_}
	chat_server "$n" "$T/answers" --interactive --framing $fr
	timeout 10 "$JMSG" client --interactive --framing $fr --port "$(cat "$T/$n.port")" <"$T/lines" \
		>"$T/c-$fr.out" 2>"$T/c-$fr.err" || fail "client --interactive --framing $fr: exit $?"
	diff "$T/want-client" "$T/c-$fr.out" || fail "$fr: the client's transcript differs"
	[ -s "$T/c-$fr.err" ] && fail "$fr: the client wrote on stderr"
	{
		echo "Listening on 127.0.0.1:P (interactive, $fr framing)"
		echo "Connection from: ('127.0.0.1', N)"
		echo "from connected user: hello"
		echo "type message: hi back"
		[ $fr = close ] && echo "Connection from: ('127.0.0.1', N)"
		echo "from connected user: wörld ✓"
		echo "type message: second answer"
		[ $fr = close ] || echo "Connection from ('127.0.0.1', N) closed"
	} >"$T/want-$n"
	wait_for_line "$T/$n.out" "second answer" 5
	sleep 0.2
	sed -E 's/[0-9]+\)/N)/; s/:[0-9]+ /:P /' "$T/$n.out" >"$T/$n.masked"
	diff "$T/want-$n" "$T/$n.masked" || fail "$fr: the server's transcript differs"
done
# the client stops at the end of its input too (no q)
chat_server eof "$T/answers" --interactive
printf 'only line\n' | timeout 10 "$JMSG" client --interactive --port "$eof_port" >"$T/c-eof.out" 2>&1 ||
	fail "client at the end of input: exit $?: $(cat "$T/c-eof.out")"
[ "$(tail -n 1 "$T/c-eof.out")" = "type message: " ] || fail "client at the end of input: $(cat "$T/c-eof.out")"
# the server stops when its own input ends (exit 0)
echo "the only answer" >"$T/one-answer"
chat_server one "$T/one-answer" --interactive --framing delimited
printf 'a\nb\n' | timeout 10 "$JMSG" client --interactive --framing delimited --timeout 2 --port "$one_port" \
	>"$T/c-one.out" 2>"$T/c-one.err"
rc=$?
[ $rc -eq 3 ] || fail "client whose server stopped: exit $rc, want 3"
grep -qx "jmsg client: the server closed the connection without answering" "$T/c-one.err" ||
	fail "client whose server stopped: $(cat "$T/c-one.err")"
wait "$one_pid"
rc=$?
[ $rc -eq 0 ] || fail "server at the end of its input: exit $rc, want 0"
grep -q "^Standard input ended: closing the connection from ('127.0.0.1', [0-9]*) and stopping" "$T/one.out" ||
	fail "server at the end of its input did not say so"
echo "ok: client and server --interactive talk in raw, ascii-length, fixed, delimited, close and jmsg"

# ---------------------------------------------------------------- 2
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 20 $PY -u "$SEEDS/chat-server.py" "$port" <"$T/answers" >"$T/py-s.out" 2>"$T/py-s.err" &
pids+=($!)
for ((i = 0; i < 100; i++)); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.05; done
timeout 10 "$JMSG" client --interactive --port "$port" <"$T/lines" >"$T/c-py.out" 2>"$T/c-py.err" ||
	fail "client --interactive against chat-server.py: exit $?"
diff "$T/want-client" "$T/c-py.out" || fail "client --interactive against chat-server.py: transcript differs"
grep -q "from connected user: wörld ✓$" "$T/py-s.out" || fail "chat-server.py did not get the lines"

chat_server forpy "$T/answers" --interactive
printf 'hello\nwörld ✓\nq\n' | timeout 10 $PY -u "$SEEDS/chat-client.py" "$forpy_port" >"$T/py-c.out" 2>"$T/py-c.err" ||
	fail "chat-client.py against server --interactive: exit $?"
[ "$(cat "$T/py-c.out")" = "type message: Received from server: hi back
type message: Received from server: second answer
type message: " ] || fail "chat-client.py printed: $(cat "$T/py-c.out")"
echo "ok: client and server --interactive talk with the tutorial's chat-server.py and chat-client.py"

# ---------------------------------------------------------------- 3
odd_server() { # MODE: prints its port, serves one connection
	$PY -u - "$1" <<'EOT' &
import socket, struct, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
c.recv(1024)
if sys.argv[1] == "badframe":
    c.sendall(b"12x45hello")
if sys.argv[1] == "reset":
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
time.sleep(3)
EOT
}
expect_exit() { # WANT PATTERN INPUT ARGS...
	local want=$1 pat=$2 input=$3 rc
	shift 3
	printf "$input" | timeout 10 "$JMSG" client --interactive "$@" >"$T/x.out" 2>"$T/x.err"
	rc=$?
	[ $rc -eq "$want" ] || fail "client --interactive $*: exit $rc, want $want: $(cat "$T/x.err")"
	grep -qE -- "$pat" "$T/x.err" || fail "client --interactive $*: stderr lacks '$pat': $(cat "$T/x.err")"
	[ "$(wc -l <"$T/x.err")" -eq 1 ] || fail "client --interactive $*: not one line on stderr: $(cat "$T/x.err")"
}
for mode in silent badframe reset; do
	rm -f "$T/odd.port"
	odd_server $mode >"$T/odd.port"
	pids+=($!)
	wait_for_file "$T/odd.port" 5 || fail "odd server did not start"
	case $mode in
	silent) expect_exit 4 "^jmsg client: no whole message within 0.500 s$" 'hi\n' --timeout 0.5 --port "$(cat "$T/odd.port")" ;;
	badframe) expect_exit 5 "^jmsg client: ascii-length framing error: length_not_digit: byte 0x78 at offset 2" 'hi\n' \
		--framing ascii-length --port "$(cat "$T/odd.port")" ;;
	reset) expect_exit 3 "^jmsg client: Connection reset by peer$" 'hi\n' --port "$(cat "$T/odd.port")" ;;
	esac
done
np=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit 3 "^jmsg client: cannot connect to 127.0.0.1:$np: Connection refused$" 'hi\n' --port "$np"
expect_exit 2 "^jmsg client: --interactive reads its messages from standard input" '' --port 1 hello
chat_server empty "$T/answers" --interactive
expect_exit 0 "^jmsg client: not sent: an empty payload cannot be told from no message in raw framing; type another$" \
	'\nhello\n' --port "$empty_port"
grep -qx "Received from server: hi back" "$T/x.out" || fail "after the empty line: $(cat "$T/x.out")"
chat_server long "$T/answers" --interactive --framing fixed
expect_exit 0 "^jmsg client: not sent: a payload of 31 bytes does not fit a 30-byte message; type another$" \
	"$(printf '%031d' 0)\nshort\n" --framing fixed --port "$long_port"
grep -qx "Received from server: hi back" "$T/x.out" || fail "after the long line: $(cat "$T/x.out")"

# the server's answer line the framing cannot carry: said, and the next line
{ printf '%031d\n' 0; echo "fits"; } >"$T/long-answers"
chat_server slong "$T/long-answers" --interactive --framing fixed
printf 'hi\n' | timeout 10 "$JMSG" client --interactive --framing fixed --port "$slong_port" >"$T/slong.c.out" 2>&1 ||
	fail "client of a server whose first answer is too long: $(cat "$T/slong.c.out")"
grep -qx "Received from server: fits" "$T/slong.c.out" || fail "server's long answer: $(cat "$T/slong.c.out")"
grep -qx "jmsg server: not sent: cannot send that in fixed framing: a payload of 31 bytes does not fit a 30-byte message; type another" \
	"$T/slong.err" || fail "server's long answer was not refused with a line"

chat_server bad "$T/answers" --interactive --framing ascii-length
$PY - "$bad_port" <<'EOT' || fail "bad framed input to the server"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"0x005hello")
assert s.recv(100) == b""
EOT
wait_for_line "$T/bad.out" "^Closing connection from ('127.0.0.1', [0-9]*): ascii-length framing error: length_not_digit: byte 0x78 at offset 1" 5 ||
	fail "server: no line for the bad length prefix"
printf 'after\nq\n' | timeout 10 "$JMSG" client --interactive --framing ascii-length --port "$bad_port" >"$T/after.out" 2>&1 ||
	fail "server --interactive no longer serves after bad input: $(cat "$T/after.out")"
grep -qx "Received from server: hi back" "$T/after.out" || fail "after bad input: $(cat "$T/after.out")"
for s in bad empty long forpy eof; do
	sanitizer_report "$T/$s.err" && fail "server $s: sanitizer report"
done
echo "ok: timeouts, refused connections, bad framing and empty lines get one clear line"
