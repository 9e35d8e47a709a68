// Issue 8.1: a self-test cannot be moved to another filesystem by a rename race. A swapper process
// exchanges a directory inside the checked XFS with a symlink to a tmpfs (renameat2
// RENAME_EXCHANGE, as an unprivileged user in a 1777 directory could) while self-tests of that
// directory run and store their results. A run whose scratch file lands on the tmpfs is refused
// there with fallocate(ZERO_RANGE) EOPNOTSUPP — XFS never refuses it — so such a run in any report
// proves a scratch file outside; a stored report with it, or with any refusal caused by the swap,
// is a poisoned cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { judge } from '../service/judge.js';
import { loadContext } from '../service/cli/context.js';
import type { SelfTestReport } from '../probes/types.js';
import { loopFsOrSkip, tmpfsOrSkip } from './helpers/scratch-fs.js';

const SWAPPER = `
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, secs = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
end = time.monotonic() + secs
n = 0
while time.monotonic() < end:
    if libc.renameat2(-100, a, -100, b, 2) != 0:  # AT_FDCWD, RENAME_EXCHANGE
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
    n += 1
print(n)
`;

/** A run whose scratch file was on the tmpfs (XFS supports ZERO_RANGE; tmpfs refuses it). */
function landedOutside(r: SelfTestReport): boolean {
  return r.runs.some((run) => run.reason?.stage === 'fallocate' && run.reason.errno === 'EOPNOTSUPP');
}

test('rename race: no scratch file outside the checked filesystem, no poisoned result stored', { timeout: 180_000 }, async (t) => {
  const havePython = spawnSync('python3', ['-c', 'import ctypes; ctypes.CDLL(None).renameat2'], { stdio: 'ignore' }).status === 0;
  if (!havePython) {
    t.skip('python3 with ctypes and glibc renameat2 is needed for the swapper');
    return;
  }
  const xfs = loopFsOrSkip(t, 'xfs');
  if (xfs === null) return;
  const outside = tmpfsOrSkip(t, 64);
  if (outside === null) return;
  const pub = path.join(xfs.mountPoint, 'pub');
  mkdirSync(path.join(pub, 'd'), { recursive: true });
  mkdirSync(path.join(outside, 'target'));
  symlinkSync(path.join(outside, 'target'), path.join(pub, 'l'));
  const stateDir = mkdtempSync('/var/tmp/xfsguard-test-rename-state-');
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const ctx = loadContext({ 'state-dir': stateDir });
  ctx.warn = () => undefined;

  // Each self-test starts its own process (seconds under tsx): run until enough ran, bounded.
  const seconds = 70;
  const wanted = 10;
  const swapper = spawn('python3', ['-c', SWAPPER, path.join(pub, 'd'), path.join(pub, 'l'), String(seconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let swaps = '';
  let swapErr = '';
  swapper.stdout.on('data', (d: Buffer) => (swaps += d.toString()));
  swapper.stderr.on('data', (d: Buffer) => (swapErr += d.toString()));
  const swapperDone = new Promise<number | null>((resolve) => swapper.on('close', resolve));
  t.after(() => swapper.kill('SIGKILL'));

  const deadline = Date.now() + (seconds - 10) * 1000;
  let tests = 0;
  let outsideRuns = 0;
  let refusedBySwap = 0;
  while (Date.now() < deadline && tests < wanted) {
    let j;
    try {
      j = await judge(
        { path: path.join(pub, 'd'), io_mode: null, selftest: 'always', selftestOptions: { iterations: 2, budget_ms: 200, max_bytes: 1 << 20 } },
        ctx,
      );
    } catch {
      continue; // the path vanished mid-probe (the swap): an error answer, not a wrong one
    }
    if (!j.selftest_ran) continue; // judged as the tmpfs: no self-test applies there
    tests++;
    const report = j.decision.evidence.selftest?.report;
    assert.ok(report);
    if (landedOutside(report)) outsideRuns++;
    if (report.runs.some((r) => r.reason?.stage === 'directory_open' || r.reason?.stage === 'directory_changed')) refusedBySwap++;
    if (outsideRuns > 0) break;
  }
  const stored = await ctx.cache.list();
  t.diagnostic(`${tests} self-tests during the swaps; ${outsideRuns} with a scratch file on the tmpfs; ${refusedBySwap} refused because the directory moved; ${stored.length} stored`);
  assert.ok(tests >= 3, `too few self-tests ran (${tests}) for the test to mean anything`);
  assert.equal(outsideRuns, 0, 'a self-test created its scratch file on the filesystem outside');
  for (const rec of stored) {
    assert.equal(landedOutside(rec.report), false, `a result from the tmpfs was stored as ${rec.report.device}'s: ${JSON.stringify(rec.report.runs.map((r) => r.reason))}`);
    for (const r of rec.report.runs) {
      assert.ok(r.reason === null || !['directory_open', 'directory_changed', 'open'].includes(r.reason.stage), `a refusal caused by the swap was stored: ${JSON.stringify(r.reason)}`);
    }
  }
  swapper.kill('SIGTERM');
  await swapperDone;
  assert.equal(swapErr, '', swapErr);
  t.diagnostic(`swapper: ${swaps.trim() || 'stopped early'} exchanges`);
});
