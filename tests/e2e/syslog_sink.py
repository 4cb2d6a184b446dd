"""Minimal syslog receiver for tests/e2e/run.sh.

The CI machine has no syslog daemon, and OpenDKIM logs only through syslog(3); Postfix sends its
fatal errors there too. This binds a datagram socket at /dev/log (mode 0666) and appends every
message, prefixed with the local time, to the file named on the command line. It runs until killed.
Usage: /usr/bin/python3 syslog_sink.py LOGFILE [SOCKET_PATH]
"""
import os
import socket
import sys
import time


def main() -> None:
    out_path = sys.argv[1]
    sock_path = sys.argv[2] if len(sys.argv) > 2 else "/dev/log"
    out = open(out_path, "a", buffering=1, encoding="utf-8")
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    os.chmod(sock_path, 0o666)
    while True:
        msg = s.recv(65536).decode("utf-8", "replace").rstrip("\n\x00")
        out.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))


if __name__ == "__main__":
    main()
