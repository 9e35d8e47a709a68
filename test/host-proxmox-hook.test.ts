// The Proxmox VE hookscript as Proxmox runs it (`SCRIPT VMID PHASE`): the sh shim running the
// built `xfsguard proxmox-hook`, a VM configuration and storage.cfg in Proxmox's format, the
// service as a recording peer on a real unix socket (test/helpers/decision-peer.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseStorageCfg } from '../service/proxmox/storage-cfg.js';
import { pveDisks } from '../service/proxmox/vm-config.js';
import { startDecisionPeer } from './helpers/decision-peer.js';
import { CLI, REPO_ROOT } from './helpers/run-cli.js';

const SHIM = path.join(REPO_ROOT, 'service', 'hooks', 'proxmox-hookscript');
const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-pve-'));
const PVE = path.join(work, 'etc-pve');
cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'proxmox'), PVE, { recursive: true });
for (const f of ['storage.cfg', 'qemu-server/101.conf']) writeFileSync(path.join(PVE, f), readFileSync(path.join(PVE, f), 'utf8').replaceAll('@DIR@', work));
const XFSGUARD = path.join(work, 'xfsguard');
writeFileSync(XFSGUARD, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
const SOCK = path.join(work, 'svc.sock');
const peer = await startDecisionPeer(SOCK);
test.after(() => {
  peer.close();
  rmSync(work, { recursive: true, force: true });
});
const notBuilt = existsSync(CLI) ? false : `${CLI} not built`;

function runShim(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; asked: string[] }> {
  peer.asked.length = 0;
  const child = spawn(SHIM, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', XFSGUARD_HOOK_CONF: '/nonexistent', XFSGUARD_HOOK_XFSGUARD: XFSGUARD, XFSGUARD_HOOK_SOCKET: SOCK, XFSGUARD_HOOK_SYSLOG: '0', XFSGUARD_HOOK_PVE_DIR: PVE, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, asked: peer.asked.map((a) => `${a.aio} ${a.path}`).sort() })));
}

test('a Proxmox VM configuration: which disks are exposed, where their images are', () => {
  const storages = parseStorageCfg(readFileSync(path.join(PVE, 'storage.cfg'), 'utf8'));
  assert.deepEqual([...storages.values()].map((s) => [s.id, s.type, s.path]), [
    ['local', 'dir', `${work}/vz`], ['local-lvm', 'lvmthin', null], ['nfs-images', 'nfs', `${work}/pve/nfs-images`], ['ceph-vm', 'rbd', null],
  ]);
  const d = pveDisks(readFileSync(path.join(PVE, 'qemu-server/101.conf'), 'utf8'), storages);
  assert.deepEqual(d.exposed, [
    { target: 'scsi0', io: 'io_uring', file: `${work}/vz/images/101/vm-101-disk-0.qcow2` },
    { target: 'scsi1', io: 'native', file: `${work}/pve/nfs-images/images/101/vm-101-native.raw` },
    { target: 'sata0', io: 'io_uring', file: '/srv/raw/root-101.img' },
  ]);
  assert.deepEqual(d.skipped, [
    'efidisk0: storage local-lvm is type lvmthin: its volumes are not files',
    'ide2: cdrom or no medium',
    'scsi2: aio=threads',
    'scsi3: cache=writeback (no O_DIRECT)',
    'scsi4: storage local-lvm is type lvmthin: its volumes are not files',
    'scsi5: storage ceph-vm is type rbd: its volumes are not files',
  ]);
  assert.deepEqual(d.unresolved, [{ what: 'disk virtio0 (gone-store:101/vm-101-disk-6.qcow2)', why: 'storage gone-store is not in storage.cfg' }]);
  assert.deepEqual(pveDisks('scsi0: local:../../etc/passwd,size=1G\n', storages).unresolved, [{ what: 'disk scsi0 (local:../../etc/passwd)', why: `volume name "../../etc/passwd" is not a file below ${work}/vz/images` }]);
});

test('pre-start: log mode starts and logs; enforce refuses naming the disks; ON_ERROR=refuse covers an unlocatable disk', { skip: notBuilt }, async () => {
  const log = await runShim(['101', 'pre-start']);
  assert.equal(log.code, 0, log.stderr);
  assert.deepEqual(log.asked, [`io_uring ${work}/vz/images/101/vm-101-disk-0.qcow2`, 'io_uring /srv/raw/root-101.img', `native ${work}/pve/nfs-images/images/101/vm-101-native.raw`].sort());
  assert.match(log.stderr, /VM 101: disk scsi1 .*: verdict affected, workaround needed: selftest_reproduced/);
  assert.match(log.stderr, /VM 101: disk virtio0 \(gone-store:.*\): xfsguard could not answer: storage gone-store is not in storage.cfg/);
  const enforce = await runShim(['101', 'pre-start'], { XFSGUARD_HOOK_MODE: 'enforce' });
  assert.equal(enforce.code, 1);
  const refusal = enforce.stderr.split('\n').filter((l) => l.startsWith('xfsguard: refusing to start VM 101'));
  assert.equal(refusal.length, 1, enforce.stderr);
  assert.match(refusal[0] as string, /disk scsi1 .*verdict affected.*; disk sata0 \(\/srv\/raw\/root-101\.img, io=io_uring\): verdict affected/);
  assert.doesNotMatch(refusal[0] as string, /virtio0/, 'ON_ERROR=allow: the unlocatable disk does not refuse');
  const strict = await runShim(['101', 'pre-start'], { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_ON_ERROR: 'refuse' });
  assert.match(strict.stderr, /^xfsguard: refusing to start VM 101: .*disk virtio0/m);
});

test('other phases, unknown VMs, and a missing command never block', { skip: notBuilt }, async () => {
  const env = { XFSGUARD_HOOK_MODE: 'enforce' };
  for (const phase of ['post-start', 'pre-stop', 'post-stop', '']) {
    const r = await runShim(['101', phase], env);
    assert.equal(r.code, 0, phase);
    assert.deepEqual(r.asked, []);
  }
  const missing = await runShim(['999', 'pre-start'], env);
  assert.equal(missing.code, 0);
  assert.match(missing.stderr, /VM 999: cannot read the VM configuration .*; not checked/);
  assert.equal((await runShim(['999', 'pre-start'], { ...env, XFSGUARD_HOOK_ON_ERROR: 'refuse' })).code, 1);
  assert.match((await runShim(['../101', 'pre-start'], env)).stderr, /"..\/101" is not a VM id/);
  const none = await runShim(['101', 'pre-start'], { ...env, XFSGUARD_HOOK_XFSGUARD: '/nonexistent', PATH: '/nonexistent' });
  assert.equal(none.code, 0);
  assert.match(none.stderr, /xfsguard command not found; VM 101 not checked/);
});
