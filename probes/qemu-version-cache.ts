// Remembers what each QEMU binary's `--version` said, in the state directory, so that `check` does not
// start every QEMU on the host at every run (three system emulators cost more than node's own start-up,
// issue 11). An entry holds only while the file is the same one: same path, resolved path, inode, size,
// mtime and ctime (a package upgrade replaces the file, and any change to it moves ctime); anything else
// is asked again. It is a cache: an unreadable, malformed or unwritable file is no error.
import { randomBytes } from 'node:crypto';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readRegularFile } from './regular-file.js';

export const QEMU_VERSIONS_FILE = 'qemu-versions.json';
/** More binaries than any host has (the probe asks at most 24). */
const MAX_ENTRIES = 64;
const MAX_BYTES = 256 * 1024;

/** What `--version` told, for one file. */
export interface QemuVersionAnswer {
  version: string | null;
  build: string | null;
  version_line: string | null;
}

interface Entry extends QemuVersionAnswer {
  path: string;
  real_path: string;
  /** `${ino}:${size}:${mtimeNs}:${ctimeNs}` of real_path */
  identity: string;
}

const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

function isEntry(v: unknown): v is Entry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.path === 'string' && typeof e.real_path === 'string' && typeof e.identity === 'string' && isNullableString(e.version) && isNullableString(e.build) && isNullableString(e.version_line);
}

/** Which file this is now, or null when it cannot be stat'ed. */
export async function fileIdentity(file: string): Promise<string | null> {
  try {
    const st = await stat(file, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return null;
  }
}

export class QemuVersionCache {
  private entries = new Map<string, Entry>();
  private dirty = false;

  private constructor(private readonly file: string) {}

  /** The cache kept in `stateDir` (empty when there is none yet, or it is unreadable). */
  static async open(stateDir: string): Promise<QemuVersionCache> {
    const cache = new QemuVersionCache(path.join(stateDir, QEMU_VERSIONS_FILE));
    try {
      const data: unknown = JSON.parse(await readRegularFile(cache.file, MAX_BYTES));
      const list = typeof data === 'object' && data !== null ? (data as { binaries?: unknown }).binaries : null;
      if (Array.isArray(list)) for (const e of list.slice(0, MAX_ENTRIES)) if (isEntry(e)) cache.entries.set(e.path, e);
    } catch {
      // no cache yet, or not one we wrote: every binary is asked
    }
    return cache;
  }

  /** The remembered answer when `file` (resolving to `realPath`) is still the file that gave it. */
  get(file: string, realPath: string, identity: string | null): QemuVersionAnswer | null {
    const e = this.entries.get(file);
    if (e === undefined || identity === null || e.real_path !== realPath || e.identity !== identity) return null;
    return { version: e.version, build: e.build, version_line: e.version_line };
  }

  /** Remembers a clean answer (failures and timeouts are asked again next time). */
  set(file: string, realPath: string, identity: string | null, answer: QemuVersionAnswer): void {
    if (identity === null) return;
    this.entries.set(file, { path: file, real_path: realPath, identity, ...answer });
    this.dirty = true;
  }

  /** Keeps only the binaries found this time and writes the file (atomically) when it changed. */
  async save(found: readonly string[]): Promise<void> {
    for (const p of [...this.entries.keys()]) {
      if (!found.includes(p)) {
        this.entries.delete(p);
        this.dirty = true;
      }
    }
    if (!this.dirty) return;
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify({ binaries: [...this.entries.values()].slice(0, MAX_ENTRIES) })}\n`, { mode: 0o644, flag: 'wx' });
      await rename(tmp, this.file);
      this.dirty = false;
    } catch {
      await unlink(tmp).catch(() => undefined); // read-only or missing state dir: asked again next time
    }
  }
}
