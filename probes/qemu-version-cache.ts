// Remembers what each QEMU binary's `--version` said, in the state directory, so that `check` does not
// start every QEMU on the host at every run (three system emulators cost more than node's own start-up,
// issue 11). An entry holds only while the file is the same one: same path, resolved path, inode, size,
// mtime and ctime (a package upgrade replaces the file, and any change to it moves ctime); anything else
// is asked again. It is a cache: an unreadable, malformed or unwritable file is no error.
import { randomBytes } from './random-bytes.js';
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

/** The QEMU names a searched directory held, while the directory is unchanged (`${ino}:${mtimeNs}:${ctimeNs}`). */
interface DirEntry {
  dir: string;
  identity: string;
  names: string[];
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

function isDirEntry(v: unknown): v is DirEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.dir === 'string' && typeof e.identity === 'string' && Array.isArray(e.names) && e.names.every((n) => typeof n === 'string');
}

/** Which directory this is now (a name added or removed moves its mtime), or null. */
export async function dirIdentity(dir: string): Promise<string | null> {
  try {
    const st = await stat(dir, { bigint: true });
    return st.isDirectory() ? `${st.ino}:${st.mtimeNs}:${st.ctimeNs}` : null;
  } catch {
    return null;
  }
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
  private dirs = new Map<string, DirEntry>();
  private dirty = false;

  private constructor(private readonly file: string) {}

  /** The cache kept in `stateDir` (empty when there is none yet, or it is unreadable). */
  static async open(stateDir: string): Promise<QemuVersionCache> {
    const cache = new QemuVersionCache(path.join(stateDir, QEMU_VERSIONS_FILE));
    try {
      const data: unknown = JSON.parse(await readRegularFile(cache.file, MAX_BYTES));
      const list = typeof data === 'object' && data !== null ? (data as { binaries?: unknown }).binaries : null;
      if (Array.isArray(list)) for (const e of list.slice(0, MAX_ENTRIES)) if (isEntry(e)) cache.entries.set(e.path, e);
      const dirs = typeof data === 'object' && data !== null ? (data as { directories?: unknown }).directories : null;
      if (Array.isArray(dirs)) for (const d of dirs.slice(0, MAX_ENTRIES)) if (isDirEntry(d)) cache.dirs.set(d.dir, d);
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

  /** The QEMU names `dir` held when it was last listed, if it is unchanged since. */
  dirNames(dir: string, identity: string | null): string[] | null {
    const d = this.dirs.get(dir);
    return d === undefined || identity === null || d.identity !== identity ? null : d.names;
  }

  setDirNames(dir: string, identity: string | null, names: string[]): void {
    if (identity === null) return;
    this.dirs.set(dir, { dir, identity, names });
    this.dirty = true;
  }

  /** Keeps only the binaries found this time and writes the file (atomically) when it changed. */
  async save(found: readonly string[], searched: readonly string[]): Promise<void> {
    for (const d of [...this.dirs.keys()]) {
      if (!searched.includes(d)) {
        this.dirs.delete(d);
        this.dirty = true;
      }
    }
    for (const p of [...this.entries.keys()]) {
      if (!found.includes(p)) {
        this.entries.delete(p);
        this.dirty = true;
      }
    }
    if (!this.dirty) return;
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify({ binaries: [...this.entries.values()].slice(0, MAX_ENTRIES), directories: [...this.dirs.values()].slice(0, MAX_ENTRIES) })}\n`, { mode: 0o644, flag: 'wx' });
      await rename(tmp, this.file);
      this.dirty = false;
    } catch {
      await unlink(tmp).catch(() => undefined); // read-only or missing state dir: asked again next time
    }
  }
}
