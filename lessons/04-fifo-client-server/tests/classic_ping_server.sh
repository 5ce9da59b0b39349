#!/bin/sh
# The classic ping server in sh, as classic_ping_server.py: `dd bs=4
# count=1` is one read() of at most 4 bytes. It prints each read until one
# gives `end`, and has the same bug: at end of file every read is empty,
# and it prints empty lines for ever.
#
# Usage: sh classic_ping_server.sh FIFO
exec 3< "$1"
while :; do
    data=$(dd bs=4 count=1 <&3 2>/dev/null)
    printf '%s\n' "$data"
    [ "$data" = end ] && break
done
exec 3<&-
