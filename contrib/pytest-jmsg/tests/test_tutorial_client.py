"""A user's test: tutorial-style client code against jmsg's reference
server, the wire captured and decoded by jmsg, then replayed."""

import json
import socket
import struct
import sys


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def search(address, value):
    """The tutorial's client: one text/json search request, one response."""
    content = json.dumps({"action": "search", "value": value}, ensure_ascii=False).encode("utf-8")
    header = json.dumps({"byteorder": sys.byteorder, "content-type": "text/json",
                         "content-encoding": "utf-8", "content-length": len(content)},
                        ensure_ascii=False).encode("utf-8")
    with socket.create_connection(address) as sock:
        sock.sendall(struct.pack(">H", len(header)) + header + content)
        (header_len,) = struct.unpack(">H", recv_exactly(sock, 2))
        header = json.loads(recv_exactly(sock, header_len))
        return json.loads(recv_exactly(sock, header["content-length"]))


def test_search(jmsg_server, jmsg_capture, jmsg_replay):
    capture = jmsg_capture(jmsg_server.port)

    assert search(jmsg_server.address, "morpheus") == {"result": "Follow the white rabbit. 🐰"}
    assert search(jmsg_server.address, "🐶") == {"result": "🐾 Playing ball! 🏐"}

    request, response = capture.messages[:2]
    assert request.dir == "request"
    assert request.header["byteorder"] == sys.byteorder
    assert request.content == {"action": "search", "value": "morpheus"}
    assert response.content_type == "text/json"
    assert response.content == {"result": "Follow the white rabbit. 🐰"}
    assert len(capture.requests) == len(capture.responses) == 2
    assert capture.errors == []
    assert capture.pcap.stat().st_size > 0

    # the same conversation again, from the capture: no difference
    assert jmsg_replay(capture, *jmsg_server.address) == []
