// The state directory (self-test records) is named by a user (--state-dir, XFSGUARD_STATE_DIR):
// it must be a real directory on a real filesystem. Node's recursive mkdir spins at 100 % CPU under
// /proc and reports ENOENT where the kernel said EROFS, so directories are made one level at a
// time here, and the kernel's own errno is what the caller sees.
import { realpathSync, statfsSync } from 'node:fs';
import { mkdir, realpath, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { lookupMagic } from './fs-magic.js';
import { isUnderPseudoRoot } from './path-input.js';

export class StateDirError extends Error {
  override name = 'StateDirError';
  constructor(
    message: string,
    /** Errno-like, so that callers printing `err.code` say something useful. */
    readonly code: 'EPSEUDOFS' | 'ENOTDIR' = 'EPSEUDOFS',
  ) {
    super(message);
  }
}

function errnoError(code: string, syscall: string, where: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${syscall} '${where}'`);
  err.code = code;
  err.syscall = syscall;
  err.path = where;
  return err;
}

/** Why `real` (a resolved, existing directory) cannot hold state, or null when it can. */
function pseudoProblem(dir: string, real: string, magic: number): string | null {
  const entry = lookupMagic(magic);
  if (isUnderPseudoRoot(real) || entry.class === 'pseudo') {
    return `${dir} is on ${entry.class === 'pseudo' ? entry.name : real}, a pseudo filesystem (/proc, /sys, /dev): xfsguard keeps nothing there; use a directory on a real filesystem`;
  }
  return null;
}

/**
 * Checks a state directory before anything is written there: its nearest existing ancestor must
 * not be on a pseudo filesystem. Synchronous: the CLI checks it with its other flags. Permission,
 * read-only and not-a-directory problems are left to the write (the directory may never be written,
 * and boot-check reports an unwritable state directory with exit 1, as it always has).
 */
export function checkStateDirSync(dir: string): void {
  let current = path.resolve(dir);
  for (;;) {
    let real: string;
    try {
      real = realpathSync(current);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) return;
      current = parent;
      continue;
    }
    const problem = pseudoProblem(dir, real, Number(statfsSync(real).type) >>> 0);
    if (problem !== null) throw new StateDirError(`the state directory ${problem}`);
    return;
  }
}

/**
 * Makes `dir` and its missing parents with `mode`, one level at a time, refusing pseudo
 * filesystems; errors carry the kernel's errno (EROFS, EACCES, ENOTDIR, ENOSPC) for the path that failed.
 */
export async function ensureDirectory(dir: string, mode = 0o755): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    try {
      if (!(await stat(current)).isDirectory()) throw errnoError('ENOTDIR', 'mkdir', current);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = path.dirname(current);
      if (parent === current) throw err;
      missing.unshift(current);
      current = parent;
    }
  }
  const real = await realpath(current);
  const problem = pseudoProblem(dir, real, Number((await statfs(real)).type) >>> 0);
  if (problem !== null) throw new StateDirError(problem);
  for (const d of missing) {
    try {
      await mkdir(d, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
