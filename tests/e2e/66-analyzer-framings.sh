#!/usr/bin/env bash
# jmsg analyze --framing NAME|FILE on the framing captures, made here by
# pcapgen from their scripts (not committed: pcapgen is deterministic):
#   tests/fixtures/framings/NAME.script           decoded with --framing
#       NAME (NAME-bad.script with NAME) --port 7342
#   tests/fixtures/framings/analyzer/NAME.script  the analyzer's own
#       (gaps, resync, truncation, a reset, raw, framing files a user wrote),
#       with the arguments in NAME.args
# Checks, with the plain build and the ASan+UBSan one (JMSG_ASAN):
#   - the --json output equals the golden file (the script's path with
#     .jsonl for .script) byte for byte, the exit status is 0 and stderr is
#     empty (BLESS=1 rewrites the goldens: check every diff by hand against
#     the script's comment);
#   - --workers 2 gives the same lines;
#   - the text output has one line per message with the analyzer's head
#     (time, stream, endpoints, direction, #frames) and the framing's name,
#     and one per error event;
#   - --fail-on errors exits 3 exactly on the captures with a framing error;
#   - the decoder's buffer counts against --stream-memcap: 70000 bytes with
#     no delimiter under a 64k cap is a memcap problem, not the framing's
#     delimiter_not_found (which it is with the default caps);
#   - a framing that is neither a name nor a readable, valid file is a usage
#     error (exit 2, one line naming it).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${JMSG_ASAN:=}" "${BUILD:=build}"
tmpdir tmp
[ -x "$JMSG" ] || fail "no jmsg binary at $JMSG"
[ -x "$BUILD/tools/pcapgen" ] || skip "$BUILD/tools/pcapgen is not built (make BUILD=$BUILD)"
runners=("$JMSG") not_run=
if have_asan; then
	runners+=("$JMSG_ASAN")
else
	not_run="no ASan build of jmsg (JMSG_ASAN='$JMSG_ASAN'; make unit-asan): plain build only"
fi
PY=/usr/bin/python3
rc=0
bad() { echo "FAIL: $*"; rc=1; }

# The arguments a script is analyzed with.
args_of() {
	local script=$1 name
	if [ -f "${script%.script}.args" ]; then
		cat "${script%.script}.args"
	else
		name=$(basename "$script" .script)
		echo "--framing ${name%-bad} --port 7342"
	fi
}

