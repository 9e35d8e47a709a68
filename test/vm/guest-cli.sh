#!/bin/sh
# Runs inside a test VM (test/vm-cli.test.ts): the built CLI on the VM's fresh XFS at /mnt/xfs.
# Each step prints "@@cli NAME BASE64" where BASE64 encodes {"rc": exit status, "stdout": ..., "stderr": ...}.
set -u
cli="node dist/service/cli/xfsguard.js"
export XFSGUARD_STATE_DIR=/tmp/xfsguard-state XFSGUARD_POLICY=/tmp/policy.json
echo '{"mode":"conservative"}' > /tmp/policy.json
mkdir -p /mnt/xfs/images
step() {
  name=$1; shift
  out=$("$@" 2>/tmp/stderr); rc=$?
  node -e 'const fs=require("fs");process.stdout.write(Buffer.from(JSON.stringify({rc:+process.argv[1],stdout:process.argv[2],stderr:fs.readFileSync("/tmp/stderr","utf8"),uname:require("os").release()})).toString("base64"))' "$rc" "$out" > /tmp/b64
  echo "@@cli $name $(cat /tmp/b64)"
}
step selftest $cli selftest /mnt/xfs/images --json --budget-ms "${BUDGET_MS:-16000}"
step check-cached $cli check /mnt/xfs/images/vm1.qcow2 --json --selftest never
step check-threads $cli check /mnt/xfs/images --json --aio threads
step check-fresh $cli check /mnt/xfs/images --json --selftest always --budget-ms "${BUDGET_MS:-16000}"
step leftovers sh -c 'ls -A /mnt/xfs/images | wc -l'
