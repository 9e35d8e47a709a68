// The shipped addon loads on glibc 2.28 (RHEL 8) and GCC 8's libstdc++: no imported symbol
// version above GLIBC_2.28, GLIBCXX_3.4.25 or CXXABI_1.3.11 (native/src/glibc-compat.h).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PREBUILD, ensurePrebuild, have } from './helpers/prebuild.js';
import { REPO_ROOT } from './helpers/run-cli.js';

const CEILING: Record<string, string> = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11' };

function newer(a: string, b: string): boolean {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return false;
}

/** The versioned symbols a shared object imports, as "name@FAMILY_x.y", from objdump -T or readelf. */
export function importedVersions(file: string): string[] {
  const tool = have('objdump') ? ['objdump', '-T', file] : ['readelf', '--dyn-syms', '-W', file];
  const r = spawnSync(tool[0]!, tool.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${tool.join(' ')}: ${r.stderr}`);
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    // objdump: "... *UND* ... (GLIBC_2.33) fstat64"; readelf: "... UND fstat64@GLIBC_2.33 (3)".
    if (!/\*UND\*|\bUND\b/.test(line)) continue;
    const obj = /(?:^|\s)\(?((?:GLIBC|GLIBCXX|CXXABI)_[\d.]+)\)?\s+(\S+)$/.exec(line.trim());
    const elf = /(\S+?)@+((?:GLIBC|GLIBCXX|CXXABI)_[\d.]+)/.exec(line);
    if (obj !== null) out.push(`${obj[2]}@${obj[1]}`);
    else if (elf !== null) out.push(`${elf[1]}@${elf[2]}`);
  }
  return out;
}

function tooNew(file: string): string[] {
  return importedVersions(file).filter((s) => {
    const [, family, version] = /@([A-Z]+)_([\d.]+)$/.exec(s) ?? [];
    return family !== undefined && version !== undefined && CEILING[family] !== undefined && newer(version, CEILING[family]);
  });
}

test('the prebuilt addon imports no glibc/libstdc++ symbol version newer than RHEL 8 has', (t) => {
  if (!have('objdump') && !have('readelf')) {
    t.skip('neither objdump nor readelf is installed (apt-get install binutils)');
    return;
  }
  const why = ensurePrebuild();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const syms = importedVersions(PREBUILD);
  assert.ok(syms.some((s) => s.includes('@GLIBC_')), `the symbol versions were read: ${syms.join(' ')}`);
  assert.deepEqual(tooNew(PREBUILD), [], `${PREBUILD} needs a newer glibc/libstdc++ than RHEL 8's`);
  t.diagnostic(`${syms.length} versioned imports, newest GLIBC_${syms.map((s) => s.split('@GLIBC_')[1]).filter(Boolean).sort((a, b) => (newer(a!, b!) ? 1 : -1)).at(-1)}`);
});

test('a local node-gyp build (the fallback) keeps the same ceiling', (t) => {
  const local = path.join(REPO_ROOT, 'build', 'Release', 'xfsguard_native.node');
  if (!existsSync(local) || (!have('objdump') && !have('readelf'))) {
    t.skip(`no ${local} or no objdump/readelf`);
    return;
  }
  assert.deepEqual(tooNew(local), []);
});

test('the checker itself reports a too-new version (it can fail)', (t) => {
  // Programs built on this host's glibc (>= 2.34) import __libc_start_main@GLIBC_2.34.
  const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ?? '0';
  if ((!have('objdump') && !have('readelf')) || !newer(glibc, '2.33')) {
    t.skip(`needs objdump/readelf and glibc >= 2.34 (have ${glibc})`);
    return;
  }
  assert.ok(tooNew('/bin/ls').includes('__libc_start_main@GLIBC_2.34'), tooNew('/bin/ls').join(' '));
});
