// The package root and version: the code runs both as source (tsx) and built (dist/), at different depths.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../native/index.js';

export const PACKAGE_ROOT = packageRoot();

export const XFSGUARD_VERSION: string = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
