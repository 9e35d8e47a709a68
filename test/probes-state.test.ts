import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { distroFrom, parseOsRelease, probeKernel } from '../probes/kernel.js';
import { SelfTestCache, resolveStateDir } from '../probes/selftest-cache.js';
import { combineOutcomes, runSelfTest } from '../probes/selftest.js';
import { probeFilesystem } from '../probes/filesystem.js';
import type { RaceResult } from '../native/types.js';
import type { SelfTestReport } from '../probes/types.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join('/var/tmp', 'xfsguard-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function report(overrides: Partial<SelfTestReport> = {}): SelfTestReport {
  return {
    format_version: 1, outcome: 'not_reproduced', directory: '/mnt/xfs', device: '7:0', fs_uuid: null, fs_type: 'xfs',
    kernel_release: '6.1.192', boot_id: 'boot-a', started_at: '2026-11-24T00:00:00.000Z', duration_ms: 5, bytes_written: 4096,
    iterations: 1, reproductions: 0, engines: ['aio'], modes: ['alloc'], runs: [], reason: null, ...overrides,
  };
}

test('os-release parsing', () => {
  const osr = parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\nID_LIKE="rhel fedora"\n# comment\n');
  assert.deepEqual(distroFrom(osr), { id: 'debian', version_id: '12', pretty_name: 'Debian GNU/Linux 12 (bookworm)', id_like: ['rhel', 'fedora'] });
});

test('kernel probe reads this machine', async () => {
  const k = await probeKernel();
  assert.ok(k.release.length > 0);
  assert.ok(k.upstream !== null);
  assert.match(k.boot_id ?? '', /^[0-9a-f-]{36}$/);
  const what = await probeKernel({ release: '4.18.0-193.28.1.el8_2.x86_64', version: '#1 SMP' });
  assert.equal(what.release, '4.18.0-193.28.1.el8_2.x86_64');
  assert.equal(what.upstream, '4.18.0');
  const debian = await probeKernel({ release: '6.1.0-18-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)' });
  assert.equal(debian.upstream, '6.1.76', 'the package version, not the ABI number');
});

test('state directory: flag, then environment, then default', () => {
  assert.equal(resolveStateDir('/x', { XFSGUARD_STATE_DIR: '/y' }), '/x');
  assert.equal(resolveStateDir(undefined, { XFSGUARD_STATE_DIR: '/y' }), '/y');
  assert.equal(resolveStateDir(undefined, {}), '/var/lib/xfsguard');
});

test('cache: written atomically, read back for the same boot, kernel and filesystem only', async (t) => {
  const dir = tempDir(t);
  const warnings: string[] = [];
  const cache = new SelfTestCache(path.join(dir, 'state'), (m) => warnings.push(m));
  const r = report({ outcome: 'reproduced', reproductions: 1 });
  await cache.write(r);
  assert.deepEqual(readdirSync(path.join(dir, 'state')), ['selftest-7-0.json'], 'no temp file left behind');
  const key = { boot_id: 'boot-a', kernel_release: '6.1.192', device: '7:0', fs_uuid: null };
  const hit = await cache.read(key);
  assert.equal(hit?.report.outcome, 'reproduced');
  assert.equal(hit?.cached, true);
  assert.equal(await cache.read({ ...key, boot_id: 'boot-b' }), null, 'another boot');
  assert.equal(await cache.read({ ...key, kernel_release: '6.1.193' }), null, 'another kernel');
  assert.equal(await cache.read({ ...key, fs_uuid: 'u' }), null, 'another filesystem on that device');
  assert.equal(await cache.read({ ...key, boot_id: null }), null, 'no boot id: never reused');
  assert.equal(await cache.read({ ...key, device: '8:1' }), null);
  assert.deepEqual(warnings, []);
  assert.equal((await cache.list()).length, 1);
});

test('cache: a corrupt or foreign file is ignored with a warning, never a crash', async (t) => {
  const dir = tempDir(t);
  const warnings: string[] = [];
  const cache = new SelfTestCache(dir, (m) => warnings.push(m));
  const key = { boot_id: 'boot-a', kernel_release: '6.1.192', device: '7:0', fs_uuid: null };
  writeFileSync(path.join(dir, 'selftest-7-0.json'), '{"truncated": ');
  assert.equal(await cache.read(key), null);
  writeFileSync(path.join(dir, 'selftest-7-0.json'), JSON.stringify({ format: 'something-else', report: {} }));
  assert.equal(await cache.read(key), null);
  writeFileSync(path.join(dir, 'selftest-7-0.json'), JSON.stringify({ format: 'xfsguard-selftest-cache', format_version: 1, written_at: 'x', report: { ...report(), outcome: 'maybe' } }));
  assert.equal(await cache.read(key), null);
  assert.equal(warnings.length, 3);
  assert.match(warnings[0] ?? '', /not valid JSON/);
  assert.match(warnings[2] ?? '', /report\.outcome/);
  assert.deepEqual(await cache.list(), []);
});

test('cache: an unwritable state directory makes write fail, not read', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'file'), '');
  const cache = new SelfTestCache(path.join(dir, 'file', 'state'), () => undefined);
  await assert.rejects(cache.write(report()));
  assert.equal(await cache.read({ boot_id: 'boot-a', kernel_release: '6.1.192', device: '7:0', fs_uuid: null }), null);
});

test('outcomes combine: reproduced beats not_reproduced beats unsupported', () => {
  const run = (outcome: RaceResult['outcome']) => ({ outcome }) as RaceResult;
  assert.equal(combineOutcomes([run('unsupported'), run('reproduced'), run('not_reproduced')]), 'reproduced');
  assert.equal(combineOutcomes([run('unsupported'), run('not_reproduced')]), 'not_reproduced');
  assert.equal(combineOutcomes([run('unsupported'), run('unsupported')]), 'unsupported');
  assert.equal(combineOutcomes([]), 'unsupported');
});

test('a byte budget too small for a run is a refusal in the report, not a crash', async () => {
  const dir = mkdtempSync(path.join('/var/tmp', 'xfsguard-budget-'));
  try {
    const fs = await probeFilesystem(dir);
    const kernel = await probeKernel();
    const r = await runSelfTest(fs, kernel, { engines: ['aio'], modes: ['alloc', 'zero-range'], max_bytes: 6000, budget_ms: 2000 });
    assert.equal(r.runs.length, 2);
    assert.equal(r.runs[0]?.reason?.stage, 'byte_budget', 'half of 6000 bytes is less than a block');
    assert.equal(r.outcome, 'unsupported');
    assert.ok(r.bytes_written <= 6000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
