// Runs the native race self-test on the filesystem of a judged directory, engine by engine and
// mode by mode, within one byte and time budget, and folds the runs into one report.
import { loadNative } from '../native/index.js';
import type { Engine, FallocMode, RaceOutcome, RaceResult } from '../native/types.js';
import { refusedRun, runPairs } from './selftest-runs.js';
import type { FilesystemFacts, KernelFacts, SelfTestReport } from './types.js';

export const ALL_ENGINES: readonly Engine[] = ['aio', 'io_uring'];
export const ALL_MODES: readonly FallocMode[] = ['zero-range', 'alloc'];

export const SELFTEST_DEFAULTS = {
  /** Per engine × mode run. fstests generic/586 runs 100. */
  iterations: 200,
  /** Wall time for the whole self-test, shared by its runs. */
  budget_ms: 20_000,
  /** Bytes written for the whole self-test, shared by its runs. */
  max_bytes: 64 * 1024 * 1024,
} as const;

/** Space to leave free beyond what the test may write. */
const FREE_SPACE_MARGIN = 16 * 1024 * 1024;

export interface SelfTestOptions {
  engines?: readonly Engine[];
  modes?: readonly FallocMode[];
  iterations?: number;
  budget_ms?: number;
  max_bytes?: number;
  signal?: AbortSignal;
}

/** reproduced beats not_reproduced beats unsupported. */
export function combineOutcomes(runs: readonly RaceResult[]): RaceOutcome {
  if (runs.some((r) => r.outcome === 'reproduced')) return 'reproduced';
  if (runs.some((r) => r.outcome === 'not_reproduced')) return 'not_reproduced';
  return 'unsupported';
}

/** Why no run can happen on this filesystem at all, before touching it; null when it can. */
function precheck(fs: FilesystemFacts, maxBytes: number): { stage: string; errno: string; message: string } | null {
  if (fs.read_only) return { stage: 'mount', errno: 'EROFS', message: `${fs.mount?.mount_point ?? fs.judged_directory} is mounted read-only` };
  if (fs.free_bytes < maxBytes + FREE_SPACE_MARGIN) {
    return {
      stage: 'free_space', errno: 'ENOSPC',
      message: `${fs.judged_directory} has ${fs.free_bytes} bytes free; the self-test needs ${maxBytes + FREE_SPACE_MARGIN}`,
    };
  }
  return null;
}

export async function runSelfTest(fs: FilesystemFacts, kernel: KernelFacts, opts: SelfTestOptions = {}): Promise<SelfTestReport> {
  const engines = opts.engines ?? ALL_ENGINES;
  const modes = opts.modes ?? ALL_MODES;
  const iterations = opts.iterations ?? SELFTEST_DEFAULTS.iterations;
  const budgetMs = opts.budget_ms ?? SELFTEST_DEFAULTS.budget_ms;
  const maxBytes = opts.max_bytes ?? SELFTEST_DEFAULTS.max_bytes;
  const pairs = engines.flatMap((engine) => modes.map((mode) => ({ engine, mode })));
  const started = Date.now();
  const runs: RaceResult[] = [];

  const refusal = precheck(fs, maxBytes);
  let native: ReturnType<typeof loadNative> | null = null;
  let nativeError: string | null = null;
  if (refusal === null) {
    try {
      native = loadNative();
    } catch (err) {
      nativeError = err instanceof Error ? err.message : String(err);
    }
  }

  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const onAbort = () => Atomics.store(cancel, 0, 1);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (refusal !== null) {
      for (const { engine, mode } of pairs) runs.push(refusedRun(engine, mode, refusal.stage, refusal.errno, refusal.message));
    } else if (native === null) {
      for (const { engine, mode } of pairs) runs.push(refusedRun(engine, mode, 'native_addon', '', nativeError ?? 'native addon unavailable'));
    } else {
      const directory = { path: fs.judged_directory, device: fs.device, magic: fs.magic, ...(fs.inode !== undefined ? { inode: fs.inode } : {}) };
      runs.push(...(await runPairs({ native, directory, pairs, limits: { iterations, budget_ms: budgetMs, max_bytes: maxBytes }, cancel })));
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  const outcome = combineOutcomes(runs);
  return {
    format_version: 1,
    outcome,
    directory: fs.judged_directory,
    device: fs.device,
    fs_uuid: fs.fs_uuid,
    fs_type: fs.fs_type,
    kernel_release: kernel.release,
    boot_id: kernel.boot_id,
    started_at: new Date(started).toISOString(),
    duration_ms: Date.now() - started,
    bytes_written: runs.reduce((n, r) => n + r.bytes_written, 0),
    iterations: runs.reduce((n, r) => n + r.iterations, 0),
    reproductions: runs.reduce((n, r) => n + r.reproductions, 0),
    engines: [...engines],
    modes: [...modes],
    runs,
    reason: outcome === 'unsupported' ? (runs.map((r) => r.reason?.message).find((m) => m !== undefined) ?? null) : null,
  };
}

/**
 * One self-test at a time per filesystem: a caller asking while one runs for the same device
 * joins it instead of starting another.
 */
export class SelfTestSingleFlight {
  private readonly running = new Map<string, Promise<SelfTestReport>>();

  isRunning(device: string): boolean {
    return this.running.has(device);
  }

  run(fs: FilesystemFacts, start: () => Promise<SelfTestReport>): { report: Promise<SelfTestReport>; joined: boolean } {
    const existing = this.running.get(fs.device);
    if (existing !== undefined) return { report: existing, joined: true };
    const report = start().finally(() => this.running.delete(fs.device));
    this.running.set(fs.device, report);
    return { report, joined: false };
  }
}
