// The native race self-test on this machine's real filesystems (XFS on a loop device, tmpfs, ext4),
// its limits (budget, bytes, cancellation), its input validation, and sdNotify against a real socket.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadNative, NativeUnavailableError, packageRoot, type NativeBinding } from '../native/index.js';
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
    // A plain ArrayBuffer can be detached (and freed) while the worker thread still reads it.
    ['cancel over a plain ArrayBuffer', { ...good, cancel: new Int32Array(1) }],
  ];
  for (const [what, o] of bad) {
    await assert.rejects(
      n.runRace(o as RaceOptions),
      (err: unknown) => err instanceof TypeError && /runRace: /.test(err.message),
      what,
    );
  }
  // A throwing getter rejects the promise with what it threw (it used to crash or throw synchronously).
  const throwing = { ...good, get engine(): string { throw new RangeError('getter boom'); } };
  let p: Promise<RaceResult> | undefined;
  assert.doesNotThrow(() => { p = n.runRace(throwing as unknown as RaceOptions); });
  await assert.rejects(p!, (err: unknown) => err instanceof RangeError && err.message === 'getter boom');
});

test('a missing directory is data (unsupported, stage open, ENOENT), not a rejection', { skip: needNative ?? false }, async () => {
  const r = await native!.runRace(opts('/nonexistent/xfsguard-nowhere', 'aio', 'alloc'));
  assert.equal(r.outcome, 'unsupported');
  assert.equal(r.reason?.stage, 'open');
  assert.equal(r.reason?.errno, 'ENOENT');
  assert.equal(r.iterations, 0);
  assert.equal(r.bytes_written, 0);
});

