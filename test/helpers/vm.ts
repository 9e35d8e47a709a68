// Boots the test kernels in ../shared/vm under QEMU (run.sh) and collects what the guest printed.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './run-cli.js';

export const VM_DIR = process.env.XFSGUARD_VM_DIR ?? path.resolve(REPO_ROOT, '..', 'shared', 'vm');
export const BROKEN_KERNEL = path.join(VM_DIR, 'kernels', 'bzImage-6.1.192-xfsrace');
export const FIXED_KERNEL = path.join(VM_DIR, 'kernels', 'bzImage-6.1.192');
/** Broken the way pre-5.5 kernels were: the race QEMU's own workaround was made for. */
export const PRE55_KERNEL = path.join(VM_DIR, 'kernels', 'bzImage-6.1.192-xfsrace-pre55');
/** When set, every boot holds this lock file (flock), so test runs sharing a machine boot one VM at a time. */
const VM_LOCK = process.env.XFSGUARD_VM_LOCK;

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(path.join(d, cmd)));
}

/** Why the test VMs cannot be booted here, or null when they can. */
export function vmUnavailable(): string | null {
  if (!existsSync(path.join(VM_DIR, 'run.sh'))) return `no test VM runner at ${VM_DIR}/run.sh (../shared/vm beside the checkout)`;
  for (const k of [BROKEN_KERNEL, FIXED_KERNEL]) if (!existsSync(k)) return `test kernel ${k} is missing`;
  if (!onPath('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (!onPath('mkfs.xfs')) return 'mkfs.xfs is not installed (apt-get install xfsprogs)';
  if (!existsSync(path.join(REPO_ROOT, 'build', 'Release', 'xfsguard_native.node'))) return 'native addon not built (npm run install)';
  if (hiddenInGuest(REPO_ROOT) && process.getuid?.() !== 0) {
    return `the checkout ${REPO_ROOT} is under a path the VM replaces with tmpfs, and only root can bind-mount it elsewhere`;
  }
  return null;
}

/** The guest mounts fresh tmpfs over these: a checkout below them is invisible inside the VM. */
function hiddenInGuest(dir: string): boolean {
  return ['/tmp', '/var/tmp', '/root', '/run'].some((p) => dir === p || dir.startsWith(`${p}/`));
}

const guestDirs = new Map<string, string>();

/**
 * Where the guest sees a host directory: the directory itself, its real path (a symlink under a
 * hidden path, e.g. CI's /var/tmp/shared -> /work/shared), or, when the guest hides even that (a CI
 * clone in /var/tmp), a bind mount of it under /srv, removed at exit.
 */
export function guestVisibleDir(dir: string): string {
  const known = guestDirs.get(dir);
  if (known !== undefined) return known;
  const real = hiddenInGuest(dir) ? realpathSync(dir) : dir;
  let seen = real;
  if (hiddenInGuest(real)) {
    seen = `/srv/xfsguard-vm-${path.basename(real)}-${process.pid}`;
    mkdirSync(seen, { recursive: true });
    execFileSync('mount', ['--bind', real, seen]);
    process.on('exit', () => {
      try {
        execFileSync('umount', ['-l', seen]);
        rmdirSync(seen);
      } catch {
        // best effort at exit
      }
    });
  }
  guestDirs.set(dir, seen);
  return seen;
}

export interface VmRun {
  code: number | null;
  output: string;
  ms: number;
}

/** Boots `kernel`, runs `command` in the repo root inside the VM, resolves with its exit status and output. */
export function runInVm(kernel: string, command: string, opts: { timeoutMs?: number; runArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<VmRun> {
  const started = Date.now();
  const cwd = guestVisibleDir(REPO_ROOT);
  return new Promise((resolve, reject) => {
    const argv = ['sh', path.join(VM_DIR, 'run.sh'), kernel, ...(opts.runArgs ?? []), '--', command];
    if (VM_LOCK !== undefined && VM_LOCK !== '') argv.unshift('flock', VM_LOCK);
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd,
      // run.sh takes the guest's working directory from `pwd`, which trusts $PWD when it names the
      // same directory: through a bind mount the checkout's own path would, so set it.
      env: { ...process.env, ...opts.env, PWD: cwd },
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group: a timeout ends run.sh and its QEMU too, not only the first process
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}

/** Lines the guest printed as `@@<tag> <base64 of JSON>` decoded, keyed by their first word. */
export function guestResults(output: string, tag: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const re = new RegExp(`^@@${tag} (\\S+) (\\S+)\\s*$`, 'gm');
  for (const m of output.matchAll(re)) {
    out.set(m[1] as string, JSON.parse(Buffer.from(m[2] as string, 'base64').toString('utf8')));
  }
  return out;
}
