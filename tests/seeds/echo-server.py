# echo-server.py: the Real Python socket tutorial's echo server
# (realpython.com/python-sockets, "Echo Server"), reproduced for the
# interoperability tests of `jmsg client --echo` (tests/e2e/46-echo.sh).
# One change: the port may be given as the first argument (the tutorial
# fixes it at 65432), so that tests can run side by side.
import socket
import sys

HOST = "127.0.0.1"  # Standard loopback interface address (localhost)
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 65432  # Port to listen on (non-privileged ports are > 1023)

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind((HOST, PORT))
    s.listen()
    conn, addr = s.accept()
    with conn:
        print(f"Connected by {addr}")
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data)
