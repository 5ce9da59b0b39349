"""A reader that reopens its FIFO after end of file, in the order given,
for tests/reopen.rs.

    python3 reopening_reader.py FIFO close-first|open-first

It reads the first client to end of file and says so, then holds its old
descriptor until SIGUSR1 comes (the test sends it once a late client has
opened the FIFO, written and left). Then it reopens:

- close-first, the naive way: close the old descriptor, then a blocking
  open(O_RDONLY), which waits for the next writer;
- open-first, fifo-server's way: open(O_RDONLY | O_NONBLOCK), which does
  not wait, and only then close the old descriptor.

It prints what the new descriptor reads until end of file.
"""
import os
import signal
import sys

path, order = sys.argv[1], sys.argv[2]
# Blocked first, so that a SIGUSR1 sent early waits for sigwait below
# instead of ending the process.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})


def read_to_end(fd):
    data = b''
    while chunk := os.read(fd, 4096):
        data += chunk
    return data


old = os.open(path, os.O_RDONLY)
print('first descriptor read', read_to_end(old), flush=True)
print('end of file: holding the old descriptor', flush=True)
signal.sigwait({signal.SIGUSR1})
if order == 'close-first':
    os.close(old)
    print('closed the old descriptor; open(O_RDONLY) waits', flush=True)
    new = os.open(path, os.O_RDONLY)
else:
    new = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.close(old)
# With no writer left, a read of the empty FIFO returns 0, even with
# O_NONBLOCK: end of file.
print('second descriptor read', read_to_end(new), flush=True)
