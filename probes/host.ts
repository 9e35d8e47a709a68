// Host facts for diagnostics (GET /v1/host): systeminformation spawns processes, so this runs
// once at start-up, bounded in time, and never per request.
import type { DistroFacts } from './types.js';

/** Host facts gathered once at start-up (systeminformation is never called per request). */
export interface HostFacts {
  hostname: string | null;
  arch: string | null;
  platform: string | null;
  distro: DistroFacts | null;
  /** What systeminformation could not tell, if anything. */
  note: string | null;
}

/** Host facts from systeminformation, once, bounded in time; never per request. */
export async function gatherHostFacts(timeoutMs = 5000): Promise<HostFacts> {
  const fallback = (note: string): HostFacts => ({ hostname: null, arch: process.arch, platform: process.platform, distro: null, note });
  let timer: NodeJS.Timeout | undefined;
  try {
    const si = await import('systeminformation');
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`systeminformation did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const os = await Promise.race([si.osInfo(), timeout]);
    return {
      hostname: os.fqdn || os.hostname || null,
      arch: os.arch || process.arch,
      platform: os.platform || process.platform,
      distro: { id: null, version_id: os.release || null, pretty_name: os.distro || null, id_like: [] },
      note: null,
    };
  } catch (err) {
    return fallback(err instanceof Error ? err.message : String(err));
  } finally {
    clearTimeout(timer);
  }
}
