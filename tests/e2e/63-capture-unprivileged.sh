#!/usr/bin/env bash
# Capturing without root, both ways the README gives (as root, on lo):
#  -Z nobody: the analyzer opens the capture as root, then /proc/PID/status
#    shows nobody's uid and gid (real, effective, saved, filesystem), its
#    groups and no capability, while it still decodes the requests sent
#    after the drop; -w's file is created after the drop, owned by nobody,
#    and holds the conversation.  A user that does not exist: exit 1, one
#    line, no capture opened.  A -w path nobody may not write: exit 1, the
#    line says so.  Not root, -Z another user: exit 1 (EPERM), nothing
#    analyzed; -Z the user it already is: runs.  After -Z, the stall
#    analysis still has the kernel's view (sock_diag samples of the queues)
#    but names no process (root's are not nobody's to read).
#  setcap: a copy of the binary with cap_net_raw,cap_net_admin=eip, run as
#    nobody, captures on lo and decodes the conversation; the same copy
#    without the capabilities may not capture (so the capabilities are what
#    made it work).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
[ "$(id -u)" = 0 ] || skip "not root: -Z and setcap need root to set up"
need setpriv "setpriv is not installed (Debian: util-linux)"
id nobody >/dev/null 2>&1 || skip "no user nobody"
tmpdir tmp
FAIL_LOGS='*.err *.out'
chmod 755 "$tmp"
nuid=$(id -u nobody) ngid=$(id -g nobody) ngroups=$(id -G nobody)
as_nobody=(setpriv --reuid="$nuid" --regid="$ngid" --clear-groups)
mkdir -m 755 "$tmp/bin"
cp "$JMSG" "$tmp/bin/jmsg"
jmsg=$tmp/bin/jmsg
cp tests/fixtures/basic-search.pcap "$tmp/fixture.pcap"
chmod 644 "$tmp/fixture.pcap"
mkdir -m 700 "$tmp/rootonly"
mkdir -m 755 "$tmp/w"
chown "$nuid:$ngid" "$tmp/w"

SERVER_TIMEOUT=60 start_server s -q
port=$s_port

# ---- -Z nobody, live on lo
timeout -s INT 30 "$jmsg" analyze -i lo -Z nobody --port "$port" -l --json -w "$tmp/w/z.pcap" \
	tcp port "$port" >"$tmp/z.out" 2>"$tmp/z.err" &
zpid=$!
pids+=("$zpid")
capture_started "$tmp/z.err" "$zpid" "jmsg analyze -Z nobody"
apid=$(child "$zpid") || fail "no analyzer process under timeout"
status=/proc/$apid/status
grep -E '^(Uid|Gid|Groups|CapEff)' "$status" | tee "$tmp/status.out"
grep -qP "^Uid:\t$nuid\t$nuid\t$nuid\t$nuid$" "$status" || fail "the analyzer's uids are not nobody's ($nuid)"
grep -qP "^Gid:\t$ngid\t$ngid\t$ngid\t$ngid$" "$status" || fail "the analyzer's gids are not nobody's ($ngid)"
[ "$(sed -n 's/^Groups:[[:space:]]*//p' "$status" | xargs)" = "$ngroups" ] ||
	fail "the analyzer's groups are not nobody's ($ngroups)"
grep -qP '^CapEff:\t0+$' "$status" || fail "the analyzer kept capabilities"
# Traffic after the drop is still decoded.
for v in morpheus ring; do
	timeout 10 "$JMSG" client --port "$port" -q search "$v" >>"$tmp/client.out" 2>&1 || fail "client search $v exited $?"
done
for _ in $(seq 100); do
	[ "$(grep -c '"event":"message"' "$tmp/z.out")" -ge 4 ] && break
	sleep 0.05
done
kill -INT "$apid"
wait "$zpid"
rc=$?
[ $rc -eq 0 ] || fail "jmsg analyze -Z nobody exited $rc"
n=$(grep -c '"event":"message"' "$tmp/z.out")
[ "$n" -eq 4 ] || fail "decoded $n messages after the drop, want 4 (2 requests, 2 responses)"
grep -q 'Follow the white rabbit' "$tmp/z.out" || fail "the morpheus response was not decoded"
[ "$(stat -c %u "$tmp/w/z.pcap")" = "$nuid" ] || fail "-w's file is not owned by nobody: $(stat -c %U "$tmp/w/z.pcap")"
"$JMSG" analyze -r "$tmp/w/z.pcap" --port "$port" --json >"$tmp/zr.out" 2>&1 || fail "reading -w's file exited $?"
[ "$(grep -c '"event":"message"' "$tmp/zr.out")" -eq 4 ] || fail "-w's file holds $(grep -c '"event":"message"' "$tmp/zr.out") messages, want 4"
echo "ok: -Z nobody: uid, gid, groups dropped, no capability; 4 messages decoded after the drop; -w's file is nobody's"

# ---- -Z nobody and the stall analysis: the kernel view (sock_diag) still
# samples the sockets; other users' processes cannot be named any more.
SERVER_TIMEOUT=60 start_server ns --no-read -q
timeout -s INT 45 "$jmsg" analyze -i lo -Z nobody --port "$ns_port" --json tcp port "$ns_port" \
	>"$tmp/stall.out" 2>"$tmp/stall.err" &
