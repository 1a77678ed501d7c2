#!/usr/bin/env bash
# jmsg analyze against tshark's own TCP reassembly, on every fixture.
#
# For each capture, tshark's "follow tcp raw" bytes of every stream are
# framed independently of jmsg's code (tests/tools/vs_tshark.py: protoheader,
# UTF-8 JSON object header with the spec's required fields, content-length
# bytes of content, text/json content that must be JSON), and jmsg's message
# events must be exactly the messages found there: offset, header length,
# header value, content-type/-encoding/-length, and the content (text/json
# as a JSON value, compared by value with types kept apart; other content as
# hex up to --max-hex bytes, content_hex_truncated when longer; a message
# whose text/json content is bad, as hex with content_error).  Its frames
# too: frame_last where tshark's segments complete it, frame where they
# reach its first byte; and every event's community_id is tshark's
# communityid of its stream (tshark --enable-protocol communityid).
#
# Every fixture is listed below with its mode, read from its script's
# "Expect:" block (for recorded captures, from tests/fixtures/README.md and,
# for stall-flood, tests/e2e/41: a flood cut off by the end of the capture):
#   clean   all messages agree, the framing never breaks, and jmsg reports
#           no problem at all;
#   prefix  faulty streams.  Per direction, messages before the first break
#           of the framing must agree exactly, and jmsg must report a
#           problem of the kind the framing finds (header_not_json, gap,
#           truncated, midstream...) between the start of the broken message
#           and the first later offset where a whole valid message starts
#           (or the end of the data).  The framing goes on from there, and
#           jmsg's messages after it resynchronises must agree as well.  A
#           jmsg codec error where the bytes frame cleanly fails.  The bytes
#           tshark says are missing must be exactly jmsg's gap and
#           truncated_capture events: tshark 4.0's follow puts a record
#           "[N bytes missing in capture file]\0" in place of bytes the
#           capture missed (a placeholder, not N bytes: the framing here
#           counts it as a hole of N), and shows a segment the snapshot
#           length cut as its captured bytes with no mark at all (such a cut
#           is found from frame.cap_len < frame.len, and the direction is
#           compared only up to it).  A prefix fixture in which neither
#           jmsg nor the framing finds any problem fails: it belongs in
#           clean.
#   skip    the check cannot apply: the rest of the line is the reason
#           (no fixture today).
# Then the number of messages compared (from the Expect block; + = at least
# one), so a fixture that has messages cannot pass comparing none.  A fixture
# file (.pcap, .pcapng or .script) not in the list, or a listed fixture with
# no capture, fails the test: new fixtures must be classified here.
#
# tcp.stream numbers and endpoints come from tshark; the client is the
# sender of the SYN (without one, the side not on a server port: --port in
# the fixture's .args, else 65432; on no such port, the side whose first
# message is a response, else the lower port, as jmsg finds it).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
need tshark
need python3
[ -x "$JMSG" ] || { echo "FAIL: no jmsg binary at $JMSG"; exit 1; }
fx=tests/fixtures
tmpdir tmp
max_hex=1024

# name                                   mode    messages
list='
anyport-41001                            clean   2
anyport-8080                             clean   4
anyport-missing-keys                     clean   0
anyport-not-jmsg                         clean   0
basic-binary                             clean   2
basic-search                             clean   2
ipv6                                     clean   4
ipv6-ext-chain                           clean   2
link-loop                                clean   2
link-null                                clean   2
link-raw                                 clean   2
link-sll                                 clean   2
link-sll2                                clean   2
link-vlan                                clean   2
link-vlan-qinq                           clean   2
msg-5mb                                  clean   2
msg-empty-content                        clean   4
msg-header-65535                         clean   4
pcapng                                   clean   2
pcapng-usec                              clean   4
pipelined-keepalive                      clean   10
replay-spaced                            clean   8
tcp-coalesced                            clean   10
tcp-duplicate                            clean   2
tcp-fin-with-data                        clean   2
tcp-out-of-order                         clean   2
tcp-overlap-same                         clean   2
tcp-port-reuse                           clean   4
tcp-seq-wrap                             clean   2
tcp-split-every-byte                     clean   2
zero-window                              clean   2
tutorial-search-morpheus                 clean   2
tutorial-binary-smiley                   clean   2
live-search                              clean   2
live-binary                              clean   2
live-keepalive                           clean   10
live-pipelined                           clean   12
live-many-clients                        clean   64
malformed-content-encoding-unsupported   prefix  3
malformed-content-length-negative        prefix  1
malformed-content-length-too-large       prefix  0
malformed-content-not-json               prefix  3
malformed-content-not-utf8               prefix  3
malformed-header-empty                   prefix  1
malformed-header-field-type              prefix  2
malformed-header-field-value             prefix  2
malformed-header-missing-field           prefix  2
malformed-header-not-json                prefix  1
malformed-header-not-object              prefix  0
malformed-header-not-utf8                prefix  0
malformed-truncated                      prefix  0
snaplen-96                               prefix  0
tcp-after-close                          prefix  3
tcp-lost-segment                         prefix  5
anyport-midstream                        prefix  4
anyport-midstream-response               prefix  3
tcp-midstream                            prefix  2
tcp-midstream-pipelined                  prefix  3
tcp-midstream-unanswered                 prefix  3
tcp-overlap-conflict                     prefix  2
tcp-overlap-held-conflict                prefix  2
tcp-rst                                  prefix  3
stall-flood                              prefix  +
'

