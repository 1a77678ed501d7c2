#!/usr/bin/env bash
# make install and make uninstall, as a packager runs them: PREFIX=/usr into
# a DESTDIR under a temporary directory, with Debian's dpkg-buildflags flags
# plus probes, from a build tree of its own (so nothing is built already).
#  - it builds only what it installs: the poisoned cmocka.h on the include
#    path would stop any file that includes cmocka's header, and no test,
#    tool or benchmark binary, no library archive, no developer tree is made;
#  - the packager's CFLAGS, CPPFLAGS and LDFLAGS reach every compile and the
#    link (probes on the command lines; fortify, stack protector and BIND_NOW
#    in the binary), and -Werror does not (make -n of a developer build
#    shows it does there, and that CFLAGS does not reach that one);
#  - the installed files are exactly the expected five, with their modes;
#  - the installed binary runs (--version, and decodes a fixture as the
#    build under test does);
#  - the man page lints clean (groff -ww, mandoc -T lint) and names every
#    option and exit code of every subcommand's --help, and no other;
#  - the bash completion completes subcommands, options, files, interfaces;
#  - Wireshark loads the installed dissector from its plugin folder (given
#    to tshark by WIRESHARK_PLUGIN_DIR, as an unprivileged user, as tshark
#    ignores it for root) and decodes a fixture with it; the default folder
#    for PREFIX=/usr is tshark's own "Global Lua Plugins";
#  - make uninstall leaves the DESTDIR tree as it was before the install
#    (files next to ours untouched), and builds nothing;
#  - make install-dissector still installs into the personal plugin folder.
set -u -o pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
need make
need groff "groff is not installed (Debian: groff-base)"
need mandoc
need dpkg-buildflags "dpkg-buildflags is not installed (Debian: dpkg-dev)"
tmpdir tmp
FAIL_LOGS='*.log'
FAIL_TAIL=30

# Nobody may read the temporary directory's files (tshark runs as nobody).
chmod 755 "$tmp"
dest=$tmp/dest b=$tmp/build
multiarch=$(gcc -print-multiarch 2>/dev/null)
plugins=/usr/lib/${multiarch:+$multiarch/}wireshark/plugins
expected="./usr/bin/jmsg 755
.$plugins/jmsg.lua 644
./usr/share/bash-completion/completions/jmsg 644
./usr/share/jmsg/jmsg.json 644
./usr/share/man/man1/jmsg.1 644"

# A system where the folders are there already, each with a file of its own.
for d in usr/bin usr/share/man/man1 usr/share/bash-completion/completions ".$plugins"; do
	mkdir -p "$dest/$d"
	echo "not jmsg's" >"$dest/$d/other"
done
snapshot() { (cd "$1" && find . -printf '%p %y %m %s\n' | sort && find . -type f -exec md5sum {} + | sort); }
snapshot "$dest" >"$tmp/before"

# Any file that includes <cmocka.h> finds this one first and fails.
mkdir -p "$tmp/poison"
echo '#error "cmocka.h is not for make install"' >"$tmp/poison/cmocka.h"
cflags="$(dpkg-buildflags --get CFLAGS) -DJMSG_PROBE_CFLAGS"
cppflags="$(dpkg-buildflags --get CPPFLAGS) -I$tmp/poison -DJMSG_PROBE_CPPFLAGS"
ldflags="$(dpkg-buildflags --get LDFLAGS) -Wl,-z,now"
make --no-print-directory install PREFIX=/usr DESTDIR="$dest" BUILD="$b" \
	CFLAGS="$cflags" CPPFLAGS="$cppflags" LDFLAGS="$ldflags" >"$tmp/install.log" 2>&1 ||
	fail "make install exited $?"
echo "ok: make install PREFIX=/usr DESTDIR=... with dpkg-buildflags' flags"

# ---- only what it installs
extra=$(cd "$b" && find . -path ./release/obj -prune -o -path ./release/gen -prune -o -print |
	grep -vxE '\.|\./release|\./release/(jmsg|jmsg\.lua|jmsg-gen|flags|obj|gen)')
