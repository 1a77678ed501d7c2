#!/usr/bin/env bash
# jmsg sockets: the netstat view of the tutorial's stall.  A --no-read
# server and a flooding client on lo: the table must list the listener and
# both ends with the server's Recv-Q and the client's Send-Q above zero
# and the owning process; --watch --count N prints N tables and stops; bad
# arguments give one line and exit 2.  Bounded: the flood lasts 3 s.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
tmpdir tmp

SERVER_TIMEOUT=30 start_server s --no-read -q
port=$s_port
timeout 20 "$JMSG" client --port "$port" --flood --duration 3 > "$tmp/client.log" 2>&1 &
pids+=($!)

# Poll (bounded) until the queues have filled and the server has accepted
# the connection (before accept() the socket has no process), as the
# tutorial waits before it runs netstat.
for _ in $(seq 50); do
	"$JMSG" sockets --port "$port" > "$tmp/table" || fail "jmsg sockets exited $?"
	awk -v p=":$port" '$1=="tcp" && $6=="ESTAB" && $5 ~ p"$" && $3 > 0 {c=1}
		$1=="tcp" && $6=="ESTAB" && $4 ~ p"$" && $2 > 0 && $7 ~ /^jmsg\[/ {s=1}
		END {exit !(c && s)}' "$tmp/table" && break
	sleep 0.1
done
cat "$tmp/table"
head -n 1 "$tmp/table" | grep -q '^Proto *Recv-Q *Send-Q *Local Address *Foreign Address *State *Process' \
	|| fail "no header line"
awk -v p=":$port" '$1=="tcp" && $6=="LISTEN" && $4 ~ p"$" {f=1} END {exit !f}' "$tmp/table" || fail "no listener"
awk -v p=":$port" '$1=="tcp" && $6=="ESTAB" && $4 ~ p"$" && $2 > 0 && $7 ~ /^jmsg\[/ {f=1} END {exit !f}' "$tmp/table" \
	|| fail "server socket without Recv-Q or process"
awk -v p=":$port" '$1=="tcp" && $6=="ESTAB" && $5 ~ p"$" && $3 > 0 && $7 ~ /^jmsg\[/ {f=1} END {exit !f}' "$tmp/table" \
	|| fail "client socket without Send-Q or process"

"$JMSG" sockets --port "$port" --info > "$tmp/info" || fail "--info exited $?"
head -n 1 "$tmp/info" | grep -q 'notsent.*unacked.*snd_wnd.*rcv_wnd.*rwnd_ms' || fail "--info header: $(head -n 1 "$tmp/info")"

"$JMSG" sockets --port "$port" --watch 0.1 --count 3 > "$tmp/watch" || fail "--watch exited $?"
[ "$(grep -c '^Proto' "$tmp/watch")" -eq 3 ] || fail "--watch --count 3 printed $(grep -c '^Proto' "$tmp/watch") tables"

for a in "--port 0" "--port x" "--watch 0" "--count 0" "--bogus" "extra"; do
	"$JMSG" sockets $a > "$tmp/out" 2> "$tmp/err"; rc=$?
	[ $rc -eq 2 ] || fail "'$a' exited $rc"
	[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "'$a' printed: $(cat "$tmp/err")"
done
"$JMSG" sockets --help | grep -q 'exit status' || fail "--help lacks the exit status"
echo "jmsg sockets: ok"
