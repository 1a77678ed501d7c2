#!/usr/bin/env bash
# Runs every tests/e2e/*.sh in name order.  Each script gets
#   JMSG       the jmsg binary under test
#   JMSG_ASAN  the same binary built with ASan+UBSan
#   BUILD      the build directory (tools in $BUILD/tools)
# and exits 0 (pass), 77 (skipped: it must print why) or anything else (fail).
# Scripts use loopback only, ephemeral ports, and bound their own run time.
set -u
cd "$(dirname "$0")/.."
: "${JMSG:=build/jmsg}" "${JMSG_ASAN:=build/asan/jmsg}" "${BUILD:=build}"
export JMSG JMSG_ASAN BUILD
pass=0 fail=0 skip=0 failed=()
for t in tests/e2e/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	start=$(date +%s)
	echo "== e2e $name"
	timeout --kill-after=10 600 bash "$t"
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); echo "-- PASS $name (${secs}s)" ;;
	77) skip=$((skip + 1)); echo "-- SKIP $name" ;;
	*) fail=$((fail + 1)); failed+=("$name"); echo "-- FAIL $name (exit $rc, ${secs}s)" ;;
	esac
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { echo "e2e failures: ${failed[*]}"; exit 1; }
