// The self-test's runs against ONE opened directory: the directory is opened once with no symlink
// followed, checked to be the filesystem the facts describe (device, inode, fs magic), and every
// run creates its scratch file relative to that fd. Nothing here resolves the path again, so a
// rename or symlink swap after the check cannot move the test (or its result) to another disk.
import { closeSync } from 'node:fs';
import type { NativeBinding } from '../native/index.js';
import type { Engine, FallocMode, OpenedDirectory, RaceResult, RaceWindow } from '../native/types.js';
import type { SelfTestReport } from './types.js';

/** What the caller checked about the directory (FilesystemFacts' fields). */
export interface DirectoryIdentity {
  path: string;
  device: string;
  /** Absent when the facts were gathered without it: device and magic are still compared. */
  inode?: string;
  magic: number;
}

export interface RunLimits {
  iterations: number;
  budget_ms: number;
  max_bytes: number;
}

/** A run writes at least one 4 KiB block; with less it cannot test anything. */
const MIN_RUN_BYTES = 4096;

/**
 * Stages of refusals that say nothing about the filesystem (the directory moved, the device hung,
 * the caller cancelled): such a report is never stored as the filesystem's result.
 */
export const TRANSIENT_STAGES: ReadonlySet<string> = new Set(['directory_open', 'directory_changed', 'timeout', 'cancelled', 'child']);

/**
 * May this report be kept as the filesystem's result? Not when a run was refused for a reason that
 * is not about the filesystem (the directory moved, the device hung, cancelled) — unless the race
 * was already reproduced, which proves it regardless.
 */
export function reportIsStorable(report: SelfTestReport): boolean {
  if (report.outcome === 'reproduced') return true;
  return !report.runs.some((r) => r.cancelled || (r.reason !== null && TRANSIENT_STAGES.has(r.reason.stage)));
}

export function refusedRun({ engine, mode, window }: RunPair, stage: string, errno: string, message: string): RaceResult {
  return {
    ...(window !== undefined ? { window } : {}),
    engine, mode, outcome: 'unsupported', iterations: 0, reproductions: 0, in_flight_iterations: 0,
    first_reproduction: null, io_sizes: [], duration_ms: 0, bytes_written: 0, block_size: 0,
    scratch: 'none', cancelled: false, reason: { stage, errno, message },
  };
}

/** Why the opened fd is not the directory that was checked, or null when it is. */
export function identityMismatch(opened: OpenedDirectory, want: DirectoryIdentity): string | null {
  const diffs: string[] = [];
  if (opened.device !== want.device) diffs.push(`device ${opened.device}, checked ${want.device}`);
  if (want.inode !== undefined && opened.inode !== want.inode) diffs.push(`inode ${opened.inode}, checked ${want.inode}`);
  if (opened.magic !== want.magic) diffs.push(`fs magic 0x${opened.magic.toString(16)}, checked 0x${want.magic.toString(16)}`);
  return diffs.length === 0 ? null : `${want.path} changed after it was checked (${diffs.join('; ')}): not tested`;
}

/** One run: engine × mode, and where the write goes (default: the engine's usual window). */
export interface RunPair {
  engine: Engine;
  mode: FallocMode;
  window?: RaceWindow;
}

export interface RunPairsOptions {
  native: NativeBinding;
  directory: DirectoryIdentity;
  pairs: readonly RunPair[];
  limits: RunLimits;
  cancel: Int32Array;
  /** A run made after the others only when one of them reproduced the race, with what is left of the limits. */
  ifReproduced?: RunPair;
  /** Told each run as it finishes (the child process streams them to its parent). */
  onRun?: (r: RaceResult) => void;
}

/** Opens the directory once, verifies it, runs every pair on that fd within the shared limits. */
export async function runPairs(o: RunPairsOptions): Promise<RaceResult[]> {
  const runs: RaceResult[] = [];
  const push = (r: RaceResult) => {
    runs.push(r);
    o.onRun?.(r);
  };
  const opened = o.native.openDirectory(o.directory.path);
  if ('error' in opened) {
    for (const pair of o.pairs) push(refusedRun(pair, 'directory_open', opened.error.errno, opened.error.message));
    return runs;
  }
  try {
    const mismatch = identityMismatch(opened, o.directory);
    const started = Date.now();
    const all = [...o.pairs];
    for (let i = 0; i < all.length; i++) {
      const pair = all[i]!;
      const { engine, mode, window } = pair;
      if (mismatch !== null) {
        push(refusedRun(pair, 'directory_changed', 'EXDEV', mismatch));
        continue;
      }
      if (Atomics.load(o.cancel, 0) !== 0) {
        push({ ...refusedRun(pair, 'cancelled', '', 'the self-test was cancelled'), cancelled: true });
        continue;
      }
      // What is left of the budget is shared by the runs still to come.
      const remainingRuns = all.length - i;
      const spentBytes = runs.reduce((n, r) => n + r.bytes_written, 0);
      const runBytes = Math.floor((o.limits.max_bytes - spentBytes) / remainingRuns);
      if (runBytes < MIN_RUN_BYTES) {
        push(refusedRun(pair, 'byte_budget', '', `the byte budget leaves ${Math.max(0, runBytes)} bytes for this run; it needs at least ${MIN_RUN_BYTES}`));
        continue;
      }
      push(
        await o.native.runRace({
          directory: o.directory.path,
          directory_fd: opened.fd,
          engine,
          mode,
          ...(window !== undefined ? { window } : {}),
          max_iterations: o.limits.iterations,
          budget_ms: Math.max(1, Math.floor((o.limits.budget_ms - (Date.now() - started)) / remainingRuns)),
          max_bytes: runBytes,
          cancel: o.cancel,
        }),
      );
      if (i === o.pairs.length - 1 && o.ifReproduced !== undefined && runs.some((r) => r.outcome === 'reproduced')) all.push(o.ifReproduced);
    }
  } finally {
    closeSync(opened.fd);
  }
  return runs;
}
