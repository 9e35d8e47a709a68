// Remedies as data: per platform, the exact setting, and what the host's QEMU and the below-range
// self-test case make of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide } from '../policies/decide.js';
import { renderExplanation } from '../policies/explain.js';
import { remediesFor, type Remedy, type RemedyFacts } from '../policies/remedies.js';
import type { SelfTestEvidence } from '../probes/types.js';
import { fsFacts, input, selftest } from './policies-fixtures.js';

const AFFECTED_LOCAL: RemedyFacts = { enable_workaround: true, fs_class: 'local', fs_type: 'xfs', io_mode: null };

function byId(list: Remedy[]): Map<string, Remedy> {
  return new Map(list.map((r) => [r.id, r]));
}

test('remedies: one applicable setting per platform the issue names, with exact key and value', () => {
  const r = byId(remediesFor(AFFECTED_LOCAL));
  const want: [string, string, string, string][] = [
    ['libvirt_io_threads', 'libvirt', 'io', 'threads'],
    ['libvirt_cache_writeback', 'libvirt', 'cache', 'writeback'],
    ['kubevirt_io_threads', 'kubevirt', 'io', 'threads'],
    ['proxmox_aio_threads', 'proxmox', 'aio', 'threads'],
    ['openstack_nova_disk_cachemodes_writeback', 'openstack_nova', 'disk_cachemodes', 'file=writeback'],
    ['qemu_aio_threads', 'qemu', 'aio', 'threads'],
    ['qemu_keep_workaround', 'qemu', 'version', '>= 4.1.1'],
  ];
  assert.deepEqual([...r.keys()].sort(), want.map((w) => w[0]).sort());
  for (const [id, platform, key, value] of want) {
    const x = r.get(id)!;
    assert.equal(x.platform, platform, id);
    assert.equal(x.setting.key, key, id);
    assert.equal(x.setting.value, value, id);
    assert.ok(x.snippet.includes(value.replace('>= ', '')) || x.snippet.includes(`${key}=${value}`) || x.snippet.includes(`${key}: ${value}`), `${id} snippet shows the value: ${x.snippet}`);
  }
  assert.match(r.get('libvirt_io_threads')!.snippet, /io='threads'/);
  assert.match(r.get('openstack_nova_disk_cachemodes_writeback')!.snippet, /^\[libvirt\]\ndisk_cachemodes = file=writeback$/);
});

test('remedies: none when the workaround is not needed', () => {
  assert.deepEqual(remediesFor({ ...AFFECTED_LOCAL, enable_workaround: false }), []);
});

test('remedies: host QEMU decides need — unnecessary with QEMU ≥ 4.1.1, needed below, unknown when not probed', () => {
  const modern = byId(remediesFor({ ...AFFECTED_LOCAL, host_qemu: { versions: ['7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)'] } }));
  assert.equal(modern.get('libvirt_io_threads')!.need, 'unnecessary');
  assert.equal(modern.get('qemu_keep_workaround')!.need, 'unnecessary');
  assert.equal(modern.get('qemu_keep_workaround')!.sufficient, true);

  const old = byId(remediesFor({ ...AFFECTED_LOCAL, host_qemu: { versions: ['4.1.0', '8.2.2'] } }));
  assert.equal(old.get('proxmox_aio_threads')!.need, 'needed');
  assert.match(old.get('proxmox_aio_threads')!.qemu_note, /4\.1\.0.*predates 4\.1\.1/);
  assert.equal(old.get('qemu_keep_workaround')!.need, 'needed');

  const none = byId(remediesFor(AFFECTED_LOCAL));
  assert.equal(none.get('kubevirt_io_threads')!.need, 'unknown');
  assert.equal(byId(remediesFor({ ...AFFECTED_LOCAL, host_qemu: { versions: ['garbage'] } })).get('kubevirt_io_threads')!.need, 'unknown');
});