spid=$!
pids+=("$spid")
capture_started "$tmp/stall.err" "$spid" "jmsg analyze -Z nobody (stall)"
timeout 20 "$JMSG" client --port "$ns_port" --flood --duration 2 >"$tmp/flood.out" 2>&1 || fail "flood client exited $?"
sleep 0.5
kill -INT "$(child "$spid")"
wait "$spid" || fail "jmsg analyze -Z nobody (stall) exited $?"
python3 - "$tmp/stall.out" <<'PY' || fail "no stall with a kernel view after -Z: $(grep stall "$tmp/stall.out")"
import json, sys
st = [e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "stall"]
assert len(st) == 1, st
k = st[0]["kernel"]
assert k and k["samples"] > 0 and k["recvq"]["peak"] > 0 and k["sendq"]["peak"] > 0, k
assert k["receiver_process"] is None and k["sender_process"] is None, k
print("ok: -Z nobody: stall with %d kernel samples, Recv-Q peak %d; processes not named"
      % (k["samples"], k["recvq"]["peak"]))
PY
grep -q 'kernel view off' "$tmp/stall.err" && fail "kernel view off after -Z: $(cat "$tmp/stall.err")"

# ---- -Z errors
"$jmsg" analyze -i lo -Z jmsg-no-such-user >"$tmp/nouser.out" 2>"$tmp/nouser.err"
rc=$?
[ $rc -eq 1 ] || fail "-Z jmsg-no-such-user exited $rc, want 1"
[ "$(cat "$tmp/nouser.err")" = "jmsg analyze: -Z: no such user 'jmsg-no-such-user'" ] ||
	fail "-Z jmsg-no-such-user said: $(cat "$tmp/nouser.err")"
echo "ok: $(cat "$tmp/nouser.err") (exit 1)"
"$jmsg" analyze -r "$tmp/fixture.pcap" -Z nobody -w "$tmp/rootonly/x.pcap" >"$tmp/ro.out" 2>"$tmp/ro.err"
rc=$?
[ $rc -eq 1 ] || fail "-Z nobody -w into a root-only folder exited $rc, want 1"
[ "$(cat "$tmp/ro.err")" = "jmsg analyze: cannot write '$tmp/rootonly/x.pcap': Permission denied (as user 'nobody', -Z)" ] ||
	fail "-w into a root-only folder said: $(cat "$tmp/ro.err")"
[ -e "$tmp/rootonly/x.pcap" ] && fail "-w's file was created as root"
echo "ok: $(cat "$tmp/ro.err") (exit 1)"
"${as_nobody[@]}" "$jmsg" analyze -r "$tmp/fixture.pcap" -Z root >"$tmp/eperm.out" 2>"$tmp/eperm.err"
rc=$?
[ $rc -eq 1 ] || fail "as nobody, -Z root exited $rc, want 1"
grep -qx "jmsg analyze: -Z: cannot take the groups of user 'root' (uid 0, gid 0): Operation not permitted" "$tmp/eperm.err" ||
	fail "as nobody, -Z root said: $(cat "$tmp/eperm.err")"
[ -s "$tmp/eperm.out" ] && fail "as nobody, -Z root analyzed anyway"
echo "ok: $(cat "$tmp/eperm.err") (exit 1)"
"${as_nobody[@]}" "$jmsg" analyze -r "$tmp/fixture.pcap" -Z nobody >"$tmp/same.out" 2>"$tmp/same.err" ||
	fail "as nobody, -Z nobody exited $?: $(cat "$tmp/same.err")"
grep -q '^summary: .* [1-9][0-9]* messages' "$tmp/same.out" || fail "as nobody, -Z nobody decoded nothing"
echo "ok: as nobody, -Z nobody runs"

# ---- setcap cap_net_raw,cap_net_admin=eip, run as nobody
need setcap "setcap is not installed (Debian: libcap2-bin)"
timeout 5 "${as_nobody[@]}" "$jmsg" analyze -i lo -c 1 >"$tmp/plain.out" 2>"$tmp/plain.err"
cap_denied "$tmp/plain.err" || fail "as nobody, the binary without capabilities did not say it may not capture: $(cat "$tmp/plain.err")"
setcap cap_net_raw,cap_net_admin=eip "$jmsg" 2>"$tmp/setcap.err" ||
	skip "setcap failed here (a file system without extended attributes?): $(cat "$tmp/setcap.err")"
timeout -s INT 30 "${as_nobody[@]}" "$jmsg" analyze -i lo --port "$port" -l --json tcp port "$port" \
	>"$tmp/cap.out" 2>"$tmp/cap.err" &
cpid=$!
pids+=("$cpid")
# (not capture_started: here a denied capture is the recipe failing)
wait_for_line "$tmp/cap.err" 'listening on' 10 "$cpid" ||
	fail "the setcap copy of jmsg analyze, run as nobody, did not start: $(cat "$tmp/cap.err")"
apid=$(child "$cpid") || fail "no analyzer process under timeout"
grep -qP "^Uid:\t$nuid\t" "/proc/$apid/status" || fail "the setcap copy does not run as nobody"
timeout 10 "$JMSG" client --port "$port" -q search morpheus >>"$tmp/client.out" 2>&1 || fail "client exited $?"
for _ in $(seq 100); do
	[ "$(grep -c '"event":"message"' "$tmp/cap.out")" -ge 2 ] && break
	sleep 0.05
done
kill -INT "$apid"
wait "$cpid" || fail "the setcap copy of jmsg analyze exited $?"
[ "$(grep -c '"event":"message"' "$tmp/cap.out")" -eq 2 ] ||
	fail "as nobody with setcap, decoded $(grep -c '"event":"message"' "$tmp/cap.out") messages, want 2"
echo "ok: setcap cap_net_raw,cap_net_admin=eip: nobody captures on lo and decodes the conversation"
