#!/usr/bin/python3
"""on_pty.py LOG [--stdout] [--wait SECS] -- CMD...

Runs CMD with its stderr (and with --stdout its stdout too) on a new
pseudo-terminal, and writes every byte the terminal shows to LOG.  stdin,
and stdout without --stdout, are this program's.  --wait SECS: read
nothing from the terminal for SECS first, so CMD blocks once the
terminal's buffer is full (then it is read to the end).  Exits with CMD's
status (128 + N for a signal).
"""
import os
import pty
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    log, args = args[0], args[1:]
    on_stdout, wait = False, 0.0
    while args and args[0] != '--':
        if args[0] == '--stdout':
            on_stdout = True
            args = args[1:]
        elif args[0] == '--wait':
            wait, args = float(args[1]), args[2:]
        else:
            sys.exit('on_pty.py: unknown option ' + args[0])
    cmd = args[1:]
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stderr=slave, stdout=slave if on_stdout else None)
    os.close(slave)
    time.sleep(wait)
    got = bytearray()
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:   # EIO: every holder of the slave side is gone
            break
        if not b:
            break
        got += b
    rc = p.wait()
    with open(log, 'wb') as f:
        f.write(got)
    sys.exit(rc if rc >= 0 else 128 - rc)


main()
