"""Tests of the plugin itself: each runs a small test file with pytester (an
inner pytest run, the plugin loaded with -p pytest_jmsg, which is a no-op
when it is installed) and checks its outcome and output."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# A capture of jmsg server answering five pipelined keep-alive searches for
# "morpheus", server port 43565 (jmsg's tests/fixtures).
KEEPALIVE_PCAP = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "live-keepalive.pcap"


def run(pytester, *args):
    return pytester.runpytest("-p", "pytest_jmsg", "-p", "no:cacheprovider", "-rs", *args)


@pytest.fixture
def keepalive_pcap():
    if not KEEPALIVE_PCAP.exists():
        pytest.skip("%s is not there (run from jmsg's tree)" % KEEPALIVE_PCAP)
    return KEEPALIVE_PCAP


def test_replay_difference_fails_with_readable_diff(pytester, keepalive_pcap):
    pytester.makefile(".json", table='{"morpheus": "Something else entirely"}')
    pytester.makepyfile(test_changed="""
        import pytest

        @pytest.mark.jmsg_server("--search-table", "table.json")
        def test_changed(jmsg_server, jmsg_replay):
            jmsg_replay(%r, *jmsg_server.address, capture_port=43565)
    """ % str(keepalive_pcap))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*jmsg replay: 5 of 5 responses differ (*live-keepalive.pcap --to 127.0.0.1:*",
        "*stream 0 response 0 differs:",
        "*  header.content-length",
        "*    - captured: 43",
        "*    + live:     37",
        "*  content.result",
        '*    - captured: "Follow the white rabbit. 🐰"',
        '*    + live:     "Something else entirely"',
        "*stream 0 responses 1-4 differ in the same way",
        "*summary: identical 0, different 5, missing 0, extra 0, errors 0",
    ])
    # the diff, not a traceback through the plugin
    result.stdout.no_fnmatch_line("*pytest_jmsg/*.py:*")


def test_replay_without_difference_returns_empty(pytester, keepalive_pcap):
    pytester.makepyfile(test_same="""
        def test_same(jmsg_server, jmsg_replay):
            assert jmsg_replay(%r, *jmsg_server.address, capture_port=43565) == []
    """ % str(keepalive_pcap))
    run(pytester).assert_outcomes(passed=1)


def test_replay_check_false_returns_differences(pytester, keepalive_pcap):
    pytester.makefile(".json", table='{"morpheus": "Something else entirely"}')
    pytester.makepyfile(test_changed="""
        import pytest

        @pytest.mark.jmsg_server("--search-table", "table.json")
        def test_changed(jmsg_server, jmsg_replay):
            diffs = jmsg_replay(%r, *jmsg_server.address, capture_port=43565, check=False)
            assert [d.kind for d in diffs] == ["diff"] * 5
            assert diffs[0].changes[1] == {"path": "content.result",
                "captured": '"Follow the white rabbit. 🐰"', "live": '"Something else entirely"'}
    """ % str(keepalive_pcap))
    run(pytester).assert_outcomes(passed=1)


def test_replay_unreachable_server_fails_clearly(pytester, keepalive_pcap):
    pytester.makepyfile(test_gone="""
        def test_gone(jmsg_server, jmsg_replay):
            host, port = jmsg_server.address
            jmsg_server.stop()
            jmsg_replay(%r, host, port, capture_port=43565)
    """ % str(keepalive_pcap))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*jmsg replay * exited 2: jmsg replay: cannot connect to 127.0.0.1:*"])
    result.stdout.no_fnmatch_line("*pytest_jmsg/*.py:*")
    result.stdout.no_fnmatch_line("*During handling of the above exception*")


def test_server_stopped_after_test_and_output_on_failure(pytester):
    pidfile = pytester.path / "server.pid"
    pytester.makepyfile(test_fails="""
        def test_fails(jmsg_server):
            open(%r, "w").write(str(jmsg_server.pid))
            assert jmsg_server.port > 0
            assert False, "the user's assertion"
    """ % str(pidfile))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*the user's assertion*",
        "*- jmsg server 127.0.0.1:* output -*",
        "Listening on 127.0.0.1:*",
    ])
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_server_marker_args_and_start_failure(pytester):
    pytester.makepyfile(test_bad="""
        import pytest

        @pytest.mark.jmsg_server("--search-table", "no-such-table.json")
        def test_bad(jmsg_server):
            pass
    """)
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*jmsg server --search-table no-such-table.json did not start: *"])


def test_no_jmsg_on_path(pytester, monkeypatch):
    monkeypatch.setenv("PATH", str(pytester.path))
    pytester.makepyfile(test_nojmsg="""
        def test_uses(jmsg_server):
            pass

        def test_plain():
            pass
    """)
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*pytest-jmsg: no 'jmsg' on PATH; build it*--jmsg=PATH*"])


def test_jmsg_option_not_executable(pytester):
    pytester.makepyfile(test_opt="""
        def test_uses(jmsg_server):
            pass
    """)
    result = run(pytester, "--jmsg=/nonexistent/jmsg")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*pytest-jmsg: --jmsg=/nonexistent/jmsg is not an executable*"])


CAPTURE_TEST = """
def test_capture(jmsg_server, jmsg_capture):
    capture = jmsg_capture(jmsg_server.port)
    assert False, "the capture started"
