"""pytest-jmsg: fixtures that drive the jmsg binary (found on PATH, or given
with --jmsg=PATH).

  jmsg_server    a jmsg reference server on an ephemeral port of 127.0.0.1:
                 .address (host, port), .port, .log (its output); stopped
                 after the test; its output (stdout and stderr: the
                 connections, requests and errors it logged) is added to
                 the report of a failed test, and a server that died
                 during the test fails it.
                 @pytest.mark.jmsg_server(ARGS...) passes server options
                 (e.g. "--search-table", "table.json").
  jmsg_capture   jmsg_capture(port) starts jmsg analyze on lo for that TCP
                 port and returns a Capture: .pcap (the packets, in the
                 test's tmp_path), .events, .messages, .requests,
                 .responses, .errors, .stalls, .summary (Python objects,
                 read once the capture is stopped: the first read stops
                 it).  Stopped after the test at the latest.  The test is
                 skipped, saying why, when jmsg may not capture (no
                 CAP_NET_RAW).
  jmsg_replay    jmsg_replay(pcap, host, port) replays a capture (a path or
                 a Capture) against a server and returns the differences;
                 it fails the test with a readable diff when there are
                 any (check=False returns them instead).

Without a jmsg binary, a test that uses one of these fixtures errors with a
message that says where jmsg was looked for; other tests are unaffected.
"""

import pytest

from .jmsg import CaptureDenied, Capture, Event, JmsgError, Server, find_jmsg, replay

__all__ = ["Capture", "Event", "JmsgError", "Server"]

_RESOURCES = pytest.StashKey[list]()


def pytest_addoption(parser):
    group = parser.getgroup("jmsg")
    group.addoption("--jmsg", metavar="PATH", default=None,
                    help="the jmsg binary the jmsg fixtures run (default: jmsg on PATH)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "jmsg_server(*args): options for the jmsg_server fixture's server")


@pytest.fixture(scope="session")
def jmsg_binary(pytestconfig):
    """The path of the jmsg binary the fixtures run."""
    given = pytestconfig.getoption("--jmsg")
    found = find_jmsg(given)
    if found is None:
        where = ("--jmsg=%s is not an executable" % given if given
                 else "no 'jmsg' on PATH")
        pytest.fail("pytest-jmsg: %s; build it (make, in jmsg's tree) and put its build/ "
                    "folder on PATH, install it (make install), or give --jmsg=PATH" % where,
                    pytrace=False)
    return found


def _call(fn, *args, **kwargs):
    """fn(*args, **kwargs); a JmsgError fails the test with its message
    alone (no traceback through the plugin)."""
    try:
        return fn(*args, **kwargs)
    except JmsgError as e:
        error = str(e)
    pytest.fail(error, pytrace=False)


def _skip_here(reason):
    """Skips the test, reported at the test's own location rather than the
    plugin's (pytest 7's skip marks do the same)."""
    try:
        exc = pytest.skip.Exception(reason, _use_item_location=True)
    except TypeError:  # a pytest without it
        pytest.skip(reason)
    raise exc


def _track(request, resource):
    request.node.stash.setdefault(_RESOURCES, []).append(resource)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report gets the output of its jmsg processes."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    for res in item.stash.get(_RESOURCES, []):
        if isinstance(res, Server):
            rep.sections.append(("jmsg server %s:%d output" % res.address, res.log or "(empty)"))
        else:
            rep.sections.append(("jmsg capture on %s port %d" % (res.iface, res.port),
                                 "pcap: %s\n%s" % (res.pcap, res.stderr)))


@pytest.fixture
def jmsg_server(request, jmsg_binary, tmp_path_factory):
    """A jmsg reference server on an ephemeral port, stopped after the test."""
    marker = request.node.get_closest_marker("jmsg_server")
    args = [str(a) for a in marker.args] if marker else []
    workdir = tmp_path_factory.mktemp("jmsg-server")
    server = _call(Server, jmsg_binary, workdir, args)
    _track(request, server)
    yield server
    died = None if server.stopped else server.proc.poll()
    rc = server.stop()
    if died is not None:
        pytest.fail("jmsg server exited %d during the test:\n%s" % (died, server.log.strip()),
                    pytrace=False)
    if rc != 0:
        pytest.fail("jmsg server exited %d when stopped:\n%s" % (rc, server.log.strip()),
                    pytrace=False)


@pytest.fixture
def jmsg_capture(request, jmsg_binary, tmp_path):
    """jmsg_capture(port, iface="lo", args=()): a Capture, started."""
    started = []

    def start(port, iface="lo", args=()):
        try:
            cap = Capture(jmsg_binary, tmp_path, int(port), iface, args)
        except CaptureDenied as e:
            denied = "jmsg_capture: no permission to capture on %s: %s" % (iface, e)
        else:
            denied = None
        if denied:
            _skip_here(denied)
        started.append(cap)
        _track(request, cap)
        return cap

    yield start
    for cap in started:
        _call(cap.stop, settle=0)


@pytest.fixture
def jmsg_replay(jmsg_binary):
    """jmsg_replay(pcap, host, port, capture_port=None, check=True,
    asap=True, args=()): the differences of replaying pcap (a path, or a
    Capture: its pcap and port) against host:port.  With check (the
    default) any difference fails the test with a readable diff."""

    def run(pcap, host, port, capture_port=None, check=True, asap=True, args=()):
        if isinstance(pcap, Capture):
            pcap.stop()
            capture_port = pcap.port if capture_port is None else capture_port
            pcap = pcap.pcap
        result = _call(replay, jmsg_binary, pcap, host, port, capture_port, asap, args)
        if check and result.differences:
            pytest.fail(result.report(), pytrace=False)
        return result.differences

    return run