n=0
for script in tests/fixtures/framings/*.script tests/fixtures/framings/analyzer/*.script; do
	name=$(basename "$script" .script)
	golden=${script%.script}.jsonl
	pcap=$tmp/$name.pcap
	read -r -a args <<<"$(args_of "$script")"
	"$BUILD/tools/pcapgen" -o "$pcap" "$script" >/dev/null || { bad "pcapgen $script"; continue; }
	n=$((n + 1))
	for j in "${runners[@]}"; do
		"$j" analyze -r "$pcap" --json "${args[@]}" >"$tmp/out" 2>"$tmp/err"
		st=$?
		[ $st -eq 0 ] || bad "$name ($j): exit $st: $(cat "$tmp/err")"
		[ ! -s "$tmp/err" ] || bad "$name ($j): stderr: $(cat "$tmp/err")"
		if [ -n "${BLESS:-}" ] && [ "$j" = "$JMSG" ]; then
			cp "$tmp/out" "$golden"
		fi
		[ -f "$golden" ] || { bad "$name: no golden $golden (BLESS=1 makes it)"; continue; }
		cmp -s "$tmp/out" "$golden" || bad "$name ($j): output differs from $golden:
$(diff "$golden" "$tmp/out" | head -20)"
	done
	grep -q '"framing":' "$golden" || grep -q '"kind":"no_resync"' "$golden" ||
		bad "$name: the golden holds no framed message"
	# --workers 2: the same lines but for the stream numbers
	"$JMSG" analyze -r "$pcap" --json --workers 2 "${args[@]}" >"$tmp/w2" 2>"$tmp/err" ||
		bad "$name --workers 2: $(cat "$tmp/err")"
	sed 's/"stream":[0-9]*,//' "$tmp/w2" >"$tmp/w2s"
	sed 's/"stream":[0-9]*,//' "$golden" >"$tmp/g1s"
	cmp -s "$tmp/w2s" "$tmp/g1s" || bad "$name: --workers 2 differs:
$(diff "$tmp/g1s" "$tmp/w2s" | head -10)"
	# text: one line per message and per error, with the head
	"$JMSG" analyze -r "$pcap" --color never "${args[@]}" >"$tmp/text" 2>"$tmp/err" ||
		bad "$name (text): $(cat "$tmp/err")"
	framing=$(grep -o '"framing":"[^"]*"' "$golden" | head -1 | cut -d'"' -f4)
	want=$(grep -c '"event":"message"' "$golden")
	got=$(grep -cE "^ +[0-9]+\.[0-9]{6} +[0-9]+ [0-9.]+:[0-9]+ -> [0-9.]+:[0-9]+ (request |response) #[0-9]+(-[0-9]+)? $framing len=[0-9]+ payload=([1-9][0-9]* .*|0)$" "$tmp/text")
	[ "$got" = "$want" ] || bad "$name (text): $got message lines, want $want:
$(cat "$tmp/text")"
	want=$(grep -c '"event":"error"' "$golden")
	got=$(grep -c ' ! ' "$tmp/text")
	[ "$got" = "$want" ] || bad "$name (text): $got error lines, want $want"
	# --fail-on errors: exit 3 exactly when a framing error was reported
	"$JMSG" analyze -r "$pcap" -q --fail-on errors "${args[@]}" >/dev/null 2>&1
	st=$?
	if grep -qE '"kind":"(length_|delimiter_|message_over|truncated_|no_resync)' "$golden"; then
		[ $st -eq 3 ] || bad "$name: --fail-on errors exited $st, want 3 (a framing error)"
	else
		[ $st -eq 0 ] || bad "$name: --fail-on errors exited $st, want 0"
	fi
done
[ $n -ge 12 ] || bad "only $n framing captures"
for golden in tests/fixtures/framings/*.jsonl tests/fixtures/framings/analyzer/*.jsonl; do
	[ -f "${golden%.jsonl}.script" ] || bad "$golden has no script"
done

# Memory caps: the decoder's buffer is counted.
"$BUILD/tools/pcapgen" -o "$tmp/db.pcap" tests/fixtures/framings/delimited-bad.script >/dev/null
"$JMSG" analyze -r "$tmp/db.pcap" --json --framing delimited --port 7342 >"$tmp/caps" 2>&1
grep -q '"kind":"delimiter_not_found"' "$tmp/caps" || bad "delimited-bad: no delimiter_not_found: $(cat "$tmp/caps")"
"$JMSG" analyze -r "$tmp/db.pcap" --json --framing delimited --port 7342 --stream-memcap 64k \
	>"$tmp/caps" 2>&1
grep -q '"kind":"memcap"' "$tmp/caps" || bad "--stream-memcap 64k: no memcap problem: $(cat "$tmp/caps")"
grep -q '"kind":"delimiter_not_found"' "$tmp/caps" && bad "--stream-memcap 64k: the decoder held more than the cap"
grep -q '"content":"fine"' "$tmp/caps" || bad "--stream-memcap 64k: the other direction was not decoded"
"$JMSG" analyze -r "$tmp/db.pcap" --json --framing delimited --port 7342 --memcap 1M --stream-memcap 1M \
	>"$tmp/caps" 2>&1
grep -q '"kind":"delimiter_not_found"' "$tmp/caps" || bad "1M caps: no delimiter_not_found: $(cat "$tmp/caps")"

# Usage errors.
echo '{"framing_version": 1, "name": "x", "kind": "fixed"}' >"$tmp/nosize.json"
for f in nosuch "$tmp/missing.json" "$tmp/nosize.json"; do
	"$JMSG" analyze -r "$tmp/db.pcap" --framing "$f" >"$tmp/out" 2>"$tmp/err"
	st=$?
	[ $st -eq 2 ] || bad "--framing $f: exit $st, want 2"
	[ ! -s "$tmp/out" ] || bad "--framing $f: wrote to stdout"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^jmsg analyze: --framing: .*$(basename "$f")" "$tmp/err" ||
		bad "--framing $f: not one line naming it: $(cat "$tmp/err")"
done

[ $rc -eq 0 ] || exit 1
echo "ok: $n framing captures match their goldens, with --workers 2, text, --fail-on and the caps"
[ -z "$not_run" ] || skip "$not_run"
exit 0
