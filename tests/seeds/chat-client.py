# chat-client.py: the tutorialspoint chat's client ("Low-level networking
# interface in Python (socket)", Client code), reproduced for the
# interoperability tests of `jmsg server --interactive`
# (tests/e2e/47-chat.sh).  Changes: the port may be given as the first
# argument (the page fixes it at 12345), and output is flushed as it is
# printed so a test can read it through a pipe.
import functools
import socket
import sys

print = functools.partial(print, flush=True)
host = '127.0.0.1'
port = int(sys.argv[1]) if len(sys.argv) > 1 else 12345
obj = socket.socket()
obj.connect((host,port))
message = input("type message: ")
while message != 'q':
   obj.send(message.encode())
   data = obj.recv(1024).decode()
   print ('Received from server: ' + data)
   message = input("type message: ")
obj.close()
