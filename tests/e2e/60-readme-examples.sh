#!/usr/bin/env bash
# The README's examples are true: tests/readme_examples.py runs every
# ```console block (servers on ephemeral ports, skips with their reasons)
# and compares the output.  Then, on a copy, it must catch a changed line,
# put it back with --update, and refuse a `$ ` example outside ```console.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
check() { BUILD="$BUILD" timeout 600 /usr/bin/python3 tests/readme_examples.py "$@"; }

check README.md >"$T/out" 2>&1 || { cat "$T/out"; fail "README examples do not match the binary"; }
tail -n 1 "$T/out"
grep -q '^readme examples: [1-9][0-9]* blocks run, [0-9]* skipped, 0 failing$' "$T/out" ||
	fail "no example was run: $(tail -n 3 "$T/out")"

# A deterministic example whose output changed: the check fails and says
# where; --update writes the output back, and the copy is the README again.
line=$(grep -n '^summary: 16 packets (1595 bytes)' README.md | head -n 1 | cut -d: -f1)
[ -n "$line" ] || fail "the tcp-after-close example is gone from the README"
sed "${line}s/16 packets/17 packets/" README.md >"$T/changed.md"
check "$T/changed.md" >"$T/changed.out" 2>&1 && fail "a changed output line passed the check"
grep -q "^FAIL $T/changed.md:[0-9]*: \$ jmsg analyze -r tests/fixtures/tcp-after-close.pcap\$" "$T/changed.out" ||
	{ cat "$T/changed.out"; fail "the failure does not name the example"; }
grep -qxF -- "    -summary: 17 packets (1595 bytes), 16 TCP segments, 16 tracked; 2 streams; 3 messages (2 requests, 1 responses); 2 problems: reset 1, truncated 1" "$T/changed.out" ||
	fail "the diff does not show the changed line"
sed -n "/^FAIL /,/^FAIL .*commands/p" "$T/changed.out" | head -n 12
check --update "$T/changed.md" >"$T/update.out" 2>&1 || { cat "$T/update.out"; fail "--update did not repair it"; }
cmp -s README.md "$T/changed.md" || { diff README.md "$T/changed.md"; fail "--update wrote something else"; }

# [..] and ... match volatile values, and a wrong line next to them still fails.
sed "s/^replay: 2 streams (0 incomplete, 0 skipped), 4 requests, 4 responses compared: 1 identical, 3 different/replay: 2 streams (0 incomplete, 0 skipped), 4 requests, 4 responses compared: 2 identical, 2 different/" \
	README.md >"$T/masked.md"
cmp -s README.md "$T/masked.md" && fail "the replay example is gone from the README"
check "$T/masked.md" >"$T/masked.out" 2>&1 && fail "a wrong line beside [..] passed the check"
check --update "$T/masked.md" >"$T/masked-update.out" 2>&1 && fail "--update rewrote an example with [..]"

# A `$ ` example in a block that is not ```console is refused.
printf '# t\n\n```\n$ echo hi\nhi\n```\n' >"$T/stray.md"
check "$T/stray.md" >"$T/stray.out" 2>&1 && fail "a \$ example outside \`\`\`console passed"
grep -q "not \`\`\`console" "$T/stray.out" || fail "stray block: $(cat "$T/stray.out")"
echo "ok: README examples match; a changed output fails and --update repairs it"
