// Real filesystems for tests: an XFS image on a loop device, mounted by the test and removed after.
// Needs root, /dev/loop-control, mkfs.xfs and mount; when one is missing, `reason` says which and the
// caller skips with it (CI has all of them).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';

export interface LoopMount {
  mountPoint: string;
  image: string;
  cleanup(): void;
}

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why a loop-mounted filesystem cannot be made here, or null when it can. */
export function loopMountUnavailable(mkfs = 'mkfs.xfs'): string | null {
  if (process.getuid?.() !== 0) return 'needs root to attach a loop device and mount it';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control on this machine';
  for (const cmd of [mkfs, 'mount', 'umount', 'losetup']) {
    if (!have(cmd)) return `${cmd} is not installed (apt-get install xfsprogs mount)`;
  }
  return null;
}

/**
 * Makes a filesystem image (sparse, on /var/tmp, not tmpfs), formats it and loop-mounts it.
 * `fsType` 'xfs' or 'ext4'. Throws when mounting fails although loopMountUnavailable() said it could.
 */
export function mountLoopFs(fsType: 'xfs' | 'ext4' = 'xfs', sizeMiB = 512): LoopMount {
  const base = mkdtempSync(path.join('/var/tmp', `xfsguard-test-${fsType}-`));
  const image = path.join(base, 'fs.img');
  const mountPoint = path.join(base, 'mnt');
  execFileSync('truncate', ['-s', `${sizeMiB}M`, image]);
  if (fsType === 'xfs') execFileSync('mkfs.xfs', ['-q', '-f', image]);
  else execFileSync('mkfs.ext4', ['-q', '-F', image]);
  execFileSync('mkdir', ['-p', mountPoint]);
  execFileSync('mount', ['-o', 'loop', image, mountPoint]);
  let done = false;
  return {
    mountPoint,
    image,
    cleanup() {
      if (done) return;
      done = true;
      try {
        execFileSync('umount', [mountPoint], { stdio: 'ignore' });
      } catch {
        execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

interface TestLike {
  skip(message?: string): void;
  diagnostic(message: string): void;
  after(fn: () => void): void;
}

/** A fresh loop-mounted filesystem for this test, removed after it; or null, with the test skipped and why printed. */
export function loopFsOrSkip(t: TestLike, fsType: 'xfs' | 'ext4' = 'xfs'): LoopMount | null {
  const why = loopMountUnavailable(fsType === 'xfs' ? 'mkfs.xfs' : 'mkfs.ext4');
  if (why !== null) {
    t.diagnostic(`skipped: ${why}`);
    t.skip(why);
    return null;
  }
  const m = mountLoopFs(fsType);
  t.after(() => m.cleanup());
  return m;
}

/** A fresh tmpfs mounted for this test (size in MiB), removed after it; or null, with the test skipped. */
export function tmpfsOrSkip(t: TestLike, sizeMiB = 256): string | null {
  const why = loopMountUnavailable('mount');
  if (why !== null) {
    t.diagnostic(`skipped: ${why}`);
    t.skip(why);
    return null;
  }
  const dir = mkdtempSync(path.join('/var/tmp', 'xfsguard-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
