"""A replay that finds differences (run by jmsg's README; it fails on
purpose, so it is not named test_*.py): session.pcap was recorded from a
server whose answer carried the 🐰, and the server under test, given
changed-table.json, lost it."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SESSION = HERE.parents[2] / "tests" / "fixtures" / "live-keepalive.pcap"


@pytest.mark.jmsg_server("--search-table", HERE / "changed-table.json")
def test_same_answers(jmsg_server, jmsg_replay):
    jmsg_replay(SESSION, *jmsg_server.address, capture_port=43565)
