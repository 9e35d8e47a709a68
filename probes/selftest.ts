// Runs the native race self-test on the filesystem of a judged directory, engine by engine and
// mode by mode, within one byte and time budget, in a child process the caller abandons at a
// deadline (probes/selftest-process.ts), and folds the runs into one report.
import type { Engine, FallocMode, RaceOutcome, RaceResult } from '../native/types.js';
import { hungDevices, runInChild, type HungDevice } from './selftest-process.js';
import { refusedRun, type RunPair } from './selftest-runs.js';
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
  /** When the caller stops waiting and abandons the test process (default budget_ms + SELFTEST_GRACE_MS). */
  deadline_ms?: number;
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

/** Beyond the time budget: starting the run, the last write's completion, tearing down. */
export const SELFTEST_GRACE_MS = 2000;

/** Why a self-test gave no answer: its device did not respond by the deadline. */
export interface SelfTestTimeout {
  deadline_ms: number;
  message: string;
}

/** The typed timeout result: the HTTP route answers 504 for it, the CLI an `unknown`. */
export function selfTestTimedOut(report: SelfTestReport): report is SelfTestReport & { timeout: SelfTestTimeout } {
  return report.timeout !== undefined && report.timeout !== null;
}

/**
 * The below-range case (C1), run only once the race reproduced: it then tells whether QEMU's own
 * workaround suffices on this kernel. Needs aio and zero-range among the runs asked for.
 */
export function belowRangeRun(engines: readonly Engine[], modes: readonly FallocMode[]): RunPair | undefined {
  return engines.includes('aio') && modes.includes('zero-range') ? { engine: 'aio', mode: 'zero-range', window: 'below_range' } : undefined;
}

function timeoutMessage(fs: FilesystemFacts, ms: number, already: HungDevice | undefined): string {
  return already !== undefined
    ? `the device did not respond: a self-test on ${fs.device} (${already.directory}) has been stuck since ${already.since}; not starting another`
    : `the device did not respond: the self-test on ${fs.device} (${fs.judged_directory}) did not finish within ${ms} ms (a frozen or hung filesystem?); its process was abandoned`;
}

export async function runSelfTest(fs: FilesystemFacts, kernel: KernelFacts, opts: SelfTestOptions = {}): Promise<SelfTestReport> {
  const engines = opts.engines ?? ALL_ENGINES;
  const modes = opts.modes ?? ALL_MODES;
  const limits = {
    iterations: opts.iterations ?? SELFTEST_DEFAULTS.iterations,
    budget_ms: opts.budget_ms ?? SELFTEST_DEFAULTS.budget_ms,
    max_bytes: opts.max_bytes ?? SELFTEST_DEFAULTS.max_bytes,
  };
  const deadlineMs = opts.deadline_ms ?? limits.budget_ms + SELFTEST_GRACE_MS;
  const pairs: RunPair[] = engines.flatMap((engine) => modes.map((mode) => ({ engine, mode })));
  const below = belowRangeRun(engines, modes);
  const started = Date.now();
  let runs: RaceResult[] = [];
  let timeout: SelfTestTimeout | null = null;

  const refusal = precheck(fs, limits.max_bytes);
  const already = hungDevices().find((h) => h.device === fs.device);
  if (refusal !== null) {
    runs = pairs.map((p) => refusedRun(p, refusal.stage, refusal.errno, refusal.message));
  } else if (already !== undefined) {
    timeout = { deadline_ms: deadlineMs, message: timeoutMessage(fs, deadlineMs, already) };
  } else {
    const directory = { path: fs.judged_directory, device: fs.device, magic: fs.magic, ...(fs.inode !== undefined ? { inode: fs.inode } : {}) };
    const child = await runInChild({ type: 'start', directory, pairs, limits, ...(below ? { ifReproduced: below } : {}) }, fs.device, { deadline_ms: deadlineMs, ...(opts.signal ? { signal: opts.signal } : {}) });
    runs = child.runs;
    if (child.timed_out) timeout = { deadline_ms: deadlineMs, message: timeoutMessage(fs, deadlineMs, undefined) };
    else if (child.failure !== null) {
      const failure = child.failure;
      const stage = failure.startsWith('native addon') ? 'native_addon' : 'child';
      runs.push(...pairs.slice(runs.length).map((p) => refusedRun(p, stage, '', failure)));
    }
  }
  if (timeout !== null) {
    const message = timeout.message;
    runs.push(...pairs.slice(runs.length).map((p) => refusedRun(p, 'timeout', 'ETIMEDOUT', message)));
  }
  return buildReport(fs, kernel, { engines, modes, started, runs, timeout });
}

function buildReport(
  fs: FilesystemFacts,
  kernel: KernelFacts,
  x: { engines: readonly Engine[]; modes: readonly FallocMode[]; started: number; runs: RaceResult[]; timeout: SelfTestTimeout | null },
): SelfTestReport {
  const { runs, timeout } = x;
  const outcome = combineOutcomes(runs);
  const below = runs.filter((r) => r.window === 'below_range');
  return {
    format_version: 1,
    outcome,
    directory: fs.judged_directory,
    device: fs.device,
    fs_uuid: fs.fs_uuid,
    fs_type: fs.fs_type,
    kernel_release: kernel.release,
    boot_id: kernel.boot_id,
    started_at: new Date(x.started).toISOString(),
    duration_ms: Date.now() - x.started,
    bytes_written: runs.reduce((n, r) => n + r.bytes_written, 0),
    iterations: runs.reduce((n, r) => n + r.iterations, 0),
    reproductions: runs.reduce((n, r) => n + r.reproductions, 0),
    engines: [...x.engines],
    modes: [...x.modes],
    runs,
    reason: outcome === 'unsupported' ? (timeout?.message ?? runs.map((r) => r.reason?.message).find((m) => m !== undefined) ?? null) : null,
    below_range_outcome: below.length > 0 ? combineOutcomes(below) : null,
    timeout,
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
