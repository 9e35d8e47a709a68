// Runs the self-test in a child process with a deadline. A write stuck on a hung or frozen device
// puts the child in uninterruptible sleep (D state): nothing can end it until the device answers.
// So at the deadline the caller SIGKILLs the child and abandons it — closes the channel, drops
// its references, never waits for its exit — and answers without it. Devices with an abandoned
// child still alive are remembered, so that no second child is stuck behind the first.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../native/index.js';
import type { RaceResult } from '../native/types.js';
import type { ChildMessage, ChildStart, ParentMessage } from './selftest-child.js';

/** A device whose self-test process did not answer by its deadline and is still alive. */
export interface HungDevice {
  device: string;
  directory: string;
  since: string;
  pid: number | null;
  deadline_ms: number;
}

const hung = new Map<string, HungDevice>();

/** Devices whose abandoned self-test process has not exited yet (the device still has not answered). */
export function hungDevices(): HungDevice[] {
  return [...hung.values()];
}

export interface ChildOutcome {
  runs: RaceResult[];
  /** The deadline passed before the child said it was done. */
  timed_out: boolean;
  /** The child could not load the addon, or died: said why. */
  failure: string | null;
}

/** Node flags a loader needs in the child (tsx under tests); never --test or --inspect. */
function loaderExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--(import|loader|experimental-loader|require)=/.test(a)) out.push(a);
    else if (['--import', '--loader', '--experimental-loader', '--require', '-r'].includes(a) && i + 1 < argv.length) out.push(a, argv[++i]!);
  }
  return out;
}

/** probes/selftest-child beside this module; from a bundle (dist/service/cli/chunks), the one tsc emitted to dist/probes. */
function childEntry(): string {
  const self = fileURLToPath(import.meta.url);
  const beside = path.join(path.dirname(self), `selftest-child${path.extname(self)}`);
  if (existsSync(beside)) return beside;
  return path.join(packageRoot(path.dirname(self)), 'dist', 'probes', 'selftest-child.js');
}

/** Lets the caller's process exit and forget the child: no handle of it keeps the event loop alive. */
function abandon(child: ChildProcess): void {
  child.kill('SIGKILL');
  child.stderr?.destroy();
  if (child.connected) child.disconnect();
  child.unref();
}

export interface ChildRunOptions {
  deadline_ms: number;
  signal?: AbortSignal;
  /** How long to wait for the child's own start (loading Node and the addon) before the deadline counts. */
  startup_ms?: number;
}

export async function runInChild(start: ChildStart, device: string, o: ChildRunOptions): Promise<ChildOutcome> {
  // loaded here, not at start-up: `check` answering from a stored self-test starts no process (issue 11)
  const { fork } = await import('node:child_process');
  return new Promise((resolve) => {
    const runs: RaceResult[] = [];
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    // stderr is piped, not inherited: a child stuck in D state must not hold the caller's stderr open.
    const child = fork(childEntry(), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: loaderExecArgv(), serialization: 'json' });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    const sendToChild = (m: ParentMessage) => {
      if (child.connected) child.send(m, () => undefined);
    };
    const finish = (timedOut: boolean, failure: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (timedOut) {
        hung.set(device, { device, directory: start.directory.path, since: new Date().toISOString(), pid: child.pid ?? null, deadline_ms: o.deadline_ms });
        abandon(child);
      } else if (child.connected) {
        child.disconnect();
      }
      resolve({ runs, timed_out: timedOut, failure });
    };
    const onAbort = () => sendToChild({ type: 'cancel' });
    o.signal?.addEventListener('abort', onAbort, { once: true });
    // Until the child is ready, only a generous start-up limit applies: starting Node does not touch the device.
    timer = setTimeout(() => finish(true, null), o.startup_ms ?? 30_000);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        timer = setTimeout(() => finish(true, null), o.deadline_ms);
        sendToChild(start);
        if (o.signal?.aborted === true) onAbort();
      } else if (m.type === 'run') runs.push(m.run);
      else if (m.type === 'done') finish(false, null);
      else finish(false, `native addon unavailable: ${m.message}`);
    });
    child.on('error', (err) => finish(false, `the self-test process failed: ${err.message}`));
    child.on('exit', () => {
      // An abandoned child exits when its device answers again: the device is no longer hung.
      if (hung.get(device)?.pid === child.pid) hung.delete(device);
    });
    // 'close' comes after every message the child sent was delivered.
    child.on('close', (code, sig) => finish(false, `the self-test process ended early (${sig ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
  });
}
