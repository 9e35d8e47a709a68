#!/bin/sh
# Runs inside a test VM (run.sh), from the repo root: the below-range case on the
# virtio XFS, twice over — bare (runRace, window below_range, both engines, N runs each; one
# "@@race-json" line) and inside the full self-test (probes/selftest.ts; one "@@selftest-json" line).
#   sh test/vm/guest-below-range.sh [RUNS] [SELFTESTS]
set -u
runs=${1:-5}
selftests=${2:-3}
out=$(node --import tsx test/vm/race-driver.ts --dir virtio=/mnt/xfs --window below_range --engines aio,io_uring \
  --modes zero-range --repeat "$runs" --budget-ms 1500 2>/tmp/race-driver.err) || { echo "race-driver failed:"; cat /tmp/race-driver.err; exit 1; }
printf '@@race-json %s\n' "$out"
node --import tsx test/vm/selftest-driver.ts /mnt/xfs "$selftests" 3000 2>/tmp/selftest-driver.err || { echo "selftest-driver failed:"; cat /tmp/selftest-driver.err; exit 1; }
