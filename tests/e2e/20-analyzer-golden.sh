#!/usr/bin/env bash
# jmsg analyze on every pcap fixture that has a golden JSON-lines output
# (tests/fixtures/NAME.jsonl), with the plain build and with the ASan+UBSan
# build: the output must equal the golden file byte for byte, the exit
# status must be 0, and nothing may be written to stderr.  Without the
# ASan build (JMSG_ASAN) the plain build is checked and the test ends in a
# skip (77) unless something failed.
#
# A capture without a golden file fails the test, unless NO_GOLDEN below
# names it with the reason; a golden file without its capture fails too.
#
# NAME.args, when present, holds extra arguments (e.g. --port 41001 for the
# captures of the tutorial's programs, which used other ports).  Fixtures
# too big to commit are generated into $BUILD/fixtures from their script.
#
#   BLESS=1 tests/e2e/20-analyzer-golden.sh   rewrites the golden files
#                                              (check every diff by hand)
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${JMSG_ASAN:=}" "${BUILD:=build}"
fx=tests/fixtures
tmpdir tmp

[ -x "$JMSG" ] || { echo "no jmsg binary at $JMSG"; exit 1; }
runners=("$JMSG") not_run=
if have_asan; then
	runners+=("$JMSG_ASAN")
else
	not_run="no ASan build of jmsg (JMSG_ASAN='$JMSG_ASAN'; make unit-asan): plain build only"
fi

# Big fixtures are made at test time.
for script in "$fx"/*.script; do
	grep -q '^# generate-at-test-time' "$script" || continue
	name=$(basename "$script" .script)
	[ -f "$fx/$name.jsonl" ] || continue
	out=$BUILD/fixtures/$name.pcap
	if [ ! -f "$out" ] || [ "$script" -nt "$out" ]; then
		mkdir -p "$BUILD/fixtures"
		[ -x "$BUILD/tools/pcapgen" ] || make --no-print-directory BUILD="$BUILD" "$BUILD/tools/pcapgen" >/dev/null
		"$BUILD/tools/pcapgen" -o "$out" "$script" || { echo "FAIL: cannot generate $out"; exit 1; }
	fi
done

# Captures that have no golden output on purpose: NO_GOLDEN[NAME]="why".
declare -A NO_GOLDEN=()

checked=0 failed=0 missing=() used=()
for pcap in "$fx"/*.pcap "$fx"/*.pcapng "$BUILD"/fixtures/*.pcap "$BUILD"/fixtures/*.pcapng; do
	[ -f "$pcap" ] || continue
	name=$(basename "$pcap"); name=${name%.pcapng}; name=${name%.pcap}
	golden=$fx/$name.jsonl
	if [ ! -f "$golden" ] && [ -z "${BLESS:-}" ]; then
		if [ -n "${NO_GOLDEN[$name]:-}" ]; then
			echo "no golden for $name: ${NO_GOLDEN[$name]}"
		else
			missing+=("$name")
		fi
		continue
	fi
	used+=("$name")
	args=()
	[ -f "$fx/$name.args" ] && read -r -a args < "$fx/$name.args"
	if [ -n "${BLESS:-}" ]; then
		"$JMSG" analyze -r "$pcap" --json "${args[@]}" > "$golden"
		echo "blessed $golden"
		continue
	fi
	for bin in "${runners[@]}"; do
		ASAN_OPTIONS=detect_leaks=1 timeout 120 "$bin" analyze -r "$pcap" --json "${args[@]}" \
			> "$tmp/out" 2> "$tmp/err"
		rc=$?
		checked=$((checked + 1))
		if [ $rc -ne 0 ] || [ -s "$tmp/err" ] || ! cmp -s "$tmp/out" "$golden"; then
			failed=$((failed + 1))
			echo "FAIL: $name with $bin (exit $rc)"
			head -n 20 "$tmp/err"
			diff "$golden" "$tmp/out" | head -n 20
		fi
	done
done
[ -n "${BLESS:-}" ] && exit 0
if [ ${#missing[@]} -gt 0 ]; then
	failed=$((failed + ${#missing[@]}))
	echo "FAIL: no golden output for: ${missing[*]}"
	echo "      (BLESS=1 writes one: check it by hand; or list the capture in NO_GOLDEN with the reason)"
fi
for golden in "$fx"/*.jsonl; do
	[ -f "$golden" ] || continue
	name=$(basename "$golden" .jsonl)
	case " ${used[*]} " in *" $name "*) continue ;; esac
	failed=$((failed + 1))
	echo "FAIL: $golden has no capture ($fx/$name.pcap[ng], or $BUILD/fixtures/ for a generate-at-test-time script)"
done
echo "golden: $checked runs, $failed failed"
[ $checked -gt 0 ] || { echo "FAIL: no fixture was checked"; exit 1; }
[ $failed -eq 0 ] || exit 1
[ -z "$not_run" ] || skip "$not_run"
