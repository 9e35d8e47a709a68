// The native race self-test on this machine's real filesystems (XFS on a loop device, tmpfs, ext4),
// its limits (budget, bytes, cancellation), its input validation, and sdNotify against a real socket.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadNative, NativeUnavailableError, type NativeBinding } from '../native/index.js';
import type { Engine, FallocMode, RaceOptions, RaceResult } from '../native/types.js';
import { loopMountUnavailable, mountLoopFs, type LoopMount } from './helpers/scratch-fs.js';

const ENGINES: Engine[] = ['aio', 'io_uring'];
const MODES: FallocMode[] = ['zero-range', 'alloc'];
const TMPFS_MAGIC = 0x01021994;
const EXT4_MAGIC = 0xef53;

let native: NativeBinding | null = null;
let nativeError = '';
try {
  native = loadNative();
} catch (err) {
  nativeError = err instanceof NativeUnavailableError ? err.message : String(err);
}
const needNative = native === null ? `native addon unavailable: ${nativeError}` : null;

function opts(directory: string, engine: Engine, mode: FallocMode, extra: Partial<RaceOptions> = {}): RaceOptions {
  return { directory, engine, mode, max_iterations: 1_000_000, budget_ms: 2000, max_bytes: 16 << 20, ...extra };
}

function checkInvariants(r: RaceResult, o: RaceOptions): void {
  assert.equal(r.engine, o.engine);
  assert.equal(r.mode, o.mode);
  assert.ok(r.bytes_written <= o.max_bytes, `wrote ${r.bytes_written} > max_bytes ${o.max_bytes}`);
  assert.ok(r.iterations <= o.max_iterations);
  assert.ok(r.in_flight_iterations <= r.iterations);
  assert.ok(r.reproductions <= r.iterations);
  if (r.outcome === 'unsupported') assert.ok(r.reason !== null, 'unsupported without a reason');
  if (r.outcome === 'reproduced') assert.ok(r.first_reproduction !== null);
  for (const s of r.io_sizes) assert.equal(s % r.block_size, 0, `io size ${s} not block-aligned`);
}

function kernelAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(readOsRelease());
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}
function readOsRelease(): string {
  return spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
}

// ---- input validation ----------------------------------------------------------------------

test('runRace rejects bad options with a TypeError (programmer errors only)', { skip: needNative ?? false }, async () => {
  const n = native!;
  const good = opts('/var/tmp', 'aio', 'alloc', { max_iterations: 1 });
  const bad: [string, unknown][] = [
    ['no options', undefined],
    ['missing directory', { ...good, directory: undefined }],
    ['empty directory', { ...good, directory: '' }],
    ['bad engine', { ...good, engine: 'posix' }],
    ['bad mode', { ...good, mode: 'punch' }],
    ['zero iterations', { ...good, max_iterations: 0 }],
    ['too many iterations', { ...good, max_iterations: 1_000_001 }],
    ['fractional iterations', { ...good, max_iterations: 1.5 }],
    ['negative budget', { ...good, budget_ms: -1 }],
    ['NaN budget', { ...good, budget_ms: Number.NaN }],
    ['zero bytes', { ...good, max_bytes: 0 }],
    ['string bytes', { ...good, max_bytes: '100' }],
    ['cancel not an Int32Array', { ...good, cancel: new Uint8Array(4) }],
  ];
  for (const [what, o] of bad) {
    await assert.rejects(
      n.runRace(o as RaceOptions),
      (err: unknown) => err instanceof TypeError && /runRace: /.test(err.message),
      what,
    );
  }
});

test('a missing directory is data (unsupported, stage open, ENOENT), not a rejection', { skip: needNative ?? false }, async () => {
  const r = await native!.runRace(opts('/nonexistent/xfsguard-nowhere', 'aio', 'alloc'));
  assert.equal(r.outcome, 'unsupported');
  assert.equal(r.reason?.stage, 'open');
  assert.equal(r.reason?.errno, 'ENOENT');
  assert.equal(r.iterations, 0);
  assert.equal(r.bytes_written, 0);
});

// ---- real filesystems ----------------------------------------------------------------------

let xfs: LoopMount | null = null;
const xfsUnavailable = needNative ?? loopMountUnavailable('mkfs.xfs');
after(() => xfs?.cleanup());

test('XFS on a loop device: every engine × mode tests the race and leaves no file', { skip: xfsUnavailable ?? false }, async (t) => {
  xfs = mountLoopFs('xfs', 512);
  const dir = xfs.mountPoint;
  const before = readdirSync(dir);
  for (const engine of ENGINES) {
    for (const mode of MODES) {
      const o = opts(dir, engine, mode, { budget_ms: 3000 });
      const r = await native!.runRace(o);
      t.diagnostic(`${engine}/${mode}: ${r.outcome}, ${r.iterations} iterations, ${r.in_flight_iterations} in flight, ${r.bytes_written} B, ${r.duration_ms} ms`);
      checkInvariants(r, o);
      assert.notEqual(r.outcome, 'unsupported', `XFS must be testable: ${JSON.stringify(r.reason)}`);
      assert.ok(r.iterations > 0 && r.in_flight_iterations > 0);
      assert.equal(r.scratch, 'o_tmpfile');
      // This machine's kernel carries the fix (>= 5.5): a reproduction would be a false positive.
      if (kernelAtLeast(5, 5)) assert.equal(r.outcome, 'not_reproduced', JSON.stringify(r.first_reproduction));
      assert.deepEqual(readdirSync(dir), before, 'the scratch file must not survive the run');
    }
  }
});

