#!/usr/bin/env bash
# --version, as tcpdump --version: `jmsg --version` and `jmsg COMMAND
# --version` for every subcommand `jmsg --help` lists print the same four
# lines and exit 0: jmsg's version (the VERSION file, and in a git work tree
# `git describe`), the spec's version (spec/jmsg.json), the libpcap line
# tcpdump prints for the same library, and json-c's version as pkg-config
# has it.  --version comes first, as --help: what follows is not read, and
# a bad option before it is a usage error (exit 2).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
tmpdir tmp

want_version=$(cat VERSION)
want_spec=$(python3 -c 'import json; print(json.load(open("spec/jmsg.json"))["spec_version"])')
"$JMSG" --version >"$tmp/top" || fail "jmsg --version exited $?"
cat "$tmp/top"
[ "$(wc -l <"$tmp/top")" -eq 4 ] || fail "jmsg --version printed $(wc -l <"$tmp/top") lines, want 4"
line1=$(sed -n 1p "$tmp/top")
case $line1 in
"jmsg version $want_version" | "jmsg version $want_version (git "*")") ;;
*) fail "line 1 is '$line1', want 'jmsg version $want_version[ (git ...)]'" ;;
esac
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$PWD" ]; then
	want_git=$(git describe --tags --always --dirty)
	# The build may predate the last commit or edit: the commit part agrees.
	[[ $line1 == *"(git ${want_git%-dirty}"* ]] || echo "note: built from another tree state than $want_git: $line1"
	[[ $line1 == *"(git "* ]] || fail "built in a git work tree, but line 1 has no git describe: $line1"
fi
sed -n 2p "$tmp/top" | grep -qx "spec jmsg version $want_spec (.*)" ||
	fail "line 2 is '$(sed -n 2p "$tmp/top")', want 'spec jmsg version $want_spec (...)'"
if command -v tcpdump >/dev/null; then
	want_pcap=$(tcpdump --version 2>&1 | grep '^libpcap version')
	[ "$(sed -n 3p "$tmp/top")" = "$want_pcap" ] ||
		fail "line 3 is '$(sed -n 3p "$tmp/top")', tcpdump says '$want_pcap'"
else
	sed -n 3p "$tmp/top" | grep -q '^libpcap version [0-9]' || fail "line 3 is not libpcap's version"
fi
if want_jsonc=$(pkg-config --modversion json-c 2>/dev/null); then
	# pkg-config may say 0.16 where the library says 0.16 or 0.16.0
	sed -n 4p "$tmp/top" | grep -q "^json-c version ${want_jsonc}\(\.0\)\?$" ||
		fail "line 4 is '$(sed -n 4p "$tmp/top")', pkg-config says json-c $want_jsonc"
else
	sed -n 4p "$tmp/top" | grep -q '^json-c version [0-9]' || fail "line 4 is not json-c's version"
fi

cmds=$("$JMSG" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')
[ "$(echo $cmds)" = "server client analyze sockets replay" ] || fail "jmsg --help lists: $cmds"
for c in $cmds; do
	"$JMSG" "$c" --version >"$tmp/$c" 2>"$tmp/$c.err" || fail "jmsg $c --version exited $?"
	cmp -s "$tmp/top" "$tmp/$c" || fail "jmsg $c --version differs from jmsg --version: $(cat "$tmp/$c" "$tmp/$c.err")"
	[ -s "$tmp/$c.err" ] && fail "jmsg $c --version wrote on stderr: $(cat "$tmp/$c.err")"
	"$JMSG" "$c" --help | grep -q -- '--version' || fail "jmsg $c --help does not list --version"
	# first come: the words after --version are not read
	"$JMSG" "$c" --version --bogus >"$tmp/$c.2" || fail "jmsg $c --version --bogus exited $?"
	cmp -s "$tmp/top" "$tmp/$c.2" || fail "jmsg $c --version --bogus printed other lines"
	"$JMSG" "$c" --bogus --version >"$tmp/$c.3" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "jmsg $c --bogus --version exited $rc, want 2 (usage): $(cat "$tmp/$c.3")"
	grep -q "jmsg $c: .*--bogus" "$tmp/$c.3" || fail "jmsg $c --bogus --version: $(cat "$tmp/$c.3")"
	echo "ok: jmsg $c --version"
done
echo "ok: --version on jmsg and every subcommand"
