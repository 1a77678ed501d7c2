#!/usr/bin/env bash
# jmsg analyze on a terminal (a real pseudo-terminal, tests/tools/on_pty.py):
#
# Colour.  --color=always colours the direction and the problems of the
# text lines, and the same lines without the escapes are the plain output;
# JSON is never coloured; auto colours a terminal and not a pipe; NO_COLOR
# (not empty) turns auto off but not always; --color=never on a terminal
# shows none; --workers 2 colours as one thread does.
#
# Progress.  With stderr on a terminal, reading shows one line there,
# redrawn in place ("\r...\e[K"), with the percentage (files) or without
# (a pipe), the packets and packets/s, erased at the end; nothing when
# stderr is not a terminal.  The reader is made to pause (a slow pipe in,
# or a stdout nobody reads for a second), so the line has time to appear.
# With stdout on the same terminal the event lines come out whole around
# the progress line.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}" "${BUILD:=build}"
fx=tests/fixtures
tmpdir tmp
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the pseudo-terminal"
[ -x "$JMSG" ] || fail "no jmsg binary at $JMSG"
pty() { /usr/bin/python3 tests/tools/on_pty.py "$@"; }
esc=$'\e'
lost=$fx/tcp-lost-segment.pcap   # requests, responses, a warning and a note
nocolor() { sed "s/$esc\[[0-9;]*m//g"; }
unpty() { tr -d '\r'; }          # the terminal's \r\n, back to \n

# ---------------------------------------------------------------- colour
"$JMSG" analyze -r "$lost" > "$tmp/plain" || fail "plain: exit $?"
grep -q "$esc" "$tmp/plain" && fail "auto on a pipe: escapes in the output"
"$JMSG" analyze -r "$lost" --color=always > "$tmp/always" || fail "--color=always: exit $?"
for want in "${esc}[36mrequest${esc}[0m  #4 hdr=" "${esc}[32mresponse${esc}[0m #5 hdr=" \
	"${esc}[33m! warning gap${esc}[0m at offset" "${esc}[1m! note resync${esc}[0m" \
	"${esc}[1;31m2 problems: gap 1, resync 1${esc}[0m"; do
	grep -qF -- "$want" "$tmp/always" || fail "--color=always: no '$(printf %q "$want")' in: $(cat -v "$tmp/always")"
done
nocolor < "$tmp/always" | cmp -s - "$tmp/plain" || fail "--color=always without its escapes is not the plain output"
echo "ok: --color=always colours directions and problems, and nothing else changes"
"$JMSG" analyze -r "$lost" --color=always --json | cmp -s - "$fx/tcp-lost-segment.jsonl" ||
	fail "--color=always --json: not the golden output"
# (--workers numbers the streams its own way: the same lines but for that)
"$JMSG" analyze -r "$lost" --workers 2 > "$tmp/wplain" &&
"$JMSG" analyze -r "$lost" --color=always --workers 2 > "$tmp/walways" || fail "--workers 2: exit $?"
nocolor < "$tmp/walways" | cmp -s - "$tmp/wplain" || fail "--color=always --workers 2: not the plain lines"
[ "$(grep -o "$esc" "$tmp/walways" | wc -l)" = "$(grep -o "$esc" "$tmp/always" | wc -l)" ] ||
	fail "--color=always --workers 2: not as many escapes as one thread's"
echo "ok: JSON is never coloured; --workers 2 colours as one thread"
"$JMSG" analyze -r "$lost" --color=never | cmp -s - "$tmp/plain" || fail "--color=never: not plain"

on_term() { # NAME ARGS...: the analyzer's stdout and stderr on a terminal, into $tmp/NAME
	local name=$1
	shift
	pty "$tmp/$name.raw" --stdout -- "$JMSG" analyze -r "$lost" "$@" || fail "$name: exit $?"
	unpty < "$tmp/$name.raw" > "$tmp/$name"
}
on_term auto
cmp -s "$tmp/auto" "$tmp/always" || { diff "$tmp/always" "$tmp/auto" | cat -v; fail "auto on a terminal: not the coloured lines"; }
NO_COLOR=1 on_term nocolor1
cmp -s "$tmp/nocolor1" "$tmp/plain" || fail "NO_COLOR=1, auto, a terminal: coloured: $(cat -v "$tmp/nocolor1")"
NO_COLOR= on_term nocolor_empty
cmp -s "$tmp/nocolor_empty" "$tmp/always" || fail "NO_COLOR empty, auto, a terminal: not coloured"
NO_COLOR=1 on_term nocolor_always --color=always
cmp -s "$tmp/nocolor_always" "$tmp/always" || fail "NO_COLOR=1 --color=always: not coloured"
on_term never --color=never
cmp -s "$tmp/never" "$tmp/plain" || fail "--color=never on a terminal: coloured: $(cat -v "$tmp/never")"
echo "ok: auto colours a terminal; NO_COLOR=1 turns auto off, not always; never on a terminal"

# ---------------------------------------------------------------- progress
# A line drawn in place: \r, the words, \e[K.
line_re="${esc}\[K"
# 1. A pipe that waits after four packets: when the fifth comes, the line
#    shows 5 packets and no percentage; erased at the end.
cat > "$tmp/feed.py" <<'PY'
import struct, sys, time
data = open(sys.argv[1], 'rb').read()
e = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
off = 24
for _ in range(4):
    off += 16 + struct.unpack(e + 'I', data[off + 8:off + 12])[0]