"""


def test_capture_skipped_without_cap_net_raw(tmp_path):
    """The capture test as nobody, without capabilities (setpriv), in a
    directory nobody can read: skipped, saying why."""
    if os.geteuid() != 0:
        pytest.skip("drops CAP_NET_RAW with setpriv, which needs root")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    jmsg = shutil.which("jmsg")
    if jmsg is None:
        pytest.skip("no jmsg on PATH")
    workdir = Path(tempfile.mkdtemp(prefix="pytest-jmsg-nobody-"))
    try:
        # what nobody runs, copied where nobody can read it: jmsg, the plugin
        os.chmod(workdir, 0o777)
        (workdir / "bin").mkdir()
        shutil.copy(jmsg, workdir / "bin" / "jmsg")
        shutil.copytree(Path(__file__).resolve().parents[1] / "pytest_jmsg", workdir / "lib" / "pytest_jmsg")
        for d in (workdir / "bin", workdir / "lib", workdir / "lib" / "pytest_jmsg"):
            os.chmod(d, 0o755)
        (workdir / "test_cap.py").write_text(CAPTURE_TEST)
        env = dict(os.environ, PYTHONPATH=str(workdir / "lib"), PYTHONDONTWRITEBYTECODE="1",
                   HOME=str(workdir), PATH="%s:%s" % (workdir / "bin", os.environ.get("PATH", "")))
        done = subprocess.run(
            [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
             "--bounding-set=-all", "--no-new-privs", sys.executable, "-m", "pytest",
             "-p", "pytest_jmsg", "-p", "no:cacheprovider", "-rs", "test_cap.py"],
            cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "1 skipped" in out, out
    assert ("SKIPPED [1] test_cap.py:2: jmsg_capture: no permission to capture on lo: "
            "capturing on 'lo' needs the CAP_NET_RAW capability") in out, out


def test_capture_events_and_pcap(pytester):
    """A capture decodes what the test sent; its pcap is there for
    jmsg analyze -r too."""
    pytester.makepyfile(test_cap="""
        import subprocess
        from pytest_jmsg.jmsg import parse_events

        def test_cap(jmsg_server, jmsg_capture, jmsg_binary):
            capture = jmsg_capture(jmsg_server.port)
            subprocess.run([jmsg_binary, "client", "--port", str(jmsg_server.port), "-q",
                            "binary", "x"], check=True, capture_output=True)
            kinds = [e.kind for e in capture.events]
            assert kinds[0] == "stream" and kinds[-1] == "summary", kinds
            req, resp = capture.messages
            assert req.content_type == "binary/custom-client-binary-type"
            assert req.content_bytes == b"binaryx"
            assert resp.content_bytes == b"First 10 bytes of request: binaryx"
            assert capture.summary.requests == 1 and capture.summary.responses == 1
            again = subprocess.run([jmsg_binary, "analyze", "-r", str(capture.pcap), "--json",
                                    "--port", str(jmsg_server.port)],
                                   check=True, capture_output=True, text=True).stdout
            assert [e.get("content_hex") for e in parse_events(again, "analyze") if e.kind == "message"] == \\
                   [req.content_hex, resp.content_hex]
    """)
    result = run(pytester)
    if "no permission to capture" in result.stdout.str():
        pytest.skip("this test may not capture on lo")
    result.assert_outcomes(passed=1)


def test_capture_stopped_after_failed_test_with_its_pcap_named(pytester):
    pidfile = pytester.path / "analyzer.pid"
    pytester.makepyfile(test_cap="""
        def test_cap(jmsg_server, jmsg_capture):
            capture = jmsg_capture(jmsg_server.port)
            open(%r, "w").write(str(capture.proc.pid))
            assert False, "failed while capturing"
    """ % str(pidfile))
    result = run(pytester)
    if "no permission to capture" in result.stdout.str():
        pytest.skip("this test may not capture on lo")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*- jmsg capture on lo port * -*", "pcap: */jmsg-capture-*.pcap"])
    with pytest.raises(ProcessLookupError):
        os.kill(int(pidfile.read_text()), 0)


def test_server_that_dies_during_the_test_fails_it(pytester):
    pytester.makepyfile(test_dies="""
        import os, signal, time

        def test_dies(jmsg_server):
            os.kill(jmsg_server.pid, signal.SIGKILL)
            time.sleep(0.2)
    """)
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*jmsg server exited -9 during the test:*"])


def test_server_ends_with_a_killed_pytest(pytester):
    """PR_SET_PDEATHSIG: a pytest killed outright (SIGKILL, no teardown)
    leaves no server behind."""
    pidfile = pytester.path / "server.pid"
    pytester.makepyfile(test_hang="""
        import time

        def test_hang(jmsg_server):
            open(%r, "w").write(str(jmsg_server.pid))
            time.sleep(60)
    """ % str(pidfile))
    plugin_dir = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [plugin_dir] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "pytest_jmsg", "-p", "no:cacheprovider",
                             "test_hang.py"], cwd=pytester.path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            if pidfile.exists() and pidfile.read_text():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the inner pytest did not start its server")
        pid = int(pidfile.read_text())
    finally:
        proc.kill()
        proc.wait()
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    pytest.fail("jmsg server %d outlived the pytest that started it" % pid)
