#!/bin/sh
# Runs inside a test VM (test/vm-qemu.test.ts), or by hand on any XFS: real QEMU block-layer code
# driven the way the 2019 qcow2 corruption happened, and xfsguard's verdict on the same filesystem.
#
# For each QEMU (workaround removed: ../shared/qemu/qemu-io; stock Debian: /usr/bin/qemu-io) and
# each aio mode, RUNS times: a fresh qcow2 (64 KiB clusters) opened with O_DIRECT, BATCHES batches
# of PER_BATCH concurrent aio_writes to fresh clusters, partial-cluster writes (qcow2 zeroes the new
# cluster first: a write-zeroes = fallocate beyond EOF) interleaved with full-cluster writes beyond
# EOF, an aio_flush after each batch; then every request's pattern is read back and `qemu-img check`
# runs. Prints, one line per run:
#   @@qemu-run QEMU AIO RUN LOST_REQUESTS REQUESTS CHECK_RC
# and per aio mode xfsguard's decision: @@qemu-check AIO EXIT_STATUS BASE64(stdout) BASE64(stderr).
# Usage: sh test/vm/guest-qemu.sh [DIR]    (DIR: an XFS directory, default /mnt/xfs/qemu)
set -u
dir=${1:-/mnt/xfs/qemu}
RUNS=${RUNS:-10} BATCHES=${BATCHES:-8} PER_BATCH=${PER_BATCH:-16}
QEMUS=${QEMUS:-patched stock} AIOS=${AIOS:-native io_uring threads}
here=$(cd "$(dirname "$0")" && pwd)
shared=${XFSGUARD_QEMU_DIR:-$here/../../../shared/qemu}
cli="node $here/../../dist/service/cli/xfsguard.js"
mkdir -p "$dir"
work=$(mktemp -d)

# The command files of one cell ($1 = aio mode): for each run r, open image t-r, its requests,
# close. Request n of run r (pattern n%254+1) goes to guest cluster r*REQS+n, so a read failure's
# offset names its run; even n write 4 KiB inside the cluster (qcow2 allocates the cluster and
# zeroes it with a write-zeroes first), odd n the whole cluster. The writes go in batches of
# PER_BATCH, each ended by aio_flush, to $work/w; the reads of every request's data to $work/r.
commands() {
  awk -v aio="$1" -v dir="$dir" -v R="$RUNS" -v B="$BATCHES" -v K="$PER_BATCH" -v w="$work/w" -v rd="$work/r" 'BEGIN {
    C = 65536
    for (r = 1; r <= R; r++) {
      img = "driver=qcow2,file.driver=file,file.filename=" dir "/t-" r ".qcow2"
      print "open " img ",file.aio=" aio ",file.cache.direct=on" > w
      print "open -r " img > rd
      for (b = 0; b < B; b++) {
        for (i = 0; i < K; i++) {
          n = b * K + i; p = n % 254 + 1; o = (r * B * K + n) * C
          if (n % 2 == 0) { o += 4096; len = 4096 } else len = C
          printf "aio_write -q -P %d %d %d\n", p, o, len > w
          printf "read -q -P %d %d %d\n", p, o, len > rd
        }
        print "aio_flush" > w
      }
      print "close" > w; print "close" > rd
    }
  }'
}
nreq=$((BATCHES * PER_BATCH))
/usr/bin/qemu-img create -q -f qcow2 -o cluster_size=65536 "$work/fresh.qcow2" "$(( (RUNS + 1) * nreq / 16 + 64 ))M"

# xfsguard's answer for each aio mode, on this filesystem, before QEMU touches it (the first
# check runs the self-test; the others answer from its stored result)
export XFSGUARD_STATE_DIR="$work/state" XFSGUARD_POLICY="$work/policy.json"
echo '{"mode":"conservative","allowed_roots":["/mnt"]}' > "$work/policy.json"
t0=$(date +%s)
for aio in $AIOS; do
  $cli check "$dir" --json --aio "$aio" > "$work/out" 2> "$work/err"; rc=$?
  echo "@@qemu-check $aio $rc $(base64 -w0 < "$work/out") $(base64 -w0 < "$work/err")"
done
echo "@@qemu-checks-took $(($(date +%s) - t0))"

# One cell = RUNS fresh images (copies of one new qcow2, made by one process: every process
# start costs most of a second under emulation), written by one qemu-io session (open, the
# batches, close; per image), read back by one stock qemu-io session, then `qemu-img check`ed.
cell() {
  q=$1 io=$2 aio=$3 t0=$(date +%s)
  imgs= r=1
  while [ "$r" -le "$RUNS" ]; do imgs="$imgs $dir/t-$r.qcow2"; r=$((r + 1)); done
  tee $imgs < "$work/fresh.qcow2" > /dev/null
  commands "$aio"
  "$io" --image-opts < "$work/w" 2>&1 | sed 's/qemu-io> //g' | grep -v '^$' | head -5 | sed 's/^/  qemu-io: /'
  /usr/bin/qemu-io --image-opts < "$work/r" > "$work/rout" 2>&1
  # lost requests per run, from the failed reads' offsets
  awk -v R="$RUNS" -v span=$((nreq * 65536)) '
    sub(/.*Pattern verification failed at offset /, "") { n[int(($1 + 0) / span)]++ }
    END { for (r = 1; r <= R; r++) print r, n[r] + 0 }' "$work/rout" > "$work/lost"
  # qemu-img check, two at a time (two vCPUs)
  while read -r r lost; do
    (/usr/bin/qemu-img check -q "$dir/t-$r.qcow2" > /dev/null 2>&1; echo $? > "$work/crc-$r") &
    [ $((r % 2)) -eq 1 ] || wait
  done < "$work/lost"
  wait
  while read -r r lost; do
    echo "@@qemu-run $q $aio $r $lost $nreq $(cat "$work/crc-$r")"
  done < "$work/lost"
  grep -v -e 'qemu-io> *$' -e 'Pattern verification failed' "$work/rout" | sed 's/qemu-io> //g' | grep -v '^$' | head -5 | sed 's/^/  qemu-io -r: /'
  rm -f $imgs
  echo "@@qemu-cell $q $aio $(($(date +%s) - t0))"
}

for q in $QEMUS; do
  case $q in
    patched) io=$shared/qemu-io ;;
    stock) io=/usr/bin/qemu-io ;;
    *) echo "unknown QEMU $q" >&2; exit 2 ;;
  esac
  if [ ! -x "$io" ]; then echo "@@qemu-missing $q $io"; continue; fi
  for aio in $AIOS; do cell "$q" "$io" "$aio"; done
done
[ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
