#!/bin/sh
# Runs inside a test VM (run.sh): the race self-test on the virtio XFS (/mnt/xfs) and on a fast
# device (XFS on a loop device backed by a file in /tmp, i.e. tmpfs), plus a 4 KiB O_DIRECT write
# latency of each. Prints one line per part, each prefixed "@@race " and followed by JSON.
# Usage: sh test/vm/guest-race.sh [race-driver options...]
set -u
lat1() { # average O_DIRECT overwrite latency in microseconds: directory, block size, count
  f="$1/.lat"
  dd if=/dev/zero of="$f" bs="$2" count="$3" oflag=direct status=none 2>/dev/null || { echo null; return; }
  s=$(date +%s%N)
  dd if=/dev/zero of="$f" bs="$2" count="$3" oflag=direct conv=notrunc status=none 2>/dev/null
  e=$(date +%s%N)
  rm -f "$f"
  echo $(( (e - s) / ($3 * 1000) ))
}
lat() { echo "$(lat1 "$1" 4k 256),\"us_per_1m_write\":$(lat1 "$1" 1M 32)"; }
echo "@@race {\"part\":\"latency\",\"label\":\"virtio\",\"us_per_4k_write\":$(lat /mnt/xfs)}"
echo "@@race $(node --import tsx test/vm/race-driver.ts --dir /mnt/xfs --label virtio "$@" 2>&1 | tr '\n' ' ')"
fast=none
if [ -e /dev/loop-control ] && truncate -s 512M /tmp/fast.img && mkfs.xfs -q -f /tmp/fast.img && mkdir -p /tmp/fast \
   && mount -o loop /tmp/fast.img /tmp/fast; then
  fast=loop-on-tmpfs
fi
if [ "$fast" != none ]; then
  echo "@@race {\"part\":\"latency\",\"label\":\"fast\",\"us_per_4k_write\":$(lat /tmp/fast)}"
  echo "@@race $(node --import tsx test/vm/race-driver.ts --dir /tmp/fast --label fast "$@" 2>&1 | tr '\n' ' ')"
  umount /tmp/fast
else
  echo '@@race {"part":"skip","label":"fast","reason":"no loop device in this VM kernel"}'
fi
