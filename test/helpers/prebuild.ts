// The prebuilt addon the package ships (prebuilds/linux-x64/, made by `npm run prebuild`): made
// here when it is missing or older than the native sources, as CI's `.ci/run` does before the tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './run-cli.js';

export const PREBUILD = path.join(REPO_ROOT, 'prebuilds', 'linux-x64', 'xfsguard.glibc.node');

export function have(cmd: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', env }).status === 0;
}

function newestSource(): number {
  const src = path.join(REPO_ROOT, 'native', 'src');
  const files = [path.join(REPO_ROOT, 'binding.gyp'), ...readdirSync(src).map((f) => path.join(src, f))];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

/** Makes the prebuild when it is stale; returns why it cannot be had here, or null. Throws when the build fails. */
export function ensurePrebuild(): string | null {
  if (existsSync(PREBUILD) && statSync(PREBUILD).mtimeMs >= newestSource()) return null;
  for (const cmd of ['c++', 'make', 'python3', 'npm']) {
    if (!have(cmd)) return `no fresh ${path.relative(REPO_ROOT, PREBUILD)} and no ${cmd} to make it (npm run prebuild)`;
  }
  const r = spawnSync('npm', ['run', 'prebuild'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`npm run prebuild failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return null;
}
