// Host facts for diagnostics (GET /v1/host): of the host, /v1/host shows only its name, the
// architecture and the platform (the distro comes from the kernel probe). The name is the FQDN as
// `hostname -f` tells it: one process, asked on the first /v1/host only, killed at its time bound;
// never at start-up and never per request.
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
  /** The command that prints the FQDN (replaceable in tests); default `hostname -f`. */
  fqdnCommand?: readonly [string, ...string[]];
}

/** The FQDN `hostname -f` prints, or why there is none; bounded in time (the resolver may hang). */
async function askFqdn(command: readonly [string, ...string[]], timeoutMs: number): Promise<{ fqdn: string | null; note: string | null }> {
  const { execFile } = await import('node:child_process');
  const [file, ...args] = command;
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (err, stdout) => {
      const fqdn = stdout.split('\n')[0]?.trim() ?? '';
      if (err === null && fqdn !== '') resolve({ fqdn, note: null });
      else if (err?.killed === true) resolve({ fqdn: null, note: `${command.join(' ')} did not answer within ${timeoutMs} ms: the host name is the kernel's` });
      else resolve({ fqdn: null, note: `${command.join(' ')} failed (${err?.message.split('\n')[0] ?? 'no output'}): the host name is the kernel's` });
    });
  });
}

/** Host facts, once, bounded in time; never per request. */
export async function gatherHostFacts(opts: HostProbeOptions = {}): Promise<HostFacts> {
  const { fqdn, note } = await askFqdn(opts.fqdnCommand ?? ['hostname', '-f'], opts.timeoutMs ?? 5000);
  return { hostname: fqdn ?? (os.hostname() || null), arch: os.arch(), platform: process.platform, distro: null, note };
}
