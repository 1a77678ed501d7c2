#!/usr/bin/env bash
# The differential test: for every fixture capture (tests/fixtures/ and the
# dissector's own scenarios), the messages (connection, direction, header
# length, content-type, content-length, content) and error ids that tshark
# with the generated dissector reports must equal what `jmsg analyze --json`
# reports, two-pass and one-pass.
#
# Where they must differ, the case is named here with its reason:
#   gap, overlap_conflict, reset, memcap (every capture)
#       TCP-level events.  Wireshark's own TCP dissector reports them
#       (tcp.analysis.lost_segment, its reassembly's overlap conflict,
#       tcp.flags.reset); memcap is the analyzer's own memory cap.
#   after the gap in tcp-lost-segment.pcap
#       Wireshark's reassembly waits for the missing bytes and never hands
#       the message, or anything after it in that direction, to the
#       dissector; the analyzer reports the gap and resumes after it.  That
#       direction is compared up to the gap.
#   after the overlap conflict in tcp-overlap-held-conflict.pcap
#       A retransmission differs from bytes held out of order.  Wireshark
#       4.0's reassembly (out of order on) then never completes the message:
#       the dissector gets only the segment that fills the hole and reports
#       the request truncated at the end of the capture.  The analyzer keeps
#       the first copy and decodes the request (what tshark's follow shows:
#       tests/e2e/22).  That direction is compared up to the conflict.
#   anyport-8080.pcap
#       Wireshark's HTTP dissector owns port 8080, and a port's dissector
#       is tried before any heuristic: the dissector runs with
#       -d tcp.port==8080,jmsg (Decode As), the way the README gives.
#   truncated in the one-pass runs
#       One pass cannot know, while it reads, that the capture ends inside a
#       message; the two-pass run reports it where the message starts.
#   the edge captures of dissector/mkedge.py in a plain `tshark -2`
#       Without a display filter tshark's first pass builds no tree, so Lua
#       can read neither TCP's stream index nor its flags: connections are
#       told apart by address and port pair, and a connection's first packet
#       stands in for its SYN.  mid-ack, mid-sameport, reuse-cut and
#       reuse-hunt are built to show the difference and are compared with
#       `-2 -Y frame` (a first pass with a tree) only; the others both ways.
# tshark runs with tcp.reassemble_out_of_order on (off by default in
# Wireshark 4.0; the README says to turn it on), except on the edge
# captures: with it on, Wireshark's TCP holds every segment after one the
# snapshot length cut (snap-cut), waiting for bytes that were never
# captured.  The analyzer is given the server ports the dissector found
# (its heuristic decodes any port), and is run again with no --port at all:
# its own heuristic (tcp/stream.h, "Other ports") must find the same.
set -u
cd "$(dirname "$0")/../.."
. dissector/testlib.sh
dt_setup
: "${JMSG:=build/jmsg}"
if ! "$JMSG" analyze --help >/dev/null 2>&1; then
	echo "skip: the analyzer is not built ($JMSG analyze)"
	exit 77
fi

OOO="-o tcp.reassemble_out_of_order:TRUE"
$PY dissector/mkpcap.py "$TMP" || dt_fail "dissector/mkpcap.py could not write the scenarios"
mkdir -p "$TMP/edge"
$PY dissector/mkedge.py "$TMP/edge" || dt_fail "dissector/mkedge.py could not write the edge captures"
ALWAYS="--skip gap --skip overlap_conflict --skip reset --skip memcap"

n=0 msgs=0 errs=0
for pcap in tests/fixtures/*.pcap tests/fixtures/*.pcapng "$TMP"/*.pcap "$TMP"/edge/*.pcap; do
	[ -f "$pcap" ] || continue
	name=$(basename "$pcap")
	skip=$ALWAYS
	case $name in
	tcp-lost-segment.pcap) skip="$skip --stop-at gap" ;;
	tcp-overlap-held-conflict.pcap) skip="$skip --stop-at overlap_conflict" ;;
	esac
	opts=$OOO passes=("-2")
	# Wireshark's HTTP dissector owns 8080, so the heuristic is never
	# tried there: Decode As, as the README says.
	[ "$name" = anyport-8080.pcap ] && opts="$opts -d tcp.port==8080,jmsg"
	case $pcap in
	"$TMP"/edge/*)
		opts=""
		case $name in
		mid-ack.pcap | mid-sameport.pcap | reuse-cut.pcap | reuse-hunt.pcap) passes=("-2 -Y frame") ;;
		*) passes=("-2 -Y frame" "-2") ;;
		esac
		;;
	esac
	for two in "${passes[@]}"; do
		dt_tshark $two $opts -r "$pcap" -T json >"$TMP/d.json" || exit 1
		$PY dissector/tshark_msgs.py "$TMP/d.json" >"$TMP/d2.got" || dt_fail "$name: tshark_msgs.py"
		ports=$($PY -c 'import json, sys
print(" ".join(sorted({"--port " + json.loads(l)["server"].rsplit(":", 1)[1] for l in open(sys.argv[1])})))' "$TMP/d2.got")
		timeout 60 "$JMSG" analyze -r "$pcap" --json --max-hex 64M $ports >"$TMP/a.json" 2>"$TMP/a.err" ||
			{ cat "$TMP/a.err" >&2; dt_fail "$name: jmsg analyze failed"; }
		$PY dissector/analyzer_msgs.py "$TMP/a.json" >"$TMP/a.got" || dt_fail "$name: analyzer_msgs.py"
		$PY dissector/compare.py $skip --label analyzer,dissector "$TMP/a.got" "$TMP/d2.got" ||
			dt_fail "$name: the dissector (tshark $two) and the analyzer disagree"
		# And with no --port at all: the analyzer's heuristic finds what
		# the dissector's does.
		timeout 60 "$JMSG" analyze -r "$pcap" --json --max-hex 64M >"$TMP/h.json" 2>"$TMP/a.err" ||
			{ cat "$TMP/a.err" >&2; dt_fail "$name: jmsg analyze failed"; }
		$PY dissector/analyzer_msgs.py "$TMP/h.json" >"$TMP/h.got" || dt_fail "$name: analyzer_msgs.py"
		$PY dissector/compare.py $skip --label analyzer-heuristic,dissector "$TMP/h.got" "$TMP/d2.got" ||
			dt_fail "$name: the dissector (tshark $two) and the analyzer without --port disagree"
	done
	dt_tshark $opts -r "$pcap" -T json >"$TMP/d.json" || exit 1
	$PY dissector/tshark_msgs.py "$TMP/d.json" >"$TMP/d1.got" || dt_fail "$name: tshark_msgs.py"
	$PY dissector/compare.py $skip --skip truncated --label analyzer,dissector "$TMP/a.got" "$TMP/d1.got" ||
		dt_fail "$name: the dissector (one-pass) and the analyzer disagree"
	m=$(grep -c '"kind": "message"' "$TMP/a.got")
	e=$(grep -c '"kind": "error"' "$TMP/a.got")
	printf 'ok %-48s %3d messages %3d errors\n' "$name" "$m" "$e"
	n=$((n + 1)) msgs=$((msgs + m)) errs=$((errs + e))
done
[ $n -ge 4 ] || dt_fail "only $n captures compared"
[ $msgs -gt 0 ] || dt_fail "no messages compared"
echo "ok $n captures: $msgs messages and $errs errors agree"
exit 0
