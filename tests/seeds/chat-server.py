# chat-server.py: the tutorialspoint chat's server ("Low-level networking
# interface in Python (socket)", Server code), reproduced for the
# interoperability tests of `jmsg client --interactive`
# (tests/e2e/47-chat.sh).  Changes: the page's names `server` and `conn`
# are its `ss` and `cs` (the page's code does not run as printed), the port
# may be given as the first argument (the page fixes it at 12345), and
# output is flushed as it is printed so a test can read it through a pipe.
import functools
import socket
import sys

print = functools.partial(print, flush=True)
host = "127.0.0.1"
port = int(sys.argv[1]) if len(sys.argv) > 1 else 12345
ss = socket.socket()
ss.bind((host,port))
ss.listen()
cs, addr = ss.accept()
print ("Connection from: " + str(addr))
while True:
   data = cs.recv(1024).decode()
   if not data:
      break
   print ("from connected user: " + str(data))
   print ("Received from User: " + str(data))
   data = input("type message: ")
   cs.send(data.encode())
cs.close()
