// The QEMU --version cache: a binary is asked once while it is the same file, asked again when it
// changes, failures are never remembered, and a broken cache file is no error.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gatherQemuFacts } from '../probes/qemu.js';
import { QEMU_VERSIONS_FILE, QemuVersionCache } from '../probes/qemu-version-cache.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'xfsguard-qemu-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fake QEMU that counts how often it was started. */
function fakeQemu(bin: string, name: string, version: string, exit = 0): { file: string; runs: () => number } {
  const file = path.join(bin, name);
  const counter = `${file}.runs`;
  writeFileSync(counter, '');
  writeFileSync(file, `#!/bin/sh\necho x >> '${counter}'\necho "QEMU emulator version ${version} (test)"\nexit ${exit}\n`);
  chmodSync(file, 0o755);
  return { file, runs: () => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length };
}

async function probe(bin: string, state: string) {
  return gatherQemuFacts({ pathEnv: bin, extraDirs: [], versionCache: await QemuVersionCache.open(state) });
}

test('asked once while unchanged; the cached facts equal the asked ones', async () => {
  const bin = mkdtempSync(path.join(dir, 'bin-'));
  const state = mkdtempSync(path.join(dir, 'state-'));
  const q = fakeQemu(bin, 'qemu-system-x86_64', '8.2.2');
  const first = await probe(bin, state);
  const second = await probe(bin, state);
  assert.equal(q.runs(), 1);
  assert.deepEqual(second.binaries, first.binaries);
  assert.equal(second.binaries[0]?.version, '8.2.2');
  // without a cache (the HTTP service) the same facts
  assert.deepEqual((await gatherQemuFacts({ pathEnv: bin, extraDirs: [] })).binaries, first.binaries);
});

test('a replaced or modified binary is asked again', async () => {
  const bin = mkdtempSync(path.join(dir, 'bin-'));
  const state = mkdtempSync(path.join(dir, 'state-'));
  const q = fakeQemu(bin, 'qemu-system-x86_64', '8.2.2');
  await probe(bin, state);
  // same size, new content (mtime/ctime move): an upgrade that happens to keep the length
  writeFileSync(q.file, readFileSync(q.file, 'utf8').replace('8.2.2', '9.1.0'));
  const after1 = await probe(bin, state);
  assert.equal(q.runs(), 2);
  assert.equal(after1.binaries[0]?.version, '9.1.0');
  await probe(bin, state);
  assert.equal(q.runs(), 2);
});

test('failures are not remembered; a malformed cache file is ignored and replaced', async () => {
  const bin = mkdtempSync(path.join(dir, 'bin-'));
  const state = mkdtempSync(path.join(dir, 'state-'));
  const bad = fakeQemu(bin, 'qemu-system-broken', '1.0', 3);
  const good = fakeQemu(bin, 'qemu-img', '7.2.22');
  writeFileSync(path.join(state, QEMU_VERSIONS_FILE), '{"binaries": [{"path": 1}], "x"');
  const f1 = await probe(bin, state);
  const f2 = await probe(bin, state);
  assert.equal(bad.runs(), 2);
  assert.equal(good.runs(), 1);
  assert.match(f2.binaries.find((b) => b.path === bad.file)?.error ?? '', /--version failed/);
  assert.deepEqual(f2.binaries, f1.binaries);
  // a forged entry for another file is not taken for this one
  const cached = JSON.parse(readFileSync(path.join(state, QEMU_VERSIONS_FILE), 'utf8')) as { binaries: { identity: string }[] };
  for (const e of cached.binaries) e.identity = '1:2:3:4';
  writeFileSync(path.join(state, QEMU_VERSIONS_FILE), JSON.stringify(cached));
  await probe(bin, state);
  assert.equal(good.runs(), 2);
});

test('an unwritable or missing state directory is no error', async () => {
  const bin = mkdtempSync(path.join(dir, 'bin-'));
  const q = fakeQemu(bin, 'qemu-kvm', '6.2.0');
  const f = await probe(bin, path.join(dir, 'does-not-exist'));
  assert.equal(f.binaries[0]?.version, '6.2.0');
  assert.equal(q.runs(), 1);
});

test('a directory is listed again when a name is added or removed', async () => {
  const bin = mkdtempSync(path.join(dir, 'bin-'));
  const state = mkdtempSync(path.join(dir, 'state-'));
  fakeQemu(bin, 'qemu-img', '7.2.22');
  assert.deepEqual((await probe(bin, state)).binaries.map((b) => path.basename(b.path)), ['qemu-img']);
  fakeQemu(bin, 'qemu-system-aarch64', '8.0.0');
  assert.deepEqual((await probe(bin, state)).binaries.map((b) => path.basename(b.path)), ['qemu-img', 'qemu-system-aarch64']);
  rmSync(path.join(bin, 'qemu-img'));
  assert.deepEqual((await probe(bin, state)).binaries.map((b) => path.basename(b.path)), ['qemu-system-aarch64']);
});
