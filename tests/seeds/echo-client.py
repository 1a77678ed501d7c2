# echo-client.py: the Real Python socket tutorial's echo client
# (realpython.com/python-sockets, "Echo Client"), reproduced for the
# interoperability tests of `jmsg server --echo` (tests/e2e/46-echo.sh).
# One change: the port may be given as the first argument (the tutorial
# fixes it at 65432), so that tests can run side by side.
import socket
import sys

HOST = "127.0.0.1"  # The server's hostname or IP address
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 65432  # The port used by the server

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    s.sendall(b"Hello, world")
    data = s.recv(1024)

print(f"Received {data!r}")
