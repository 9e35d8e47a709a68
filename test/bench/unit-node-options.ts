// The NODE_OPTIONS the systemd unit (service/systemd/xfsguard.service) gives `xfsguard serve`, so
// that benches run the service with the V8 flags it ships with.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const UNIT_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'service', 'systemd', 'xfsguard.service');

/** The words of the unit's `Environment="NODE_OPTIONS=…"` line; none when it has no such line. */
export function unitNodeOptions(unitFile = UNIT_FILE): string[] {
  for (const line of readFileSync(unitFile, 'utf8').split('\n')) {
    const m = /^Environment="NODE_OPTIONS=([^"]*)"$/.exec(line.trim());
    if (m !== null) return m[1]!.split(/\s+/).filter((w) => w !== '');
  }
  return [];
}