test('tmpfs (/dev/shm): ZERO_RANGE is unsupported with EOPNOTSUPP, mode 0 is not', { skip: needNative ?? false }, async (t) => {
  if (!existsSync('/dev/shm') || statfsSync('/dev/shm').type !== TMPFS_MAGIC) {
    t.skip('no tmpfs at /dev/shm');
    return;
  }
  const dir = mkdtempSync('/dev/shm/xfsguard-test-');
  try {
    for (const engine of ENGINES) {
      const zr = await native!.runRace(opts(dir, engine, 'zero-range'));
      checkInvariants(zr, opts(dir, engine, 'zero-range'));
      assert.equal(zr.outcome, 'unsupported');
      assert.equal(zr.reason?.errno, 'EOPNOTSUPP');
      assert.equal(zr.reason?.stage, 'fallocate');
      assert.equal(zr.bytes_written, 0, 'the mode is refused before any write');
      const al = await native!.runRace(opts(dir, engine, 'alloc'));
      checkInvariants(al, opts(dir, engine, 'alloc'));
      t.diagnostic(`${engine}/alloc on tmpfs: ${al.outcome} ${JSON.stringify(al.reason)}`);
      assert.notEqual(al.reason?.errno, 'EOPNOTSUPP');
      assert.notEqual(al.outcome, 'reproduced');
      assert.deepEqual(readdirSync(dir), []);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

let ext4: LoopMount | null = null;
after(() => ext4?.cleanup());

function ext4Dir(): string | null {
  if (existsSync('/var/tmp') && statfsSync('/var/tmp').type === EXT4_MAGIC) return mkdtempSync('/var/tmp/xfsguard-test-ext4-');
  if (loopMountUnavailable('mkfs.ext4') === null) {
    ext4 = mountLoopFs('ext4', 256);
    return ext4.mountPoint;
  }
  return null;
}

test('ext4: never reproduced (extending AIO DIO is synchronous there), no file left', { skip: needNative ?? false }, async (t) => {
  const dir = ext4Dir();
  if (dir === null) {
    t.skip('no ext4 directory: /var/tmp is not ext4 and no loop ext4 can be mounted');
    return;
  }
  try {
    for (const engine of ENGINES) {
      for (const mode of MODES) {
        const o = opts(dir, engine, mode);
        const r = await native!.runRace(o);
        checkInvariants(r, o);
        t.diagnostic(`ext4 ${engine}/${mode}: ${r.outcome}, ${r.in_flight_iterations}/${r.iterations} in flight${r.reason ? `, ${r.reason.stage}` : ''}`);
        assert.notEqual(r.outcome, 'reproduced', JSON.stringify(r.first_reproduction));
        // ext4 completes extending O_DIRECT writes inside io_submit: then no iteration had the
        // write in flight, and the run must say it tested nothing rather than "not reproduced".
        if (r.outcome === 'unsupported') {
          assert.equal(r.reason?.stage, 'race_window');
          assert.equal(r.reason?.errno, '');
          assert.equal(r.in_flight_iterations, 0);
        } else {
          assert.equal(r.outcome, 'not_reproduced');
          assert.ok(r.in_flight_iterations > 0);
        }
        assert.deepEqual(readdirSync(dir), []);
      }
    }
  } finally {
    if (ext4 === null) rmSync(dir, { recursive: true, force: true });
  }
});

// ---- limits --------------------------------------------------------------------------------

function bigBytes(dir: string): number {
  const s = statfsSync(dir);
  return Math.max(16 << 20, Math.min(8 * 2 ** 30, Math.floor((s.bavail * s.bsize) / 4)));
}

test('free space is checked first: max_bytes beyond it is unsupported with ENOSPC', { skip: needNative ?? false }, async () => {
  const r = await native!.runRace(opts(tmpdir(), 'aio', 'alloc', { max_bytes: 2 ** 52 }));
  assert.equal(r.outcome, 'unsupported');
  assert.equal(r.reason?.errno, 'ENOSPC');
  assert.equal(r.bytes_written, 0);
});

test('budget_ms is honoured', { skip: needNative ?? false }, async () => {
  const dir = '/var/tmp'; // large: the byte limit must not end the run first
  const o = opts(dir, 'aio', 'alloc', { budget_ms: 300, max_bytes: bigBytes(dir), stop_on_first: false });
  const t0 = performance.now();
  const r = await native!.runRace(o);
  const wall = performance.now() - t0;
  checkInvariants(r, o);
  assert.ok(r.iterations > 0);
  assert.ok(r.bytes_written < o.max_bytes, 'the byte limit ended the run, not the budget');
  assert.ok(r.duration_ms >= 300, `stopped at ${r.duration_ms} ms before the budget`);
  assert.ok(r.duration_ms < 300 + 1000, `duration ${r.duration_ms} ms`);
  assert.ok(wall < 300 + 1500, `wall ${wall} ms`);
});

test('max_bytes and max_iterations are honoured', { skip: needNative ?? false }, async () => {
  const dir = xfs?.mountPoint ?? '/var/tmp';
  const o1 = opts(dir, 'io_uring', 'alloc', { max_bytes: 100_000, stop_on_first: false });
  const r1 = await native!.runRace(o1);
  checkInvariants(r1, o1);
  assert.ok(r1.bytes_written > 0 && r1.bytes_written <= 100_000);
  const o2 = opts(dir, 'aio', 'zero-range', { max_iterations: 3, stop_on_first: false });
  const r2 = await native!.runRace(o2);
  checkInvariants(r2, o2);
  assert.equal(r2.iterations, 3);
});

test('cancel: set before the run, and set during a long run', { skip: needNative ?? false }, async () => {
  const dir = '/var/tmp';
  const pre = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(pre, 0, 1);
  const r0 = await native!.runRace(opts(dir, 'aio', 'alloc', { cancel: pre }));
  assert.equal(r0.cancelled, true);
  assert.equal(r0.iterations, 0);
  assert.equal(r0.outcome, 'unsupported');
  assert.equal(r0.reason?.stage, 'race_window');

  for (const engine of ENGINES) {
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const o = opts(dir, engine, 'alloc', { budget_ms: 60_000, max_bytes: bigBytes(dir), cancel, stop_on_first: false });
    const t0 = performance.now();
    const p = native!.runRace(o);
    setTimeout(() => Atomics.store(cancel, 0, 1), 150);
    const r = await p;
    const wall = performance.now() - t0;
    checkInvariants(r, o);
    assert.equal(r.cancelled, true, `${engine}: not cancelled after ${wall} ms, ${r.iterations} iterations`);
    assert.ok(wall < 3000, `${engine}: cancel took ${wall} ms`);
  }
});

// ---- sdNotify ------------------------------------------------------------------------------

interface Receiver {
  child: ChildProcess;
  datagram: Promise<string>;
}

// A python3 AF_UNIX SOCK_DGRAM receiver (Node has none): prints "ready", then the first datagram (hex).
async function startReceiver(address: string): Promise<Receiver> {
  const script = [
    'import socket, sys',
    'a = sys.argv[1]',
    "a = '\\0' + a[1:] if a.startswith('@') else a",
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    's.bind(a)',
    's.settimeout(10)',
    "print('ready', flush=True)",
    "print(s.recv(65536).hex(), flush=True)",
  ].join('\n');
  const child = spawn('python3', ['-c', script, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.equal(first.value, 'ready');
  const datagram = lines.next().then((l) => Buffer.from(String(l.value ?? ''), 'hex').toString('utf8'));
  return { child, datagram };
}

const havePython = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { stdio: 'ignore' }).status === 0;

test('sdNotify: NOTIFY_SOCKET unset → not sent, no error', { skip: needNative ?? false }, () => {
  const saved = process.env.NOTIFY_SOCKET;
  delete process.env.NOTIFY_SOCKET;
  try {
    assert.deepEqual(native!.sdNotify('READY=1'), { sent: false, error: null });
  } finally {
    if (saved !== undefined) process.env.NOTIFY_SOCKET = saved;
  }
});

test('sdNotify: one datagram to a path socket and to an abstract socket; errors as errno names', { skip: needNative ?? (havePython ? false : 'python3 is missing: no AF_UNIX datagram receiver to test against') }, async () => {
  const saved = process.env.NOTIFY_SOCKET;
  const dir = mkdtempSync(path.join(tmpdir(), 'xfsguard-notify-'));
  try {
    const sockPath = path.join(dir, 'notify.sock');
    const abstract = `@xfsguard-test-${process.pid}-${Date.now()}`;
    for (const address of [sockPath, abstract]) {
      const rx = await startReceiver(address);
      process.env.NOTIFY_SOCKET = address;
      const state = 'READY=1\nSTATUS=xfsguard self-test ready';
      assert.deepEqual(native!.sdNotify(state), { sent: true, error: null });
      assert.equal(await rx.datagram, state);
      if (rx.child.exitCode === null) await once(rx.child, 'exit');
    }
    process.env.NOTIFY_SOCKET = path.join(dir, 'nobody-listens.sock');
    const r = native!.sdNotify('READY=1');
    assert.equal(r.sent, false);
    assert.match(r.error ?? '', /^(ENOENT|ECONNREFUSED): /);
    process.env.NOTIFY_SOCKET = 'vsock:2:1234';
    const v = native!.sdNotify('READY=1');
    assert.equal(v.sent, false);
    assert.match(v.error ?? '', /^E[A-Z]+: /);
  } finally {
    if (saved === undefined) delete process.env.NOTIFY_SOCKET;
    else process.env.NOTIFY_SOCKET = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
