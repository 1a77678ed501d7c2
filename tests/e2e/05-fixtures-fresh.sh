#!/usr/bin/env bash
# The committed pcap fixtures are exactly what their scripts make.
#
# Regenerates every tests/fixtures/*.script into a scratch directory and
# compares byte for byte with the committed capture, so a script and its
# pcap can never drift apart.  Also checks that every scripted capture opens
# in tshark with the packet count pcapgen reports, that tshark's TCP
# reassembly of every stream gives exactly the bytes the script's senders
# wrote (except where the script makes the capture miss bytes: drop=,
# snaplen), that no capture lacks its script, and that the synthesized
# tutorial exchanges carry the same TCP payload bytes as the real captures
# of the tutorial's programs.
#
# Without tshark only the freshness and the scripts are checked; the test
# then ends in a skip (77) saying so, unless something failed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${BUILD:=build}"
pcapgen=$BUILD/tools/pcapgen
[ -x "$pcapgen" ] || { echo "05-fixtures-fresh: $pcapgen is not built (make BUILD=$BUILD)"; exit 1; }

tmpdir tmp
fail=0
bad() { echo "05-fixtures-fresh: $*"; fail=1; }
have_tshark=1
command -v tshark >/dev/null || have_tshark=0

timeout 120 env BUILD="$BUILD" PCAPGEN="$pcapgen" tests/fixtures/regen.sh "$tmp" >/dev/null ||
	{ echo "05-fixtures-fresh: regen.sh failed"; exit 1; }

# follow_check PCAP PREFIX: each TCP stream as tshark reassembles it equals
# what `pcapgen -x PREFIX` says its senders wrote (PREFIX.N.CLIENTPORT.c/.s,
# N numbering connections by first packet, as tshark numbers streams),
# and tshark sees as many streams as the script has connections
follow_check() {
	local pcap=$1 prefix=$2 rc=0 st out node0 f port data c s conns
	if ! tshark -r "$pcap" -T fields -e tcp.stream >"$tmp/streams" 2>"$tmp/tshark.err"; then
		echo "tshark -r $pcap failed: $(head -n 3 "$tmp/tshark.err")"
		return 1
	fi
	conns=$(ls "$prefix".*.c 2>/dev/null | wc -l)
	[ "$(sort -un "$tmp/streams" | grep -c .)" -eq "$conns" ] ||
		{ echo "tshark sees $(sort -un "$tmp/streams" | grep -c .) TCP streams, the script has $conns connections"; rc=1; }
	for st in $(sort -un "$tmp/streams"); do
		f=$(ls "$prefix.$st".*.c 2>/dev/null | head -n 1)
		[ -n "$f" ] || { echo "stream $st: the script has no such connection"; rc=1; continue; }
		port=${f%.c}; port=${port##*.}
		out=$(timeout 60 tshark -r "$pcap" -q -z follow,tcp,raw,"$st" 2>/dev/null)
		data=$(printf '%s\n' "$out" | sed -n '/^Node 1/,/^=====/p' | sed '1d;$d')
		c=$(printf '%s\n' "$data" | grep -v $'^\t' | tr -d '\n')
		s=$(printf '%s\n' "$data" | grep $'^\t' | tr -d '\t\n')
		# node 0 sent the stream's first packet: normally the client
		node0=$(printf '%s\n' "$out" | sed -n 's/^Node 0: .*:\([0-9]*\)$/\1/p')
		[ "$node0" = "$port" ] || { data=$c c=$s s=$data; }
		[ "$c" = "$(od -An -v -tx1 "$prefix.$st.$port.c" | tr -d ' \n')" ] ||
			{ echo "stream $st: client-to-server bytes differ from the script's"; rc=1; }
		[ "$s" = "$(od -An -v -tx1 "$prefix.$st.$port.s" | tr -d ' \n')" ] ||
			{ echo "stream $st: server-to-client bytes differ from the script's"; rc=1; }
	done
	return $rc
}

mkdir -p "$tmp/x"
n=0
for script in tests/fixtures/*.script; do
	name=$(basename "$script" .script)
	if grep -q '^# generate-at-test-time' "$script"; then
		f=$(ls "$BUILD/fixtures/$name".pcap* 2>/dev/null | head -n 1)
		[ -n "$f" ] || { bad "$name: not generated into $BUILD/fixtures"; continue; }
		ls tests/fixtures/"$name".pcap* >/dev/null 2>&1 && bad "$name: marked generate-at-test-time but committed"
	else
		f=$(ls "$tmp/$name".pcap* 2>/dev/null | head -n 1)
		[ -n "$f" ] || { bad "$name: regen.sh wrote nothing"; continue; }
		committed=tests/fixtures/$(basename "$f")
		if [ ! -e "$committed" ]; then
			bad "$name: $committed is not committed (run tests/fixtures/regen.sh)"
		elif ! cmp -s "$f" "$committed"; then
			bad "$name: $committed differs from what its script makes (run tests/fixtures/regen.sh)"
		fi
	fi
	n=$((n + 1))
	# pcapgen's own count against what tshark reads back
	want=$("$pcapgen" -l -x "$tmp/x/$name" -o /dev/null "$script" | tail -n 1 | awk '{print $1}')
	if [ $have_tshark = 1 ]; then
		got=$(timeout 60 tshark -r "$f" 2>/dev/null | wc -l)
		[ "$got" = "$want" ] || bad "$name: tshark reads $got packets, pcapgen wrote $want"
		if ! grep -q -e 'drop=' -e '^snaplen' -e '^# generate-at-test-time' "$script"; then
			why=$(follow_check "$f" "$tmp/x/$name") || bad "$name: $why"
		fi
	fi
done

# Every committed capture is scripted, a real capture (tutorial-*), or
# recorded from the reference programs (live-*, and stall-* for the stall
# experiment, whose stream never completes a response).
for f in tests/fixtures/*.pcap tests/fixtures/*.pcapng; do
	[ -e "$f" ] || continue
	name=$(basename "$f"); name=${name%.pcapng}; name=${name%.pcap}
	case $name in tutorial-* | live-* | stall-*) continue ;; esac
	[ -e "tests/fixtures/$name.script" ] || bad "$f has no script"
done

# The generator's message bytes are the tutorial programs' bytes.
payload() { # FILE: one line per direction, the hex of its TCP payload
	tshark -r "$1" -q -z follow,tcp,raw,0 2>/dev/null |
		sed -n '/^Node 1/,/^=====/p' | sed '1d;$d' |
		awk '/^\t/ { s = s substr($0, 2); next } { c = c $0 } END { print c; print s }'
}
if [ $have_tshark = 1 ]; then
	for pair in basic-search:tutorial-search-morpheus basic-binary:tutorial-binary-smiley; do
		ours=tests/fixtures/${pair%%:*}.pcap real=tests/fixtures/${pair#*:}.pcap
		a=$(payload "$ours") b=$(payload "$real")
		[ -n "$b" ] && [ "$a" = "$b" ] || bad "$ours does not carry the same bytes as $real"
	done
fi

[ $fail -eq 0 ] || exit 1
if [ $have_tshark = 0 ]; then
	echo "skip: tshark is not installed (make deps): $n scripts' captures are fresh, but packet counts," \
		"reassembled bytes and the tutorial payloads were not checked"
	exit 77
fi
echo "05-fixtures-fresh: $n scripts, all captures fresh"
