#!/usr/bin/env bash
# Every size and count limit at its value and one past it.  At the limit
# nothing is refused or reported; one past, the named error or problem.
#
#   jmsg server --max-content N   a request with exactly N content bytes
#                                 (binary, and text/json) is answered;
#                                 N + 1 gets {"error": "content_length_too_large"}
#   jmsg server, header length    a valid JSON header of 65535 bytes, the most
#                                 a protoheader can announce, is answered
#                                 (one more cannot be framed at all: the
#                                 codec's unit tests hold the encoder to it);
#                                 the least, 1 byte, is read (7:
#                                 header_not_object), 0 is header_empty
#   jmsg server --max-conns N     N connections open at once are all served;
#                                 the N+1th gets {"error": "server_busy"};
#                                 once one closes, a new one is served
#   jmsg client --max-content N   a response of exactly N content bytes is
#                                 taken; one of N + 1 is a malformed response
#   jmsg analyze --max-content N  content_length_too_large one past
#   jmsg analyze --stream-memcap  a JSON content of exactly the cap, and
#                                 exactly the cap held out of order: no
#                                 problem; one byte more: memcap
#   jmsg analyze --memcap         a JSON content of exactly the cap: no
#                                 problem; one byte more: memcap
#   jmsg analyze --max-streams N  N streams open at once: none expired; N+1:
#                                 memcap and an expired stream
#   jmsg analyze --idle-timeout S a stream quiet for exactly S seconds of
#                                 capture time lives on; 1 us more: expired
#   jmsg analyze --overlap-window a retransmission differing exactly W bytes
#                                 behind the delivered point is an
#                                 overlap_conflict; W + 1 behind is not
#                                 compared any more
#
# Real sockets on 127.0.0.1, ephemeral ports; every process is started
# here and killed at exit; each step is bounded by `timeout`.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
need python3
pcapgen=$BUILD/tools/pcapgen
[ -x "$pcapgen" ] || { echo "26-limits-boundary: $pcapgen is not built (make BUILD=$BUILD)"; exit 1; }
tmpdir T
FAIL_LOGS='*.err'
ok() { echo "ok: $*"; }

# ---------------------------------------------------------------- the server
cat >"$T/client.py" <<'EOF'
"""Exact requests against jmsg server; prints what came back, one line each.

  client.py PORT content N binary|json   a request of exactly N content bytes
  client.py PORT header                  a request whose JSON header is 65535 bytes
  client.py PORT raw HEX                 these bytes
  client.py PORT conns N                 N connections at once, then one more
"""
import json, socket, sys, time

def frame(content, ctype="text/json", enc="utf-8", extra=None, hlen=None):
    h = {"byteorder": "little", "content-type": ctype, "content-encoding": enc,
         "content-length": len(content)}
    if extra:
        h.update(extra)
    hb = json.dumps(h, ensure_ascii=False).encode()
    if hlen is not None:
        # pad inside the object with an extra member to exactly hlen bytes
        h["pad"] = ""
        hb = json.dumps(h).encode()
        h["pad"] = "x" * (hlen - len(hb))
        hb = json.dumps(h).encode()
        assert len(hb) == hlen, len(hb)
    assert len(hb) <= 65535
    return len(hb).to_bytes(2, "big") + hb + content

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError(f"closed after {len(b)} of {n} bytes")
        b += c
    return b

def read_msg(s):
    hl = int.from_bytes(recv_exact(s, 2), "big")
    h = json.loads(recv_exact(s, hl))
    c = recv_exact(s, h["content-length"])
    if h["content-type"] == "text/json":
        return json.dumps(json.loads(c), ensure_ascii=False)
    return "bytes " + c.decode("utf-8", "replace")

def ask(port, req, keep=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req)
    out = read_msg(s)
    if not keep:
        s.close()
        return out
    return out, s

