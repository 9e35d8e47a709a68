// The host's QEMU binaries and their versions, for "is the QEMU that will open the image exposed?"
// (policies/qemu-exposure.ts judges them). Found once at start-up — each `--version` is a process —
// and bounded in time: a binary that does not answer in time is reported, never waited for.
import { constants } from 'node:fs';
import { access, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { dirIdentity, fileIdentity, type QemuVersionCache } from './qemu-version-cache.js';

export interface QemuBinaryFacts {
  /** Where it was found. */
  path: string;
  /** The file it resolves to (qemu-kvm is often a link to qemu-system-x86_64). */
  real_path: string;
  role: 'system' | 'kvm' | 'img';
  /** x.y.z from `--version`, or null. */
  version: string | null;
  /** The parenthesised build/package string after the version, e.g. "Debian 1:7.2+dfsg-7+deb12u18". */
  build: string | null;
  /** The first line `--version` printed. */
  version_line: string | null;
  /** Why the version could not be read, else null. */
  error: string | null;
}

export interface QemuFacts {
  binaries: QemuBinaryFacts[];
  /** The directories searched, in order. */
  searched: string[];
  duration_ms: number;
  /** Set when binaries were left out (too many) or the search itself failed. */
  note: string | null;
}

export interface QemuProbeOptions {
  /** PATH to search (default: this process's PATH). */
  pathEnv?: string;
  /** Directories searched after PATH (default: /usr/libexec, /usr/bin, /usr/local/bin). */
  extraDirs?: readonly string[];
  /** Time for all `--version` runs together (default 5000 ms). */
  timeoutMs?: number;
  /** At most this many distinct binaries are asked (default 24). */
  maxBinaries?: number;
  /** Answers remembered from earlier runs, used while the file is unchanged (see qemu-version-cache.ts). */
  versionCache?: QemuVersionCache;
}

const DEFAULT_DIRS = ['/usr/libexec', '/usr/bin', '/usr/local/bin'];
/** One line like "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)" or "qemu-img version 8.2.2". */
const VERSION_LINE = /\bversion\s+(\d+\.\d+(?:\.\d+)?)(?:\s*\(([^)]*)\))?/;

/** The version and build string of a `--version` output's first line, or null. */
export function parseQemuVersion(output: string): { version: string; build: string | null; line: string } | null {
  const line = output.split('\n').find((l) => l.trim() !== '') ?? '';
  const m = VERSION_LINE.exec(line);
  if (m === null) return null;
  return { version: m[1] as string, build: m[2]?.trim() || null, line: line.trim() };
}

function roleOf(name: string): QemuBinaryFacts['role'] | null {
  if (name === 'qemu-kvm') return 'kvm';
  if (name === 'qemu-img') return 'img';
  if (/^qemu-system-[A-Za-z0-9_.-]+$/.test(name)) return 'system';
  return null;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The QEMU names in `dir`, sorted (remembered while the directory is unchanged: /usr/bin holds thousands). */
async function qemuNames(dir: string, cache: QemuVersionCache | undefined): Promise<string[] | null> {
  const identity = cache ? await dirIdentity(dir) : null;
  const known = cache?.dirNames(dir, identity);
  if (known) return known;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return null; // a PATH entry that does not exist is no error
  }
  const names = entries.filter((n) => roleOf(n) !== null).sort();
  cache?.setDirNames(dir, identity, names);
  return names;
}

/** QEMU binaries in `dirs`, first occurrence of each name, distinct files only. */
async function findBinaries(dirs: readonly string[], cache: QemuVersionCache | undefined): Promise<{ path: string; real_path: string; role: QemuBinaryFacts['role'] }[]> {
  const found: { path: string; real_path: string; role: QemuBinaryFacts['role'] }[] = [];
  const names = new Set<string>();
  const files = new Set<string>();
  for (const dir of dirs) {
    const entries = await qemuNames(dir, cache);
    if (entries === null) continue;
    for (const name of entries) {
      const role = roleOf(name);
      if (role === null || names.has(name)) continue;
      const file = path.join(dir, name);
      if (!(await isExecutableFile(file))) continue;
      names.add(name);
      const real = await realpath(file).catch(() => file);
      if (files.has(real)) continue;
      files.add(real);
      found.push({ path: file, real_path: real, role });
    }
  }
  return found;
}

/** `file --version`, killed at the deadline. */
async function readVersion(file: string, deadline: number): Promise<{ out: string; error: string | null }> {
  // loaded only when a binary is asked: with every answer cached, `check` starts no process (issue 11)
  const { execFile } = await import('node:child_process');
  const timeout = Math.max(1, deadline - Date.now());
  return new Promise((resolve) => {
    execFile(
      file,
      ['--version'],
      { timeout, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } },
      (err, stdout) => {
        if (err === null) resolve({ out: stdout, error: null });
        else if (err.killed) resolve({ out: '', error: `--version did not answer within ${timeout} ms` });
        else resolve({ out: stdout, error: `--version failed: ${err.message.split('\n')[0]}` });
      },
    );
  });
}

/** Finds the host's QEMU binaries and reads their versions: once, within `timeoutMs` for all. */
export async function gatherQemuFacts(opts: QemuProbeOptions = {}): Promise<QemuFacts> {
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? 5000);
  const pathDirs = (opts.pathEnv ?? process.env.PATH ?? '').split(':').filter((d) => path.isAbsolute(d));
  const searched = [...new Set([...pathDirs, ...(opts.extraDirs ?? DEFAULT_DIRS)])];
  const all = await findBinaries(searched, opts.versionCache);
  const max = opts.maxBinaries ?? 24;
  const asked = all.slice(0, max);
  const binaries = await Promise.all(
    asked.map(async (b): Promise<QemuBinaryFacts> => {
      const identity = opts.versionCache ? await fileIdentity(b.real_path) : null;
      const known = opts.versionCache?.get(b.path, b.real_path, identity);
      if (known) return { ...b, ...known, error: null };
      const { out, error } = await readVersion(b.path, deadline);
      const parsed = parseQemuVersion(out);
      const answer = { version: parsed?.version ?? null, build: parsed?.build ?? null, version_line: parsed?.line ?? null };
      if (error === null && parsed !== null) opts.versionCache?.set(b.path, b.real_path, identity, answer);
      return { ...b, ...answer, error: error ?? (parsed === null ? `no version in: ${out.split('\n')[0]?.slice(0, 120) ?? ''}` : null) };
    }),
  );
  await opts.versionCache?.save(asked.map((b) => b.path), searched);
  const note = all.length > max ? `${all.length - max} more QEMU binaries not asked (at most ${max})` : null;
  return { binaries, searched, duration_ms: Date.now() - started, note };
}
