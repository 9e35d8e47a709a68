// The self-test's own process (forked by probes/selftest.ts): a write stuck on a hung or frozen
// device blocks this process in uninterruptible sleep, never the caller, which abandons it at
// its deadline. Protocol over the IPC channel: parent sends one ChildStart (and maybe a cancel);
// the child sends every RaceResult as it finishes, then 'done' (or 'native_error').
import { loadNative } from '../native/index.js';
import type { RaceResult } from '../native/types.js';
import { runPairs, type DirectoryIdentity, type RunLimits, type RunPair } from './selftest-runs.js';

export interface ChildStart {
  type: 'start';
  directory: DirectoryIdentity;
  pairs: RunPair[];
  limits: RunLimits;
  ifReproduced?: RunPair;
}
export type ParentMessage = ChildStart | { type: 'cancel' };
export type ChildMessage = { type: 'ready' } | { type: 'run'; run: RaceResult } | { type: 'done' } | { type: 'native_error'; message: string };

const cancel = new Int32Array(new SharedArrayBuffer(4));

function send(m: ChildMessage): void {
  if (process.connected) process.send?.(m);
}

async function start(m: ChildStart): Promise<void> {
  let native;
  try {
    native = loadNative();
  } catch (err) {
    send({ type: 'native_error', message: err instanceof Error ? err.message : String(err) });
    process.disconnect();
    return;
  }
  await runPairs({
    native, directory: m.directory, pairs: m.pairs, limits: m.limits, cancel, onRun: (run) => send({ type: 'run', run }),
    ...(m.ifReproduced !== undefined ? { ifReproduced: m.ifReproduced } : {}),
  });
  send({ type: 'done' });
  if (process.connected) process.disconnect();
}

process.on('message', (m: ParentMessage) => {
  if (m.type === 'cancel') Atomics.store(cancel, 0, 1);
  else if (m.type === 'start') void start(m);
});
// The parent went away (or gave up on us): stop after the write in flight.
process.on('disconnect', () => Atomics.store(cancel, 0, 1));
send({ type: 'ready' });
