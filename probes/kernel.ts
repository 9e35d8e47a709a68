// The kernel probe: the running release and what identifies its build. Built-ins and /proc only,
// so it is cheap enough for every request; systeminformation (probes/host.ts) is for /v1/host diagnostics only.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { parseKernelRelease } from '../policies/kernel-release.js';
import type { DistroFacts, KernelFacts } from './types.js';

async function readTrimmed(file: string): Promise<string | null> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

/** /etc/os-release as key → value, quotes and escapes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m === null) continue;
    let value = m[2] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    }
    out[m[1] as string] = value;
  }
  return out;
}

export function distroFrom(osRelease: Record<string, string>): DistroFacts {
  return {
    id: osRelease.ID ?? null,
    version_id: osRelease.VERSION_ID ?? null,
    pretty_name: osRelease.PRETTY_NAME ?? null,
    id_like: (osRelease.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
  };
}

export interface KernelProbeSources {
  release?: string;
  version?: string;
  procDir?: string;
  osReleaseFile?: string;
}

export async function probeKernel(src: KernelProbeSources = {}): Promise<KernelFacts> {
  const release = src.release ?? os.release();
  const procDir = src.procDir ?? '/proc';
  const [signature, bootId, osReleaseText] = await Promise.all([
    readTrimmed(`${procDir}/version_signature`),
    readTrimmed(`${procDir}/sys/kernel/random/boot_id`),
    readTrimmed(src.osReleaseFile ?? '/etc/os-release').then(async (t) => t ?? (await readTrimmed('/usr/lib/os-release'))),
  ]);
  const version = src.version ?? os.version();
  return {
    release,
    version,
    version_signature: signature,
    // The one kernel-release parser, so that Debian/Ubuntu package versions count here too.
    upstream: parseKernelRelease(release, { version, ...(signature !== null ? { signature } : {}) }).upstream_string,
    distro: osReleaseText === null ? null : distroFrom(parseOsRelease(osReleaseText)),
    boot_id: bootId,
  };
}
