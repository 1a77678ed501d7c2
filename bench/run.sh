#!/usr/bin/env bash
# Every benchmark, one after the other, each against its named peer in the
# same run.  The numbers go into bench/RESULTS.md by hand, with the date and
# the machine; nothing here is a test and nothing asserts a time.
#
#   make bench            (or: BUILD=build bench/run.sh [codec|server|analyze|dissector|stall|flow]...)
#
#   codec      bench_codec: jmsg's decoder against json-c parsing the same messages
#   server     bench/server.sh: jmsg server against redis-server (redis-benchmark)
#   analyze    bench/analyze.sh: jmsg analyze against a bare libpcap loop, tcpflow, tshark
#   dissector  dissector/bench.sh: tshark with the generated dissector against tshark alone
#   stall      bench_stall: the stall tracker's cost per segment
#   flow       bench_flow: the flow table, seeded hash against the old unseeded one
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export BUILD
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(codec server analyze dissector stall flow)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
for b in "${which[@]}"; do
	echo "== bench $b ($(date -u +%FT%TZ))"
	case $b in
	codec) "$BUILD/bench/bench_codec" ;;
	server) bench/server.sh ;;
	analyze) bench/analyze.sh ;;
	dissector) dissector/bench.sh ;;
	stall) "$BUILD/bench/bench_stall" ;;
	flow) "$BUILD/bench/bench_flow" ;;
	*) echo "bench/run.sh: unknown benchmark '$b'" >&2; exit 2 ;;
	esac || { echo "bench/run.sh: $b failed" >&2; rc=1; }
done
exit $rc
