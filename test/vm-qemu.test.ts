// Real QEMU is the ground truth for enable_workaround. In one boot per test kernel, the guest
// (test/vm/guest-qemu.sh) runs `xfsguard check --aio MODE` on the VM's XFS, then drives qemu-io the
// way the 2019 qcow2 corruption happened — fresh 64 KiB-cluster qcow2 images opened with
// O_DIRECT, batches of concurrent partial- and full-cluster writes beyond EOF, every request read
// back and `qemu-img check`ed — with QEMU built without its XFS workaround (../shared/qemu) and
// with Debian's stock qemu-io, for aio=native, io_uring and threads. What must hold:
//   - workaround-less QEMU loses data exactly where xfsguard says enable_workaround: true;
//   - aio=threads never loses data;
//   - on the fixed kernel no QEMU loses data.
// What stock QEMU (with the workaround) does on each kernel is recorded in the table.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { BROKEN_KERNEL, FIXED_KERNEL, PRE55_KERNEL, guestVisibleDir, runInVm, vmUnavailable } from './helpers/vm.js';
import { REPO_ROOT } from './helpers/run-cli.js';

const AIO_MODES = ['native', 'io_uring', 'threads'] as const;
const QEMUS = ['patched', 'stock'] as const;
type Aio = (typeof AIO_MODES)[number];
type Qemu = (typeof QEMUS)[number];

/** Runs per cell and the workload of one run (requests = BATCHES × PER_BATCH). */
const WORKLOAD = { RUNS: 8, BATCHES: 8, PER_BATCH: 16 };

const QEMU_DIR = process.env.XFSGUARD_QEMU_DIR ?? path.resolve(REPO_ROOT, '..', 'shared', 'qemu');
const PATCHED_QEMU_IO = path.join(QEMU_DIR, 'qemu-io');
const STOCK_QEMU_IO = '/usr/bin/qemu-io';

interface Run {
  lost: number;
  requests: number;
  check: number;
}
interface Verdict {
  rc: number;
  decision: {
    enable_workaround: boolean;
    verdict: string;
    mitigations: { code: string; detail: string }[];
    evidence: { selftest: { report: { below_range_outcome?: string | null } } | null };
  };
}
interface KernelResult {
  kernel: string;
  cells: Map<string, Run[]>;
  verdicts: Map<Aio, Verdict>;
}

/** Why the QEMU binaries cannot run here, or null when they can. */
function qemuUnavailable(): string | null {
  for (const [bin, fix] of [
    [PATCHED_QEMU_IO, `the workaround-less qemu-io (../shared/qemu beside the checkout) and its libraries (apt-get install libaio1 liburing2 libglib2.0-0)`],
    [STOCK_QEMU_IO, 'apt-get install qemu-utils'],
    ['/usr/bin/qemu-img', 'apt-get install qemu-utils'],
  ] as const) {
    if (!existsSync(bin)) return `${bin} is missing (${fix})`;
    try {
      execFileSync(bin, ['--version'], { stdio: 'pipe', timeout: 10_000 });
    } catch (e) {
      return `${bin} does not run: ${(e as Error).message.split('\n')[0]} (${fix})`;
    }
  }
  return null;
}

const cell = (q: Qemu, aio: Aio): string => `${q} ${aio}`;
const corrupted = (runs: Run[]): number => runs.filter((r) => r.lost > 0 || r.check !== 0).length;

/** The guest's report lines: @@qemu-run, @@qemu-check (see test/vm/guest-qemu.sh). */
function parse(kernel: string, output: string): KernelResult {
  const cells = new Map<string, Run[]>();
  for (const m of output.matchAll(/^@@qemu-run (\S+) (\S+) (\d+) (\d+) (\d+) (\d+)\s*$/gm)) {
    const key = `${m[1]} ${m[2]}`;
    cells.set(key, [...(cells.get(key) ?? []), { lost: Number(m[4]), requests: Number(m[5]), check: Number(m[6]) }]);
  }
  const verdicts = new Map<Aio, Verdict>();
  for (const m of output.matchAll(/^@@qemu-check (\S+) (\d+) (\S*) ?(\S*)\s*$/gm)) {
    const stdout = Buffer.from(m[3] ?? '', 'base64').toString('utf8');
    const stderr = Buffer.from(m[4] ?? '', 'base64').toString('utf8');
    let decision: Verdict['decision'];
    try {
      decision = JSON.parse(stdout) as Verdict['decision'];
    } catch {
      throw new Error(`xfsguard check --aio ${m[1]} exited ${m[2]} without a JSON decision: ${stdout}${stderr}`);
    }
    verdicts.set(m[1] as Aio, { rc: Number(m[2]), decision });
  }
  return { kernel, cells, verdicts };
}

const results: KernelResult[] = [];

async function bootAndRun(t: { diagnostic(msg: string): void }, kernel: string): Promise<KernelResult> {
  const env = Object.entries(WORKLOAD).map(([k, v]) => `${k}=${v}`).join(' ');
  const run = await runInVm(kernel, `${env} XFSGUARD_QEMU_DIR=${guestVisibleDir(QEMU_DIR)} sh test/vm/guest-qemu.sh`, { timeoutMs: 1_500_000 });
  t.diagnostic(`VM run took ${run.ms} ms, exit ${run.code}`);
  for (const line of run.output.split('\n')) if (/^@@qemu-(cell|checks-took|missing)|^ {2}qemu-io/.test(line)) t.diagnostic(line);
  assert.equal(run.code, 0, `guest script failed:\n${run.output.slice(-3000)}`);
  const r = parse(path.basename(kernel), run.output);
  for (const q of QEMUS) {
    for (const aio of AIO_MODES) {
      assert.equal(r.cells.get(cell(q, aio))?.length, WORKLOAD.RUNS, `${cell(q, aio)}: every run reported; output:\n${run.output.slice(-3000)}`);
    }
  }
  for (const aio of AIO_MODES) assert.ok(r.verdicts.has(aio), `xfsguard check --aio ${aio} ran`);
  results.push(r);
  return r;
}

