// Node >= 22.1 can keep the V8 code of the modules it compiles on disk (module.enableCompileCache):
// a later start reads the command's bundle as code instead of parsing and compiling it again. The
// cache is code this process will run, so its directory must be this user's alone: made 0700, and
// used only when it is a real directory (not a link) owned by us that nobody else may write to. It
// lives under /var/tmp, never under a directory taken from the environment (TMPDIR may point into
// some user's home). Anything that goes wrong only leaves the cache off: it never changes an answer.
import module from 'node:module';
import { lstatSync, mkdirSync } from 'node:fs';

export const COMPILE_CACHE_ROOT = '/var/tmp';

/** The directory for this user's cache, or null when there is none we may trust. */
export function privateCacheDir(root: string = COMPILE_CACHE_ROOT, uid: number = process.getuid?.() ?? -1): string | null {
  if (uid < 0) return null;
  const dir = `${root}/xfsguard-compile-cache-${uid}`;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? dir : null;
  } catch {
    return null;
  }
}

/** Turns the compile cache on where this Node has one (a no-op on Node 20). */
export function enableCompileCache(): void {
  const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (typeof enable !== 'function') return;
  const dir = privateCacheDir();
  if (dir === null) return;
  try {
    enable(dir);
  } catch {
    // no cache: the same answer, compiled afresh
  }
}
