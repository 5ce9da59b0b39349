# The readings' other writer (their Go example): one byte a second, a
# counter, 0, 1, 2, ... (modulo 256), until it is stopped.
#
# Usage: python3 classic_counter_writer.py FIFO [SECONDS]
# SECONDS between two bytes, 1 by default (the tests go faster).
import os
import sys
import time

path = sys.argv[1]
interval = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
fd = os.open(path, os.O_WRONLY)
counter = 0
while True:
    os.write(fd, bytes([counter % 256]))
    counter += 1
    time.sleep(interval)