port, what = int(sys.argv[1]), sys.argv[2]
if what == "content":
    n, kind = int(sys.argv[3]), sys.argv[4]
    if kind == "binary":
        req = frame(b"c" * n, "binary/custom-client-binary-type", "binary")
    else:
        body = b'{"action": "search", "value": "morpheus"}'
        req = frame(body + b" " * (n - len(body)))   # JSON with trailing blanks
    assert int.from_bytes(req[:2], "big") + 2 + n == len(req)
    print(ask(port, req))
elif what == "raw":
    print(ask(port, bytes.fromhex(sys.argv[3])))
elif what == "header":
    req = frame(b'{"action": "search", "value": "ring"}', hlen=65535)
    assert req[:2] == b"\xff\xff"
    print(ask(port, req))
elif what == "conns":
    n = int(sys.argv[3])
    req = frame(b'{"action": "search", "value": "morpheus"}', extra={"connection": "keep-alive"})
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
    time.sleep(0.3)   # all accepted before any is asked anything
    for i, s in enumerate(held):
        s.sendall(req)
        print(f"held {i}: {read_msg(s)}")
    # all n still open: the next one is one too many
    print(f"one more: {ask(port, req)}")
    for i, s in enumerate(held):   # and the n are still served
        s.sendall(req)
        print(f"held {i} again: {read_msg(s)}")
    held.pop().close()
    deadline = time.monotonic() + 5
    while True:   # the server learns of the close when it reads the FIN
        got = ask(port, req)
        if "server_busy" not in got or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    print(f"after one left: {got}")
EOF
py() { timeout 30 python3 "$T/client.py" "$@"; }
WHITE='{"result": "Follow the white rabbit. 🐰"}'
TOO_LARGE='"error": "content_length_too_large"'

start_server mc --max-content 1000 --idle-timeout 20
for kind in binary json; do
	got=$(py "$mc_port" content 1000 $kind) || fail "--max-content 1000: $kind request of 1000 bytes: no answer"
	case $kind:$got in
	binary:"bytes First 10 bytes of request: cccccccccc" | json:"$WHITE") ;;
	*) fail "--max-content 1000: $kind request of exactly 1000 bytes got [$got]" ;;
	esac
	got=$(py "$mc_port" content 1001 $kind) || fail "--max-content 1000: $kind request of 1001 bytes: no answer"
	case $got in *"$TOO_LARGE"*) ;; *) fail "--max-content 1000: $kind request of 1001 bytes got [$got]" ;; esac
done
ok "server --max-content 1000: 1000 content bytes answered (binary and text/json), 1001 refused"

got=$(py "$mc_port" header) || fail "65535-byte header: no answer"
[ "$got" = '{"result": "In the caves beneath the Misty Mountains. 💍"}' ] ||
	fail "a valid 65535-byte header got [$got]"
ok "server: a valid 65535-byte JSON header is answered"
# the least: a 1-byte header is framed and read (7 is JSON, not an object);
# a 0-byte one is header_empty
got=$(py "$mc_port" raw 000137) || fail "1-byte header: no answer"
case $got in *'"error": "header_not_object"'*) ;; *) fail "a 1-byte header got [$got]" ;; esac
got=$(py "$mc_port" raw 0000) || fail "0-byte header: no answer"
case $got in *'"error": "header_empty"'*) ;; *) fail "a 0-byte header got [$got]" ;; esac
ok "server: a 1-byte header is read (header_not_object), a 0-byte one is header_empty"

