#!/bin/sh
# Boots "fs fsbench" (user/fsbench.c) under QEMU on a copy of the
# file-system disk, so the real image stays as built, and prints the
# benchmark's lines once it says it is done (or after LIMIT seconds).
#   bench.sh QEMU BOOTIMG FSIMG WORKDIR [QEMU options...]
set -e
qemu=$1 boot=$2 fsimg=$3 work=$4
shift 4
LIMIT=120
mkdir -p "$work"
cp "$fsimg" "$work/fs.img"
log=$work/console.log
: > "$log"
"$qemu" -nographic -serial mon:stdio -no-reboot -m 256 \
	-drive file="$boot",index=0,media=disk,format=raw \
	-drive file="$work/fs.img",index=1,media=disk,format=raw \
	"$@" < /dev/null > "$log" 2>&1 &
pid=$!
i=0
while [ $i -lt $((LIMIT * 10)) ] && ! grep -q "fsbench: done" "$log"; do
	if ! kill -0 $pid 2>/dev/null; then
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
grep "fsbench:\|panic" "$log" | tr -d '\r'
grep -q "fsbench: done" "$log"
