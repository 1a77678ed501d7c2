#!/usr/bin/env bash
# Clients that mean harm, each against its own server, bounded in time:
#  - a request that trickles in a byte at a time (slowloris) is cut off by
#    --request-timeout although every byte resets the idle clock, while a
#    well-behaved client on the same server is still answered;
#  - 400 pipelined keep-alive requests for a 1 MB search result from a
#    client that never reads: the server's memory stays bounded (answering
#    all of them at once would queue 400 MB), others are served, and a
#    client that does read gets every response, in order;
#  - a --no-read server whose clients came and went still accepts more;
#  - search tables that are not what they should be.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
FAIL_LOGS='*.err *.out'
need python3 "python3 is needed for the hostile clients"

# drip PORT SECONDS GAP: send a 64 KiB header one byte every GAP seconds
# for at most SECONDS; prints "closed" (and exits 0) if the server hangs up
# first, "open" (exit 1) if it never does.
cat >"$T/drip.py" <<'PY'
import socket, sys, time
port, dur, gap = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(gap)
data = b'\xff\xff{"byteorder": "little", "x": "' + b'a' * 65600
t0, i = time.monotonic(), 0
while time.monotonic() - t0 < dur:
    try:
        s.send(data[i:i + 1]); i += 1
        if s.recv(4096) == b'':
            break
    except socket.timeout:
        continue
    except OSError:
        break
else:
    print("open after %d bytes" % i); sys.exit(1)
print("closed after %d bytes" % i)
PY

# --- slowloris: every byte is progress, so only the request deadline ends it
start_server slow --idle-timeout 1 --request-timeout 2
timeout 30 python3 "$T/drip.py" "$slow_port" 12 0.25 >"$T/drip.out" 2>&1 &
drip=$!
pids+=("$drip")
sleep 0.5
out=$(timeout 10 "$JMSG" client --port "$slow_port" -q search morpheus) || fail "a normal client was not served beside the slow one"
[ "$out" = "Got result: Follow the white rabbit. 🐰" ] || fail "normal client got '$out'"
wait "$drip"
rc=$?
echo "drip: $(cat "$T/drip.out")"
[ $rc -eq 0 ] || fail "a request trickling in a byte at a time was never cut off"
grep -q "request not complete within the request timeout" "$T/slow.out" || fail "the server did not say why it closed"

# pipe.py PORT N READ HOLD: N pipelined keep-alive searches for "big" in one
# write; with READ=1 read N responses and check each, else hold HOLD s.
cat >"$T/pipe.py" <<'PY'
import socket, sys, time, json
port, n, read, hold = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", float(sys.argv[4])
c = b'{"action": "search", "value": "big"}'
h = ('{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", '
     '"content-length": %d, "connection": "keep-alive"}' % len(c)).encode()
m = len(h).to_bytes(2, "big") + h + c
s = socket.create_connection(("127.0.0.1", port))
s.sendall(m * n)
if not read:
    print("sent %d requests (%d bytes), not reading" % (n, len(m) * n), flush=True)
    time.sleep(hold)
    sys.exit(0)
f = s.makefile("rb")
for i in range(n):
    hl = int.from_bytes(f.read(2), "big")
    hdr = json.loads(f.read(hl))
    body = json.loads(f.read(hdr["content-length"]))
    if body.get("result") != "x" * 1000000:
        print("response %d is wrong" % i); sys.exit(1)
print("got %d responses" % n)
PY
python3 -c 'import json, sys; json.dump({"big": "x" * 1000000}, open(sys.argv[1], "w"))' "$T/big.json"
start_server pipe --search-table "$T/big.json" -q
python3 "$T/pipe.py" "$pipe_port" 400 0 6 >"$T/pipe-hold.out" 2>&1 &
pids+=($!)
wait_for_file "$T/pipe-hold.out" 5
sleep 1
out=$(timeout 10 "$JMSG" client --port "$pipe_port" -q search morpheus) || fail "a normal client was not served beside the pipeliner"
[ "$out" = "Got result: No match for 'morpheus'." ] || fail "normal client got '$out'"
hwm=$(awk '/^VmHWM/ {print $2}' /proc/$pipe_proc/status)
echo "pipeliner that never reads: $(cat "$T/pipe-hold.out"); server peak VmRSS $hwm kB"
[ "$hwm" -lt 102400 ] || fail "the server's memory grew to $hwm kB for one client that does not read"
timeout 60 python3 "$T/pipe.py" "$pipe_port" 50 1 0 >"$T/pipe-read.out" 2>&1 || fail "pipelined reader: $(cat "$T/pipe-read.out")"
echo "pipeliner that reads: $(cat "$T/pipe-read.out")"