test('remedies: a reproduced below-range case makes QEMU\'s workaround insufficient and the settings needed, whatever QEMU', () => {
  const r = byId(remediesFor({ ...AFFECTED_LOCAL, below_range_outcome: 'reproduced', host_qemu: { versions: ['9.2.0'] } }));
  const q = r.get('qemu_keep_workaround')!;
  assert.equal(q.sufficient, false);
  assert.equal(q.need, 'needed');
  assert.match(q.qemu_note, /insufficient/);
  for (const id of ['libvirt_io_threads', 'libvirt_cache_writeback', 'kubevirt_io_threads', 'proxmox_aio_threads', 'openstack_nova_disk_cachemodes_writeback', 'qemu_aio_threads']) {
    assert.equal(r.get(id)!.need, 'needed', id);
    assert.equal(r.get(id)!.sufficient, true, id);
  }
  // not reproduced: back to what QEMU says
  assert.equal(byId(remediesFor({ ...AFFECTED_LOCAL, below_range_outcome: 'not_reproduced', host_qemu: { versions: ['9.2.0'] } })).get('qemu_keep_workaround')!.sufficient, true);
});

test('remedies: on network or FUSE storage only QEMU\'s workaround (the client\'s I/O mode does not decide the server\'s writes)', () => {
  for (const fs_class of ['network', 'fuse', 'unknown'] as const) {
    const ids = remediesFor({ ...AFFECTED_LOCAL, fs_class, fs_type: fs_class }).map((r) => r.id);
    assert.deepEqual(ids, ['qemu_keep_workaround'], fs_class);
  }
  assert.ok(remediesFor({ ...AFFECTED_LOCAL, fs_class: 'overlay' }).some((r) => r.id === 'libvirt_io_threads'), 'overlay on local XFS gets the settings');
});

test('decide(): remedies next to enable_workaround, filled for an affected XFS kernel, empty for a fixed one; explain prints them', () => {
  const affected = decide(input({ release: '4.19.0' }));
  assert.equal(affected.verdict, 'affected');
  assert.ok(affected.remedies.length >= 7);
  const keys = Object.keys(affected);
  assert.equal(keys.indexOf('remedies'), keys.indexOf('enable_workaround') + 1, 'remedies sits next to enable_workaround');
  const text = renderExplanation(affected);
  assert.match(text, /Remedies \(settings per platform\):/);
  assert.match(text, /\[libvirt_io_threads\] libvirt: io=threads/);
  assert.match(text, /\[openstack_nova_disk_cachemodes_writeback\] openstack_nova: disk_cachemodes=file=writeback at \/etc\/nova\/nova.conf \[libvirt\]/);

  const fixed = decide(input({ release: '6.6.0' }));
  assert.equal(fixed.enable_workaround, false);
  assert.deepEqual(fixed.remedies, []);
  assert.doesNotMatch(renderExplanation(fixed), /Remedies/);

  const nfs = decide(input({ filesystem: fsFacts('nfs') }));
  assert.deepEqual(nfs.remedies.map((r) => r.id), ['qemu_keep_workaround']);
});

test('decide(): the self-test\'s below-range outcome and the host QEMU reach the remedies', () => {
  const base = selftest('reproduced', {}, '6.1.192-xfsrace');
  const ev: SelfTestEvidence = { ...base, report: { ...base.report, below_range_outcome: 'reproduced' } };
  const d = decide(input({ selftest: ev, host_qemu: { versions: ['8.2.2'] } }));
  assert.equal(d.verdict, 'affected');
  const q = d.remedies.find((r) => r.id === 'qemu_keep_workaround')!;
  assert.equal(q.sufficient, false);
  const d2 = decide(input({ selftest: selftest('reproduced'), host_qemu: { versions: ['8.2.2'] } }));
  assert.equal(d2.remedies.find((r) => r.id === 'qemu_keep_workaround')!.sufficient, true);
  assert.equal(d2.remedies.find((r) => r.id === 'libvirt_io_threads')!.need, 'unnecessary');
});

test('remedies: aio=threads asked about is not told to switch to threads', () => {
  const r = byId(remediesFor({ ...AFFECTED_LOCAL, io_mode: 'threads', host_qemu: { versions: ['4.0.0'] } }));
  assert.equal(r.get('libvirt_io_threads')!.need, 'unnecessary');
  assert.equal(r.get('libvirt_cache_writeback')!.need, 'needed');
});
