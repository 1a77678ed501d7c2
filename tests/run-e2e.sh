#!/usr/bin/env bash
# Runs every tests/e2e/*.sh in name order.  Each script gets
#   JMSG       the jmsg binary under test
#   JMSG_ASAN  the same binary built with ASan+UBSan
#   BUILD      the build directory (tools in $BUILD/tools)
# and exits 0 (pass), 77 (skipped: it must print why) or anything else (fail).
# Scripts use loopback only, ephemeral ports, and bound their own run time.
# They share tests/lib.sh: fail, skip, a temporary directory and the
# processes to end at exit, start_server, bounded waits.
#
#   E2E_NO_SKIP=1   a skip is a failure (CI: every tool is installed and the
#                   tests run as root, so nothing has a reason to skip)
#
# The skipped tests are listed at the end with the reason each printed.
set -u
cd "$(dirname "$0")/.."
: "${JMSG:=build/jmsg}" "${JMSG_ASAN:=build/asan/jmsg}" "${BUILD:=build}" "${E2E_NO_SKIP:=}"
export JMSG JMSG_ASAN BUILD
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pass=0 fail=0 skip=0 failed=() skipped=()
for t in tests/e2e/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$logs/$name.log
	start=$(date +%s)
	echo "== e2e $name"
	# The output goes to a log (for the skip reason) and, as it comes, to
	# the terminal; tail stops when the test ends, even if a process the
	# test left behind still holds the log open.
	: >"$log"
	timeout --kill-after=10 600 bash "$t" >"$log" 2>&1 </dev/null &
	tpid=$!
	tail -n +1 -s 0.2 -f --pid=$tpid "$log"
	wait $tpid
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 77 ]; then
		why=$(grep -iE '(^|[ :])skip:' "$log" | tail -n 1 | sed -E 's/^(.*[ :])?[Ss][Kk][Ii][Pp]: *//')
		[ -n "$why" ] || why=$(tail -n 1 "$log")
		[ -n "$why" ] || why="(no reason printed)"
		skipped+=("$name: $why")
	fi
	case $rc in
	0) pass=$((pass + 1)); echo "-- PASS $name (${secs}s)" ;;
	77) if [ "$E2E_NO_SKIP" = 1 ]; then
		fail=$((fail + 1)); failed+=("$name")
		echo "-- FAIL $name (skipped, and E2E_NO_SKIP=1 forbids skips: $why)"
	    else
		skip=$((skip + 1)); echo "-- SKIP $name ($why)"
	    fi ;;
	*) fail=$((fail + 1)); failed+=("$name"); echo "-- FAIL $name (exit $rc, ${secs}s)" ;;
	esac
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
if [ ${#skipped[@]} -gt 0 ]; then
	echo "e2e tests that skipped${E2E_NO_SKIP:+ (E2E_NO_SKIP=$E2E_NO_SKIP)}:"
	printf '  %s\n' "${skipped[@]}"
fi
[ $fail -eq 0 ] || { echo "e2e failures: ${failed[*]}"; exit 1; }
