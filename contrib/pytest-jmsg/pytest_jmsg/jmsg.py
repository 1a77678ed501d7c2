"""Driving the jmsg binary: the reference server, a capture on an interface,
a replay.  Nothing here knows about pytest; pytest_jmsg's fixtures wrap it.

Every JSON line jmsg prints becomes an Event.  Which member names an event's
kind differs by subcommand today; KIND_KEY is the one place that says so.
"""

import ctypes
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

# The member that names an event's kind in each subcommand's JSON lines.
KIND_KEY = {"analyze": "event", "replay": "event"}

# Replay events that are differences (everything but the summary and notes).
REPLAY_NOTES = {"summary", "incomplete", "skipped", "unchecked", "identical"}

# What jmsg analyze -i says when it may not capture (tcp/capture.c).
CAPTURE_DENIED = re.compile(
    r"needs the CAP_NET_RAW capability"
    r"|cannot capture on '[^']*': .*(Operation not permitted|Permission denied)")


class JmsgError(Exception):
    """jmsg could not do what was asked; the message says why, in one line
    or a few."""


class CaptureDenied(JmsgError):
    """jmsg analyze may not capture here (no CAP_NET_RAW)."""


class Event(dict):
    """One JSON line of jmsg: a dict whose members are also attributes
    (ev.content_type is ev["content_type"]), its kind in ev.kind."""

    def __init__(self, obj, kind_key):
        super().__init__(obj)
        self.kind = obj.get(kind_key)

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def content_bytes(self):
        """A message's content as bytes, when jmsg showed it as hex
        (content that is not JSON; at most --max-hex bytes)."""
        return bytes.fromhex(self["content_hex"])


def parse_events(text, command):
    """The Events of `command`'s (analyze, replay) JSON-lines output."""
    key = KIND_KEY[command]
    return [Event(json.loads(line), key) for line in text.splitlines() if line.strip()]


