import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { lookupMagic, magicHex, XFS_MAGIC } from '../probes/fs-magic.js';
import { deviceString, probeFilesystem } from '../probes/filesystem.js';
import { FilesystemFactsCache } from '../probes/filesystem-cache.js';
import { findMount, parseMountinfo } from '../probes/mountinfo.js';
import { PathInputError, checkPathInput, pathErrorFromErrno } from '../probes/path-input.js';
import { loopFsOrSkip, tmpfsOrSkip } from './helpers/scratch-fs.js';

test('magic table names filesystems and classes', () => {
  const cases: [number, string, string][] = [
    [0x58465342, 'xfs', 'local'],
    [0xef53, 'ext2/ext3/ext4', 'local'],
    [0x9123683e, 'btrfs', 'local'],
    [0x01021994, 'tmpfs', 'local'],
    [0x794c7630, 'overlay', 'overlay'],
    [0x6969, 'nfs', 'network'],
    [0xff534d42, 'cifs', 'network'],
    [0xfe534d42, 'smb2', 'network'],
    [0x00c36400, 'ceph', 'network'],
    [0x01021997, '9p', 'network'],
    [0x65735546, 'fuse', 'fuse'],
    [0x2fc12fc1, 'zfs', 'local'],
    [0x01161970, 'gfs2', 'local'],
    [0x7461636f, 'ocfs2', 'local'],
    [0x73717368, 'squashfs', 'local'],
    [0x9fa0, 'proc', 'pseudo'],
    [0x62656572, 'sysfs', 'pseudo'],
    [0x12345678, 'unknown', 'unknown'],
  ];
  for (const [magic, name, cls] of cases) {
    assert.deepEqual(lookupMagic(magic), { name, class: cls }, magicHex(magic));
  }
  // statfs may hand the magic back sign-extended on some paths: same answer.
  assert.equal(lookupMagic(0xff534d42 | 0).name, 'cifs');
  assert.equal(magicHex(XFS_MAGIC), '0x58465342');
});

test('device numbers decode like the kernel encodes them', () => {
  assert.equal(deviceString(BigInt(0xfe00)), '254:0');
  assert.equal(deviceString(BigInt(7 << 8) | 3n), '7:3');
  // a minor above 255 and a major above 4095 use the high bits
  assert.equal(deviceString((259n << 8n) | (0x12n << 20n) | 0x34n), '259:4660');
});

test('mountinfo parsing: escapes, optional fields, super options', () => {
  const text = [
    '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
    '40 27 7:0 / /var/lib/with\\040space rw,noatime shared:20 master:3 - xfs /dev/loop0 rw,attr2,inode64',
    '41 27 0:50 / /var/lib/containers/x rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
  ].join('\n');
  const mounts = parseMountinfo(text);
  assert.equal(mounts.length, 3);
  assert.equal(mounts[1]?.mount_point, '/var/lib/with space');
  assert.equal(mounts[1]?.fs_type, 'xfs');
  assert.equal(mounts[1]?.source, '/dev/loop0');
  assert.deepEqual(mounts[1]?.options, ['rw', 'noatime']);
  assert.ok(mounts[2]?.super_options.includes('upperdir=/u'));
  assert.equal(findMount(mounts, '/var/lib/with space/img', '7:0')?.mount_id, 40);
  assert.equal(findMount(mounts, '/var/lib/with spaces', '254:0')?.mount_id, 27, 'prefix must end at a path component');
  assert.equal(findMount(mounts, '/etc', null)?.mount_point, '/');
});

test('path input: empty, NUL, too long and relative are refused with a code', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'accepted';
    } catch (err) {
      return err instanceof PathInputError ? err.code : 'other';
    }
  };
  assert.equal(code(() => checkPathInput('', { requireAbsolute: false })), 'path_missing');
  assert.equal(code(() => checkPathInput(undefined, { requireAbsolute: false })), 'path_missing');
  assert.equal(code(() => checkPathInput('/a\0b', { requireAbsolute: false })), 'path_nul');
  assert.equal(code(() => checkPathInput(`/${'a'.repeat(5000)}`, { requireAbsolute: false })), 'path_too_long');
  assert.equal(code(() => checkPathInput(`/var/${'a'.repeat(256)}/b`, { requireAbsolute: false })), 'path_too_long', 'one name over NAME_MAX');
  assert.equal(code(() => checkPathInput(`/var/${'a'.repeat(255)}/b`, { requireAbsolute: false })), 'accepted');
  assert.equal(code(() => checkPathInput('rel/path', { requireAbsolute: true })), 'path_relative');
  assert.equal(code(() => checkPathInput('rel/path', { requireAbsolute: false })), 'accepted');
});

