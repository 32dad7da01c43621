# Sends each line of a file as one datagram to a unix-dgram socket (used by record.sh).
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in open(sys.argv[2], "rb").read().split(b"\n"):
    if line:
        s.sendto(line, sys.argv[1])
