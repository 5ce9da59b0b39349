# The readings' classic FIFO server, byte for byte: it reads at most 4
# bytes at a time and prints each read, until a read gives b'end'.
# (The readings make the FIFO first with os.mkfifo(path), mode 0o666 less
# the umask; here the FIFO is made by whoever runs this, mode 0600.)
#
# Its bug: if the client leaves before sending b'end', every read from
# then on returns b'' (end of file) at once, and the loop prints b'' for
# ever. So does a b'end' that does not arrive as one read of its own.
#
# Usage: python3 classic_ping_server.py FIFO
import os
import sys

path = sys.argv[1]
fd = os.open(path, os.O_RDONLY)
while True:
    data = os.read(fd, 4)
    print(data)
    if data == b'end':
        break
os.close(fd)