test('ext4 here: missing paths resolve to the nearest ancestor, files to their directory, symlinks followed', async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-probe-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  mkdirSync(path.join(base, 'images'));
  writeFileSync(path.join(base, 'images', 'vm.qcow2'), 'x');
  symlinkSync(path.join(base, 'images'), path.join(base, 'link'));

  const dir = await probeFilesystem(path.join(base, 'images'));
  assert.equal(dir.path_kind, 'directory');
  assert.equal(dir.judged_directory, path.join(base, 'images'));
  assert.ok(dir.mount !== null, 'mount found in mountinfo');
  assert.ok(dir.free_bytes > 0 && dir.block_size > 0);
  assert.match(dir.device, /^\d+:\d+$/);

  const missing = await probeFilesystem(path.join(base, 'images', 'not', 'yet', 'there.qcow2'));
  assert.equal(missing.path_kind, 'missing');
  assert.equal(missing.judged_directory, path.join(base, 'images'));
  assert.match(missing.notes.join(' '), /does not exist yet/);

  const file = await probeFilesystem(path.join(base, 'images', 'vm.qcow2'));
  assert.equal(file.path_kind, 'file');
  assert.equal(file.judged_directory, path.join(base, 'images'));
  assert.match(file.notes.join(' '), /regular file/);

  const viaLink = await probeFilesystem(path.join(base, 'link'));
  assert.equal(viaLink.judged_directory, path.join(base, 'images'));
  assert.equal(viaLink.magic, dir.magic);
});

test('a symlink loop is bad input, not a walk up past it', async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-probe-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  symlinkSync(path.join(base, 'b'), path.join(base, 'a'));
  symlinkSync(path.join(base, 'a'), path.join(base, 'b'));
  await assert.rejects(probeFilesystem(path.join(base, 'a', 'vm.qcow2')), (err: unknown) => err instanceof PathInputError && err.code === 'path_invalid');
});

test('a dangling symlink is judged where its target would be created, never where the link lies', async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-probe-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const target = path.join(base, 'target');
  mkdirSync(path.join(target, 'exists'), { recursive: true });
  const links = path.join(base, 'links');
  mkdirSync(links);
  // absolute, relative, a chain of two, and a link to a directory that does not exist yet with more below
  symlinkSync(path.join(target, 'exists', 'new.qcow2'), path.join(links, 'abs.qcow2'));
  symlinkSync('../target/exists/rel.qcow2', path.join(links, 'rel.qcow2'));
  symlinkSync('abs.qcow2', path.join(links, 'chain.qcow2'));
  symlinkSync(path.join(target, 'exists', 'not', 'yet'), path.join(links, 'dir'));
  for (const [asked, judged] of [
    ['abs.qcow2', path.join(target, 'exists')],
    ['rel.qcow2', path.join(target, 'exists')],
    ['chain.qcow2', path.join(target, 'exists')],
    ['dir/sub/vm.qcow2', path.join(target, 'exists')],
  ] as const) {
    const facts = await probeFilesystem(path.join(links, asked));
    assert.equal(facts.judged_directory, judged, asked);
    assert.equal(facts.path_kind, 'missing', asked);
    assert.match(facts.notes.join(' '), /dangling symlink/, asked);
  }
});

test('a dangling symlink onto another filesystem judges that filesystem (XFS, not the link\'s tmpfs)', async (t) => {
  const xfs = loopFsOrSkip(t);
  if (xfs === null) return;
  const other = tmpfsOrSkip(t, 16);
  if (other === null) return;
  symlinkSync(path.join(xfs.mountPoint, 'new.qcow2'), path.join(other, 'dl.qcow2'));
  const facts = await probeFilesystem(path.join(other, 'dl.qcow2'));
  assert.equal(facts.fs_type, 'xfs');
  assert.equal(facts.judged_directory, xfs.mountPoint);
});

test('dangling symlinks in a loop are bad input (ELOOP), not an endless walk', async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-probe-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  // each link points below the other: realpath says ENOENT/ENOTDIR-free ELOOP only at the end
  symlinkSync(path.join(base, 'b', 'x'), path.join(base, 'a'));
  symlinkSync(path.join(base, 'a', 'y'), path.join(base, 'b'));
  await assert.rejects(probeFilesystem(path.join(base, 'a')), (err: unknown) => err instanceof PathInputError && err.code === 'path_invalid');
});

test('pseudo filesystems are refused, also through a symlink', async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-probe-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  symlinkSync('/proc/self', path.join(base, 'proc-link'));
  for (const p of ['/proc/self', '/sys/kernel', '/dev/shm/x', path.join(base, 'proc-link')]) {
    await assert.rejects(probeFilesystem(p), (err: unknown) => err instanceof PathInputError && err.code === 'path_pseudo', p);
  }
});

