#!/usr/bin/env bash
# jmsg-gen and framing files: the four of spec/framings/ pass `framing-check`;
# a file with mistakes is refused (exit 1) with one line per mistake naming
# the file and the key; a user's own file gets a dissector that luac accepts
# and whose protocol is jmsg_ + its name; bad usage exits 2; a framing file
# with a mistake in spec/framings/ would stop `jmsg-gen framings-c`, so the
# build never carries it.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
GEN=$BUILD/jmsg-gen
[ -x "$GEN" ] || { echo "skip: $GEN is not built (make BUILD=$BUILD)"; exit 77; }
LUAC=$(command -v luac5.2 || command -v luac)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rc=0
bad() { echo "FAIL: $*" >&2; rc=1; }

"$GEN" framing-check spec/framings/*.json >"$TMP/out" 2>&1 || bad "spec/framings/ refused: $(cat "$TMP/out")"
[ ! -s "$TMP/out" ] || bad "framing-check printed for good files: $(cat "$TMP/out")"

# one file, several mistakes: every one reported, FILE: KEY: what
cat >"$TMP/bad.json" <<'EOF'
{"framing_version": 1, "name": "Bad Name", "kind": "length_prefix", "width": 12,
 "radix": "hex", "limits": {"max_payload": -1, "max_search": 3}, "colour": "red"}
EOF
"$GEN" framing-check "$TMP/bad.json" >"$TMP/out" 2>&1
st=$?
[ $st -eq 1 ] || bad "a bad framing file: exit $st, want 1"
for want in "bad.json: name: \"Bad Name\" must be" "bad.json: width: 12 is out of range 1..9" \
	"bad.json: radix: \"hex\": only \"decimal\" is supported" \
	"bad.json: limits: unknown key \"max_search\"" "bad.json: colour: unknown key for this kind" \
	"bad.json: limits.max_payload: -1 is out of range" "bad.json: 6 mistake(s); framing file refused"; do
	grep -qF "$want" "$TMP/out" || bad "no \"$want\" in: $(cat "$TMP/out")"
done
printf '{"framing_version": 1, "name": "x", "kind": "fixed", "size": 30, "pad": "#"' >"$TMP/cut.json"
"$GEN" framing-check "$TMP/cut.json" >"$TMP/out" 2>&1 && bad "a file cut short was accepted"
grep -qF "cut.json: (file): not JSON" "$TMP/out" || bad "cut short: $(cat "$TMP/out")"
"$GEN" framing-check "$TMP/none.json" >"$TMP/out" 2>&1 && bad "a missing file was accepted"
grep -qF "none.json: cannot open: No such file or directory" "$TMP/out" || bad "missing: $(cat "$TMP/out")"

# the build's table refuses a bad file too
"$GEN" framings-c "$TMP/f.c" spec/framings/fixed.json "$TMP/bad.json" >"$TMP/out" 2>&1 &&
	bad "framings-c accepted a bad file"
[ ! -e "$TMP/f.c" ] || bad "framings-c left $TMP/f.c behind"

# a user's own framing: its dissector
cat >"$TMP/line.json" <<'EOF'
{"framing_version": 1, "name": "line-feed", "kind": "delimited", "delimiter": "\n",
 "limits": {"max_payload": 4096}}
EOF
"$GEN" framing-lua spec/jmsg.json "$TMP/line.json" dissector/framing.lua.in "$TMP/line.lua" \
	>"$TMP/out" 2>&1 || bad "framing-lua on a user file: $(cat "$TMP/out")"
grep -qF 'proto = "jmsg_line_feed"' "$TMP/line.lua" || bad "user dissector: no jmsg_line_feed"
grep -qF 'delimiter = "\010"' "$TMP/line.lua" || bad "user dissector: the delimiter is not a line feed"
if [ -n "$LUAC" ]; then
	"$LUAC" -p "$TMP/line.lua" || bad "luac refuses the user's dissector"
fi

"$GEN" framing-lua spec/jmsg.json >"$TMP/out" 2>&1
st=$?
[ $st -eq 2 ] || bad "framing-lua without its files: exit $st, want 2"
[ $rc -eq 0 ] && echo "ok: framing files are checked key by key; a user's file gets its dissector"
exit $rc
