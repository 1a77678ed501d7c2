#!/usr/bin/env bash
# Targets that say more than they were asked, and never stop: one floods
# extra responses as fast as it can once it has answered, one trickles an
# extra response every 0.3 s forever.  Each replay still ends by itself,
# reports the extra responses (at most the engine's cap of 16 per stream)
# and exits 1, without its memory growing with what the target sends.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
need python3 "python3 is needed for the fake targets"
tmpdir T

# chatty.py PORTFILE GAP: answer the first connection's request, then send
# the same response again every GAP seconds (0: as fast as it goes) until
# the connection breaks.
cat >"$T/chatty.py" <<'PY'
import os, socket, sys, time
pf, gap = sys.argv[1], float(sys.argv[2])
content = '{"result": "Follow the white rabbit. \U0001F430"}'.encode()
h = ('{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", '
     '"content-length": %d}' % len(content)).encode()
msg = len(h).to_bytes(2, "big") + h + content
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
with open(pf + ".tmp", "w") as f:
    f.write("%d\n" % l.getsockname()[1])
os.rename(pf + ".tmp", pf)
c, _ = l.accept()
c.recv(65536)
try:
    while True:
        c.sendall(msg)
        if gap:
            time.sleep(gap)
except OSError:
    pass
PY

pcap=tests/fixtures/tutorial-search-morpheus.pcap
read -ra args <"${pcap%.pcap}.args"
for mode in flood:0 trickle:0.3; do
	name=${mode%%:*}
	python3 "$T/chatty.py" "$T/$name.port" "${mode#*:}" 2>"$T/$name.err" &
	pids+=($!)
	wait_for_file "$T/$name.port" 5 || fail "fake target $name did not start"
	"$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$(cat "$T/$name.port")" \
		>"$T/$name.out" 2>"$T/$name.rerr" &
	rp=$!
	pids+=($rp)
	peak=0
	for _ in $(seq 200); do  # at most 20 s
		kill -0 $rp 2>/dev/null || break
		rss=$(awk '/^VmRSS/ {print $2}' /proc/$rp/status 2>/dev/null)
		[ -n "$rss" ] && [ "$rss" -gt "$peak" ] && peak=$rss
		sleep 0.1
	done
	if kill -0 $rp 2>/dev/null; then
		kill $rp
		wait $rp
		rc=124
	else
		wait $rp
		rc=$?
	fi
	extra=$(grep -c 'extra response, not in the capture' "$T/$name.out")
	echo "$name: exit $rc, $extra extra responses reported, peak VmRSS ${peak} kB"
	tail -n 1 "$T/$name.out"
	[ $rc -ne 124 ] || fail "$name: the replay was still running after 20 s (peak VmRSS ${peak} kB)"
	[ $rc -eq 1 ] || fail "$name: exit $rc, expected 1 (extra responses)"
	[ "$extra" -ge 1 ] && [ "$extra" -le 16 ] || fail "$name: $extra extra responses reported, expected 1 to 16"
	grep -q '1 identical' "$T/$name.out" || fail "$name: the real response was not compared"
done
echo "ok"
