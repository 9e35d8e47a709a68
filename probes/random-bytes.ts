// Random bytes and v4 UUIDs from the kernel's CSPRNG (/dev/urandom), without loading node:crypto:
// its module graph (ciphers, keys, webcrypto, X.509) is the largest piece a one-shot `check` would
// otherwise load only to name its answer and its temporary files (issue 11: CLI start-up). Bytes are
// read in blocks and handed out in order, never twice; where /dev/urandom cannot be read, node:crypto.
import { closeSync, openSync, readSync } from 'node:fs';

const BLOCK = 1024;
let pool: Buffer = Buffer.alloc(0);
let used = 0;

function fromKernel(n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < n; ) {
      const r = readSync(fd, buf, got, n - got, null);
      if (r <= 0) throw new Error('/dev/urandom: short read');
      got += r;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

function fromCrypto(n: number): Buffer {
  const crypto = process.getBuiltinModule('node:crypto');
  return crypto.randomBytes(n);
}

/** n fresh random bytes (a copy: the caller may keep or change them). */
export function randomBytes(n: number): Buffer {
  if (used + n > pool.length) {
    const size = Math.max(BLOCK, n);
    try {
      pool = fromKernel(size);
    } catch {
      pool = fromCrypto(size);
    }
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}

/** A random (version 4, RFC 9562) UUID, as crypto.randomUUID() formats it. */
export function randomUUID(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
