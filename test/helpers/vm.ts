// Boots the test kernels in ../shared/vm under QEMU (run.sh) and collects what the guest printed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './run-cli.js';

export const VM_DIR = process.env.XFSGUARD_VM_DIR ?? path.resolve(REPO_ROOT, '..', 'shared', 'vm');
export const BROKEN_KERNEL = path.join(VM_DIR, 'kernels', 'bzImage-6.1.192-xfsrace');
export const FIXED_KERNEL = path.join(VM_DIR, 'kernels', 'bzImage-6.1.192');

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(path.join(d, cmd)));
}

/** Why the test VMs cannot be booted here, or null when they can. */
export function vmUnavailable(): string | null {
  if (!existsSync(path.join(VM_DIR, 'run.sh'))) return `no test VM runner at ${VM_DIR}/run.sh (../shared/vm beside the checkout)`;
  for (const k of [BROKEN_KERNEL, FIXED_KERNEL]) if (!existsSync(k)) return `test kernel ${k} is missing`;
  if (!onPath('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (!onPath('mkfs.xfs')) return 'mkfs.xfs is not installed (apt-get install xfsprogs)';
  return null;
}

export interface VmRun {
  code: number | null;
  output: string;
  ms: number;
}

/** Boots `kernel`, runs `command` in the repo root inside the VM, resolves with its exit status and output. */
export function runInVm(kernel: string, command: string, opts: { timeoutMs?: number; runArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<VmRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [path.join(VM_DIR, 'run.sh'), kernel, ...(opts.runArgs ?? []), '--', command], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
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