test('real XFS on a loop device is XFS, with its mount and device', async (t) => {
  const m = loopFsOrSkip(t);
  if (m === null) return;
  const facts = await probeFilesystem(path.join(m.mountPoint, 'images', 'new.qcow2'));
  assert.equal(facts.fs_type, 'xfs');
  assert.equal(facts.fs_class, 'local');
  assert.equal(facts.magic_hex, '0x58465342');
  assert.equal(facts.judged_directory, m.mountPoint);
  assert.equal(facts.mount?.mount_point, m.mountPoint);
  assert.equal(facts.mount?.fs_type, 'xfs');
  assert.equal(facts.mount?.device, facts.device);
  assert.equal(facts.read_only, false);
});

test('tmpfs mounted by the test is tmpfs; a read-only remount is seen', async (t) => {
  const dir = tmpfsOrSkip(t, 64);
  if (dir === null) return;
  const facts = await probeFilesystem(dir);
  assert.equal(facts.fs_type, 'tmpfs');
  assert.equal(facts.fs_class, 'local');
  execFileSync('mount', ['-o', 'remount,ro', dir]);
  assert.equal((await probeFilesystem(dir)).read_only, true);
});

test('a cached mount table still finds a filesystem mounted after it was read', async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-probe-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const before = await probeFilesystem(base, { mountTableMaxAgeMs: 60_000 });
  const dir = tmpfsOrSkip(t, 16);
  if (dir === null) return;
  const after = await probeFilesystem(dir, { mountTableMaxAgeMs: 60_000 });
  assert.equal(after.fs_type, 'tmpfs');
  assert.equal(after.mount?.mount_point, dir, 'the new mount, not the cached parent');
  assert.notEqual(after.device, before.device);
});

test('facts cache: reused within its time, checked by statfs, bounded, and refreshed after', async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-probe-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  let now = 0;
  const cache = new FilesystemFactsCache({ ttlMs: 1000, maxEntries: 2, now: () => now });
  const target = path.join(base, 'vm.qcow2');
  const first = await cache.probe(target);
  assert.equal(first.path_kind, 'missing');
  writeFileSync(target, 'x');
  assert.equal((await cache.probe(target)).path_kind, 'missing', 'within the time: the cached facts');
  now = 1000;
  assert.equal((await cache.probe(target)).path_kind, 'file', 'after it: probed afresh');
  await cache.probe(path.join(base, 'a'));
  await cache.probe(path.join(base, 'b'));
  assert.equal(cache.size, 2, 'the least recently probed path was dropped');
  // A cached directory that is gone is probed again, which says where the answer comes from now.
  const sub = path.join(base, 'sub');
  mkdirSync(sub);
  assert.equal((await cache.probe(sub)).judged_directory, sub);
  rmSync(sub, { recursive: true });
  assert.equal((await cache.probe(sub)).judged_directory, base);
});

test('facts cache: requests that find the facts missing or too old at once share one probe; a reuse check is each its own', async (t) => {
  const base = mkdtempSync(path.join('/var/tmp', 'xfsguard-probe-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  let now = 0;
  const cache = new FilesystemFactsCache({ ttlMs: 1000, now: () => now });
  const many = () => Promise.all(Array.from({ length: 20 }, () => cache.probe(base)));
  const first = await many();
  assert.ok(first.every((f) => f === first[0]), 'one probe, one facts object for all');
  const reused = await many();
  assert.equal(new Set(reused).size, 20, 'within the time: each request checks by a statfs of its own');
  now = 1000;
  const refreshed = await many();
  assert.ok(refreshed.every((f) => f === refreshed[0]) && refreshed[0] !== first[0], 'after it: one fresh probe for all');
  now = 2000;
  assert.notEqual(await cache.probe(base), refreshed[0], 'once it is done, the next one probes again');
});

test('errno failures of a path become PathInputError codes; others stay as they are', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(pathErrorFromErrno(err('EACCES'), '/x')?.code, 'path_permission');
  assert.equal(pathErrorFromErrno(err('ENOTCONN'), '/x')?.code, 'path_unavailable');
  assert.equal(pathErrorFromErrno(err('ESTALE'), '/x')?.code, 'path_unavailable');
  assert.equal(pathErrorFromErrno(err('ELOOP'), '/x')?.code, 'path_invalid');
  assert.match(pathErrorFromErrno(err('EIO'), '/mnt/nfs/x')?.message ?? '', /cannot examine \/mnt\/nfs\/x: I\/O error \(EIO\)/);
  assert.equal(pathErrorFromErrno(err('ENOMEM'), '/x'), null);
  assert.equal(pathErrorFromErrno(new Error('plain'), '/x'), null);
});