start_server cn --max-conns 3 --idle-timeout 20
py "$cn_port" conns 3 >"$T/conns.out" 2>"$T/conns.err" || fail "--max-conns 3: $(cat "$T/conns.out")"
want="held 0: $WHITE
held 1: $WHITE
held 2: $WHITE
one more: {\"error\": \"server_busy\", \"detail\": \"server has 3 connections open, its maximum\"}
held 0 again: $WHITE
held 1 again: $WHITE
held 2 again: $WHITE
after one left: $WHITE"
[ "$(cat "$T/conns.out")" = "$want" ] || { diff <(echo "$want") "$T/conns.out"; fail "--max-conns 3"; }
ok "server --max-conns 3: three at once served, the fourth server_busy, room again after one left"

# ---------------------------------------------------------------- the client
# `client binary abcd` sends "binaryabcd"; the answer quotes its first ten
# bytes: "First 10 bytes of request: binaryabcd", 37 content bytes.
timeout 20 "$JMSG" client --port "$mc_port" --max-content 37 -q binary abcd >"$T/c37.out" 2>"$T/c37.err" ||
	fail "client --max-content 37: a 37-byte response refused (exit $?)"
timeout 20 "$JMSG" client --port "$mc_port" --max-content 36 -q binary abcd >"$T/c36.out" 2>"$T/c36.err"
rc=$?
[ $rc -eq 5 ] || fail "client --max-content 36: a 37-byte response: exit $rc, want 5 (malformed response)"
grep -q content_length_too_large "$T/c36.err" || fail "client --max-content 36: $(cat "$T/c36.err")"
ok "client --max-content 37 takes a 37-byte response; 36 refuses it (content_length_too_large)"

# ---------------------------------------------------------------- the analyzer
# analyze NAME SCRIPT-TEXT ARGS...: capture from the script, then jmsg
# analyze --json ARGS on it into $T/NAME.jsonl
analyze() {
	local name=$1 text=$2; shift 2
	printf '%s\n' "$text" >"$T/$name.script"
	timeout 60 "$pcapgen" -o "$T/$name.pcap" "$T/$name.script" >/dev/null || fail "pcapgen $name"
	timeout 60 "$JMSG" analyze -r "$T/$name.pcap" --json "$@" >"$T/$name.jsonl" 2>"$T/$name.err" ||
		fail "jmsg analyze $name $*"
}
# check NAME EXPR...: each Python expression must hold; `ev` the events,
# `kinds` the problems' kinds, `msgs` the messages, `ends` the stream end states
check() {
	local name=$1; shift
	timeout 60 python3 - "$T/$name.jsonl" "$@" <<'EOF' || fail "$name"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
errs = [e for e in ev if e["event"] == "error"]
kinds = [e["kind"] for e in errs]
msgs = [e for e in ev if e["event"] == "message"]
ends = {e["stream"]: e["state"] for e in ev if e["event"] == "stream" and e["phase"] == "end"}
for expr in sys.argv[2:]:
    if not eval(expr):
        print(f"{sys.argv[1].rsplit('/', 1)[-1]}: not true: {expr}")
        print("  problems:", [(e["kind"], e["dir"], e["offset"], e.get("detail")) for e in errs])
        print("  messages:", [(m["stream"], m["dir"], m["offset"], m["content_length"]) for m in msgs])
        print("  ends:", ends)
        sys.exit(1)
EOF
}
HS='client 10.0.0.1:41100
server 10.0.0.2:65432
handshake'
# json_content N: a text/json content of exactly N bytes, as a script word
json_content() { printf "'\"%s\"'" "$(head -c $(($1 - 2)) /dev/zero | tr '\0' a)"; }

# --max-content
for n in 1000 1001; do
	analyze mx$n "$HS
c> message binary/custom-client-binary-type binary pattern:$n conn=keep-alive
c> request search ring conn=keep-alive
s> response search ring
close" --max-content 1000
done
check mx1000 'kinds == []' '[m["content_length"] for m in msgs] == [1000, 37, 60]'
check mx1001 'kinds == ["content_length_too_large"]' '[m["content_length"] for m in msgs] == [37, 60]'
ok "analyze --max-content 1000: 1000 decoded; 1001 content_length_too_large, the next request decoded"

# --stream-memcap: a JSON content buffered whole
for n in 65536 65537; do
	analyze sj$n "$HS
c> message text/json utf-8 $(json_content $n) conn=keep-alive
c> request search ring conn=keep-alive
s> response search ring
close" --stream-memcap 64k
done
check sj65536 'kinds == []' '[m["content_length"] for m in msgs] == [65536, 37, 60]' \
	'len(msgs[0]["content"]) == 65534'
check sj65537 'kinds == ["memcap"]' '[m["content_length"] for m in msgs] == [37, 60]'
ok "analyze --stream-memcap 64k: a 65536-byte JSON content decoded; 65537 memcap"

# --stream-memcap: bytes held behind a hole.  One message of 1000 + 32768 +
# SECOND bytes (a 200-byte header) in three segments; the first comes last,
# so 32768 + SECOND bytes wait for it.
for second in 32768 32769; do
	analyze so$second "$HS
c> message binary/custom-client-binary-type binary pattern:$((1000 + 32768 + second - 202)) hlen=200 split=1000,32768,$second order=2,3,1
s> response binary x
close" --stream-memcap 64k
done
check so32768 'kinds == []' 'len(msgs) == 2' \
	'msgs[0]["dir"] == "request" and msgs[0]["content_length"] == 1000 + 32768 + 32768 - 202'
check so32769 '"memcap" in kinds' 'set(kinds) <= {"memcap", "resync"}' \
	'not any(m["dir"] == "request" for m in msgs)'
ok "analyze --stream-memcap 64k: 65536 bytes held out of order kept; 65537 memcap"

# --memcap (all streams; no retransmission history, so only the content counts)
for n in 1048576 1048577; do
	analyze mj$n "$HS
c> message text/json utf-8 $(json_content $n) conn=keep-alive
c> request search ring conn=keep-alive
s> response search ring
close" --memcap 1m --overlap-window 0
done
check mj1048576 'kinds == []' '[m["content_length"] for m in msgs] == [1048576, 37, 60]'
check mj1048577 'kinds == ["memcap"]' '[m["content_length"] for m in msgs] == [37, 60]'
ok "analyze --memcap 1m: a 1048576-byte JSON content decoded; 1048577 memcap"

# --max-streams: N connections open at once, then N + 1
streams() { # N: N exchanges, each on its own connection; none closes
	local i     # before the last exchange is over
	for i in $(seq "$1"); do
		printf 'conn s%d 10.0.0.1:%d 10.0.0.2:65432\nhandshake\n' "$i" $((41200 + i))
		printf 'c> request search ring\ns> response search ring\n'
	done
	for i in $(seq "$1"); do printf 'conn s%d\nclose\n' "$i"; done
}
analyze ms2 "$(streams 2)" --max-streams 2
analyze ms3 "$(streams 3)" --max-streams 2
check ms2 'kinds == []' 'set(ends.values()) == {"closed"} and len(ends) == 2' 'len(msgs) == 4'
check ms3 'kinds == ["memcap"]' 'ends == {0: "expired", 1: "closed", 2: "closed"}' 'len(msgs) == 6' \
	'ev[-1]["peak_streams"] == 2'
ok "analyze --max-streams 2: two streams at once kept; a third expires one (memcap)"

# --idle-timeout 2: stream 0 is quiet from 0.000030 (its request); a SYN of
# another connection comes exactly 2 s later, or 1 us more
for at in 2.000030 2.000031; do
	analyze it$at "conn a 10.0.0.1:41300 10.0.0.2:65432
handshake
c> request search ring conn=keep-alive
conn b 10.0.0.1:41301 10.0.0.2:65432
t =$at handshake" --idle-timeout 2
done
check it2.000030 'kinds == []' 'ends == {0: "open", 1: "open"}'
check it2.000031 'kinds == []' 'ends[0] == "expired" and ends[1] == "open"'
ok "analyze --idle-timeout 2: quiet exactly 2 s lives on; 2.000001 s expires"

# --overlap-window 2048: 5000 content bytes delivered and never acknowledged;
# then one byte at END - 2048 (the oldest byte still kept) or END - 2049,
# differing from the first copy (the pattern has no zero byte)
for back in 2048 2049; do
	analyze ow$back "$HS
c> message binary/custom-client-binary-type binary pattern:5000
c> hex:00 seq=-$back" --overlap-window 2048
done
check ow2048 'kinds == ["overlap_conflict"]' 'errs[0]["bytes"] == 1'
check ow2049 'kinds == []'
ok "analyze --overlap-window 2048: a byte 2048 behind is compared, 2049 behind is not"

echo "26-limits-boundary: every limit holds at its value and refuses one past it"
