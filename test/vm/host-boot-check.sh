#!/bin/sh
# Runs inside a test VM (run.sh): the host integration end to end on the virtio XFS at /mnt/xfs.
#  1. boot-check with a policy whose allowed roots are two directories on /mnt/xfs (tested once,
#     by device) and one that does not exist; state in /tmp; NFD file and textfile in /tmp;
#  2. check --selftest never on an image path under the root: must answer from the stored result;
#  3. the bare cost of starting the CLI (--version), to compare the check's time with.
# Prints one line "@@host " + JSON. Usage: sh test/vm/host-boot-check.sh [boot-check options...]
set -u
w=/tmp/xg
mkdir -p "$w" /mnt/xfs/images
printf '{"allowed_roots": ["/mnt/xfs/images", "/mnt/xfs", "/srv/not-there"]}\n' >"$w/policy.json"
x="node --import tsx service/cli/xfsguard.ts"
ms() { date +%s%3N; }
t0=$(ms)
$x boot-check --json --policy "$w/policy.json" --state-dir "$w/state" --nfd-file "$w/nfd/xfsguard" --textfile "$w/prom" "$@" >"$w/boot.json" 2>"$w/boot.err"
boot_rc=$?
t1=$(ms)
$x check --json --selftest never --aio native --policy "$w/policy.json" --state-dir "$w/state" /mnt/xfs/images/vm.qcow2 >"$w/check.json" 2>"$w/check.err"
check_rc=$?
t2=$(ms)
$x --version >/dev/null 2>&1
t3=$(ms)
ls -A "$w/nfd" "$w/prom" "$w/state" >"$w/ls.txt" 2>&1
W="$w" BOOT_RC=$boot_rc CHECK_RC=$check_rc BOOT_MS=$((t1 - t0)) CHECK_MS=$((t2 - t1)) VERSION_MS=$((t3 - t2)) node -e '
const fs = require("node:fs");
const w = process.env.W;
const read = (f) => { try { return fs.readFileSync(`${w}/${f}`, "utf8"); } catch (e) { return null; } };
const json = (f) => { try { return JSON.parse(read(f)); } catch (e) { return { unparsable: read(f) }; } };
const check = json("check.json");
console.log("@@host " + JSON.stringify({
  uname: require("node:os").release(),
  boot: { rc: Number(process.env.BOOT_RC), ms: Number(process.env.BOOT_MS), report: json("boot.json"), stderr: read("boot.err") },
  check: {
    rc: Number(process.env.CHECK_RC), ms: Number(process.env.CHECK_MS), stderr: read("check.err"),
    verdict: check.verdict, enable_workaround: check.enable_workaround,
    reasons: (check.reasons || []).map((r) => r.code),
    selftest: check.evidence && check.evidence.selftest ? { cached: check.evidence.selftest.cached, outcome: check.evidence.selftest.report.outcome, age_ms: check.evidence.selftest.age_ms, started_at: check.evidence.selftest.report.started_at } : null,
    selftest_used: check.evidence ? check.evidence.selftest_used : null,
    unparsable: check.unparsable,
  },
  version_ms: Number(process.env.VERSION_MS),
  stored: fs.readdirSync(`${w}/state`).filter((f) => f.startsWith("selftest-")).map((f) => { const r = json(`state/${f}`); return { file: f, outcome: r.report && r.report.outcome, started_at: r.report && r.report.started_at, device: r.report && r.report.device }; }),
  nfd: read("nfd/xfsguard"), prom: read("prom/xfsguard.prom"), files: read("ls.txt"),
}));
'