sys.stdout.buffer.write(data[:off]); sys.stdout.flush()
time.sleep(1.2)
sys.stdout.buffer.write(data[off:])
PY
/usr/bin/python3 "$tmp/feed.py" "$fx/basic-search.pcap" |
	pty "$tmp/pipe.err" -- "$JMSG" analyze -r - > "$tmp/pipe.out" || fail "pipe: exit $?"
"$JMSG" analyze -r "$fx/basic-search.pcap" | cmp -s - "$tmp/pipe.out" || fail "pipe: stdout is not the file's output"
grep -qa $'\rjmsg analyze: 5 packets, [0-9]* packets/s'"$line_re" "$tmp/pipe.err" ||
	fail "pipe: no progress line with 5 packets: $(cat -v "$tmp/pipe.err")"
[ "$(tail -c 4 "$tmp/pipe.err" | od -An -c | tr -d ' ')" = '\r033[K' ] ||
	fail "pipe: the progress line is not erased at the end: $(cat -v "$tmp/pipe.err")"
echo "ok: a pipe: '$(grep -ao 'jmsg analyze: 5 packets[^'"$esc"']*' "$tmp/pipe.err")', then erased"

# 2. Files: stdout into a pipe nobody reads for a second, so the reader
#    blocks part way; the line must show the percentage of the files.
"$BUILD/bench/gen_capture" -o "$tmp/big.pcap" --packets 40k --streams 2000 > /dev/null 2>&1 ||
	{ make --no-print-directory BUILD="$BUILD" "$BUILD/bench/gen_capture" > /dev/null &&
	  "$BUILD/bench/gen_capture" -o "$tmp/big.pcap" --packets 40k --streams 2000 > /dev/null 2>&1; } ||
	fail "cannot make a big capture with gen_capture"
pty "$tmp/files.err" -- bash -c '"$0" analyze -r "$1" -r "$1" | (sleep 1.2; cat > "$2")' \
	"$JMSG" "$tmp/big.pcap" "$tmp/files.out" || fail "files: exit $?"
grep -qaE $'\rjmsg analyze: [0-9]{1,2}% of 2 files \\(file [12]\\), [0-9]+ packets, [0-9]+ packets/s'"$line_re" \
	"$tmp/files.err" || fail "files: no progress line with a percentage: $(cat -v "$tmp/files.err")"
draws=$(grep -ao $'\rjmsg analyze' "$tmp/files.err" | wc -l)
[ "$(tail -c 4 "$tmp/files.err" | od -An -c | tr -d ' ')" = '\r033[K' ] ||
	fail "files: the progress line is not erased at the end"
grep -qa "jmsg analyze: [^$esc]*"$'\r'"[^$esc]" "$tmp/files.err" && fail "files: a line drawn without erasing the rest"
echo "ok: files: $draws draws such as '$(grep -aoE 'jmsg analyze: [0-9]+% [^'"$esc"']*' "$tmp/files.err" | head -n 1)', then erased"
"$JMSG" analyze -r "$tmp/big.pcap" -r "$tmp/big.pcap" | cmp -s - "$tmp/files.out" ||
	fail "files: stdout differs with the progress line on"

# 3. stderr not a terminal: nothing on it.
"$JMSG" analyze -r "$tmp/big.pcap" -r "$tmp/big.pcap" 2> "$tmp/quiet.err" |
	(sleep 1.2; cat > /dev/null)
[ ! -s "$tmp/quiet.err" ] || fail "stderr not a terminal: it got: $(cat -v "$tmp/quiet.err" | head -c 300)"
echo "ok: stderr not a terminal: nothing on it"

# 4. stdout on the same terminal, read only after a second: the event
#    lines come out whole, the progress lines apart from them.
pty "$tmp/both.raw" --stdout --wait 1.2 -- "$JMSG" analyze -r "$tmp/big.pcap" --color=never ||
	fail "both on a terminal: exit $?"
grep -qa $'\rjmsg analyze: [0-9]*%' "$tmp/both.raw" || fail "both on a terminal: no progress line"
# Each progress line is drawn at the start of a line of the terminal and
# erased (or redrawn) before the next event line: none cuts into one.
/usr/bin/python3 - "$tmp/both.raw" <<'PY' || fail "both on a terminal: a progress line cuts into an event line"
import re, sys
d = open(sys.argv[1], 'rb').read()
for m in re.finditer(rb'\rjmsg analyze: [^\x1b]*\x1b\[K', d):
    before, after = d[:m.start()], d[m.end():]
    ok_before = before == b'' or before.endswith(b'\n') or before.endswith(b'\x1b[K')
    ok_after = after == b'' or after.startswith(b'\r\x1b[K') or after.startswith(b'\rjmsg analyze: ')
    if not (ok_before and ok_after):
        print(repr(d[max(0, m.start() - 80):m.end() + 80]))
        sys.exit(1)
PY
sed "s/\r\(jmsg analyze: [^$esc]*\)\?$esc\[K//g" "$tmp/both.raw" | unpty > "$tmp/both.out"
"$JMSG" analyze -r "$tmp/big.pcap" | cmp -s - "$tmp/both.out" ||
	{ diff <("$JMSG" analyze -r "$tmp/big.pcap") "$tmp/both.out" | head -n 6 | cat -v; fail "both on a terminal: the event lines are not whole"; }
echo "ok: stdout and stderr on one terminal: $(grep -ao $'\rjmsg analyze' "$tmp/both.raw" | wc -l) progress lines, every event line whole"
echo "terminal: all passed"
