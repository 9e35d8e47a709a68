// What `npm pack` puts in the tarball: the built CLI, the prebuilt addon, the native sources for
// the node-gyp fallback, units, hook, README, LICENSE — and nothing of the development tree.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { UNIT_NAMES } from '../service/host/installer.js';
import { ensurePrebuild, have } from './helpers/prebuild.js';
import { REPO_ROOT } from './helpers/run-cli.js';

interface PackEntry { path: string; size: number }
interface PackResult { entryCount: number; size: number; unpackedSize: number; files: PackEntry[] }

const SOURCE_DIRS = ['native', 'probes', 'policies', 'service'];
const ALLOWED = [
  /^(LICENSE|README\.md|package\.json|binding\.gyp)$/,
  /^dist\/(native|probes|policies|service)\/.+\.js$/,
  /^prebuilds\/linux-x64\/[^/]+\.node$/,
  /^native\/src\/[^/]+\.(cc|h)$/,
  /^service\/systemd\/[^/]+\.(service|timer|json)$/,
  /^service\/hooks\/.+$/,
];

function tsSources(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.posix.join(dir, f));
}

function pack(t: { skip(m: string): void }): PackResult | null {
  if (!have('npm')) {
    t.skip('npm is not on PATH');
    return null;
  }
  const why = ensurePrebuild();
  if (why !== null) {
    t.skip(why);
    return null;
  }
  // --ignore-scripts: dist/ is built by test/run-tests.mjs; `prepare` would only rebuild it.
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const [result] = JSON.parse(r.stdout) as PackResult[];
  assert.ok(result);
  return result;
}

test('the tarball holds exactly the runtime files', (t) => {
  const result = pack(t);
  if (result === null) return;
  const files = result.files.map((f) => f.path).sort();
  t.diagnostic(`${result.entryCount} files, ${result.size} bytes packed, ${result.unpackedSize} unpacked`);

  const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
  assert.deepEqual(stray, [], 'no test, CI, config or build-tree file is shipped');

  const gyp = readFileSync(path.join(REPO_ROOT, 'binding.gyp'), 'utf8');
  const gypSources = [...gyp.matchAll(/'(native\/src\/[^']+)'/g)].map((m) => m[1]!);
  const required = [
    'LICENSE', 'README.md', 'package.json', 'binding.gyp', 'prebuilds/linux-x64/xfsguard.glibc.node',
    (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.xfsguard!,
    ...gypSources, 'native/src/glibc-compat.h',
    ...UNIT_NAMES.map((u) => `service/systemd/${u}`), 'service/systemd/policy.json', 'service/hooks/libvirt-qemu',
    // Every production module, built.
    ...SOURCE_DIRS.flatMap(tsSources).map((f) => `dist/${f.replace(/\.ts$/, '.js')}`),
  ];
  assert.ok(gypSources.length >= 2, `binding.gyp sources read: ${gypSources.join(' ')}`);
  assert.deepEqual(required.filter((f) => !files.includes(f)), [], 'missing from the tarball');
  // Nothing stale: every shipped module has its source.
  // (dist/service/cli/chunks/: the CLI bundle's chunks, tools/bundle-cli.mjs.)
  const orphans = files.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/service/cli/chunks/') && !existsSync(path.join(REPO_ROOT, f.slice('dist/'.length).replace(/\.js$/, '.ts'))));
  assert.deepEqual(orphans, [], 'dist/ files without a source (stale build output)');
  // Every header the fallback build needs ships: the sources' local #includes.
  for (const src of files.filter((f) => /^native\/src\/.+\.(cc|h)$/.test(f))) {
    for (const m of readFileSync(path.join(REPO_ROOT, src), 'utf8').matchAll(/^#include "([^"]+)"/gm)) {
      assert.ok(files.includes(path.posix.join('native/src', m[1]!)), `${src} includes ${m[1]}`);
    }
  }
});

test('every runtime dependency is imported or used by the native build', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const code = SOURCE_DIRS.flatMap(tsSources).map((f) => readFileSync(path.join(REPO_ROOT, f), 'utf8')).join('\n');
  const gyp = readFileSync(path.join(REPO_ROOT, 'binding.gyp'), 'utf8');
  const unused = Object.keys(pkg.dependencies).filter((dep) => {
    const quoted = new RegExp(`['"]${dep.replace(/[/.]/g, '\\$&')}(/[^'"]*)?['"]`);
    return !quoted.test(code) && !gyp.includes(`require('${dep}')`);
  });
  assert.deepEqual(unused, [], 'runtime dependencies nothing imports');
});
