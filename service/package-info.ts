// The package root and version, found by walking up from this file: it runs both as source
// (service/package-info.ts under tsx) and built (dist/service/package-info.js).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('xfsguard: cannot find package.json above the running code');
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

export const XFSGUARD_VERSION: string = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
