import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessQemu, judgeQemuVersion, qemuWarning } from '../policies/qemu-exposure.js';

test('QEMU versions: < 4.1 lacks the trigger, 4.1.0 is exposed, 4.1.1 / 4.2 and later serialise', () => {
  const cases: [string | null, string | null, string, string][] = [
    ['1.5.3', null, 'no_trigger', 'verified'], // RHEL 7 qemu-kvm
    ['2.12.0', null, 'no_trigger', 'verified'], // qemu-kvm-rhev
    ['4.0.0', null, 'no_trigger', 'verified'],
    ['4.0.1', null, 'no_trigger', 'verified'],
    ['4.0.50', null, 'unknown', 'inferred'], // 4.1 development
    ['4.0.91', null, 'exposed', 'inferred'], // 4.1.0-rc1
    ['4.1.0', null, 'exposed', 'verified'],
    ['4.1.0', 'Debian 1:4.1-1', 'exposed', 'verified'],
    ['4.1.0', 'qemu-4.1.0-10.oe1', 'workaround', 'inferred'], // openEuler carries the backport
    ['4.1.1', null, 'workaround', 'verified'], // the backports, announced with 4.1.1
    ['4.1.60', null, 'unknown', 'inferred'], // 4.2 development
    ['4.1.90', null, 'workaround', 'verified'], // 4.2.0-rc0
    ['4.2.0', null, 'workaround', 'verified'],
    ['7.2.22', 'Debian 1:7.2+dfsg-7+deb12u18+b3', 'workaround', 'verified'],
    ['8.2', null, 'workaround', 'verified'],
    [null, null, 'unknown', 'verified'],
    ['not a version', null, 'unknown', 'verified'],
  ];
  for (const [version, build, exposure, confidence] of cases) {
    const j = judgeQemuVersion(version, build);
    assert.equal(j.exposure, exposure, `${version} (${build}): ${j.detail}`);
    assert.equal(j.confidence, confidence, `${version} (${build}) confidence`);
    assert.ok(j.detail.length > 0);
  }
  assert.match(judgeQemuVersion('4.1.0').detail, /c8bb23cbdbe32f.*292d06b925b2/);
});

test('the host is as exposed as its worst QEMU; no QEMU found is null, not "safe"', () => {
  const a = assessQemu([
    { path: '/usr/bin/qemu-system-x86_64', version: '7.2.22', build: null },
    { path: '/opt/old/qemu-system-x86_64', version: '4.1.0', build: null },
    { path: '/usr/libexec/qemu-kvm', version: null, build: null },
  ]);
  assert.equal(a.exposure, 'exposed');
  assert.deepEqual(
    a.binaries.map((b) => [b.path, b.exposure]),
    [
      ['/usr/bin/qemu-system-x86_64', 'workaround'],
      ['/opt/old/qemu-system-x86_64', 'exposed'],
      ['/usr/libexec/qemu-kvm', 'unknown'],
    ],
  );
  assert.equal(assessQemu([{ path: '/usr/bin/qemu-img', version: '2.12.0', build: null }, { path: '/x', version: null, build: null }]).exposure, 'unknown');
  assert.equal(assessQemu([{ path: '/usr/bin/qemu-img', version: '2.12.0', build: null }]).exposure, 'no_trigger');
  assert.deepEqual(assessQemu([]), { exposure: null, binaries: [] });
});

test('headline warning: only an exposed QEMU where the workaround is needed', () => {
  const exposed = assessQemu([{ path: '/opt/qemu-4.1.0/bin/qemu-system-x86_64', version: '4.1.0', build: null }]);
  const fine = assessQemu([{ path: '/usr/bin/qemu-system-x86_64', version: '7.2.22', build: null }]);
  const w = qemuWarning(true, exposed);
  assert.equal(w?.code, 'exposed_qemu_on_affected_kernel');
  assert.match(w?.detail ?? '', /\/opt\/qemu-4\.1\.0\/bin\/qemu-system-x86_64 \(4\.1\.0\)/);
  assert.equal(qemuWarning(false, exposed), null, 'a fixed kernel or aio=threads: nothing to warn about');
  assert.equal(qemuWarning(true, fine), null);
  assert.equal(qemuWarning(true, null), null);
});
