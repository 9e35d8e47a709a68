// The host integration on real kernels (../shared/vm): boot-check on the VM's XFS stores the
// self-test, node outputs follow, and `check --selftest never` answers from the stored result.
// One boot per kernel; the guest script prints one "@@host {json}" line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROKEN_KERNEL, FIXED_KERNEL, runInVm, vmUnavailable } from './helpers/vm.js';

interface GuestSummary {
  uname: string;
  boot: {
    rc: number; ms: number; stderr: string | null;
    report: {
      node: { verdict: string; enable_workaround: boolean };
      duration_ms: number;
      roots: { root: string; status: string; verdict: string | null; device: string | null; selftest: { outcome: string; ran: boolean; shared_with: string | null; duration_ms: number; iterations: number; reproductions: number } | null }[];
      outputs: Record<string, { written: boolean }>;
    };
  };
  check: { rc: number; ms: number; stderr: string | null; verdict: string; enable_workaround: boolean; reasons: string[]; selftest: { cached: boolean; outcome: string; age_ms: number; started_at: string } | null; selftest_used: boolean };
  version_ms: number;
  nfd: string | null;
  prom: string | null;
  stored: { file: string; outcome: string; started_at: string; device: string }[];
}

async function bootCheckInVm(t: { diagnostic(msg: string): void }, kernel: string): Promise<GuestSummary> {
  const run = await runInVm(kernel, 'sh test/vm/host-boot-check.sh --budget-ms 30000', { timeoutMs: 420_000 });
  const line = run.output.split('\n').find((l) => l.startsWith('@@host '));
  assert.ok(line !== undefined, `the guest printed its summary (exit ${run.code}); output:\n${run.output.slice(-3000)}`);
  const s = JSON.parse(line.slice('@@host '.length)) as GuestSummary;
  const root = s.boot.report.roots[0];
  t.diagnostic(
    `${s.uname}: VM run ${run.ms} ms; boot-check ${s.boot.ms} ms (in-process ${s.boot.report.duration_ms} ms; self-test ${root?.selftest?.outcome} ` +
      `in ${root?.selftest?.duration_ms} ms, ${root?.selftest?.iterations} iterations, ${root?.selftest?.reproductions} reproductions); ` +
      `check ${s.check.ms} ms vs bare CLI start ${s.version_ms} ms`,
  );
  return s;
}

function assertCommon(s: GuestSummary): void {
  assert.equal(s.boot.rc, 0, s.boot.stderr ?? '');
  const [images, mnt, missing] = s.boot.report.roots;
  assert.equal(images?.root, '/mnt/xfs/images');
  assert.equal(images?.selftest?.ran, true);
  assert.equal(mnt?.root, '/mnt/xfs');
  assert.equal(mnt?.selftest?.ran, false, 'same filesystem: not tested twice');
  assert.equal(mnt?.selftest?.shared_with, '/mnt/xfs/images');
  assert.equal(missing?.status, 'missing');
  assert.equal(s.stored.length, 1, 'one stored self-test for the one filesystem');
  for (const o of ['state', 'nfd', 'textfile']) assert.equal(s.boot.report.outputs[o]?.written, true, o);
  // check answered from the stored result: the very report boot-check stored, not a new run.
  assert.equal(s.check.selftest?.cached, true);
  assert.equal(s.check.selftest_used, true);
  assert.equal(s.check.selftest?.started_at, s.stored[0]?.started_at);
  assert.ok((s.check.selftest?.age_ms ?? 0) > 0);
  assert.equal(s.check.stderr, '');
}

const why = vmUnavailable();

test('broken kernel: boot-check stores "affected", check answers from it, labels and metrics say so', { skip: why ?? false, timeout: 600_000 }, async (t) => {
  const s = await bootCheckInVm(t, BROKEN_KERNEL);
  assert.equal(s.uname, '6.1.192-xfsrace');
  assertCommon(s);
  const root = s.boot.report.roots[0];
  assert.equal(root?.selftest?.outcome, 'reproduced');
  assert.equal(root?.verdict, 'affected');
  assert.deepEqual(s.boot.report.node, { verdict: 'affected', enable_workaround: true });
  assert.equal(s.check.rc, 10);
  assert.equal(s.check.verdict, 'affected');
  assert.ok(s.check.reasons.includes('selftest_reproduced'), s.check.reasons.join(','));
  assert.match(s.nfd ?? '', /^xfsguard\.io\/xfs-aio-fallocate-race=affected$/m);
  assert.match(s.nfd ?? '', /^xfsguard\.io\/workaround-needed=true$/m);
  assert.match(s.prom ?? '', /^xfsguard_selftest_reproduced\{root="\/mnt\/xfs\/images",device="[0-9:]+"\} 1$/m);
  assert.match(s.prom ?? '', /^xfsguard_workaround_needed\{root="\/mnt\/xfs\/images",verdict="affected"\} 1$/m);
});

test('fixed kernel: the stored self-test is not reproduced and the verdict is "fixed"', { skip: why ?? false, timeout: 600_000 }, async (t) => {
  const s = await bootCheckInVm(t, FIXED_KERNEL);
  assert.equal(s.uname, '6.1.192');
  assertCommon(s);
  const root = s.boot.report.roots[0];
  assert.equal(root?.selftest?.outcome, 'not_reproduced');
  assert.equal(root?.verdict, 'fixed');
  assert.deepEqual(s.boot.report.node, { verdict: 'fixed', enable_workaround: false });
  assert.equal(s.check.rc, 0);
  assert.equal(s.check.verdict, 'fixed');
  assert.equal(s.check.selftest?.outcome, 'not_reproduced');
  assert.match(s.nfd ?? '', /^xfsguard\.io\/xfs-aio-fallocate-race=fixed$/m);
  assert.match(s.prom ?? '', /^xfsguard_selftest_reproduced\{root="\/mnt\/xfs\/images",device="[0-9:]+"\} 0$/m);
});
