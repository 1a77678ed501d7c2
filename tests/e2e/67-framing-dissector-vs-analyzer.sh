#!/usr/bin/env bash
# The generated framing dissectors (build/jmsg-NAME.lua) against
# `jmsg analyze --framing NAME`, with real tshark, as e2e 31 does for the
# main dissector: on each framing capture (tests/fixtures/framings/*.script,
# and those of tests/fixtures/framings/analyzer/ whose framing has a
# dissector), per direction, the same messages in the same order with the
# same length on the wire, payload and frame, and the same framing error
# ids; one-pass and two-pass (tests/tools/framing_an_vs_tshark.py says
# where they must differ: truncated_*, and the analyzer's capture problems).
# Not compared, with the reason:
#   *-gap      Wireshark's reassembly waits for the missing bytes and hands
#              nothing after a gap in that direction to the dissector; the
#              analyzer resumes where the framing allows (e2e 66 checks it)
#   raw-chat   raw has no dissector (a message's end is the other side's
#              data, which a per-direction dissector does not see)
#   *-user     a framing file of the user's, which has no generated dissector
#   delimited-midstream
#              picked up without its handshake: the dissector takes the first
#              byte captured as a message's start, the analyzer resumes after
#              the first delimiter (what comes before may be a message's
#              tail); fixed-midstream is compared (both start at byte 0)
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
PY=/usr/bin/python3
need tshark "tshark is not installed (make deps)"
[ -x "$PY" ] || skip "$PY is not installed (make deps)"
[ -x "$BUILD/tools/pcapgen" ] || skip "$BUILD/tools/pcapgen is not built (make BUILD=$BUILD)"
[ -x "$JMSG" ] || fail "no jmsg binary at $JMSG"
tmpdir tmp
mkdir -p "$tmp/home" "$tmp/cfg"
export HOME="$tmp/home" WIRESHARK_CONFIG_DIR="$tmp/cfg"
rc=0 n=0
for script in tests/fixtures/framings/*.script tests/fixtures/framings/analyzer/*.script; do
	cap=$(basename "$script" .script)
	case $cap in *-gap | raw-chat | *-user | delimited-midstream) echo "not compared: $cap (see the comment above)"; continue ;; esac
	if [ -f "${script%.script}.args" ]; then
		framing=$(sed -n 's/.*--framing \([^ ]*\).*/\1/p' "${script%.script}.args")
	else
		framing=${cap%-bad}
	fi
	lua=$BUILD/jmsg-$framing.lua
	[ -f "$lua" ] || { echo "FAIL: $cap: no $lua"; rc=1; continue; }
	"$BUILD/tools/pcapgen" -o "$tmp/$cap.pcap" "$script" >/dev/null || { echo "FAIL: pcapgen $script"; rc=1; continue; }
	for pass in "" --two-pass; do
		timeout 300 "$PY" tests/tools/framing_an_vs_tshark.py --jmsg "$JMSG" --lua "$lua" \
			--framing "$framing" $pass "$tmp/$cap.pcap" || rc=1
	done
	n=$((n + 1))
done
[ $n -ge 8 ] || { echo "FAIL: only $n captures compared"; rc=1; }
[ $rc -eq 0 ] && echo "ok: $n captures, the framing dissectors show the analyzer's messages and errors"
exit $rc
