#!/bin/sh
# Copies the boot disk IN to OUT with CMDLINE as the kernel command line
# (sector 1, NUL-terminated; see boot/main.c). A '+' in CMDLINE becomes a
# space, so `make run-fs+testfile` boots with "fs testfile".
#   mkcmdline.sh IN OUT CMDLINE
set -e
in=$1 out=$2
cmdline=$(printf '%s' "$3" | tr '+' ' ')
if [ ${#cmdline} -ge 512 ]; then
	echo "mkcmdline: command line too long" >&2
	exit 1
fi
cp "$in" "$out.tmp"
dd if=/dev/zero of="$out.tmp" bs=512 seek=1 count=1 conv=notrunc 2>/dev/null
printf '%s' "$cmdline" | dd of="$out.tmp" bs=512 seek=1 conv=notrunc 2>/dev/null
mv "$out.tmp" "$out"
