#!/usr/bin/env bash
# jmsg sockets --watch: on a terminal (a real pty, from Python's pty
# module) each table is redrawn in place: cursor home and screen cleared
# (ESC [H ESC [2J) before it, no blank line between tables; piped, every
# table is appended after a blank line and no escape is written; --json
# never draws, and each of its lines names its event first.  A listening
# server gives the table a row.  Bounded: --count stops each run.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
tmpdir tmp
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the pty"

start_server s -q
port=$s_port

# on_pty FILE ARGS...: jmsg ARGS on a new pty, its output (the pty's bytes,
# \n as \r\n) in FILE; the exit status is jmsg's
on_pty() {
	local out=$1
	shift
	timeout 20 /usr/bin/python3 - "$out" "$JMSG" "$@" <<'PY'
import os, pty, subprocess, sys
out, argv = sys.argv[1], sys.argv[2:]
master, slave = pty.openpty()
p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:   # EIO: the pty's last writer is gone
        break
    if not chunk:
        break
    data += chunk
open(out, "wb").write(data)
sys.exit(p.wait())
PY
}

# a terminal: three tables, each after the clear, none after a blank line
on_pty "$tmp/tty" sockets --port "$port" --watch 0.05 --count 3 || fail "--watch on a pty exited $?"
n=$(grep -o $'\e\[H\e\[2J' "$tmp/tty" | wc -l)
[ "$n" -eq 3 ] || fail "on a terminal: $n redraws for 3 tables: $(od -c "$tmp/tty" | head)"
tr -d '\r' <"$tmp/tty" >"$tmp/tty.txt"
[ "$(grep -cE $'^\e\\[H\e\\[2J[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$tmp/tty.txt")" -eq 3 ] ||
	fail "on a terminal, each table does not start with the clear and the time: $(od -c "$tmp/tty" | head)"
[ "$(grep -c '^Proto' "$tmp/tty.txt")" -eq 3 ] || fail "on a terminal: not 3 tables"
! grep -q '^$' "$tmp/tty.txt" || fail "on a terminal, a blank line between redrawn tables"
grep -q "LISTEN" "$tmp/tty.txt" || fail "on a terminal, no listener row: $(cat "$tmp/tty.txt")"

# piped: appended, a blank line between tables, no escape at all
"$JMSG" sockets --port "$port" --watch 50ms --count 3 >"$tmp/pipe" || fail "--watch piped exited $?"
! grep -q $'\e' "$tmp/pipe" || fail "piped output holds an escape: $(od -c "$tmp/pipe" | head)"
[ "$(grep -c '^Proto' "$tmp/pipe")" -eq 3 ] || fail "piped: not 3 tables"
[ "$(grep -c '^$' "$tmp/pipe")" -eq 2 ] || fail "piped: not one blank line between tables"

# --json on a terminal: lines only, each {"event":"table"|"socket",...}
on_pty "$tmp/json" sockets --port "$port" --watch 0.05 --count 2 --json || fail "--json --watch exited $?"
! grep -q $'\e' "$tmp/json" || fail "--json on a terminal holds an escape"
tr -d '\r' <"$tmp/json" >"$tmp/json.txt"
[ "$(grep -c '^{"event":"table","time":[0-9.]*,"sockets":[1-9][0-9]*}$' "$tmp/json.txt")" -eq 2 ] ||
	fail "--json: not two table lines: $(cat "$tmp/json.txt")"
grep -q '^{"event":"socket","proto":"tcp","recvq":0,"sendq":[0-9]*,"local":"127.0.0.1:'"$port"'",.*"state":"LISTEN"' "$tmp/json.txt" ||
	fail "--json: no listener line: $(cat "$tmp/json.txt")"
[ "$(grep -vc '^{"event":"' "$tmp/json.txt")" -eq 0 ] || fail "--json: a line without its event first"
echo "jmsg sockets --watch: redrawn on a terminal, appended when piped; JSON lines name their event"
