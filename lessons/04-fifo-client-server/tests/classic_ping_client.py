# The readings' classic FIFO client, byte for byte: it writes the 4 bytes
# b'ping' 100 times, then the 3 bytes b'end' (no NUL, no newline).
# Each write is one message only because the server reads 4 bytes at a
# time and every message is at most 4 bytes: see fifo-server --framing read.
#
# Usage: python3 classic_ping_client.py FIFO
import os
import sys

path = sys.argv[1]
fd = os.open(path, os.O_WRONLY)
for i in range(100):
    os.write(fd, b'ping')
os.write(fd, b'end')
os.close(fd)
