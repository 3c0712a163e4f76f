#!/bin/sh
# Pads the boot sector to 510 bytes and appends the 0x55 0xAA boot mark the
# BIOS looks for; fails when the code does not fit.
set -e
f=$1
size=$(stat -c %s "$f")
if [ "$size" -gt 510 ]; then
	echo "boot block too large: $size bytes (max 510)" >&2
	exit 1
fi
echo "boot block is $size bytes (max 510)"
truncate -s 510 "$f"
printf '\125\252' >> "$f"
