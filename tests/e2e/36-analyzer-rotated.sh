#!/usr/bin/env bash
# Several files read as one capture, as tcpdump -C or -G leaves them: every
# pcap fixture with a golden output (tests/fixtures/NAME.jsonl) is cut into
# pieces with editcap, and jmsg analyze on the pieces must print the golden
# output byte for byte: streams go on from one file into the next.
#
#   - one packet a file, renamed as tcpdump -C names them (cap, cap1, cap2,
#     ..., cap10, ...), read as -r DIR: the files come in natural order, not
#     in the order of their names' bytes (cap10 before cap2);
#   - three packets a file, every other piece converted to pcapng, each
#     given as its own -r, in order;
#   - the same DIR with --workers 2 equals --workers 2 on the one file.
#
# Then -w with several files writes every packet once, and the mistakes
# are named: a file that cannot be opened, a file that is no capture, a
# directory without files, -w over two link types; link types mixed
# without -w just work.  Last, jmsg replay DIR replays what the file holds.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${JMSG_ASAN:=}" "${BUILD:=build}"
fx=tests/fixtures
tmpdir tmp
need editcap "editcap (wireshark-common) is not installed"
[ -x "$JMSG" ] || fail "no jmsg binary at $JMSG"

checked=0 pcaps=0 pcapngs=0
for pcap in "$fx"/*.pcap "$fx"/*.pcapng; do
	[ -f "$pcap" ] || continue
	name=$(basename "$pcap"); name=${name%.pcapng}; name=${name%.pcap}
	golden=$fx/$name.jsonl
	[ -f "$golden" ] || continue
	n=$(capinfos -TrcM "$pcap" | cut -f2)
	[ "$n" -ge 2 ] || continue
	args=()
	[ -f "$fx/$name.args" ] && read -r -a args < "$fx/$name.args"
	d=$tmp/$name
	mkdir -p "$d/one" "$d/three"
	# editcap writes pcapng unless told: the pieces keep the fixture's
	# format (classic pcap, microseconds, is read from a map), and the
	# other format is every other piece of the three-packet cut
	# (nanosecond pcap for a pcapng fixture: its times are in ns).
	case $pcap in
	*.pcapng) fmt=pcapng other=nsecpcap ;;
	*) fmt=pcap other=pcapng ;;
	esac
	# one packet a file, named as tcpdump -C names them
	editcap -F $fmt -c 1 "$pcap" "$d/one/x.pcap" || fail "editcap -c 1 $pcap"
	i=0
	for f in $(ls "$d/one" | sort); do
		mv "$d/one/$f" "$d/one/cap$( [ $i -gt 0 ] && echo $i)"
		i=$((i + 1))
	done
	"$JMSG" analyze -r "$d/one" --json "${args[@]}" > "$d/out1" 2> "$d/err1" ||
		fail "$name in $i files: exit $? ($(head -c 300 "$d/err1"))"
	cmp -s "$d/out1" "$golden" ||
		{ diff "$golden" "$d/out1" | head -n 10; fail "$name, one packet a file in $d/one: not the golden output"; }
	# three packets a file, pcap and pcapng in turn, one -r each
	editcap -F $fmt -c 3 "$pcap" "$d/three/x.pcap" || fail "editcap -c 3 $pcap"
	rs=() files=() i=0
	for f in $(ls "$d/three" | sort); do
		if [ $((i % 2)) -eq 1 ]; then
			editcap -F $other "$d/three/$f" "$d/three/$f.o" && rm "$d/three/$f" ||
				fail "editcap -F $other"
			f=$f.o
		fi
		rs+=(-r "$d/three/$f")
		files+=("$d/three/$f")
		i=$((i + 1))
	done
	types=$(capinfos -t "${files[@]}" "$d/one/cap" | sed -n 's/^File type: *//p')
	pcaps=$((pcaps + $(grep -c 'pcap$' <<<"$types")))
	pcapngs=$((pcapngs + $(grep -c 'pcapng$' <<<"$types")))
	"$JMSG" analyze "${rs[@]}" --json "${args[@]}" > "$d/out3" 2> "$d/err3" ||
		fail "$name in $i files, pcap and pcapng: exit $? ($(head -c 300 "$d/err3"))"
	cmp -s "$d/out3" "$golden" ||
		{ diff "$golden" "$d/out3" | head -n 10; fail "$name, three packets a file, pcap and pcapng: not the golden output"; }
	# the workers: the same as on the one file
	"$JMSG" analyze -r "$pcap" --json --workers 2 "${args[@]}" > "$d/w1" 2>&1 &&
	"$JMSG" analyze -r "$d/one" --json --workers 2 "${args[@]}" > "$d/wn" 2>&1 ||
		fail "$name with --workers 2: exit $?"
	cmp -s "$d/w1" "$d/wn" ||
		{ diff "$d/w1" "$d/wn" | head -n 10; fail "$name, --workers 2: the files differ from the one file"; }
	checked=$((checked + 1))
	rm -rf "$d"
