// The environment the systemd unit (service/systemd/xfsguard.service) gives `xfsguard serve`
// (NODE_OPTIONS with the V8 heap flags, MALLOC_ARENA_MAX), so that benches run the service as it ships.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const UNIT_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'service', 'systemd', 'xfsguard.service');

/**
 * The unit's Environment= assignments: each line holds space-separated VAR=value words, a word in
 * double quotes may hold spaces (systemd.exec); a later assignment replaces an earlier one.
 */
export function unitEnvironment(unitFile = UNIT_FILE): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(unitFile, 'utf8').split('\n')) {
    const m = /^Environment=(.*)$/.exec(line.trim());
    if (m === null) continue;
    for (const word of m[1]!.matchAll(/"([^"]*)"|(\S+)/g)) {
      const kv = word[1] ?? word[2]!;
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return env;
}
