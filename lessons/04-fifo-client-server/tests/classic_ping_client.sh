#!/bin/sh
# The classic ping client in sh, the same bytes as classic_ping_client.py:
# 100 writes of the 4 bytes `ping`, then the 3 bytes `end`.
#
# Usage: sh classic_ping_client.sh FIFO
exec 3> "$1"
i=0
while [ "$i" -lt 100 ]; do
    printf ping >&3
    i=$((i + 1))
done
printf end >&3
exec 3>&-
