import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gatherQemuFacts, parseQemuVersion } from '../probes/qemu.js';

test('version lines as QEMU builds print them', () => {
  assert.deepEqual(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard\n'), {
    version: '7.2.22',
    build: 'Debian 1:7.2+dfsg-7+deb12u18+b3',
    line: 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)',
  });
  assert.deepEqual(parseQemuVersion('qemu-img version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)'), { version: '8.2.2', build: 'Debian 1:8.2.2+ds-0ubuntu1', line: 'qemu-img version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)' });
  assert.equal(parseQemuVersion('QEMU emulator version 6.2.0 (qemu-kvm-6.2.0-11.module+el8.6.0+14707+5aa4b42d)')?.build, 'qemu-kvm-6.2.0-11.module+el8.6.0+14707+5aa4b42d');
  assert.deepEqual(parseQemuVersion('QEMU emulator version 4.1.0\n'), { version: '4.1.0', build: null, line: 'QEMU emulator version 4.1.0' });
  assert.equal(parseQemuVersion(''), null);
  assert.equal(parseQemuVersion('usage: something else'), null);
});

// Real executables in a scratch directory: the probe's search, de-duplication and time bound.
const dir = mkdtempSync(path.join(os.tmpdir(), 'xfsguard-qemu-probe-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function executable(name: string, body: string, mode = 0o755): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

test('finds qemu-system-*, qemu-kvm and qemu-img, once per file, and reads their versions', async () => {
  const sys = executable('qemu-system-x86_64', 'echo "QEMU emulator version 4.1.0 (test build)"');
  symlinkSync(sys, path.join(dir, 'qemu-kvm')); // qemu-kvm as a link: asked once
  executable('qemu-img', 'echo "qemu-img version 7.2.22"');
  executable('qemu-system-broken', 'echo oops; exit 3');
  executable('qemu-system-noexec', 'echo "QEMU emulator version 1.0"', 0o644);
  executable('qemu-io', 'echo "qemu-io version 7.2.22"'); // not a binary that opens VM images
  const later = path.join(dir, 'later');
  mkdirSync(later);
  writeFileSync(path.join(later, 'qemu-img'), '#!/bin/sh\necho "qemu-img version 9.9.9"\n', { mode: 0o755 }); // shadowed by the first on the search path
  const f = await gatherQemuFacts({ pathEnv: `relative/dir:${dir}:/nonexistent-xfsguard`, extraDirs: [later] });
  assert.deepEqual(f.searched, [dir, '/nonexistent-xfsguard', later]);
  const byName = new Map(f.binaries.map((b) => [path.basename(b.path), b]));
  // names in order; qemu-system-x86_64 is the file qemu-kvm already named
  assert.deepEqual([...byName.keys()], ['qemu-img', 'qemu-kvm', 'qemu-system-broken']);
  const kvm = byName.get('qemu-kvm');
  assert.equal(kvm?.role, 'kvm');
  assert.equal(kvm?.real_path, sys);
  assert.equal(kvm?.version, '4.1.0');
  assert.equal(kvm?.build, 'test build');
  assert.equal(byName.get('qemu-img')?.version, '7.2.22');
  assert.equal(byName.get('qemu-img')?.role, 'img');
  assert.equal(byName.get('qemu-system-broken')?.version, null);
  assert.match(byName.get('qemu-system-broken')?.error ?? '', /--version failed/);
  assert.equal(f.note, null);
});

test('a QEMU that does not answer is reported within the time bound, never waited for', async () => {
  const slow = mkdtempSync(path.join(dir, 'slow-'));
  writeFileSync(path.join(slow, 'qemu-system-hang'), '#!/bin/sh\nsleep 30\n', { mode: 0o755 });
  writeFileSync(path.join(slow, 'qemu-img'), '#!/bin/sh\necho "qemu-img version 8.0.0"\n', { mode: 0o755 });
  const started = Date.now();
  const f = await gatherQemuFacts({ pathEnv: slow, extraDirs: [], timeoutMs: 1500 });
  assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
  const hang = f.binaries.find((b) => b.path.endsWith('qemu-system-hang'));
  assert.equal(hang?.version, null);
  assert.match(hang?.error ?? '', /did not answer within/);
  assert.equal(f.binaries.find((b) => b.path.endsWith('qemu-img'))?.version, '8.0.0');
});

test('at most maxBinaries are asked, and the note says how many were left out', async () => {
  const many = mkdtempSync(path.join(dir, 'many-'));
  for (let i = 0; i < 5; i++) writeFileSync(path.join(many, `qemu-system-a${i}`), `#!/bin/sh\necho "QEMU emulator version 8.${i}.0"\n`, { mode: 0o755 });
  const f = await gatherQemuFacts({ pathEnv: many, extraDirs: [], maxBinaries: 3 });
  assert.equal(f.binaries.length, 3);
  assert.match(f.note ?? '', /2 more QEMU binaries not asked/);
});

const stockImg = '/usr/bin/qemu-img';
test("this host's qemu-img, as the probe reads it", { skip: existsSync(stockImg) ? false : `${stockImg} is not installed (apt-get install qemu-utils)` }, async () => {
  const f = await gatherQemuFacts({ pathEnv: '/usr/bin', extraDirs: [] });
  const img = f.binaries.find((b) => b.path === stockImg);
  const first = execFileSync(stockImg, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  assert.equal(img?.version_line, first.trim());
  assert.match(img?.version ?? '', /^\d+\.\d+(\.\d+)?$/);
});
