#!/usr/bin/env bash
# Random bytes on many connections, while a load run is going on the same
# server (ASan+UBSan build when there is one): every garbage connection
# gets an error response or is closed, the load run sees no error at all,
# and the server stops cleanly with no sanitizer or leak report.  The
# garbage is random on each run; its seed is printed so a failure can be
# replayed (GARBAGE_SEED=N).
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
SERVER=$JMSG
if have_asan; then SERVER=$JMSG_ASAN; fi
export ASAN_OPTIONS=detect_leaks=1
tmpdir T
seed=${GARBAGE_SEED:-$RANDOM}
RANDOM=$seed
echo "garbage seed $seed"
FAIL_LOGS=s.err FAIL_TAIL=30 FAIL_CONTEXT="(GARBAGE_SEED=$seed)"

start_server s -q --max-content 64k --idle-timeout 2
port=$s_port spid=$s_pid

# 60 garbage inputs: pure noise, and noise after a valid protoheader and
# header start, so the codec gets past the first checks
for i in $(seq 60); do
	n=$((RANDOM % 3000 + 1))
	case $((i % 3)) in
	0) head -c "$n" /dev/urandom ;;
	1) printf '\x00\x67{"byteorder": "little", "content-'; head -c "$n" /dev/urandom ;;
	2) printf '\x00\x67{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 40}'
	   head -c 40 /dev/urandom ;;
	esac >"$T/g$i"
done

timeout 120 "$JMSG" client --port "$port" --load --conns 8 --pipeline 4 --requests 20000 --json >"$T/load.json" &
lpid=$!
garbage=()
for i in $(seq 60); do
	timeout 30 "$BUILD/tools/srv_rawsend" -s -w 10 "$port" <"$T/g$i" >"$T/r$i" &
	garbage+=($!)
done
for p in "${garbage[@]}"; do
	wait "$p"
	rc=$?
	# 0: answered (or closed) by the server; 4: reset, when the server
	# closed with garbage still unread; never 3 (server kept it open)
	[ $rc -eq 0 ] || [ $rc -eq 4 ] || fail "a garbage connection ended with srv_rawsend exit $rc"
done
wait $lpid || fail "the load run failed: $(cat "$T/load.json")"
grep -q '"requests":20000,"errors":0,' "$T/load.json" || fail "load run saw errors: $(cat "$T/load.json")"
answered=0
for i in $(seq 60); do
	if [ -s "$T/r$i" ]; then
		"$BUILD/tools/srv_decode" <"$T/r$i" | grep -q '^text/json {"error": "' || fail "garbage $i: answer is not an error response"
		answered=$((answered + 1))
	fi
done
kill -TERM $spid
wait $spid || fail "server exited $? after SIGTERM"
! sanitizer_report "$T/s.err" || fail "sanitizer report"
echo "ok: 60 garbage connections ($answered answered with an error), 20000 good requests, 0 errors"
