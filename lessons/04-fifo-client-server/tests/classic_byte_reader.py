# The readings' reader of one byte at a time: it prints each byte as a
# number.
#
# Its bug: when the writer leaves, os.read returns b'' (end of file), and
# ord(b'') raises TypeError: the reader dies with a traceback, status 1.
#
# Usage: python3 classic_byte_reader.py FIFO
import os
import sys

path = sys.argv[1]
fd = os.open(path, os.O_RDONLY)
while True:
    print(ord(os.read(fd, 1)))