# A request left half-read while the server waited for its client to read
# is given its full --request-timeout once decoding resumes: the wait was
# the server's.  pause.py: one keep-alive request for a 20 MB result (more
# than the socket buffers hold, so the server pauses with output queued) and
# the first 10 bytes of a second, no reading for 2.5 s (over the timeout),
# then the first response, 0.6 s later the rest of the second request, and
# its response.
cat >"$T/pause.py" <<'PY'
import socket, sys, time, json
c = b'{"action": "search", "value": "big"}'
h = ('{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", '
     '"content-length": %d, "connection": "keep-alive"}' % len(c)).encode()
m = len(h).to_bytes(2, "big") + h + c
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(m + m[:10])
time.sleep(2.5)
f = s.makefile("rb")
def response():
    b = f.read(2)
    if len(b) < 2:
        print("closed by the server"); sys.exit(1)
    hdr = json.loads(f.read(int.from_bytes(b, "big")))
    return json.loads(f.read(hdr["content-length"]))
response()
time.sleep(0.6)  # under the timeout, counted from when decoding resumed
s.sendall(m[10:])
print("second response:", len(response()["result"]), "bytes")
PY
python3 -c 'import json, sys; json.dump({"big": "x" * 20000000}, open(sys.argv[1], "w"))' "$T/big20.json"
start_server paused --search-table "$T/big20.json" --request-timeout 1
timeout 30 python3 "$T/pause.py" "$paused_port" >"$T/pause.out" 2>&1 || fail "request held during the server's pause: $(cat "$T/pause.out")"
echo "request held during the server's pause: $(cat "$T/pause.out")"

# --- --no-read never reads, yet must notice clients that went away, or
# they fill --max-conns for good
start_server deaf --no-read --max-conns 2
for i in 1 2 3 4; do
	python3 -c 'import socket, sys; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.send(b"x"); s.close()' "$deaf_port"
done
for _ in $(seq 100); do
	[ "$(grep -c 'closed by the peer' "$T/deaf.out")" -ge 2 ] && [ -z "$(ss -Htn state close-wait "( sport = :$deaf_port )")" ] && break
	sleep 0.1
done
timeout 10 "$JMSG" client --port "$deaf_port" --timeout 1 search x >"$T/deaf-client.out" 2>&1
rc=$?
echo "--no-read server after 4 clients came and went: client exit $rc ($(tail -n 1 "$T/deaf-client.out"))"
[ $rc -eq 4 ] || fail "--no-read server: exit $rc, expected 4 (accepted, never answered), not 6 (server_busy)"

# --- search tables that are not what they should be: one line, exit 1, at once
printf '{"c": "ok", "a\\u0000b": "SECRET"}' >"$T/nulkey.json"
printf '{"a\\nb": 1}' >"$T/number.json"
printf '["morpheus"]' >"$T/array.json"
for row in "nulkey.json:holds NUL" "number.json:is not a string" "array.json:must be a JSON object" \
	   "/dev/zero:is larger than"; do
	f=${row%%:*}
	case $f in /*) ;; *) f=$T/$f ;; esac
	timeout 10 "$JMSG" server --port 0 --search-table "$f" --max-table 1m >"$T/table.out" 2>"$T/table.err"
	rc=$?
	echo "--search-table $f: exit $rc: $(cat "$T/table.err")"
	[ $rc -eq 1 ] || fail "search table $f: exit $rc, expected 1"
	[ "$(wc -l <"$T/table.err")" -eq 1 ] || fail "search table $f: not one line"
	grep -q "${row#*:}" "$T/table.err" || fail "search table $f: message does not say '${row#*:}'"
done

# --request-timeout takes seconds, like --idle-timeout
"$JMSG" server --request-timeout x >/dev/null 2>"$T/usage.err"
[ $? -eq 2 ] && grep -q -- "--request-timeout must be seconds" "$T/usage.err" || fail "bad --request-timeout accepted"
echo "ok"