[ -z "$extra" ] || fail "make install built more than it installs: $extra"
grep -E 'tests/|bench/|cmocka|libjmsg\.a' "$tmp/install.log" &&
	fail "make install compiled or linked test, tool or benchmark code"
echo "ok: only jmsg, jmsg-gen and the dissector were built; cmocka.h was not included"

# ---- the packager's flags, and no -Werror
cc_lines=$(grep -E '^(cc|gcc|clang)[^ ]* ' "$tmp/install.log") || fail "no compile lines in the log"
n=$(wc -l <<<"$cc_lines")
for probe in -DJMSG_PROBE_CFLAGS -DJMSG_PROBE_CPPFLAGS -D_FORTIFY_SOURCE=2 -fstack-protector-strong; do
	[ "$(grep -c -- " $probe " <<<"$cc_lines")" -eq "$n" ] || fail "$probe is not on all $n compile lines"
done
grep -E -- '-Werror( |$)' <<<"$cc_lines" && fail "a packager build compiled with -Werror"
grep -- ' -o [^ ]*release/jmsg ' <<<"$cc_lines" | grep -- '-Wl,-z,relro -Wl,-z,now' >/dev/null ||
	fail "LDFLAGS are not on the link line"
bin=$dest/usr/bin/jmsg
# (grep -q would end the pipe early: under pipefail, nm's SIGPIPE fails it)
readelf -d "$bin" >"$tmp/dynamic.log" || fail "readelf -d exited $?"
nm -D "$bin" >"$tmp/symbols.log" || fail "nm -D exited $?"
grep -qE 'BIND_NOW|FLAGS_1.*NOW' "$tmp/dynamic.log" || fail "the installed jmsg is not linked with -z now"
grep -q '__[a-z]*printf_chk\|__memcpy_chk\|__read_chk' "$tmp/symbols.log" || fail "no _FORTIFY_SOURCE calls in jmsg"
grep -q '__stack_chk_fail' "$tmp/symbols.log" || fail "no stack protector in jmsg"
echo "ok: CFLAGS, CPPFLAGS and LDFLAGS on all $n compile lines and the link; no -Werror"
# A developer build keeps -Werror and its own flags (make -n builds nothing).
make -n --no-print-directory BUILD="$tmp/dev" CFLAGS=-DJMSG_PROBE_DEV "$tmp/dev/obj/cmd/jmsg.o" \
	>"$tmp/dev.log" 2>&1 || fail "make -n of a developer build exited $?"
grep 'cmd/jmsg.c' "$tmp/dev.log" | grep -- '-Werror ' >/dev/null || fail "a developer build lost -Werror"
grep -q JMSG_PROBE_DEV "$tmp/dev.log" && fail "a developer build took CFLAGS"
echo "ok: a developer build keeps -Werror and ignores CFLAGS"

# ---- the files
got=$(cd "$dest" && find . -type f ! -name other -printf '%p %m\n' | sort)
[ "$got" = "$(sort <<<"$expected")" ] || fail "installed files differ from the expected ones:
$(diff <(sort <<<"$expected") - <<<"$got")"
cmp -s "$dest$plugins/jmsg.lua" "$b/release/jmsg.lua" || fail "the installed dissector is not build/release/jmsg.lua"
cmp -s "$dest/usr/share/jmsg/jmsg.json" spec/jmsg.json || fail "the installed spec is not spec/jmsg.json"
echo "ok: installed exactly: $(awk '{printf "%s ", $1}' <<<"$expected")"

# ---- the binary runs
"$bin" --version >"$tmp/version.log" || fail "the installed jmsg --version exited $?"
grep -q "^jmsg version $(cat VERSION)" "$tmp/version.log" || fail "installed jmsg --version: $(cat "$tmp/version.log")"
"$bin" analyze -r tests/fixtures/basic-search.pcap --json >"$tmp/installed.out" 2>"$tmp/installed.log" ||
	fail "the installed jmsg analyze exited $?"
