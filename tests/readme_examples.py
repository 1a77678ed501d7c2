#!/usr/bin/python3
"""Run the README's examples and compare their output with what it shows.

An example is a fenced block opened with ```console.  In it:

  $ CMD            a command, run with bash from the repository's root with
                   build/ first on PATH (so `jmsg` is build/jmsg); a line
                   ending in a backslash continues on the next line.  Each
                   command of a block runs after the one before it, and `$?`
                   is the previous command's exit status.  stdout and stderr
                   are both compared, in the order they come.
  $ CMD &          runs in the background until the block ends (then it gets
                   SIGTERM); its output is compared as far as the block shows
                   it, once that much has come.
  other lines      the expected output of the command above, to the next `$ `.
  ...              (a line of its own) any number of lines, none included.
  [..]             (within a line) any text: for what changes from run to
                   run, such as times, ephemeral ports and pids.

Markers, in HTML comments on the lines just above the fence:

  <!-- readme-check: skip REASON -->   not run; listed with its reason.
  <!-- readme-check: port N... -->     each port N is replaced by a free
                                       ephemeral port in the block's commands,
                                       and back to N in their output, so a
                                       server the block starts never collides.
  <!-- readme-check: root -->          needs root (a capture): skipped, with
                                       that reason, when not run as root.
  <!-- readme-check: needs CMD -->     skipped when CMD is not installed.

A fenced block with a `$ ` line that is not ```console fails the check, so
every example is either run or skipped for a stated reason.

  tests/readme_examples.py [--update] [--list] [README.md]

--update rewrites, in place, the expected output of every command whose
expected output has no `...` and no `[..]` (the deterministic ones) with
what it printed; the others are left to be edited by hand and are still
compared.  Exit status: 0 every example run matched, 1 some did not (a diff
for each), 2 bad usage.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TIMEOUT = 120          # seconds, per command
BG_WAIT = 10           # seconds for a background command's output and ports
MARK = re.compile(r"^<!--\s*readme-check:\s*(\S+)\s*(.*?)\s*-->\s*$")


class Step:
    def __init__(self, cmd, line):
        self.cmd = cmd          # the command as written (continuations joined)
        self.line = line        # README line number of its `$ `
        self.expect = []        # expected output lines
        self.first = None       # README index (0-based) of the first expected line
        self.end = None         # README index past the last expected line


class Block:
    def __init__(self, line, marks):
        self.line = line        # README line number of the fence
        self.marks = marks      # [(name, args)]
        self.steps = []


def parse(lines):
    """The console blocks, and the lines of other blocks holding a `$ `."""
    blocks, stray = [], []
    i = 0
    while i < len(lines):
        m = re.match(r"^(```+)\s*(\S*)", lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i
        marks = []
        j = i - 1
        while j >= 0 and (lines[j].strip() == "" or MARK.match(lines[j])):
            mk = MARK.match(lines[j])
            if mk:
                marks.append((mk.group(1), mk.group(2)))
            j -= 1
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(i)
            i += 1
        i += 1
        if lang != "console":
            if any(lines[k].startswith("$ ") for k in body):
                stray.append(start + 1)
            continue
        b = Block(start + 1, marks)
        k = 0
        while k < len(body):
            idx = body[k]
            text = lines[idx]
            if text.startswith("$ "):
                cmd, line = text[2:], idx + 1
                while cmd.endswith("\\") and k + 1 < len(body):
                    k += 1
                    cmd = cmd + "\n" + lines[body[k]]
                st = Step(cmd, line)
                st.first = st.end = body[k] + 1
                b.steps.append(st)
            elif b.steps:
                b.steps[-1].expect.append(text)
                b.steps[-1].end = idx + 1
            else:
                stray.append(idx + 1)   # output before any command
            k += 1
        blocks.append(b)
    return blocks, stray


def line_re(expect):
    parts = expect.rstrip().split("[..]")
    return re.compile(".*?".join(re.escape(p) for p in parts) + r"\Z", re.S)


def matches(expect, got):
    """expect's lines (with ... and [..]) against got's, all of them."""
    pats = [None if e.strip() == "..." else line_re(e) for e in expect]
    memo = {}

    def at(i, j):
        if (i, j) in memo:
            return memo[i, j]
        if i == len(pats):
            r = j == len(got)
        elif pats[i] is None:
            r = any(at(i + 1, k) for k in range(j, len(got) + 1))
        else:
            r = j < len(got) and bool(pats[i].match(got[j].rstrip())) and at(i + 1, j + 1)
        memo[i, j] = r
        return r
    return at(0, 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            for row in open(f).read().splitlines()[1:]:
                w = row.split()
                if w[3] == "0A" and int(w[1].rsplit(":", 1)[1], 16) == port:
                    return True
        except OSError:
            pass
    return False


def sub_ports(text, ports):
    for a, b in ports.items():
        text = re.sub(r"(?<!\d)%d(?!\d)" % a, str(b), text)
    return text


class Runner:
    def __init__(self, build):
        self.env = dict(os.environ)
        self.env["PATH"] = os.path.abspath(build) + os.pathsep + self.env.get("PATH", "")
        self.env.setdefault("LC_ALL", "C.UTF-8")

    def run_block(self, b, ports):
        """[(step, output lines)] for each command, ports mapped back."""
        back = {v: k for k, v in ports.items()}
        out, bg, rc = [], [], 0
        try:
            for st in b.steps:
                cmd = sub_ports(st.cmd, ports)
                if cmd.rstrip().endswith("&"):
                    got = self.background(cmd.rstrip()[:-1], st, ports, bg)
                else:
                    rc, got = self.foreground(cmd, rc)
                text = sub_ports(got, back)
                out.append((st, text.splitlines()))
        finally:
            for p in bg:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        return out

    def foreground(self, cmd, prev):
        p = subprocess.Popen(["bash", "-c", "(exit %d); %s" % (prev, cmd)], cwd=ROOT,
                             env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            data, _ = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            data, _ = p.communicate()
            data += b"\n[readme-check: timed out after %d s]\n" % TIMEOUT
        return p.returncode, data.decode("utf-8", "surrogateescape")

    def background(self, cmd, st, ports, bg):
        log = os.path.join(self.tmp, "bg%d.out" % len(bg))
        with open(log, "wb") as f:
            p = subprocess.Popen(["bash", "-c", cmd], cwd=ROOT, env=self.env,
                                 stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        bg.append(p)
        want = [v for v in ports.values() if re.search(r"(?<!\d)%d(?!\d)" % v, cmd)]
        deadline = time.monotonic() + BG_WAIT
        while time.monotonic() < deadline:
            data = open(log, "rb").read().decode("utf-8", "surrogateescape")
            if len(data.splitlines()) >= len(st.expect) and all(map(listening, want)):
                break
            if p.poll() is not None:
                break
            time.sleep(0.05)
        data = open(log, "rb").read().decode("utf-8", "surrogateescape")
        return "\n".join(data.splitlines()[:len(st.expect)])


def why_skip(b):
    for name, args in b.marks:
        if name == "skip":
            return args or "marked skip"
        if name == "root" and os.geteuid() != 0:
            return "needs root"
        if name == "needs":
            missing = [c for c in args.split() if not shutil.which(c)]
            if missing:
                return "needs " + " ".join(missing)
    return None


def main(argv):
    update = "--update" in argv
    listing = "--list" in argv
    args = [a for a in argv if a not in ("--update", "--list")]
    if any(a.startswith("-") for a in args) or len(args) > 1:
        print(__doc__.split("\n\n")[-2], file=sys.stderr)
        return 2
    path = args[0] if args else os.path.join(ROOT, "README.md")
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, stray = parse(lines)
    runner = Runner(os.environ.get("BUILD", os.path.join(ROOT, "build")))
    import tempfile
    failed, ran, skipped, edits = 0, 0, 0, []
    for line in stray:
        print("FAIL %s:%d: a block with `$ ` lines that is not ```console: make it an "
              "example, run or skipped with a reason (tests/readme_examples.py)" % (path, line))
        failed += 1
    with tempfile.TemporaryDirectory() as tmp:
        runner.tmp = tmp
        for b in blocks:
            why = why_skip(b)
            if why:
                skipped += 1
                print("skip %s:%d: %s" % (path, b.line, why))
                continue
            ports = {}
            for name, a in b.marks:
                if name == "port":
                    for n in a.split():
                        ports[int(n)] = free_port()
            results = runner.run_block(b, ports)
            ran += 1
            bad = 0
            for st, got in results:
                if matches(st.expect, got):
                    continue
                plain = not any(e.strip() == "..." or "[..]" in e for e in st.expect)
                if update and plain:
                    edits.append((st, got))
                    continue
                bad += 1
                print("FAIL %s:%d: $ %s" % (path, st.line, st.cmd))
                import difflib
                for d in difflib.unified_diff(st.expect, got, "README (line %d)" % (st.first + 1),
                                              "output", lineterm="", n=2):
                    print("    " + d)
            failed += bad
            if listing or bad:
                print("%s %s:%d (%d commands)" % ("ok  " if not bad else "FAIL", path, b.line,
                                                  len(b.steps)))
    if edits:
        for st, got in sorted(edits, key=lambda e: -e[0].first):
            lines[st.first:st.end] = got
            print("updated %s:%d: $ %s" % (path, st.line, st.cmd.splitlines()[0]))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    print("readme examples: %d blocks run, %d skipped, %d failing%s" %
          (ran, skipped, failed, ", %d updated" % len(edits) if edits else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
