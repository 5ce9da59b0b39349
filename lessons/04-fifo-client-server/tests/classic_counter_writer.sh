#!/bin/sh
# The counter writer in sh, as classic_counter_writer.py: one byte at a
# time, 0, 1, 2, ... (modulo 256), SECONDS apart, until it is stopped.
#
# Usage: sh classic_counter_writer.sh FIFO [SECONDS]
exec 3> "$1"
counter=0
while :; do
    printf "\\$(printf %03o $((counter % 256)))" >&3
    counter=$((counter + 1))
    sleep "${2:-1}"
done