done
[ $checked -ge 20 ] || fail "only $checked fixtures were checked"
[ $pcaps -ge 20 ] && [ $pcapngs -ge 20 ] || fail "pieces: $pcaps classic pcap, $pcapngs pcapng; want both"
echo "rotated: $checked fixtures, each in 1-packet and 3-packet files ($pcaps classic pcap and $pcapngs pcapng files), the golden output"

# -w with several files: every packet once, in order.
f=$fx/basic-search.pcap
mkdir "$tmp/d"
editcap -c 2 "$f" "$tmp/d/p.pcap" || fail "editcap"
"$JMSG" analyze -r "$tmp/d" -q -w "$tmp/all.pcap" > /dev/null || fail "-w with -r DIR: exit $?"
[ "$(tshark -r "$tmp/all.pcap" -T fields -e frame.time_epoch -e tcp.seq_raw 2>&1)" = \
  "$(tshark -r "$f" -T fields -e frame.time_epoch -e tcp.seq_raw 2>&1)" ] ||
	fail "-w with several files: not the packets of the one file"
echo "ok: -w with -r DIR writes every packet once"

# Link types mixed: each file has its own.
"$JMSG" analyze -r "$fx/link-sll.pcap" -r "$fx/link-raw.pcap" -r "$fx/link-null.pcap" -q \
	> "$tmp/mixed" 2> "$tmp/mixed.err" || fail "link types mixed: exit $? ($(cat "$tmp/mixed.err"))"
sum=0
for l in sll raw null; do
	p=$("$JMSG" analyze -r "$fx/link-$l.pcap" --json -q | tail -n 1 | sed 's/.*"messages":\([0-9]*\).*/\1/')
	sum=$((sum + p))
done
grep -q "; $sum messages" "$tmp/mixed" || fail "link types mixed: want $sum messages, got: $(cat "$tmp/mixed")"
echo "ok: three link types in three files: $sum messages"

# Mistakes, each named, exit 1, nothing on stdout; with the ASan build too.
runners=("$JMSG")
have_asan && runners+=("$JMSG_ASAN")
expect_error() { # WANT ARGS...: exit 1, stderr is WANT, stdout empty (each runner)
	local want=$1 bin
	shift
	for bin in "${runners[@]}"; do
		ASAN_OPTIONS=detect_leaks=1 "$bin" analyze "$@" > "$tmp/e.out" 2> "$tmp/e.err"
		expect_one $? "$want" "$bin" "$@"
	done
}
expect_one() { # RC WANT BIN ARGS...
	local rc=$1 want=$2
	shift 2
	[ $rc -eq 1 ] || fail "$*: exit $rc, want 1"
	[ ! -s "$tmp/e.out" ] || fail "$*: wrote to stdout: $(head -c 200 "$tmp/e.out")"
	[ "$(cat "$tmp/e.err")" = "$want" ] || fail "$*: said '$(cat "$tmp/e.err")', want '$want'"
	echo "ok ($(basename "$(dirname "$1")")/$(basename "$1")): $want"
}
mkdir "$tmp/empty" "$tmp/junk"
touch "$tmp/empty/.hidden"
cp "$f" "$tmp/junk/a.pcap"
echo hello > "$tmp/junk/b.txt"
expect_error "jmsg analyze: cannot open '$tmp/nope.pcap': No such file or directory" \
	-r "$f" -r "$tmp/nope.pcap"
expect_error "jmsg analyze: '$tmp/empty' is a directory with no files to read in it" \
	-r "$tmp/empty"
expect_error "jmsg analyze: cannot read '$tmp/junk/b.txt': unknown file format" -r "$tmp/junk"
expect_error "jmsg analyze: '$fx/link-raw.pcap' has link type RAW, '$fx/link-sll.pcap' LINUX_SLL: -w writes one pcap file, which holds one" \
	-r "$fx/link-sll.pcap" -r "$fx/link-raw.pcap" -w "$tmp/w.pcap"
# jmsg replay takes a directory too: the same conversations as the file.
pcap=$fx/live-keepalive.pcap
read -r -a args < "$fx/live-keepalive.args"
mkdir "$tmp/rp"
editcap -c 1 "$pcap" "$tmp/rp/cap.pcap" || fail "editcap"
start_server s -q
"$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$s_port" --json > "$tmp/rp1" ||
	fail "replay of the file: exit $?"
"$JMSG" replay "$tmp/rp" "${args[@]}" --to "127.0.0.1:$s_port" --json > "$tmp/rpn" ||
	fail "replay of the directory: exit $?"
grep -q '"identical": *[1-9]' "$tmp/rp1" || fail "replay of the file: nothing identical: $(cat "$tmp/rp1")"
# (all but the time it took)
sed -i 's/"seconds": *[0-9.]*, *//' "$tmp/rp1" "$tmp/rpn"
cmp -s "$tmp/rp1" "$tmp/rpn" || fail "replay: the directory is not the file: $(cat "$tmp/rpn")"
echo "ok: jmsg replay DIR: $(cat "$tmp/rpn")"
echo "rotated: all passed"