# Every fixture must be listed, and every listed fixture must exist.
failed=0
declare -A mode count
while read -r name m n; do
	[ -n "$name" ] || continue
	mode[$name]=$m count[$name]=$n
done <<< "$list"
declare -A seen
for f in "$fx"/*.pcap "$fx"/*.pcapng "$fx"/*.script; do
	[ -f "$f" ] || continue
	name=$(basename "$f"); name=${name%.*}
	[ -z "${seen[$name]:-}" ] || continue
	seen[$name]=1
	[ -n "${mode[$name]:-}" ] || { echo "FAIL: fixture $name is not in 22's list: classify it"; failed=$((failed + 1)); }
done

# Fixtures too big to commit are made at test time.
for script in "$fx"/*.script; do
	grep -q '^# generate-at-test-time' "$script" || continue
	name=$(basename "$script" .script)
	out=$BUILD/fixtures/$name.pcap
	if [ ! -f "$out" ] || [ "$script" -nt "$out" ]; then
		mkdir -p "$BUILD/fixtures"
		[ -x "$BUILD/tools/pcapgen" ] || make --no-print-directory BUILD="$BUILD" "$BUILD/tools/pcapgen" >/dev/null
		"$BUILD/tools/pcapgen" -o "$out" "$script" >/dev/null || { echo "FAIL: cannot generate $out"; exit 1; }
	fi
done

checked=0 skipped=0
while read -r name m n; do
	[ -n "$name" ] || continue
	if [ "$m" = skip ]; then
		echo "  $name: not compared: ${n:-}"
		skipped=$((skipped + 1))
		continue
	fi
	pcap=
	for p in "$fx/$name.pcap" "$fx/$name.pcapng" "$BUILD/fixtures/$name.pcap"; do
		[ -f "$p" ] && { pcap=$p; break; }
	done
	[ -n "$pcap" ] || { echo "FAIL: $name: listed, but there is no such capture"; failed=$((failed + 1)); continue; }
	# The fixture's own arguments (its server ports), less -q: messages are
	# what is compared.
	args=() ports=()
	if [ -f "$fx/$name.args" ]; then
		read -r -a a < "$fx/$name.args"
		for ((i = 0; i < ${#a[@]}; i++)); do
			case ${a[i]} in
			-q) ;;
			--port) args+=(--port "${a[i + 1]}"); ports+=(--port "${a[i + 1]}"); i=$((i + 1)) ;;
			*) args+=("${a[i]}") ;;
			esac
		done
	fi
	if ! timeout 60 "$JMSG" analyze -r "$pcap" --json --max-hex "$max_hex" "${args[@]}" > "$tmp/jm.jsonl"; then
		echo "FAIL: $name: jmsg exit status $?"; failed=$((failed + 1)); continue
	fi
	if ! timeout 60 tshark -r "$pcap" --enable-protocol communityid -T fields -E separator=/t \
		-e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e tcp.flags.syn -e tcp.flags.ack \
		-e tcp.seq_raw -e tcp.len -e frame.len -e frame.cap_len -e frame.number -e communityid \
		> "$tmp/fields.tsv" 2>"$tmp/tshark.err"; then
		echo "FAIL: $name: tshark -T fields failed: $(head -c 300 "$tmp/tshark.err")"; failed=$((failed + 1)); continue
	fi
	nstreams=$(cut -f1 "$tmp/fields.tsv" | sort -un | grep -c .)
	follow=()
	for ((i = 0; i < nstreams; i++)); do follow+=(-z "follow,tcp,raw,$i"); done
	if ! timeout 120 tshark -r "$pcap" -q "${follow[@]}" > "$tmp/follow.txt" 2>"$tmp/tshark.err"; then
		echo "FAIL: $name: tshark follow failed: $(head -c 300 "$tmp/tshark.err")"; failed=$((failed + 1)); continue
	fi
	if out=$(python3 tests/tools/vs_tshark.py --mode "$m" --messages "$n" --max-hex "$max_hex" "${ports[@]}" \
		"$tmp/fields.tsv" "$tmp/follow.txt" "$tmp/jm.jsonl"); then
		echo "  $name ($m): $out"
		checked=$((checked + 1))
	else
		echo "FAIL: $name ($m): jmsg and tshark disagree"
		echo "$out"
		failed=$((failed + 1))
	fi
done <<< "$list"
echo "vs tshark: $checked fixtures agree, $failed fail, $skipped not compared"
[ "$failed" -eq 0 ] && [ "$checked" -gt 0 ]
