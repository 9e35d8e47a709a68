// Benchmark of the native race self-test (a script, not a test: prints numbers, no pass/fail).
//   npx tsx test/bench/selftest-bench.ts [--runs 10] [--no-vm] [--no-host]
// Broken kernel (VM 6.1.192-xfsrace): share of runs that reproduce and time to the first
// reproduction, per engine × mode × write placement ("window"), on the virtio disk and on a fast
// device (XFS on a loop device backed by tmpfs), over N runs that stop at the first reproduction.
// Healthy XFS (this machine's loop XFS, and the fixed VM kernel): wall time and bytes written for a
// full default run (16 MiB, 3 s budget per engine × mode; 64 MiB in all).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadNative } from '../../native/index.js';
import type { Engine, FallocMode, RaceResult } from '../../native/types.js';
import { loopMountUnavailable, mountLoopFs } from '../helpers/scratch-fs.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    'no-vm': { type: 'boolean', default: false },
    'no-host': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vmDir = process.env.XFSGUARD_VM_DIR ?? '/work/shared/vm';
const ENGINES: Engine[] = ['aio', 'io_uring'];
const MODES: FallocMode[] = ['zero-range', 'alloc'];
const DEFAULT = { max_iterations: 1_000_000, budget_ms: 3000, max_bytes: 16 << 20 };

type Result = RaceResult & { run: number };
interface Device {
  label: string;
  latency_us: { write_4k: number | null; write_1m: number | null } | null;
  results: Result[];
  error?: string;
}

function boot(kernel: string, driverArgs: string[]): Promise<{ kernel: string; devices: Device[] }> {
  return new Promise((resolve, reject) => {
    const cmd = ['sh', 'test/vm/guest-race.sh', ...driverArgs].join(' ');
    const child = spawn(path.join(vmDir, 'run.sh'), [path.join(vmDir, 'kernels', kernel), '--', cmd], { cwd: root });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 900_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('@@race-json '));
      if (line === undefined) reject(new Error(`${kernel}: exit ${code}\n${out}`));
      else resolve(JSON.parse(line.slice(12)) as { kernel: string; devices: Device[] });
    });
  });
}

const pct = (a: number, b: number) => (b === 0 ? '-' : `${Math.round((100 * a) / b)}%`);
function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function printReproductionTable(kernel: string, devices: Device[]): void {
  console.log(`\n## Broken kernel ${kernel}: ${runs} runs per cell, each stopping at its first reproduction`);
  console.log('device  window        engine    mode        reproduced  first@ms(med/max)  iters-to-first(med)  first io size(med)  in-flight share  completed-before-fallocate share');
  for (const d of devices) {
    if (d.error) {
      console.log(`${d.label}: ${d.error}`);
      continue;
    }
    const windows = [...new Set(d.results.map((r) => r.window ?? '?'))];
    for (const w of windows) {
      for (const engine of ENGINES) {
        for (const mode of MODES) {
          const rs = d.results.filter((r) => r.window === w && r.engine === engine && r.mode === mode);
          const rep = rs.filter((r) => r.outcome === 'reproduced');
          const t = rep.map((r) => r.first_reproduction_ms ?? Number.NaN);
          const its = rep.map((r) => (r.first_reproduction?.iteration ?? 0) + 1);
          const sizes = rep.map((r) => r.first_reproduction?.io_size ?? 0);
          const it = rs.reduce((a, r) => a + r.iterations, 0);
          const inf = rs.reduce((a, r) => a + r.in_flight_iterations, 0);
          const done = rs.reduce((a, r) => a + (r.completed_before_fallocate ?? 0), 0);
          console.log(
            `${d.label.padEnd(7)} ${w.padEnd(13)} ${engine.padEnd(9)} ${mode.padEnd(11)} ${`${rep.length}/${rs.length} (${pct(rep.length, rs.length)})`.padEnd(11)} ` +
              `${`${fmt(median(t))}/${fmt(Math.max(...t))}`.padEnd(18)} ${String(median(its)).padEnd(20)} ${String(median(sizes)).padEnd(19)} ${pct(inf, it).padEnd(16)} ${pct(done, it)}`,
          );
        }
      }
    }
  }
}

function printHealthy(title: string, devices: Device[]): void {
  console.log(`\n## Healthy XFS, ${title}: full default run (16 MiB, 3 s budget per engine × mode)`);
  for (const d of devices) {
    if (d.error) {
      console.log(`${d.label}: ${d.error}`);
      continue;
    }
    const lat = d.latency_us ? `  [dd O_DIRECT: ${d.latency_us.write_4k} µs per 4 KiB write, ${d.latency_us.write_1m} µs per 1 MiB write]` : '';
    console.log(`${d.label}${lat}`);
    let wall = 0;
    let bytes = 0;
    for (const r of d.results) {
      wall += r.duration_ms;
      bytes += r.bytes_written;
      console.log(
        `  ${r.engine.padEnd(9)} ${r.mode.padEnd(11)} ${r.outcome.padEnd(15)} ${fmt(r.duration_ms)} ms  ${(r.bytes_written / 2 ** 20).toFixed(1)} MiB  ` +
          `${r.iterations} iterations, ${r.in_flight_iterations} in flight (${pct(r.in_flight_iterations, r.iterations)}), sizes ${r.io_sizes.join('/')}`,
      );
    }
    console.log(`  total: ${fmt(wall)} ms, ${(bytes / 2 ** 20).toFixed(1)} MiB written`);
  }
}

async function hostRun(): Promise<Device[]> {
  const why = loopMountUnavailable('mkfs.xfs');
  if (why) return [{ label: 'host-loop-xfs', latency_us: null, results: [], error: `skipped: ${why}` }];
  const m = mountLoopFs('xfs', 512);
  try {
    const native = loadNative();
    const results: Result[] = [];
    for (const engine of ENGINES) {
      for (const mode of MODES) results.push({ run: 0, ...(await native.runRace({ directory: m.mountPoint, engine, mode, ...DEFAULT })) });
    }
    return [{ label: 'host-loop-xfs', latency_us: null, results }];
  } finally {
    m.cleanup();
  }
}

if (!values['no-host']) {
  const host = await hostRun();
  printHealthy(`this machine (${(await import('node:os')).release()})`, host);
}
if (!values['no-vm']) {
  const [broken, fixed] = await Promise.all([
    boot('bzImage-6.1.192-xfsrace', ['--repeat', String(runs), '--window', 'beyond_eof,eof_prealloc']),
    boot('bzImage-6.1.192', []),
  ]);
  printReproductionTable(broken.kernel, broken.devices);
  for (const d of broken.devices) {
    if (d.latency_us) console.log(`latency ${d.label}: ${d.latency_us.write_4k} µs per 4 KiB O_DIRECT write, ${d.latency_us.write_1m} µs per 1 MiB (dd, includes syscall cost under TCG)`);
  }
  printHealthy(`fixed VM kernel ${fixed.kernel}`, fixed.devices);
}
