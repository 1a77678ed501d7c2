# Sourced by tests/e2e/3*-dissector*.sh.  Runs tshark with the generated
# dissector and a Wireshark configuration of its own, so a user's
# preferences or plugins can never change a result, and turns any Lua error
# into a test failure.
#
#   dt_setup             checks tshark, python3 and $BUILD/jmsg.lua (77 if absent)
#   dt_tshark ARGS...    tshark -X lua_script:$LUA ARGS, stdout to stdout;
#                        fails the test on a Lua error in its output or stderr
#                        or on a tshark error (unknown -o preference, bad
#                        filter...).  Never call it in $(...) or in a pipe:
#                        dt_fail would end only that subshell.
#   dt_count ARGS...     dt_tshark ARGS with its output in a file, then sets
#                        DT_N to the number of lines it printed
#   dt_fail MSG          one line on stderr, exit 1

: "${BUILD:=build}"
LUA="$BUILD/jmsg.lua"
PY=/usr/bin/python3
DT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

dt_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

dt_setup() {
	command -v tshark >/dev/null || { echo "skip: tshark is not installed (make deps)"; exit 77; }
	[ -x "$PY" ] || { echo "skip: $PY is not installed (make deps)"; exit 77; }
	[ -f "$LUA" ] || { echo "skip: $LUA is not built (make BUILD=$BUILD)"; exit 77; }
	TMP=$(mktemp -d)
	trap 'rm -rf "$TMP"' EXIT
	mkdir -p "$TMP/home" "$TMP/cfg"
}

# tshark's stderr is kept apart; "Running as user root" is the only noise
# filtered, and a Lua error anywhere is fatal.
dt_tshark() {
	local err="$TMP/tshark.err" out="$TMP/tshark.out" rc
	HOME="$TMP/home" WIRESHARK_CONFIG_DIR="$TMP/cfg" \
		timeout 120 tshark -X "lua_script:$LUA" "$@" >"$out" 2>"$err"
	rc=$?
	if grep -qE "Lua Error|Lua: Error" "$err" "$out"; then
		grep -hE -m 5 "Lua Error|Lua: Error" "$err" "$out" >&2
		dt_fail "Lua error from tshark $*"
	fi
	grep -v "Running as user \"root\"" "$err" >&2
	[ $rc -eq 0 ] || dt_fail "tshark $* exited $rc"
	cat "$out"
}

dt_count() {
	dt_tshark "$@" >"$TMP/count.out"
	DT_N=$(wc -l <"$TMP/count.out")
}
