#!/usr/bin/env bash
# The generated framing dissectors (build/jmsg-NAME.lua, one per
# spec/framings/NAME.json) against the C framing decoder, with real tshark,
# on the captures of tests/fixtures/framings/*.script (made here by pcapgen;
# not analyzer goldens):
#   - for each capture, per direction, tshark's messages (length on the wire,
#     payload with the framing removed) and error ids equal the C decoder's
#     (tests/tools/framing_vs_tshark.py, fed the bytes tshark reassembles);
#     the C decoder gives the same events fed one byte at a time;
#   - a capture without -bad ends cleanly in the C decoder; NAME-bad.script
#     is decoded with NAME and must report an error;
#   - each dissector works registered by Decode As (-d tcp.port==N,PROTO) and
#     by its preference (-o PROTO.tcp_port:N), in one pass and in two (-2),
#     and is on no port otherwise;
#   - every framing file has its dissector, and every dissector a capture.
# Where they must differ: the truncated_* errors, which only the end of a
# direction reveals; the dissector does not know where a direction ends
# (the C side's clean end is checked instead).
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
PY=/usr/bin/python3
command -v tshark >/dev/null || { echo "skip: tshark is not installed (make deps)"; exit 77; }
[ -x "$PY" ] || { echo "skip: $PY is not installed (make deps)"; exit 77; }
for f in "$BUILD/tools/pcapgen" "$BUILD/tools/framing_decode"; do
	[ -x "$f" ] || { echo "skip: $f is not built (make BUILD=$BUILD)"; exit 77; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/home" "$TMP/cfg"
export HOME="$TMP/home" WIRESHARK_CONFIG_DIR="$TMP/cfg"
rc=0
bad() { echo "FAIL: $*" >&2; rc=1; }

for json in spec/framings/*.json; do
	name=$(basename "$json" .json)
	[ -f "$BUILD/jmsg-$name.lua" ] || bad "spec/framings/$name.json has no $BUILD/jmsg-$name.lua"
	[ -f "tests/fixtures/framings/$name.script" ] || bad "framing $name has no tests/fixtures/framings/$name.script"
done

for script in tests/fixtures/framings/*.script; do
	cap=$(basename "$script" .script)
	name=${cap%-bad}
	lua=$BUILD/jmsg-$name.lua
	[ -f "$lua" ] || { bad "$script: no $lua for framing $name"; continue; }
	"$BUILD/tools/pcapgen" -o "$TMP/$cap.pcap" "$script" || { bad "pcapgen $script"; continue; }
	clean=--expect-clean
	[ "$cap" = "$name" ] || clean=
	for run in "decode-as" "pref" "decode-as --two-pass"; do
		timeout 300 "$PY" tests/tools/framing_vs_tshark.py --lua "$lua" --framing "$name" \
			--decoder "$BUILD/tools/framing_decode" --register $run $clean "$TMP/$cap.pcap" \
			>"$TMP/out" 2>&1 || bad "$cap ($run): $(cat "$TMP/out")"
	done
	cat "$TMP/out"
	if [ -z "$clean" ] && ! grep -q "errors \['" "$TMP/out"; then
		bad "$cap: the bad capture gave no error: $(cat "$TMP/out")"
	fi
	# on no port unless told
	proto=jmsg_${name//-/_}
	timeout 120 tshark -X "lua_script:$lua" -r "$TMP/$cap.pcap" -Y "$proto" -T fields -e frame.number \
		>"$TMP/none" 2>"$TMP/err" || bad "$cap: tshark without registration: $(grep -v 'Running as' "$TMP/err")"
	[ ! -s "$TMP/none" ] || bad "$cap: $proto decoded frames $(tr '\n' ' ' <"$TMP/none")without Decode As or its port"
done
[ $rc -eq 0 ] && echo "ok: every framing's dissector shows the C decoder's messages and errors"
exit $rc
