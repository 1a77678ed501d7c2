#!/usr/bin/env bash
# Fuzz pass: every fixture capture and the dissector's own scenarios,
# corrupted by `editcap -E` (whole packets, and with -o 54 payloads only so
# TCP still reaches the dissector), read by tshark with the dissector two-pass
# and with TCP reassembly off, full trees printed.  Any Lua error fails; a
# malformed message must be marked, never break the dissector.  Seeds are
# fixed, so a failure can be repeated.
set -u
cd "$(dirname "$0")/../.."
. dissector/testlib.sh
dt_setup
command -v editcap >/dev/null || { echo "skip: editcap is not installed (make deps)"; exit 77; }
$PY dissector/mkpcap.py "$TMP" || dt_fail "dissector/mkpcap.py could not write the scenarios"

runs=0 seed=0 marked=0
for pcap in tests/fixtures/*.pcap tests/fixtures/*.pcapng "$TMP"/*.pcap; do
	[ -f "$pcap" ] || continue
	for how in "0.02 0" "0.05 54" "0.2 54"; do
		set -- $how
		seed=$((seed + 1))
		fuzzed="$TMP/fuzz.pcap"
		editcap -E "$1" -o "$2" --seed "$seed" "$pcap" "$fuzzed" >/dev/null 2>&1 ||
			dt_fail "editcap -E $1 -o $2 --seed $seed $pcap"
		dt_tshark -2 -r "$fuzzed" -V >"$TMP/out.txt" ||
			dt_fail "two-pass on $(basename "$pcap") fuzzed with -E $1 -o $2 --seed $seed"
		marked=$((marked + $(grep -c "Expert Info.*\[[a-z_]*\]" "$TMP/out.txt")))
		dt_tshark -o tcp.desegment_tcp_streams:FALSE -r "$fuzzed" -V >/dev/null ||
			dt_fail "no reassembly on $(basename "$pcap") fuzzed with -E $1 -o $2 --seed $seed"
		runs=$((runs + 2))
	done
done
[ $runs -gt 0 ] || dt_fail "nothing fuzzed"
[ $marked -gt 0 ] || dt_fail "no corrupted message was marked with an expert info"
echo "ok $runs tshark runs on $seed corrupted captures, no Lua error; $marked expert infos from the spec"
exit 0
