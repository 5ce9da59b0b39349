#!/bin/sh
# The byte reader in sh, as classic_byte_reader.py: one read() of one byte
# at a time, printed as a number. Its end-of-file bug takes the shell's
# form: `od` prints nothing for an empty read, and the loop goes on for
# ever, printing empty lines.
#
# Usage: sh classic_byte_reader.sh FIFO
exec 3< "$1"
while :; do
    byte=$(dd bs=1 count=1 <&3 2>/dev/null | od -An -tu1)
    echo $byte
done
