#!/usr/bin/env bash
# A server with a changed search table (morpheus answers differently, the
# rest as in the tutorial): replaying captures against it must report
# exactly the responses that changed, each as a content.result change, and
# exit 1.  Which responses those are is read from the capture with
# `jmsg analyze`, not written here.
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T

NEW='The rabbit hole is closed today.'
printf '{"morpheus": "%s", "ring": "In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d", "\xf0\x9f\x90\xb6": "\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90"}\n' "$NEW" >"$T/table.json"
start_server s --search-table "$T/table.json" -q
port=$s_port

total_changed=0 total_same=0
for pcap in tests/fixtures/replay-spaced.pcap tests/fixtures/tutorial-search-morpheus.pcap \
	    tests/fixtures/tutorial-binary-smiley.pcap tests/fixtures/live-keepalive.pcap; do
	args=()
	[ -f "${pcap%.pcap}.args" ] && read -ra args <"${pcap%.pcap}.args"
	# The responses the change must show: those that carried morpheus's answer.
	"$JMSG" analyze -r "$pcap" "${args[@]}" --json |
		grep '"event":"message"' | grep '"dir":"response"' |
		sed -n 's/.*"stream":\([0-9]*\),.*"index":\([0-9]*\),.*/\1 \2 &/p' >"$T/responses"
	grep 'Follow the white rabbit' "$T/responses" | cut -d' ' -f1,2 | sort >"$T/want"
	all=$(wc -l <"$T/responses")
	changed=$(wc -l <"$T/want")

	out=$(timeout 60 "$JMSG" replay "$pcap" "${args[@]}" --to "127.0.0.1:$port" --json --asap)
	rc=$?
	grep '"event":"diff"' <<<"$out" | sed -n 's/.*"stream":\([0-9]*\),"response":\([0-9]*\),.*/\1 \2/p' | sort >"$T/got"
	echo "$pcap: exit $rc; $changed of $all responses should differ; reported: $(tr '\n' ';' <"$T/got")"
	diff "$T/want" "$T/got" >/dev/null || { echo "$out"; fail "$pcap: reported responses are not the changed ones"; }
	# Nothing else: every non-summary line is one of those diffs.
	[ "$(grep -vc '"event":"summary"' <<<"$out")" -eq "$changed" ] || { echo "$out"; fail "$pcap: unexpected lines"; }
	grep '"event":"diff"' <<<"$out" | while read -r line; do
		grep -qF '{"path":"content.result","captured":"\"Follow the white rabbit. 🐰\"","live":"\"'"$NEW"'\""}' <<<"$line" ||
			{ echo "$line"; exit 1; }
	done || fail "$pcap: a diff does not show the result change"
	if [ "$changed" -gt 0 ]; then
		[ $rc -eq 1 ] || fail "$pcap: exit $rc with differences, expected 1"
	else
		[ $rc -eq 0 ] || fail "$pcap: exit $rc with no differences, expected 0"
	fi
	total_changed=$((total_changed + changed))
	total_same=$((total_same + all - changed))
done
[ $total_changed -gt 0 ] && [ $total_same -gt 0 ] || fail "the captures should hold changed and unchanged responses"

# The text report names the change readably, one line per response.
out=$(timeout 30 "$JMSG" replay tests/fixtures/replay-spaced.pcap --to "127.0.0.1:$port" --speed 4)
rc=$?
echo "$out"
[ $rc -eq 1 ] || fail "text report: exit $rc"
# The captured length from the capture, the live one from the new result
# ({"result": "..."} is 14 bytes around it).
old_len=$("$JMSG" analyze -r tests/fixtures/replay-spaced.pcap --json | grep '"dir":"response"' |
	grep 'Follow the white rabbit' | sed -n 's/.*"content_length":\([0-9]*\).*/\1/p')
grep -qxF "stream 0 response 0: header.content-length: $old_len -> $(( ${#NEW} + 14 )); content.result: \"Follow the white rabbit. 🐰\" -> \"$NEW\"" <<<"$out" ||
	fail "text report line not as expected"
grep -q '^replay: 2 streams .* 3 identical, 1 different, 0 missing' <<<"$out" || fail "text summary wrong"

# Ignoring content-length leaves only the content change.
out=$(timeout 30 "$JMSG" replay tests/fixtures/replay-spaced.pcap --to "127.0.0.1:$port" --asap --ignore-header content-length)
grep -qxF "stream 0 response 0: content.result: \"Follow the white rabbit. 🐰\" -> \"$NEW\"" <<<"$out" ||
	{ echo "$out"; fail "--ignore-header content-length did not drop the length change"; }
echo "changed responses: $total_changed reported exactly; unchanged: $total_same"
