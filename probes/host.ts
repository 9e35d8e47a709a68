// Host facts for diagnostics (GET /v1/host): of the host, /v1/host shows only its name, the
// architecture and the platform (the distro comes from the kernel probe). They come from
// systeminformation's osInfo(), asked on the first /v1/host only and in a child process killed at
// its time bound: osInfo() runs `hostname -f` and others with execSync, which would block the
// service's event loop past any bound (a hanging resolver). Never at start-up, never per request.
import { createRequire } from 'node:module';
import os from 'node:os';
import type { DistroFacts } from './types.js';

/** Host facts gathered once, when /v1/host first asks. */
export interface HostFacts {
  hostname: string | null;
  arch: string | null;
  platform: string | null;
  /** Not gathered here: /v1/host shows the kernel probe's distro (/etc/os-release). */
  distro: DistroFacts | null;
  /** What could not be told, if anything. */
  note: string | null;
}

export interface HostProbeOptions {
  timeoutMs?: number;
  /** The command that prints osInfo()'s JSON (replaceable in tests); default: node running systeminformation. */
  command?: readonly [string, ...string[]];
}

// Runs in the child: prints the fields of osInfo() that /v1/host shows, as one JSON object.
const CHILD_SCRIPT =
  'require(process.argv[1]).osInfo().then((o) => process.stdout.write(JSON.stringify({ fqdn: o.fqdn, hostname: o.hostname, arch: o.arch, platform: o.platform })), (e) => { process.stderr.write(String((e && e.message) || e)); process.exitCode = 1; });';

function defaultCommand(): [string, ...string[]] {
  return [process.execPath, '-e', CHILD_SCRIPT, createRequire(import.meta.url).resolve('systeminformation')];
}

interface OsInfo {
  fqdn?: unknown;
  hostname?: unknown;
  arch?: unknown;
  platform?: unknown;
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** osInfo()'s answer from the child, or why there is none; bounded in time. */
async function askOsInfo(command: readonly [string, ...string[]], timeoutMs: number): Promise<{ info: OsInfo | null; note: string | null }> {
  const { execFile } = await import('node:child_process');
  const [file, ...args] = command;
  const what = file === process.execPath ? 'systeminformation osInfo()' : command.join(' ');
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (err, stdout) => {
      if (err?.killed === true) return resolve({ info: null, note: `${what} did not answer within ${timeoutMs} ms: the host name is the kernel's` });
      if (err !== null) return resolve({ info: null, note: `${what} failed (${err.message.split('\n')[0] ?? 'no output'}): the host name is the kernel's` });
      try {
        const info = JSON.parse(stdout) as unknown;
        if (info !== null && typeof info === 'object') return resolve({ info, note: null });
      } catch {
        // not JSON: said below
      }
      resolve({ info: null, note: `${what} printed no host facts: the host name is the kernel's` });
    });
  });
}

/** Host facts, once, bounded in time; never per request. */
export async function gatherHostFacts(opts: HostProbeOptions = {}): Promise<HostFacts> {
  const { info, note } = await askOsInfo(opts.command ?? defaultCommand(), opts.timeoutMs ?? 5000);
  return {
    hostname: text(info?.fqdn) ?? text(info?.hostname) ?? (os.hostname() || null),
    arch: text(info?.arch) ?? os.arch(),
    platform: text(info?.platform) ?? process.platform,
    distro: null,
    note,
  };
}
