#!/usr/bin/env bash
# A keep-alive client that reads slowly gets every answer whole.  It asks
# for 40 different 200 KB search results one at a time without reading
# (its receive buffer is 4 KB), so once the server's socket buffer is
# full an answer waits half-sent in the server's output queue when the
# next is queued; then it asks the same 40 again (answered from the
# server's cache), then reads.  All 80 must be the table's results: the
# queue moving its pending bytes to the front while a response is added
# once cost the response its header length, and the cache its copy.
set -u
: "${JMSG:?}"
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -s "$T/s.err" ] && tail -n 20 "$T/s.err"; exit 1; }
N=40 SIZE=200000

python3 - "$T/table.json" "$N" "$SIZE" <<'PY' || fail "cannot write the search table"
import json, sys
path, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
json.dump({"k%d" % i: ("k%d" % i) * (size // len("k%d" % i)) for i in range(n)}, open(path, "w"))
PY
"$JMSG" server -q --port 0 --port-file "$T/port" --search-table "$T/table.json" >"$T/s.out" 2>"$T/s.err" &
pids+=($!)
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "server did not start"

timeout 60 python3 - "$(cat "$T/port")" "$N" "$SIZE" <<'PY' || fail "slow reader (exit $?)"
import json, socket, struct, sys, time
port, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
keys = ["k%d" % i for i in range(n)]

def request(value, keep_alive):
    content = json.dumps({"action": "search", "value": value}).encode()
    hdr = {"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8",
           "content-length": len(content)}
    if keep_alive:
        hdr["connection"] = "keep-alive"
    h = json.dumps(hdr).encode()
    return struct.pack(">H", len(h)) + h + content

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
for k in keys:
    s.sendall(request(k, True))
    time.sleep(0.05)
for i, k in enumerate(keys):
    s.sendall(request(k, i < n - 1))
s.settimeout(30)
data = bytearray()
while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    data += chunk
want = [k * (size // len(k)) for k in keys] * 2
at = 0
for i, w in enumerate(want):
    what = "response %d (%s, %s)" % (i + 1, keys[i % n], "cached" if i >= n else "first")
    try:
        hl = struct.unpack(">H", data[at:at + 2])[0]
        hdr = json.loads(data[at + 2:at + 2 + hl])
        cl = hdr["content-length"]
        got = json.loads(data[at + 2 + hl:at + 2 + hl + cl])["result"]
    except Exception as e:
        sys.exit("%s is not a message (%s): %r" % (what, e, bytes(data[at:at + 32])))
    if got != w:
        sys.exit("%s: %d bytes of result starting %r, want %d starting %r"
                 % (what, len(got), got[:12], len(w), w[:12]))
    at += 2 + hl + cl
if at != len(data):
    sys.exit("%d bytes after the %d responses" % (len(data) - at, len(want)))
PY
echo "ok: a slow keep-alive reader got $((2 * N)) answers of $SIZE bytes whole, $N of them from the cache"
