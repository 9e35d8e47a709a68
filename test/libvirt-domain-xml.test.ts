// The domain and pool XML readers (service/libvirt/) on libvirt's own output (fixtures from
// libvirt 9.0's virsh dumpxml / pool-dumpxml and its /run/libvirt/storage state file), and the
// choice of the reason a hook logs with a verdict.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DomainXmlError, domainDisks } from '../service/libvirt/domain-xml.js';
import { parsePoolXml } from '../service/libvirt/storage-pool.js';
import { REPO_ROOT } from './helpers/run-cli.js';

const fixture = (name: string) => readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'libvirt', `${name}.xml`), 'utf8');

test('domain XML: exposed file and volume disks, the rest skipped with why', () => {
  const d = domainDisks(fixture('volume-disks').replaceAll('@POOLNAME@', 'images'));
  assert.equal(d.name, 'clients-vol');
  assert.deepEqual(d.exposed, [
    { kind: 'volume', target: 'vda', io: 'native', pool: 'images', volume: 'vm1.qcow2' },
    { kind: 'volume', target: 'vdb', io: 'native', pool: 'lvm-pool', volume: 'lv0' },
  ]);
  assert.deepEqual(d.skipped, ['vdc: io=threads']);
  const odd = domainDisks(fixture('odd-paths'));
  assert.deepEqual(odd.exposed.map((x) => (x.kind === 'file' ? x.file : '')), [
    `@DIR@/it's "my" disk &amp; <1>.qcow2`, '@DIR@/--version\n$(touch pwned);`id`.raw', '--help',
  ]);
});

test('domain XML: malformed, truncated, empty or not a domain is an error, never "no disks"', () => {
  const full = fixture('several-disks');
  for (const bad of [fixture('malformed'), full.slice(0, full.length - 12), full.slice(0, 40), '', '<pool type="dir"/>']) {
    assert.throws(() => domainDisks(bad), DomainXmlError, JSON.stringify(bad.slice(0, 40)));
  }
  assert.deepEqual(domainDisks(fixture('no-disks')).exposed, []);
});

test('pool XML: pool-dumpxml and the live-state <poolstate> form give type and target path', () => {
  assert.deepEqual(parsePoolXml(fixture('pool-dir').replaceAll('@POOL@', '/srv/images').replaceAll('@POOLNAME@', 'p')), { name: 'p', type: 'dir', path: '/srv/images' });
  assert.deepEqual(parsePoolXml(fixture('pool-dir-state').replaceAll('@POOL@', '/srv/images').replaceAll('@POOLNAME@', 'p')), { name: 'p', type: 'dir', path: '/srv/images' });
  assert.deepEqual(parsePoolXml(fixture('pool-logical')), { name: 'lvm-pool', type: 'logical', path: '/dev/vg0' });
  assert.throws(() => parsePoolXml('<pool type="dir"><target>'), /pool XML/);
});