test('openDirectory follows no symlink anywhere on the path; runRace on a fd never resolves the path', { skip: needNative ?? false }, async () => {
  const n = native!;
  const base = mkdtempSync('/var/tmp/xfsguard-test-opendir-');
  try {
    mkdirSync(path.join(base, 'real', 'sub'), { recursive: true });
    symlinkSync(path.join(base, 'real'), path.join(base, 'link'));
    const ok = n.openDirectory(path.join(base, 'real', 'sub'));
    assert.ok(!('error' in ok), JSON.stringify(ok));
    const st = statSync(path.join(base, 'real', 'sub'), { bigint: true });
    assert.equal(ok.inode, st.ino.toString());
    assert.equal(ok.magic, statfsSync(base).type);
    for (const p of [path.join(base, 'link'), path.join(base, 'link', 'sub'), `${base}/real/../real`, 'relative/path']) {
      const r = n.openDirectory(p);
      assert.ok('error' in r, `${p} was opened through a symlink or a '..'`);
      assert.equal(r.error.stage, 'directory_open');
      assert.ok(['ENOTDIR', 'ELOOP', 'EXDEV', 'EINVAL'].includes(r.error.errno), `${p}: ${JSON.stringify(r.error)}`);
    }
    const viaLink = await n.runRace(opts(path.join(base, 'link'), 'aio', 'alloc', { max_iterations: 1 }));
    assert.equal(viaLink.outcome, 'unsupported');
    assert.equal(viaLink.reason?.stage, 'open');
    // Given a fd, the path named is only a label: the run happens where the fd is.
    const r = await n.runRace(opts('/nonexistent/label-only', 'aio', 'alloc', { max_iterations: 2, directory_fd: ok.fd }));
    closeSync(ok.fd);
    assert.notEqual(r.reason?.stage, 'open', JSON.stringify(r.reason));
    assert.equal(r.scratch, 'o_tmpfile');
    assert.deepEqual(readdirSync(path.join(base, 'real', 'sub')), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
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

// ---- fault injection (LD_PRELOAD) ---------------------------------------------------------
// Failures a healthy machine never shows, injected into a child process running the addon:
// no O_TMPFILE, an unlink that fails, a read-back error, a completion that never arrives.

const SHIM_C = String.raw`// LD_PRELOAD fault injection for the native race self-test (test/native-race.test.ts).
// XFSGUARD_FAULT, comma-separated:
//   tmpfile  open(O_TMPFILE) fails with EOPNOTSUPP (the named-file fallback is used)
//   unlink   unlink() fails with EPERM and removes nothing
//   pread    pread() on an O_DIRECT fd fails with EIO
//   drop     the addon's io_submit / io_uring_enter claim to submit but never do: the completion never
//            arrives (io_uring rings that Node's libuv sets up itself are left alone)
// With drop, freeing memory that a dropped io_uring write points at (its buffer or its iovec) is a
// use-after-free on a real kernel: the shim reports it and exits 86.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

extern void __libc_free(void*);

static int fault(const char* name) {
  const char* f = getenv("XFSGUARD_FAULT");
  return f != NULL && strstr(f, name) != NULL;
}

/* The "tmpfile" fault: a kernel or filesystem without O_TMPFILE (EOPNOTSUPP). */
static int tmpfile_refused(int flags) {
  if ((flags & __O_TMPFILE) != __O_TMPFILE || !fault("tmpfile")) return 0;
  errno = EOPNOTSUPP;
  return 1;
}

int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_arg(ap, mode_t);
  va_end(ap);
  if (tmpfile_refused(flags)) return -1;
  int (*real)(const char*, int, ...) = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, "open64");
  return real(path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_arg(ap, mode_t);
  va_end(ap);
  if (tmpfile_refused(flags)) return -1;
  int (*real)(int, const char*, int, ...) = (int (*)(int, const char*, int, ...))dlsym(RTLD_NEXT, "openat64");
  return real(dirfd, path, flags, mode);
}
int openat(int dirfd, const char* path, int flags, ...) __attribute__((alias("openat64")));

int unlink(const char* path) {
  if (fault("unlink")) {
    errno = EPERM;
    return -1;
  }
  int (*real)(const char*) = (int (*)(const char*))dlsym(RTLD_NEXT, "unlink");
  return real(path);
}

int unlinkat(int dirfd, const char* path, int flags) {
  if (fault("unlink")) {
    errno = EPERM;
    return -1;
  }
  int (*real)(int, const char*, int) = (int (*)(int, const char*, int))dlsym(RTLD_NEXT, "unlinkat");
  return real(dirfd, path, flags);
}

ssize_t pread64(int fd, void* buf, size_t n, off_t off) {
  if (fault("pread")) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_DIRECT)) {
      errno = EIO;
      return -1;
    }
  }
  ssize_t (*real)(int, void*, size_t, off_t) = (ssize_t (*)(int, void*, size_t, off_t))dlsym(RTLD_NEXT, "pread64");
  return real(fd, buf, n, off);
}

// Only the addon's own calls are faulted: Node 22+ has libuv set up and enter io_uring rings through
// syscall() as well, and dropping one of those aborts libuv. The addon is the caller's object file.
static int from_addon(const void* ret) {
  Dl_info info;
  return dladdr(ret, &info) != 0 && info.dli_fname != NULL && strstr(info.dli_fname, "xfsguard_native.node") != NULL;
}

// The addon's io_uring rings, by fd: what is needed to read the SQE a dropped enter was meant to submit.
#define MAX_RINGS 8
static struct { int fd; struct io_sqring_offsets sq_off; unsigned sq_entries; } rings[MAX_RINGS];
static int nrings;
static volatile uintptr_t dropped_buf, dropped_iov;  // of the last dropped io_uring write

static void remember_ring(int fd, const struct io_uring_params* p) {
  int i = 0;
  while (i < nrings && rings[i].fd != fd) i++;  // a closed ring's fd number may come back
  if (i == nrings) {
    if (nrings == MAX_RINGS) return;
    nrings++;
  }
  rings[i].fd = fd;
  rings[i].sq_off = p->sq_off;
  rings[i].sq_entries = p->sq_entries;
}

static int find_ring(long fd) {
  for (int i = 0; i < nrings; i++)
    if (rings[i].fd == fd) return i;
  return -1;
}

// Notes the buffer (and iovec) of the last SQE the addon queued on ring i, which the kernel never sees.
static void note_dropped_write(int i) {
  int fd = rings[i].fd;
  struct io_sqring_offsets o = rings[i].sq_off;
  unsigned n = rings[i].sq_entries;
  char* sq = mmap(NULL, o.array + n * sizeof(unsigned), PROT_READ, MAP_SHARED, fd, IORING_OFF_SQ_RING);
  struct io_uring_sqe* sqes = mmap(NULL, n * sizeof(struct io_uring_sqe), PROT_READ, MAP_SHARED, fd, IORING_OFF_SQES);
  if (sq != MAP_FAILED && sqes != MAP_FAILED) {
    unsigned tail = *(unsigned*)(sq + o.tail), mask = *(unsigned*)(sq + o.ring_mask);
    unsigned idx = ((unsigned*)(sq + o.array))[(tail - 1) & mask];
    struct io_uring_sqe* sqe = &sqes[idx & mask];
    if (sqe->opcode == IORING_OP_WRITEV) {
      dropped_iov = (uintptr_t)sqe->addr;
      dropped_buf = (uintptr_t)((struct iovec*)(uintptr_t)sqe->addr)->iov_base;
    } else if (sqe->opcode == IORING_OP_WRITE) {
      dropped_iov = 0;
      dropped_buf = (uintptr_t)sqe->addr;
    }
  }
  if (sq != MAP_FAILED) munmap(sq, o.array + n * sizeof(unsigned));
  if (sqes != MAP_FAILED) munmap(sqes, n * sizeof(struct io_uring_sqe));
}

long syscall(long n, ...) {
  va_list ap;
  va_start(ap, n);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  long (*real)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  const void* caller = __builtin_return_address(0);
  if (n == __NR_io_uring_setup) {
    long r = real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (r >= 0 && from_addon(caller)) remember_ring((int)r, (const struct io_uring_params*)a[1]);
    return r;
  }
  if (n == __NR_io_submit && fault("drop") && from_addon(caller)) return a[1];
  if (n == __NR_io_uring_enter && a[1] >= 1 && fault("drop") && from_addon(caller)) {
    int i = find_ring(a[0]);
    if (i >= 0) {
      note_dropped_write(i);
      return a[1];
    }
  }
  return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

void free(void* p) {
  if (p != NULL && (dropped_buf != 0 || dropped_iov != 0)) {
    uintptr_t lo = (uintptr_t)p, hi = lo + malloc_usable_size(p);
    if ((dropped_buf >= lo && dropped_buf < hi) || (dropped_iov >= lo && dropped_iov < hi)) {
      static const char msg[] = "xfsguard-shim: freed memory an io_uring write in flight still uses\n";
      (void)!write(2, msg, sizeof msg - 1);
      _exit(86);
    }
  }
  __libc_free(p);
}
`;

function buildShim(): { so: string } | string {
  if (process.platform !== 'linux') return 'LD_PRELOAD fault injection needs Linux/glibc';
  const dir = mkdtempSync(path.join(tmpdir(), 'xfsguard-shim-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'shim.c'), SHIM_C);
  const so = path.join(dir, 'shim.so');
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-o', so, path.join(dir, 'shim.c'), '-ldl'], { encoding: 'utf8' });
  if (cc.status !== 0) return `cannot build the fault-injection shim with cc: ${cc.error?.message ?? cc.stderr}`;
  return { so };
}
const shim = needNative === null ? buildShim() : needNative;
const needShim = typeof shim === 'string' ? shim : null;

const CHILD = `
const n = require(process.env.XFSGUARD_ADDON);
const cancel = new Int32Array(new SharedArrayBuffer(4));
const ms = Number(process.env.XFSGUARD_CANCEL_AFTER_MS || 0);
if (ms > 0) setTimeout(() => Atomics.store(cancel, 0, 1), ms);
const t0 = Date.now();
n.runRace({ ...JSON.parse(process.env.XFSGUARD_OPTS), cancel }).then((r) => {
  process.stdout.write(JSON.stringify({ ...r, wall_ms: Date.now() - t0 }));
});`;

/** runRace in a child with the shim preloaded and XFSGUARD_FAULT=faults. */
async function runFaulty(faults: string, o: RaceOptions, cancelAfterMs = 0): Promise<{ code: number | null; stderr: string; r: (RaceResult & { wall_ms: number }) | null }> {
  const so = (shim as { so: string }).so;
  const child = spawn(process.execPath, ['-e', CHILD], {
    env: {
      ...process.env, LD_PRELOAD: so, XFSGUARD_FAULT: faults, XFSGUARD_OPTS: JSON.stringify(o),
      XFSGUARD_CANCEL_AFTER_MS: String(cancelAfterMs), XFSGUARD_ADDON: path.join(packageRoot(), 'build', 'Release', 'xfsguard_native.node'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stderr, r: out === '' ? null : (JSON.parse(out) as RaceResult & { wall_ms: number }) };
}

test('fault: a read-back error is a refusal (stage read), never "data lost"', { skip: needShim ?? false }, async () => {
  const dir = mkdtempSync('/var/tmp/xfsguard-test-fault-');
  try {
    for (const engine of ENGINES) {
      const { code, stderr, r } = await runFaulty('pread', opts(dir, engine, 'alloc', { max_iterations: 5 }));
      assert.equal(code, 0, stderr);
      assert.ok(r);
      assert.equal(r.reproductions, 0, `${engine}: a failed read counted as a reproduction: ${JSON.stringify(r.first_reproduction)}`);
      assert.equal(r.outcome, 'unsupported');
      assert.deepEqual([r.reason?.stage, r.reason?.errno], ['read', 'EIO']);
      assert.deepEqual(readdirSync(dir), []);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fault: without O_TMPFILE a hidden unique name is created and unlinked at once, also on error paths', { skip: needShim ?? false }, async () => {
  const dir = mkdtempSync('/var/tmp/xfsguard-test-fault-');
  try {
    for (const faults of ['tmpfile', 'tmpfile,pread']) {
      const { code, stderr, r } = await runFaulty(faults, opts(dir, 'aio', 'alloc', { max_iterations: 3 }));
      assert.equal(code, 0, stderr);
      assert.ok(r);
      assert.equal(r.scratch, 'unlinked_name', faults);
      assert.notEqual(r.outcome, 'reproduced', faults);
      assert.deepEqual(readdirSync(dir), [], `${faults}: a scratch file was left behind`);
    }
    // The name cannot be removed: refuse before writing anything, and say which file it is.
    const { code, stderr, r } = await runFaulty('tmpfile,unlink', opts(dir, 'aio', 'alloc', { max_iterations: 3 }));
    assert.equal(code, 0, stderr);
    assert.ok(r);
    assert.equal(r.outcome, 'unsupported');
    assert.deepEqual([r.reason?.stage, r.reason?.errno], ['unlink', 'EPERM']);
    assert.equal(r.bytes_written, 0);
    const left = readdirSync(dir);
    assert.equal(left.length, 1);
    assert.match(left[0]!, /^\.xfsguard-selftest-/);
    assert.ok(r.reason?.message.includes(path.join(dir, left[0]!)), r.reason?.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fault: a completion that never arrives: cancel ends the run in bounded time, nothing counted as tested, no buffer freed under the kernel', { skip: needShim ?? false }, async () => {
  const dir = mkdtempSync('/var/tmp/xfsguard-test-fault-');
  try {
    for (const engine of ['io_uring', 'aio'] as const) {
      const o = opts(dir, engine, 'alloc', { budget_ms: 60_000, stop_on_first: false });
      const { code, stderr, r } = await runFaulty('drop', o, 200);
      // 86: the shim saw the write buffer (or its iovec) freed while the io_uring write was in flight.
      assert.equal(code, 0, `${engine}: exit ${code}: ${stderr}`);
      assert.ok(r);
      checkInvariants(r, o);
      assert.equal(r.cancelled, true);
      assert.equal(r.iterations, 1);
      assert.equal(r.in_flight_iterations, 0, `${engine}: an unchecked write counted as tested`);
      assert.equal(r.outcome, 'unsupported', `${engine}: ${r.outcome} although no write was ever checked`);
      assert.equal(r.reason?.stage, 'race_window');
      assert.ok(r.wall_ms < 200 + 2000 + 2000, `${engine}: cancel took ${r.wall_ms} ms`);
      assert.deepEqual(readdirSync(dir), []);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
    // sun_path holds 108 bytes: a path needs its NUL, an abstract name (leading NUL) does not.
    process.env.NOTIFY_SOCKET = '/' + 'a'.repeat(107);
    assert.match(native!.sdNotify('READY=1').error ?? '', /^ENAMETOOLONG: /);
    process.env.NOTIFY_SOCKET = '/' + 'a'.repeat(106);
    assert.match(native!.sdNotify('READY=1').error ?? '', /^(ENOENT|ECONNREFUSED): /);
    process.env.NOTIFY_SOCKET = '@' + 'a'.repeat(108);
    assert.match(native!.sdNotify('READY=1').error ?? '', /^ENAMETOOLONG: /);
    process.env.NOTIFY_SOCKET = '@' + 'a'.repeat(107);
    assert.match(native!.sdNotify('READY=1').error ?? '', /^(ENOENT|ECONNREFUSED): /);
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