"$JMSG" analyze -r tests/fixtures/basic-search.pcap --json >"$tmp/tested.out" 2>&1 || fail "$JMSG analyze exited $?"
grep -q '"event":"message"' "$tmp/installed.out" || fail "the installed jmsg decoded no message"
cmp -s "$tmp/installed.out" "$tmp/tested.out" || fail "the installed jmsg decodes otherwise than $JMSG"
echo "ok: the installed jmsg runs and decodes as $JMSG does"

# ---- the man page
page=$dest/usr/share/man/man1/jmsg.1
groff -man -ww -z "$page" >"$tmp/groff.log" 2>&1 || fail "groff -man -ww -z exited $?"
[ -s "$tmp/groff.log" ] && fail "groff warns about jmsg.1"
mandoc -T lint "$page" >"$tmp/mandoc.log" 2>&1 || fail "mandoc -T lint exited $?"
grep -q "^\.TH JMSG 1 [0-9-]* \"jmsg $(cat VERSION)\" " "$page" ||
	fail "jmsg.1's .TH line does not name version $(cat VERSION): $(grep '^\.TH' "$page")"
python3 tests/tools/man_options.py "$bin" "$page" >"$tmp/man.log" 2>&1 ||
	fail "jmsg.1 and the subcommands' --help differ"
cat "$tmp/man.log"

# ---- bash completion
comp=$dest/usr/share/bash-completion/completions/jmsg
complete_words() {  # WORD...: what the completion offers for the last one
	PATH="$dest/usr/bin:$PATH" bash --norc --noprofile -c '
		. "$1"; shift
		complete -p jmsg >/dev/null || { echo "no completion for jmsg"; exit 1; }
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_jmsg; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" jmsg "$@"
}
check_completion() {  # WANT WORD...: WANT is among the answers
	local want=$1
	shift
	complete_words "$@" >"$tmp/comp.out" || fail "completion of '$*': $(cat "$tmp/comp.out")"
	grep -qxF -- "$want" "$tmp/comp.out" || fail "completing 'jmsg $*' offers no '$want': $(tr '\n' ' ' <"$tmp/comp.out")"
}
check_completion analyze ""
check_completion analyze an
[ "$(complete_words an)" = analyze ] || fail "'jmsg an' completes to more than analyze"
check_completion --version --vers
check_completion --workers analyze --wor
check_completion --ignore-header replay --ig
check_completion --load client --lo
check_completion lo analyze -i l
check_completion nobody analyze -i lo -Z nob
check_completion tests/fixtures/basic-search.pcap analyze -r tests/fixtures/basic-s
check_completion tests/fixtures/basic-search.pcap replay tests/fixtures/basic-s
[ -z "$(complete_words analyze --port '')" ] || fail "a value of --port was completed"
for c in server client analyze sockets replay; do
	complete_words "$c" - | sort >"$tmp/comp.$c" || fail "completion of 'jmsg $c -' failed"
	python3 tests/tools/man_options.py --help-options "$bin" "$c" >"$tmp/help.$c"
	cmp -s "$tmp/comp.$c" "$tmp/help.$c" ||
		fail "'jmsg $c -' completes otherwise than its --help: $(diff "$tmp/help.$c" "$tmp/comp.$c")"
done
echo "ok: bash completion: subcommands, every subcommand's options, files, interfaces, users"

# ---- uninstall: the tree as before, nothing built
cp -a "$dest$plugins" "$tmp/plugins"   # for the tshark part, at the end
make --no-print-directory uninstall PREFIX=/usr DESTDIR="$dest" BUILD="$tmp/none" >"$tmp/uninstall.log" 2>&1 ||
	fail "make uninstall exited $?"
snapshot "$dest" >"$tmp/after"
diff "$tmp/before" "$tmp/after" >"$tmp/tree.log" || fail "make uninstall left the tree otherwise than before install"
[ -e "$tmp/none" ] && fail "make uninstall built something: $(find "$tmp/none" | head)"
make --no-print-directory uninstall PREFIX=/usr DESTDIR="$dest" BUILD="$tmp/none" >>"$tmp/uninstall.log" 2>&1 ||
	fail "make uninstall of nothing exited $?"
echo "ok: make uninstall leaves the tree as it was (and does nothing twice)"