/** What must hold on every kernel: QEMU without the workaround agrees with xfsguard, threads loses nothing. */
function assertAgreement(r: KernelResult): void {
  for (const aio of AIO_MODES) {
    const v = r.verdicts.get(aio) as Verdict;
    const lost = corrupted(r.cells.get(cell('patched', aio)) as Run[]);
    assert.equal(
      lost > 0,
      v.decision.enable_workaround,
      `${r.kernel} aio=${aio}: QEMU without its workaround lost data in ${lost}/${WORKLOAD.RUNS} runs, xfsguard says enable_workaround=${v.decision.enable_workaround} (${v.decision.verdict})`,
    );
  }
  for (const q of QEMUS) assert.equal(corrupted(r.cells.get(cell(q, 'threads')) as Run[]), 0, `${r.kernel}: ${q} QEMU with aio=threads lost data`);
}

/**
 * Where stock QEMU (with its serialisation) lost data, xfsguard must not offer "QEMU ≥ 4.1.1
 * serialises" as a mitigation for that aio mode. That rests on the self-test's below-range case
 * (contract C1), so the stored report must carry below_range_outcome.
 */
async function assertMitigations(t: { test: (name: string, fn: () => void) => Promise<void> }, r: KernelResult): Promise<void> {
  await t.test('mitigations promise only what stock QEMU delivered', () => {
    const c1 = [...r.verdicts.values()].some((v) => v.decision.evidence.selftest?.report.below_range_outcome !== undefined);
    assert.ok(c1, `${r.kernel}: the self-test report carries no below_range_outcome (contract C1)`);
    for (const aio of AIO_MODES) {
      const v = r.verdicts.get(aio) as Verdict;
      const stockLost = corrupted(r.cells.get(cell('stock', aio)) as Run[]);
      const offered = v.decision.mitigations.some((m) => m.code === 'qemu_serialises_post_eof_zeroes' && !/not sufficient|insufficient|does not suffice/i.test(m.detail));
      if (stockLost > 0) assert.ok(!offered, `${r.kernel} aio=${aio}: stock QEMU lost data in ${stockLost}/${WORKLOAD.RUNS} runs, yet "QEMU ≥ 4.1.1 serialises" is offered as a mitigation`);
    }
  });
}

const why = vmUnavailable() ?? qemuUnavailable();

test('fixed kernel 6.1.192: no QEMU loses data, xfsguard says no workaround needed', { skip: why ?? false, timeout: 1_600_000 }, async (t) => {
  const r = await bootAndRun(t, FIXED_KERNEL);
  assertAgreement(r);
  for (const [key, runs] of r.cells) assert.equal(corrupted(runs), 0, `${key} lost data on the fixed kernel`);
});

test('6.1.192-xfsrace-pre55 (the pre-5.5 race): QEMU without its workaround loses data exactly where xfsguard says so', { skip: why ?? false, timeout: 1_600_000 }, async (t) => {
  const r = await bootAndRun(t, PRE55_KERNEL);
  assertAgreement(r);
  await assertMitigations(t, r);
});

test('6.1.192-xfsrace (no DIO drain at all): QEMU without its workaround loses data exactly where xfsguard says so', { skip: why ?? false, timeout: 1_600_000 }, async (t) => {
  const r = await bootAndRun(t, BROKEN_KERNEL);
  assertAgreement(r);
  await assertMitigations(t, r);
});

/** The table kernel × QEMU × aio: corrupted runs / runs (requests lost in all runs), and xfsguard's verdict. */
function table(): string {
  const n = WORKLOAD.RUNS;
  const head = `kernel                 | ${QEMUS.flatMap((q) => AIO_MODES.map((a) => `${q === 'patched' ? 'no-wa' : 'stock'} ${a}`.padEnd(16))).join(' | ')} | xfsguard enable_workaround (native/io_uring/threads)`;
  const rows = results.map((r) => {
    const cols = QEMUS.flatMap((q) =>
      AIO_MODES.map((a) => {
        const runs = r.cells.get(cell(q, a)) ?? [];
        const reqs = runs.reduce((s, x) => s + x.lost, 0);
        return `${corrupted(runs)}/${n} (${reqs} req)`.padEnd(16);
      }),
    );
    const verdicts = AIO_MODES.map((a) => String(r.verdicts.get(a)?.decision.enable_workaround ?? '?')).join('/');
    return `${r.kernel.padEnd(22)} | ${cols.join(' | ')} | ${verdicts}`;
  });
  const per = WORKLOAD.BATCHES * WORKLOAD.PER_BATCH;
  return [`corrupted runs / ${n} (requests lost); ${per} requests per run in ${WORKLOAD.BATCHES} batches of ${WORKLOAD.PER_BATCH}; no-wa = QEMU without its XFS workaround`, head, ...rows].join('\n');
}

after(() => {
  if (results.length > 0) console.log(`\nQEMU ground truth:\n${table()}\n`);
});
