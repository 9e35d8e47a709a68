// Real libvirtd (Debian's, started by hand: no systemd here) runs the hook `xfsguard install
// --libvirt-hook` put in /etc/libvirt/hooks/qemu.d/, for transient 64 MiB TCG domains with a
// qcow2 disk on an XFS loop mount. On this (fixed) kernel: log mode starts the domain and logs the
// verdict, enforce mode lets a fixed verdict start, a writeback/threads disk is not asked about, a
// volume disk of a real dir pool is resolved and asked about. The refusal of an affected verdict
// is shown on the broken kernel in the VM (test/vm-systemd.test.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLI } from './helpers/run-cli.js';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
const missing = ['virsh', 'libvirtd', 'virtlogd', 'qemu-system-x86_64', 'qemu-img', 'mkfs.xfs', 'losetup'].filter((c) => !which(c));
const why = process.getuid?.() !== 0 ? 'needs root (libvirtd, loop mounts, /etc/libvirt/hooks)'
  : missing.length > 0 ? `not installed: ${missing.join(', ')} (apt-get install libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils xfsprogs)`
    : !existsSync(CLI) ? `${CLI} not built` : false;

const HOOK_CONF = '/etc/xfsguard/hook.conf';
const virsh = (...args: string[]) => spawnSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 120_000 });

function domainXml(name: string, disk: string): string {
  return `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${disk}</devices></domain>`;
}
const fileDisk = (file: string, cache: string, io: string) =>
  `<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='${cache}' io='${io}'/><source file='${file}'/><target dev='vda' bus='virtio'/></disk>`;

/** Stops a daemon started from its pid file (ours only: the pids we started). */
function stopPid(pid: number | null): void {
  if (pid === null) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone already
  }
}
const pidOf = (file: string): number | null => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || null : null);

test('real libvirtd runs the installed hook: log mode, enforce on a fixed verdict, buffered disk, volume disk', { skip: why, timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-libvirt-'));
  const img = path.join(work, 'xfs.img');
  const mnt = path.join('/mnt', `xfsguard-libvirt-${process.pid}`);
  const hookLog = path.join(work, 'hook.log');
  const started: (number | null)[] = [];
  const hadConf = existsSync(HOOK_CONF);
  // What install creates on this machine and the test must not leave behind.
  const fresh = ['/etc/xfsguard', '/var/lib/xfsguard', '/etc/libvirt/hooks/qemu.d'].filter((d) => !existsSync(d));
  let mounted = false;
  try {
    // An XFS loop mount with the images and a dir pool on it.
    writeFileSync(img, '');
    execFileSync('truncate', ['-s', '320M', img]);
    execFileSync('mkfs.xfs', ['-q', '-f', img]);
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-o', 'loop', img, mnt]);
    mounted = true;
    const images = path.join(mnt, 'images');
    mkdirSync(images);
    for (const f of ['vm.qcow2', 'wb.qcow2']) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(images, f), '16M']);

    // The hook, installed for real; its settings in hook.conf (libvirtd gives hooks no environment).
    const install = spawnSync(process.execPath, [CLI, 'install', '--libvirt-hook'], { encoding: 'utf8' });
    assert.equal(install.status, 0, install.stderr);
    assert.ok(existsSync('/etc/libvirt/hooks/qemu.d/50-xfsguard'));
    if (hadConf) renameSync(HOOK_CONF, `${HOOK_CONF}.xfsguard-test`);
    const conf = (extra: string) => writeFileSync(HOOK_CONF, `LOG_FILE=${hookLog}\nSOCKET=\nVERBOSE=1\n${extra}`);
    conf('MODE=log\n');

    // libvirtd reads its hooks at start: (re)start it, with virtlogd, by hand.
    stopPid(pidOf('/run/libvirtd.pid'));
    await new Promise((r) => setTimeout(r, 1000));
    if (!existsSync('/run/libvirt/virtlogd-sock')) {
      execFileSync('virtlogd', ['-d']);
      started.push(pidOf('/run/virtlogd.pid'));
    }
    execFileSync('libvirtd', ['-d']);
    started.push(pidOf('/run/libvirtd.pid'));
    for (let i = 0; i < 50 && virsh('version').status !== 0; i++) await new Promise((r) => setTimeout(r, 200));

    const start = (name: string, disk: string) => {
      const file = path.join(work, `${name}.xml`);
      writeFileSync(file, domainXml(name, disk));
      const t0 = Date.now();
      const r = virsh('create', file);
      const ms = Date.now() - t0;
      const state = virsh('domstate', name).stdout.trim();
      virsh('destroy', name);
      t.diagnostic(`virsh create ${name}: rc ${r.status} in ${ms} ms, state ${state || '-'}`);
      return { code: r.status, err: r.stderr, state };
    };
    const logged = () => (existsSync(hookLog) ? readFileSync(hookLog, 'utf8') : '');

    // Log mode: starts, the verdict is logged with its deciding reason.
    const log = start('xg-log', fileDisk(path.join(images, 'vm.qcow2'), 'none', 'native'));
    assert.equal(log.code, 0, log.err);
    assert.equal(log.state, 'running');
    assert.match(logged(), /domain xg-log: disk vda \(.*\/images\/vm\.qcow2, io=native\): verdict (fixed|not_affected|unknown|affected), workaround (needed|not needed): \w+/);
    // Enforce mode on this fixed kernel: the verdict is fixed, so the domain starts.
    conf('MODE=enforce\nON_ERROR=refuse\n');
    const enforce = start('xg-enforce', fileDisk(path.join(images, 'vm.qcow2'), 'none', 'native'));
    const line = logged().split('\n').find((l) => l.includes('domain xg-enforce: disk vda')) ?? '';
    assert.equal(enforce.code, /verdict affected/.test(line) ? 1 : 0, `${enforce.err}\n${line}`);
    // A writeback/threads disk is not asked about.
    const wb = start('xg-wb', fileDisk(path.join(images, 'wb.qcow2'), 'writeback', 'threads'));
    assert.equal(wb.code, 0, wb.err);
    assert.match(logged(), /domain xg-wb: not checked: vda: io=threads/);
    assert.doesNotMatch(logged(), /domain xg-wb: disk vda/);
    // A volume disk of a real dir pool: resolved through the pool's target path.
    assert.equal(virsh('pool-create-as', 'xg-pool', 'dir', '--target', images).status, 0);
    try {
      const vol = start('xg-vol', `<disk type='volume' device='disk'><driver name='qemu' type='qcow2' cache='none' io='native'/><source pool='xg-pool' volume='vm.qcow2'/><target dev='vda' bus='virtio'/></disk>`);
      assert.match(logged(), new RegExp(`domain xg-vol: disk vda \\(${images}/vm\\.qcow2, io=native\\): verdict`));
      assert.equal(vol.code, /domain xg-vol: disk vda .*verdict affected/.test(logged()) ? 1 : 0, vol.err);
    } finally {
      virsh('pool-destroy', 'xg-pool');
    }
    t.diagnostic(logged().trim());
  } finally {
    for (const pid of started.reverse()) stopPid(pid);
    rmSync(HOOK_CONF, { force: true });
    if (hadConf) renameSync(`${HOOK_CONF}.xfsguard-test`, HOOK_CONF);
    spawnSync(process.execPath, [CLI, 'uninstall']);
    for (const d of fresh) rmSync(d, { recursive: true, force: true });
    if (mounted) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
});
