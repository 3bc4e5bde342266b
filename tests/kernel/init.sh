#!/bin/sh
# /init of the kernel test guest (busybox). Mounts the pseudo file systems,
# runs the smoke tests and the runtime CLI tests, prints "KTEST done" and
# powers off. Output goes to the serial console, which run.sh parses.
# applets at their usual paths (/bin, /sbin, /usr/bin, /usr/sbin: /usr/bin/env)
/bin/busybox --install -s
export PATH=/bin:/usr/bin:/sbin:/usr/sbin
export HOME=/root DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
export LD_LIBRARY_PATH=/lib/aarch64-linux-gnu

mount -t proc proc /proc
echo "KTEST info bash: $(bash --version | head -n 1)"
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /root
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
# keep the console for KTEST lines (tests print dmesg when they fail)
echo 1 >/proc/sys/kernel/printk

echo "KTEST info guest up after $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r), $(nproc) cpus"
[ -e /ktest/env ] && . /ktest/env
while read -r s; do
	sh "/ktest/$s" </dev/null
done </ktest/scripts
echo "KTEST info guest finished after $(cut -d' ' -f1 /proc/uptime) s"
echo "KTEST done"
sync
poweroff -f