def _die_with_parent():
    """In the child: SIGTERM when the process that started it dies, so no
    jmsg outlives a test run that was killed outright (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _start(argv, out, err):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            preexec_fn=_die_with_parent)


def _stop(proc, sig=signal.SIGINT, wait=10):
    """Sends sig and waits for the exit status; SIGKILL after `wait` s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def _read(path):
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _wait_for(check, proc, seconds):
    """Polls check() until true, proc ends or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        if proc.poll() is not None:
            return check()
        time.sleep(0.02)
    return check()


def hostport(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


class Server:
    """jmsg server on an ephemeral port of `host`; .address is (host, port)."""

    def __init__(self, jmsg, workdir, args=(), host="127.0.0.1", start_seconds=10):
        self.host, self.args = host, list(args)
        workdir = Path(workdir)
        self._portfile = workdir / "jmsg-server.port"
        self.log_path = workdir / "jmsg-server.log"
        self.stopped = False
        argv = [jmsg, "server", "--host", host, "--port", "0",
                "--port-file", str(self._portfile)] + self.args
        with open(self.log_path, "wb") as log:
            self.proc = _start(argv, log, subprocess.STDOUT)
        if not _wait_for(lambda: self._portfile.exists() and self._portfile.read_text().strip(),
                         self.proc, start_seconds):
            _stop(self.proc, signal.SIGKILL)
            raise JmsgError("jmsg server %s did not start: %s"
                            % (" ".join(self.args), self.log.strip() or "(no output)"))
        self.port = int(self._portfile.read_text())
        self.address = (host, self.port)
        self.pid = self.proc.pid

    @property
    def log(self):
        """What the server wrote so far, stdout and stderr: the connections
        it served, the requests and responses, its errors."""
        return _read(self.log_path)

    def stop(self):
        """SIGINT (the server finishes what it was answering), the exit
        status; 0 for a server that stopped as asked."""
        self.stopped = True
        return _stop(self.proc)

    def __repr__(self):
        return "<jmsg server %s pid %d>" % (hostport(self.host, self.port), self.pid)


class Capture:
    """jmsg analyze -i IFACE on one TCP port, writing the packets to .pcap.
    The decoded events are there once it is stopped: .events stops it."""

    def __init__(self, jmsg, workdir, port, iface="lo", args=(), start_seconds=10):
        self.port, self.iface = port, iface
        workdir = Path(workdir)
        self.pcap = workdir / ("jmsg-capture-%d.pcap" % port)
        self._out = workdir / ("jmsg-capture-%d.jsonl" % port)
        self.stderr_path = workdir / ("jmsg-capture-%d.err" % port)
        self._events = None
        argv = [jmsg, "analyze", "-i", iface, "--immediate", "-l", "--json", "--port", str(port),
                "-w", str(self.pcap)] + list(args) + ["tcp port %d" % port]
        with open(self._out, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = _start(argv, out, err)
        if _wait_for(lambda: "listening on" in self.stderr, self.proc, start_seconds):
            return
        _stop(self.proc, signal.SIGKILL)
        first = self.stderr.strip().splitlines()[:1]
        why = first[0] if first else "(no output)"
        if CAPTURE_DENIED.search(why):
            raise CaptureDenied(why.replace("jmsg analyze: ", ""))
        raise JmsgError("jmsg analyze -i %s did not start: %s" % (iface, why))

    @property
    def stderr(self):
        return _read(self.stderr_path)

    def stop(self, settle=0.2):
        """Stops the capture (after `settle` s, for the last packets to be
        read) and returns its events."""
        if self._events is None:
            time.sleep(settle)
            rc = _stop(self.proc)
            if rc != 0:
                raise JmsgError("jmsg analyze exited %d: %s" % (rc, self.stderr.strip()))
            self._events = parse_events(_read(self._out), "analyze")
        return self._events

    @property
    def events(self):
        """Every event, in order: stream, message, error, stall, summary..."""
        return self.stop()

    def of_kind(self, kind):
        return [e for e in self.events if e.kind == kind]

    @property
    def messages(self):
        return self.of_kind("message")

    @property
    def requests(self):
        return [m for m in self.messages if m.dir == "request"]

    @property
    def responses(self):
        return [m for m in self.messages if m.dir == "response"]

    @property
    def errors(self):
        return self.of_kind("error")

    @property
    def stalls(self):
        return self.of_kind("stall")

    @property
    def summary(self):
        found = self.of_kind("summary")
        return found[-1] if found else None


class ReplayResult:
    """jmsg replay's events: .differences (diff, missing, extra, malformed,
    error), .notes (incomplete, skipped), .summary, and its exit status."""

    def __init__(self, events, returncode, argv):
        self.events, self.returncode, self.argv = events, returncode, argv
        self.differences = [e for e in events if e.kind not in REPLAY_NOTES]
        self.notes = [e for e in events if e.kind in ("incomplete", "skipped")]
        summaries = [e for e in events if e.kind == "summary"]
        self.summary = summaries[-1] if summaries else None

    def report(self):
        """The differences, readable: each response that differs with each
        changed member, captured against live."""
        s = self.summary or {}
        lines = ["jmsg replay: %d of %s responses differ (%s)"
                 % (len(self.differences), s.get("responses", "?"), "jmsg " + " ".join(self.argv[1:]))]
        for e in self.notes:
            lines.append("note: stream %s %s: %s" % (e.get("stream"), e.kind, e.get("detail", "")))
        lines.extend(_describe_all(self.differences))
        if s:
            lines.append("summary: " + ", ".join(
                "%s %s" % (k, s[k]) for k in ("identical", "different", "missing", "extra", "errors")
                if k in s))
        return "\n".join(lines)


def _describe_all(differences):
    """The lines of every difference; a run of responses of one stream that
    differ exactly as the one before them is one line."""
    lines, i = [], 0
    while i < len(differences):
        e = differences[i]
        lines.extend(_describe(e))
        j = i + 1
        while (j < len(differences) and e.kind == "diff" and differences[j].kind == "diff"
               and differences[j].get("stream") == e.get("stream")
               and differences[j].get("changes") == e.get("changes")
               and differences[j].get("more") == e.get("more")):
            j += 1
        if j - i == 2:
            lines.append("stream %s response %s differs in the same way"
                         % (e.get("stream"), differences[i + 1].get("response")))
        elif j - i > 2:
            lines.append("stream %s responses %s-%s differ in the same way"
                         % (e.get("stream"), differences[i + 1].get("response"),
                            differences[j - 1].get("response")))
        i = j
    return lines


def _describe(e):
    """The lines of one difference."""
    where = "stream %s" % e.get("stream")
    if "response" in e:
        where += " response %s" % e["response"]
    if e.kind != "diff":
        rest = ", ".join("%s=%s" % (k, json.dumps(v, ensure_ascii=False))
                         for k, v in e.items() if k not in (KIND_KEY["replay"], "stream", "response"))
        return ["%s: %s%s" % (where, e.kind, (": " + rest) if rest else "")]
    out = ["%s differs:" % where]
    for c in e.get("changes", []):
        out += ["  %s" % c.get("path"),
                "    - captured: %s" % c.get("captured"),
                "    + live:     %s" % c.get("live")]
    if e.get("more"):
        out.append("  ... and %d more changes" % e["more"])
    return out


def replay(jmsg, pcap, host, port, capture_port=None, asap=True, args=(), timeout=60):
    """jmsg replay PCAP --to HOST:PORT --json; a ReplayResult.  Raises
    JmsgError when jmsg cannot replay (exit 2: unreadable capture,
    server unreachable, bad arguments)."""
    argv = [jmsg, "replay", str(pcap), "--to", hostport(host, port), "--json"]
    if capture_port is not None:
        argv += ["--port", str(capture_port)]
    if asap:
        argv.append("--asap")
    argv += list(args)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, preexec_fn=_die_with_parent)
    except subprocess.TimeoutExpired:
        raise JmsgError("%s took more than %d s" % (" ".join(argv), timeout)) from None
    err = done.stderr.decode(errors="replace").strip()
    if done.returncode not in (0, 1):
        raise JmsgError("%s exited %d: %s" % (" ".join(argv), done.returncode, err or "(no output)"))
    events = parse_events(done.stdout.decode(), "replay")
    result = ReplayResult(events, done.returncode, argv)
    if done.returncode == 1 and not result.differences:
        raise JmsgError("%s exited 1 with no difference listed: %s" % (" ".join(argv), err))
    return result


def find_jmsg(given=None):
    """The jmsg binary: `given` (a path or a name on PATH), else jmsg on
    PATH.  None when there is none."""
    import shutil
    name = given or "jmsg"
    if os.sep in name:
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name)
