#!/usr/bin/env bash
# One JSON convention: every JSON line of every subcommand starts with
# {"event":"KIND", and every event and field it prints is in the README's
# "JSON events" reference.  The lines come from analyze on every fixture,
# replay against a server with a changed search table (-v, so identical
# and unchecked lines too), a small load, and sockets --watch.  (Events
# only a live capture or a failing target makes, such as capture_drops,
# a stall's kernel view or replay's missing, are not made here.)
set -u
: "${JMSG:?}" "${BUILD:?}"
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
tmpdir T
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"

for f in tests/fixtures/*.pcap; do
	"$JMSG" analyze -r "$f" --json --port 65432 --port 41001 --port 41004 >>"$T/analyze.jsonl" ||
		fail "analyze $f exited $?"
done
# analyze --framing: the framing captures, with each framing (e2e 66's).
for script in tests/fixtures/framings/*.script tests/fixtures/framings/analyzer/*.script; do
	name=$(basename "$script" .script)
	if [ -f "${script%.script}.args" ]; then
		read -r -a fargs <"${script%.script}.args"
	else
		fargs=(--framing "${name%-bad}" --port 7342)
	fi
	"$BUILD/tools/pcapgen" -o "$T/$name.pcap" "$script" >/dev/null || fail "pcapgen $script"
	"$JMSG" analyze -r "$T/$name.pcap" --json "${fargs[@]}" >>"$T/analyze.jsonl" ||
		fail "analyze $name exited $?"
done
printf '{"morpheus": "Take the blue pill."}' >"$T/table.json"
start_server s -q --search-table "$T/table.json"
timeout 60 "$JMSG" replay tests/fixtures/replay-spaced.pcap --to "127.0.0.1:$s_port" --asap --json -v \
	>"$T/replay.jsonl"
[ $? -eq 1 ] || fail "replay with a changed table did not exit 1"
timeout 60 "$JMSG" replay tests/fixtures/tcp-lost-segment.pcap --to "127.0.0.1:$s_port" --asap --json \
	>>"$T/replay.jsonl"
timeout 60 "$JMSG" client --port "$s_port" --load --conns 2 --requests 20 --json >"$T/load.jsonl" ||
	fail "load exited $?"
timeout 60 "$JMSG" client --port "$s_port" --load --rate 100 --requests 5 --conns 1 --json >>"$T/load.jsonl" ||
	fail "rate load exited $?"
timeout 60 "$JMSG" sockets --port "$s_port" --json --info --watch 50ms --count 2 >"$T/sockets.jsonl" ||
	fail "sockets exited $?"

/usr/bin/python3 - "$T" <<'PY' || fail "JSON lines and the README's reference disagree"
import json, re, sys
tmp = sys.argv[1]
readme = open("README.md", encoding="utf-8").read()
m = re.search(r"^## JSON events\n(.*?)^## ", readme, re.S | re.M)
assert m, "README has no '## JSON events' section"
sec = m.group(1)
# the section's tables: the rows of each subcommand's table, by subcommand
tables = {}
parts = re.split(r"^\*\*`jmsg (\w+)[^\n]*", sec, flags=re.M)
for name, body in zip(parts[1::2], parts[2::2]):
    rows = [r for r in body.splitlines() if r.startswith("| `")]
    tables[name] = rows

def documented(cmd, event, field):
    for r in tables.get(cmd, []):
        cells = r.split("|")
        if "`%s`" % event in cells[1] and (field is None or "`%s`" % field in cells[2] + cells[3]):
            return True
    return False

bad = []
def check(cmd, path):
    n = 0
    for line in open(path, encoding="utf-8"):
        n += 1
        if not line.startswith('{"event":"'):
            bad.append("%s: not {\"event\":...: %s" % (cmd, line.strip()[:120]))
            continue
        e = json.loads(line)
        ev = e["event"]
        if not documented(cmd, ev, None):
            bad.append("%s: event %s is not in the README" % (cmd, ev))
        for k, v in e.items():
            if k == "event" or k in ("by_kind", "header", "content"):
                continue
            if not documented(cmd, ev, k):
                bad.append("%s: %s field %s is not in the README" % (cmd, ev, k))
            if isinstance(v, dict):
                for sub in v:
                    if not documented(cmd, ev, sub):
                        bad.append("%s: %s field %s.%s is not in the README" % (cmd, ev, k, sub))
    assert n, "%s printed nothing" % cmd
    return n

counts = {c: check(c, "%s/%s.jsonl" % (tmp, f)) for c, f in
          (("analyze", "analyze"), ("replay", "replay"), ("client", "load"), ("sockets", "sockets"))}
for b in sorted(set(bad)):
    print(b)
print("JSON lines checked: " + ", ".join("%s %d" % kv for kv in counts.items()))
sys.exit(1 if bad else 0)
PY
echo "ok: every JSON line names its event first, and every event and field is in the README"
