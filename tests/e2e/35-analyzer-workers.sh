#!/usr/bin/env bash
# jmsg analyze --workers N against --workers 1: the output must be the same,
# line for line and in the same order, once stream numbers are renumbered in
# order of first appearance (worker w of N numbers its streams w, w+N...).
#   - every fixture, --json, text, -q and --json -q, with 2 (and 3) workers;
#   - one capture interleaving the Ethernet fixtures (many streams at once,
#     on several workers: text times, expiry, the end of the capture,
#     stalls, the peak stream count), with 2, 3 and 7 workers;
#   - generated traffic (bench/gen_capture): 1500 streams; the same slowed
#     down so hundreds expire at shared ticks, or with capture times that
#     go backwards now and then; 2000 streams open at once, and still open
#     when the capture ends;
#   - files read through a map (workers do): both byte orders, micro- and
#     nanosecond times, and the records libpcap reads its own way (a file
#     cut short, caplen past the snapshot length, times past 2038 or out
#     of range, version 2.2): the same events, exit status and error;
#   - -c N, -w FILE (the same pcap), usage errors, the ASan+UBSan build;
#   - live on lo: --workers 2 against --workers 1 on the packets it wrote
#     with -w, then SIGINT: exit 0 with the summary.
# A part that cannot run (no ASan build, no gen_capture, no permission to
# capture) makes the test a skip, with the reason, once the rest passed.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${JMSG_ASAN:=}" "${BUILD:=build}"
fx=tests/fixtures
[ -x "$JMSG" ] || { echo "no jmsg binary at $JMSG"; exit 1; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
not_run=()

# same.py PAIRS: for each line "A B LABEL" of PAIRS, outputs A and B must be
# equal once each one's stream numbers are replaced by their order of first
# appearance (JSON "stream", the text lines' second column, stall lines).
# Prints the first difference of each pair that is not.  (One Python for
# all pairs: starting it takes longer than most runs.)
cat > "$tmp/same.py" <<'PY'
import re, sys
PATS = [
    (re.compile(rb'^(\{"event":"[a-z_]+",(?:"ts":[0-9.]+,)?"stream":)(\d+)(.*)$', re.S), b'%s%d%s'),
    (re.compile(rb'^(\s*-?[0-9]+\.[0-9]+) +([0-9]+) (.*)$', re.S), b'%s %3d %s'),
    (re.compile(rb'^(\s*-?[0-9]+\.[0-9]+ stall stream )([0-9]+)(:.*)$', re.S), b'%s%d%s'),
    (re.compile(rb'^(stall note, stream )([0-9]+)(:.*)$', re.S), b'%s%d%s'),
]
KERNEL = re.compile(rb',"kernel_received":\d+,"kernel_dropped":\d+,"if_dropped":\d+')
def norm(path, live):
    ids, out = {}, []
    for line in open(path, 'rb'):
        if live:  # against the same packets read back: no kernel counters
            if line.startswith(b'kernel: '):
                continue
            line = KERNEL.sub(b'', line)
        for pat, fmt in PATS:
            m = pat.match(line)
            if m:
                line = fmt % (m[1], ids.setdefault(m[2], len(ids)), m[3])
                break
        out.append(line)
    return out
bad = 0
for pair in open(sys.argv[1]):
    fa, fb, label = pair.rstrip('\n').split(' ', 2)
    live = label.startswith('live')
    a, b = norm(fa, live), norm(fb, live)
    if a == b:
        continue
    bad += 1
    print(f"FAIL: {label}: differs from --workers 1")
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            print(f"  line {i + 1}:\n  < {x[:240]!r}\n  > {y[:240]!r}")
            break
    else:
        print(f"  {len(a)} lines against {len(b)}")
sys.exit(1 if bad else 0)
PY

# retime.py IN OUT K: a microsecond pcap with its packet times spread K
# times further apart; with K = 0, every fifth packet swaps its time with
# the next one's instead (capture time goes backwards now and then).
cat > "$tmp/retime.py" <<'PY'
import struct, sys
data, k = open(sys.argv[1], 'rb').read(), int(sys.argv[3])
recs, off = [], 24
while off + 16 <= len(data):
    s, us, incl, orig = struct.unpack('<IIII', data[off:off + 16])
    recs.append([s * 1000000 + us, incl, orig, data[off + 16:off + 16 + incl]])
    off += 16 + incl
for i in range(len(recs)):
    if k:
        recs[i][0] = recs[0][0] + (recs[i][0] - recs[0][0]) * k
    elif i % 5 == 0 and i + 1 < len(recs):
        recs[i][0], recs[i + 1][0] = recs[i + 1][0], recs[i][0]
out = [data[:24]] + [struct.pack('<IIII', t // 1000000, t % 1000000, n, orig) + fr for t, n, orig, fr in recs]
open(sys.argv[2], 'wb').write(b''.join(out))
PY

# mix.py OUT PCAP...: the microsecond Ethernet captures interleaved, the
# i-th starting at i * 0.25 s; prints the --port options they need.
cat > "$tmp/mix.py" <<'PY'
import os, struct, sys
out, pkts, ports = sys.argv[1], [], {65432}
for i, path in enumerate(sorted(sys.argv[2:])):
    data = open(path, 'rb').read()
    if struct.unpack('<I', data[:4])[0] != 0xa1b2c3d4 or struct.unpack('<I', data[20:24])[0] != 1:
        continue
    args = path[:-5] + '.args'
    if os.path.exists(args):
        w = open(args).read().split()
        ports.update(int(w[j + 1]) for j in range(len(w) - 1) if w[j] == '--port')
    off, t0 = 24, None
    while off + 16 <= len(data):
        s, us, incl, orig = struct.unpack('<IIII', data[off:off + 16])
        t = s * 1000000 + us
        t0 = t if t0 is None else t0
        pkts.append((1700000000000000 + i * 250000 + (t - t0), i, len(pkts), orig,
                     data[off + 16:off + 16 + incl]))
        off += 16 + incl
pkts.sort()
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    for t, _, _, orig, frame in pkts:
        f.write(struct.pack('<IIII', t // 1000000, t % 1000000, len(frame), orig) + frame)
print(' '.join(f'--port {p}' for p in sorted(ports)))
PY

runs=0 cmps=0
mkdir -p "$tmp/out"
: > "$tmp/pairs"
# check NAME BIN PCAP "N..." ARGS...: run with --workers 1 and each N; every
# run must exit 0 with nothing on stderr; compare_all compares the outputs.
check() {
	local name=$1 bin=$2 pcap=$3 ns=$4 n rc
	shift 4
	local one=$tmp/out/$runs.1
	ASAN_OPTIONS=detect_leaks=1 timeout 120 "$bin" analyze -r "$pcap" "$@" >"$one" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] || fail "$name $*: --workers 1: exit $rc: $(head -c 300 "$tmp/err")"
	for n in $ns; do
		ASAN_OPTIONS=detect_leaks=1 timeout 120 "$bin" analyze -r "$pcap" "$@" --workers "$n" \
			>"$tmp/out/$runs.$n" 2>"$tmp/err"
		rc=$?
		[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] || fail "$name $* --workers $n: exit $rc: $(head -c 300 "$tmp/err")"
		echo "$one $tmp/out/$runs.$n $name $* --workers $n" >> "$tmp/pairs"
	done
	runs=$((runs + 1))
}
compare_all() {
	local n
	n=$(wc -l < "$tmp/pairs")
	python3 "$tmp/same.py" "$tmp/pairs" || exit 1
	echo "$1: $n comparisons, all equal"
	cmps=$((cmps + n))
	: > "$tmp/pairs"
	rm -f "$tmp"/out/*
}

# 1. Every fixture.
if [ ! -f "$BUILD/fixtures/msg-5mb.pcap" ] && [ -x "$BUILD/tools/pcapgen" ]; then
	mkdir -p "$BUILD/fixtures"
	"$BUILD/tools/pcapgen" -o "$BUILD/fixtures/msg-5mb.pcap" "$fx/msg-5mb.script" >/dev/null ||
		fail "cannot generate msg-5mb.pcap"
fi
nfix=0
for pcap in "$fx"/*.pcap "$fx"/*.pcapng "$BUILD"/fixtures/*.pcap; do
	[ -f "$pcap" ] || continue
	name=$(basename "$pcap"); name=${name%.pcapng}; name=${name%.pcap}
	args=()
	[ -f "$fx/$name.args" ] && read -r -a args < "$fx/$name.args"
	check "$name" "$JMSG" "$pcap" "2 3" --json "${args[@]}"
	check "$name" "$JMSG" "$pcap" "2 3" "${args[@]}"
	check "$name" "$JMSG" "$pcap" 2 -q "${args[@]}"
	check "$name" "$JMSG" "$pcap" 2 --json -q "${args[@]}"
	nfix=$((nfix + 1))
done
[ $nfix -ge 40 ] || fail "only $nfix fixtures found"
compare_all "fixtures ($nfix captures)"

# 2. The Ethernet fixtures interleaved into one capture.
python3 "$tmp/mix.py" "$tmp/mix.pcap" "$fx"/*.pcap > "$tmp/ports" || fail "cannot build the mixed capture"
read -r -a ports < "$tmp/ports"
mix=$tmp/mix.pcap
for mode in --json "" -q "--json --idle-timeout 0.1" "--idle-timeout 0.1" "-q --idle-timeout 0.1"; do
	# shellcheck disable=SC2086
	check mixed "$JMSG" "$mix" "2 3 7" $mode "${ports[@]}"
done
compare_all mixed
# It does what it is for: streams on every worker, many open at once and
# at the end, expiry, stalls.
"$JMSG" analyze -r "$mix" --json --idle-timeout 0.1 "${ports[@]}" --workers 7 > "$tmp/mix7.jsonl" ||
	fail "mixed --workers 7"
python3 - "$tmp/mix7.jsonl" <<'PY' || fail "the mixed capture does not exercise what it should"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = ev[-1]
n = lambda state: sum(e['event'] == 'stream' and e['phase'] == 'end' and e['state'] == state for e in ev)
assert s['event'] == 'summary' and s['streams'] >= 50 and s['peak_streams'] >= 10, s
assert {e['stream'] % 7 for e in ev if e['event'] == 'stream'} == set(range(7))
assert n('expired') >= 3 and n('closed') >= 40, (n('expired'), n('closed'))
assert sum(e['event'] == 'stall' for e in ev) >= 2
print(f"mixed: {s['streams']} streams on 7 workers, peak {s['peak_streams']}, "
      f"{n('expired')} expired, {n('closed')} closed, "
      f"{sum(e['event'] == 'stall' for e in ev)} stalls")
PY

# 3. Generated traffic; cut short with -c, 2000 streams are still open when
# the capture ends.
if [ -x "$BUILD/bench/gen_capture" ]; then
	"$BUILD/bench/gen_capture" -o "$tmp/gen.pcap" --packets 30k --streams 1500 --rate 500 2>/dev/null ||
		fail "gen_capture"
	"$BUILD/bench/gen_capture" --concurrent --streams 2000 -o "$tmp/conc.pcap" 2>/dev/null ||
		fail "gen_capture --concurrent"
	python3 "$tmp/retime.py" "$tmp/gen.pcap" "$tmp/slow.pcap" 20 || fail "cannot slow the capture down"
	python3 "$tmp/retime.py" "$tmp/gen.pcap" "$tmp/back.pcap" 0 || fail "cannot turn time back"
	for mode in --json "" -q; do
		# shellcheck disable=SC2086
		check gen "$JMSG" "$tmp/gen.pcap" 2 $mode
		# shellcheck disable=SC2086
		check concurrent "$JMSG" "$tmp/conc.pcap" 3 $mode
		# shellcheck disable=SC2086
		check slow "$JMSG" "$tmp/slow.pcap" "2 5" $mode --idle-timeout 0.05
		# shellcheck disable=SC2086
		check "concurrent -c" "$JMSG" "$tmp/conc.pcap" "2 3" $mode -c 15000
		# shellcheck disable=SC2086
		check "time going back" "$JMSG" "$tmp/back.pcap" 3 $mode
	done
	n=$("$JMSG" analyze -r "$tmp/conc.pcap" --json -c 15000 | grep -c '"phase":"end","state":"open"')
	[ "$n" -eq 2000 ] || fail "concurrent -c 15000: $n streams open at the end, not 2000"
	n=$("$JMSG" analyze -r "$tmp/slow.pcap" --json --idle-timeout 0.05 | grep -c '"state":"expired"')
	[ "$n" -ge 500 ] || fail "slow: only $n streams expired"
	compare_all "generated ($n streams expire in the slow one)"
else
	not_run+=("no $BUILD/bench/gen_capture: generated traffic not checked")
fi

# 4. Files read through the map, against libpcap's reading.
mkdir -p "$tmp/edge"
python3 - "$fx/basic-search.pcap" "$tmp/edge" <<'PY' || fail "cannot write the edge captures"
import struct, sys
src, out = open(sys.argv[1], 'rb').read(), sys.argv[2]
magic, vmaj, vmin, tz, sig, snap, lt = struct.unpack('<IHHiIII', src[:24])
recs, off = [], 24
while off + 16 <= len(src):
    s, us, incl, orig = struct.unpack('<IIII', src[off:off + 16])
    recs.append([s, us, incl, orig, src[off + 16:off + 16 + incl]])
    off += 16 + incl
def write(name, e='<', nsec=False, snaplen=snap, ver=(2, 4), cut=0, fix=None):
    o = [struct.pack(e + 'IHHiIII', 0xa1b23c4d if nsec else 0xa1b2c3d4, ver[0], ver[1], 0, 0, snaplen, lt)]
    for i, r in enumerate(recs):
        r = list(r)
        if nsec:
            r[1] = r[1] * 1000 + 7
        if fix:
            fix(i, r)
        o.append(struct.pack(e + 'IIII', *r[:4]) + r[4])
    data = b''.join(o)
    open(f'{out}/{name}.pcap', 'wb').write(data[:len(data) - cut])
write('le'); write('be', e='>'); write('nsec', nsec=True); write('be-nsec', e='>', nsec=True)
write('cut5', cut=5); write('cut20', cut=20); write('snaplen60', snaplen=60); write('v2.2', ver=(2, 2))
write('empty', cut=len(src) - 24)
write('y2038', fix=lambda i, r: r.__setitem__(0, r[0] + 0x80000000) if i >= 4 else None)
write('usec-1500000', fix=lambda i, r: r.__setitem__(1, 1500000) if i == 3 else None)
write('caplen-gt-len', fix=lambda i, r: r.__setitem__(3, r[2] - 1) if i == 2 else None)
PY
nedge=0
for pcap in "$tmp"/edge/*.pcap; do
	for mode in --json "--json -c 3" "--json tcp port 65432 and tcp[13] & 2 != 0"; do
		# shellcheck disable=SC2086
		"$JMSG" analyze -r "$pcap" $mode >"$tmp/one" 2>"$tmp/one.err"
		rc1=$?
		# shellcheck disable=SC2086
		"$JMSG" analyze --workers 2 -r "$pcap" $mode >"$tmp/out/$nedge" 2>"$tmp/two.err"
		rc2=$?
		[ $rc1 -eq $rc2 ] && cmp -s "$tmp/one.err" "$tmp/two.err" ||
			fail "$(basename "$pcap") $mode: exit $rc1, $(cat "$tmp/one.err") / with workers exit $rc2, $(cat "$tmp/two.err")"
		mv "$tmp/one" "$tmp/out/$nedge.1"
		echo "$tmp/out/$nedge.1 $tmp/out/$nedge $(basename "$pcap") $mode" >> "$tmp/pairs"
		nedge=$((nedge + 1))
	done
done
"$JMSG" analyze --workers 2 -r "$tmp/edge/cut5.pcap" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "truncated dump file" "$tmp/err" || fail "cut5 with workers: exit $rc, $(cat "$tmp/err")"
compare_all "mapped reading ($(ls "$tmp"/edge | wc -l) captures)"

# 5. -c N and -w FILE.
check "mixed -c" "$JMSG" "$mix" 2 --json -c 700 "${ports[@]}"
compare_all "-c 700"
"$JMSG" analyze -r "$mix" --json -c 700 --workers 2 "${ports[@]}" | tail -n 1 | grep -q '"packets":700,' ||
	fail "-c 700 with workers: not 700 packets"
"$JMSG" analyze -r "$mix" -q -w "$tmp/w1.pcap" "${ports[@]}" >/dev/null || fail "-w with one worker"
"$JMSG" analyze -r "$mix" -q -w "$tmp/w2.pcap" "${ports[@]}" --workers 2 >/dev/null || fail "-w with workers"
cmp -s "$tmp/w1.pcap" "$tmp/w2.pcap" || fail "-w writes another pcap with --workers 2"
echo "-w: the same pcap"

# 6. Usage errors.
for bad in 0 65 x 2k -1; do
	"$JMSG" analyze -r "$mix" --workers "$bad" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	[ $rc -eq 2 ] || fail "--workers $bad: exit $rc"
	grep -q -- "--workers wants a count from 1 to 64" "$tmp/e" || fail "--workers $bad: $(cat "$tmp/e")"
done
"$JMSG" analyze -r "$mix" --workers 2 --plot "$tmp/p.svg" >"$tmp/o" 2>"$tmp/e"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--plot and --plot-stream need --workers 1" "$tmp/e" ||
	fail "--plot with workers: exit $rc: $(cat "$tmp/e")"
"$JMSG" analyze --help | grep -q -- "--workers N .*1 to 64" || fail "--help does not name the limit"
"$JMSG" analyze -r "$mix" --workers 64 -q "${ports[@]}" >/dev/null || fail "--workers 64"
echo "usage: checked"

# 7. ASan+UBSan.
if [ -n "$JMSG_ASAN" ] && [ -x "$JMSG_ASAN" ]; then
	check "mixed (ASan)" "$JMSG_ASAN" "$mix" 3 --json --idle-timeout 0.1 "${ports[@]}"
	check "mixed (ASan)" "$JMSG_ASAN" "$mix" 2 "${ports[@]}"
	[ -f "$tmp/slow.pcap" ] && check "slow (ASan)" "$JMSG_ASAN" "$tmp/slow.pcap" 5 --json --idle-timeout 0.05
	[ -f "$BUILD/fixtures/msg-5mb.pcap" ] &&
		check "msg-5mb (ASan)" "$JMSG_ASAN" "$BUILD/fixtures/msg-5mb.pcap" 2 --json
	compare_all "ASan+UBSan"
else
	not_run+=("no ASan build (JMSG_ASAN): the sanitizer runs were not made")
fi

# 8. Live with --workers 2, JSON and text, and -w: the output must be what
# --workers 1 makes of the packets written (but for the kernel's counters).
# (Two live analyzers do not compare: each capture socket stamps packets
# with its own clock reading.)
# The live part; returns early (a skip) only if capturing is not permitted.
live_part() {
	timeout 60 "$JMSG" server --port 0 --port-file "$tmp/port" -q >"$tmp/server.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	[ -s "$tmp/port" ] || fail "server did not start: $(cat "$tmp/server.log")"
	port=$(cat "$tmp/port")
	live=()
	for mode in json text; do
		m=()
		[ $mode = json ] && m=(--json)
		timeout 60 "$JMSG" analyze -i lo --port "$port" --no-kernel "${m[@]}" --workers 2 \
			-w "$tmp/live.$mode.pcap" tcp port "$port" >"$tmp/live.$mode" 2>"$tmp/live.$mode.err" &
		live+=($!)
		pids+=($!)
	done
	for f in json text; do
		for _ in $(seq 200); do grep -q 'listening on lo' "$tmp/live.$f.err" && break; sleep 0.05; done
		if ! grep -q 'listening on lo' "$tmp/live.$f.err"; then
			cap_denied "$tmp/live.$f.err" &&
				{ not_run+=("no permission to capture on lo: $(head -n 1 "$tmp/live.$f.err")"); return; }
			fail "analyzer $f did not start: $(cat "$tmp/live.$f.err")"
		fi
	done
	for i in $(seq 12); do
		timeout 20 "$JMSG" client --port "$port" -q search "w$i" >/dev/null 2>&1 || fail "client $i failed"
	done
	timeout 20 "$JMSG" client --port "$port" -q --keep-alive search ring >/dev/null 2>&1 || fail "keep-alive client"
	# Output lags by up to a block timeout: wait (bounded) for all 26 messages.
	for _ in $(seq 200); do
		[ "$(grep -c '"event":"message"' "$tmp/live.json")" -ge 26 ] &&
			[ "$(grep -c ' request \| response ' "$tmp/live.text")" -ge 26 ] && break
		sleep 0.05
	done
	for p in "${live[@]}"; do kill -INT "$p"; done
	for p in "${live[@]}"; do wait "$p" || fail "a live analyzer exited $? after SIGINT"; done
	[ "$(grep -c '"event":"message"' "$tmp/live.json")" -eq 26 ] || fail "live: not 26 messages"
	for mode in json text; do
		grep -q summary "$tmp/live.$mode" || fail "live $mode: no summary"
		m=()
		[ $mode = json ] && m=(--json)
		"$JMSG" analyze -r "$tmp/live.$mode.pcap" --port "$port" "${m[@]}" >"$tmp/back.$mode" ||
			fail "cannot read back live.$mode.pcap"
		echo "$tmp/back.$mode $tmp/live.$mode live $mode" >> "$tmp/pairs"
	done
	python3 "$tmp/same.py" "$tmp/pairs" || fail "live: --workers 2 saw the traffic differently"
	grep -q 'kernel view off' "$tmp/live.json.err" && fail "kernel view note despite --no-kernel"
	echo "live: --workers 2 as --workers 1 on the packets it read (26 messages); SIGINT ends it"
	cmps=$((cmps + 2))
}
live_part
# the same run twice prints the same lines, stream numbers included (the
# split must not depend on anything drawn at start-up)
for pcap in "$fx"/live-many-clients.pcap "$fx"/pipelined-keepalive.pcap; do
	"$JMSG" analyze -r "$pcap" --workers 3 >"$tmp/again1" 2>&1
	"$JMSG" analyze -r "$pcap" --workers 3 >"$tmp/again2" 2>&1
	cmp -s "$tmp/again1" "$tmp/again2" || fail "$(basename "$pcap") --workers 3: two runs print different lines:
$(diff "$tmp/again1" "$tmp/again2" | head)"
	cmps=$((cmps + 1))
done
echo "workers: $cmps comparisons, all equal"
if [ ${#not_run[@]} -gt 0 ]; then
	(IFS=';'; echo "skip: ${not_run[*]}")
	exit 77
fi