# An empty DESTDIR, the default PREFIX: after uninstall, no file is left.
make --no-print-directory install DESTDIR="$tmp/d2" BUILD="$b" CFLAGS="$cflags" CPPFLAGS="$cppflags" \
	LDFLAGS="$ldflags" >"$tmp/install2.log" 2>&1 || fail "make install DESTDIR=d2 exited $?"
grep -E '^(cc|gcc) ' "$tmp/install2.log" && fail "a second make install with the same flags compiled again"
[ -f "$tmp/d2/usr/local/lib/wireshark/plugins/jmsg.lua" ] || fail "PREFIX=/usr/local: no lib/wireshark/plugins/jmsg.lua"
make --no-print-directory uninstall DESTDIR="$tmp/d2" >>"$tmp/install2.log" 2>&1 || fail "make uninstall DESTDIR=d2 exited $?"
left=$(find "$tmp/d2" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
[ -e "$tmp/d2/usr/local/share/jmsg" ] && fail "make uninstall left share/jmsg"
echo "ok: PREFIX=/usr/local: install, then uninstall leaves no file"

# ---- make install-dissector: the personal folder, as before
make --no-print-directory install-dissector HOME="$tmp/home" BUILD="$b/dev" >"$tmp/personal.log" 2>&1 ||
	fail "make install-dissector exited $?"
[ -f "$tmp/home/.local/lib/wireshark/plugins/jmsg.lua" ] || fail "make install-dissector: no ~/.local/lib/wireshark/plugins/jmsg.lua"
echo "ok: make install-dissector installs into ~/.local/lib/wireshark/plugins"

# ---- Wireshark loads the installed dissector from its plugin folder (a copy
# of the folder as make install left it, kept before make uninstall)
need tshark
global=$(tshark -G folders 2>/dev/null | sed -n 's/^Global Lua Plugins:[[:space:]]*//p')
[ "$global" = "$plugins" ] || fail "PREFIX=/usr installs the dissector into $plugins; tshark's Global Lua Plugins is '$global'"
# make -n: where another PREFIX puts it, and WIRESHARK_PLUGIN_DIR overrides it
make -n --no-print-directory install PREFIX=/opt/jm DESTDIR=/x BUILD="$tmp/n" 2>&1 |
	grep "jmsg.lua /x/opt/jm/lib/wireshark/plugins/jmsg.lua$" >/dev/null || fail "PREFIX=/opt/jm: not into /opt/jm/lib/wireshark/plugins"
make -n --no-print-directory install PREFIX=/usr DESTDIR=/x BUILD="$tmp/n" WIRESHARK_PLUGIN_DIR=/p 2>&1 |
	grep "jmsg.lua /x/p/jmsg.lua$" >/dev/null || fail "WIRESHARK_PLUGIN_DIR=/p is not where the dissector goes"
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
mkdir -m 755 "$tmp/tshome"   # an empty personal folder
cp tests/fixtures/basic-search.pcap "$tmp/"
chmod 644 "$tmp/basic-search.pcap"
ts() { "${as_user[@]}" env HOME="$tmp/tshome" "$@" 2>>"$tmp/tshark.log"; }
ts tshark -G protocols >"$tmp/protocols.plain" || fail "tshark -G protocols exited $?"
grep -qP '\tjmsg$' "$tmp/protocols.plain" &&
	skip "tshark knows jmsg already (a jmsg.lua in $global or the personal folder): cannot tell where it loads it from"
ts env WIRESHARK_PLUGIN_DIR="$tmp/plugins" tshark -G protocols >"$tmp/protocols" ||
	fail "tshark -G protocols with WIRESHARK_PLUGIN_DIR exited $?"
grep -qP '\tjmsg$' "$tmp/protocols" || fail "tshark did not load the installed jmsg.lua ($dest$plugins/jmsg.lua)"
n=$(ts env WIRESHARK_PLUGIN_DIR="$tmp/plugins" tshark -r "$tmp/basic-search.pcap" -Y jmsg | wc -l)
[ "$n" -gt 0 ] || fail "tshark with the installed dissector shows no jmsg frame"
echo "ok: tshark loads the installed dissector from the plugin folder ($n jmsg frames)"
