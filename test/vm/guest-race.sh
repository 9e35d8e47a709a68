#!/bin/sh
# Runs inside a test VM (run.sh), from the repo root: the race self-test on the virtio XFS
# (/mnt/xfs) and on a fast device (XFS on a loop device backed by a file in /tmp, which is tmpfs
# in the VM), with dd O_DIRECT write latencies. Prints one JSON document on a line starting
# with "@@race-json " (see test/vm/race-driver.ts). Extra arguments go to the driver.
set -u
out=$(node --import tsx test/vm/race-driver.ts --dir virtio=/mnt/xfs --fast-loop fast --latency "$@" 2>/tmp/race-driver.err)
rc=$?
if [ $rc -ne 0 ] || [ -z "$out" ]; then
  echo "race-driver failed (exit $rc):"
  cat /tmp/race-driver.err
  exit 1
fi
printf '@@race-json %s\n' "$out"
