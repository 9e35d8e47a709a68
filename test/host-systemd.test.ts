// systemd units (offline `systemd-analyze verify`, as checked in and as installed) and the
// readiness datagram the native addon sends to $NOTIFY_SOCKET.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ENABLE_UNITS, UNIT_NAMES, renderUnit } from '../service/host/installer.js';
import { NFD_EXPIRY_MS } from '../service/host/nfd.js';
import { CLI, REPO_ROOT } from './helpers/run-cli.js';

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-systemd-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const unitDir = path.join(REPO_ROOT, 'service', 'systemd');

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
const analyze = which('systemd-analyze');
const noAnalyze = analyze === null ? 'systemd-analyze is not installed (apt-get install systemd)' : false;

/** Verifies unit files offline, with ExecStart= on an executable that exists. */
function verify(units: Record<string, string>): { code: number | null; out: string } {
  const dir = mkdtempSync(path.join(work, 'verify-'));
  const bin = path.join(dir, 'xfsguard');
  writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
  const files = Object.entries(units).map(([name, text]) => {
    const f = path.join(dir, name);
    writeFileSync(f, renderUnit(text, bin, parseRoots(text)));
    return f;
  });
  const r = spawnSync(analyze as string, ['verify', ...files], { encoding: 'utf8', cwd: dir, env: { ...process.env, SYSTEMD_LOG_LEVEL: 'info' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function parseRoots(text: string): string[] {
  const m = /^RequiresMountsFor=(.*)$/m.exec(text);
  return m ? (m[1] as string).split(/\s+/) : [...text.matchAll(/^ReadWritePaths=-(\S+)$/gm)].map((x) => x[1] as string);
}

function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m === null) continue;
    out.set(m[1] as string, [...(out.get(m[1] as string) ?? []), m[2] as string]);
  }
  return out;
}

test('checked-in units pass systemd-analyze verify', { skip: noAnalyze }, () => {
  const units = Object.fromEntries(UNIT_NAMES.map((n) => [n, readFileSync(path.join(unitDir, n), 'utf8')]));
  const r = verify(units);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out.trim(), '', `no warnings: ${r.out}`);
});

test('units as install renders them (odd allowed roots quoted and escaped) pass verify', { skip: noAnalyze }, () => {
  const roots = ['/srv/vm images', '/var/lib/libvirt/images', '/data/50%'];
  const dir = mkdtempSync(path.join(work, 'render-'));
  const bin = path.join(dir, 'xfsguard');
  writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
  const files = UNIT_NAMES.map((n) => {
    const f = path.join(dir, n);
    writeFileSync(f, renderUnit(readFileSync(path.join(unitDir, n), 'utf8'), bin, roots));
    return f;
  });
  const r = spawnSync(analyze as string, ['verify', ...files], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  const api = readFileSync(files[1] as string, 'utf8');
  assert.match(api, /^ReadWritePaths=-\/var\/lib\/libvirt\/images$/m);
  assert.match(api, /^ReadWritePaths="-\/srv\/vm images"$/m);
  assert.match(api, /^ReadWritePaths=-\/data\/50%%$/m);
  assert.match(readFileSync(files[0] as string, 'utf8'), /^RequiresMountsFor="\/srv\/vm images" \/var\/lib\/libvirt\/images \/data\/50%%$/m);
  // systemd itself reads the quoted path back as one path.
  const show = spawnSync(analyze as string, ['security', '--offline=yes', files[1] as string], { encoding: 'utf8', cwd: dir });
  assert.equal(show.status, 0, show.stderr);
});

test('boot unit: oneshot, published before libvirt, never required by it', () => {
  const d = directives(readFileSync(path.join(unitDir, 'xfsguard-boot.service'), 'utf8'));
  assert.deepEqual(d.get('Type'), ['oneshot']);
  assert.deepEqual(d.get('RemainAfterExit'), ['yes']);
  assert.ok(d.get('After')?.[0]?.split(' ').includes('local-fs.target'));
  const before = d.get('Before')?.[0]?.split(' ') ?? [];
  for (const u of ['libvirtd.service', 'virtqemud.service']) assert.ok(before.includes(u), u);
  for (const k of ['Requires', 'RequiredBy', 'BindsTo', 'PartOf']) assert.equal(d.get(k), undefined, `no ${k}=`);
  assert.deepEqual(d.get('StateDirectory'), ['xfsguard']);
  assert.match(d.get('ExecStart')?.[0] ?? '', /^\/usr\/local\/bin\/xfsguard boot-check$/);
  assert.ok(d.has('TimeoutStartSec'));
});

test('API unit: notify, hardened, AIO/io_uring syscalls allowed, no MemoryDenyWriteExecute', { skip: noAnalyze }, () => {
  const text = readFileSync(path.join(unitDir, 'xfsguard.service'), 'utf8');
  const d = directives(text);
  assert.deepEqual(d.get('Type'), ['notify']);
  assert.deepEqual(d.get('NotifyAccess'), ['main']);
  assert.deepEqual(d.get('ProtectSystem'), ['strict']);
  for (const [k, v] of [['ProtectHome', 'yes'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes'], ['RuntimeDirectory', 'xfsguard'], ['RuntimeDirectoryMode', '0750'], ['StateDirectory', 'xfsguard']]) {
    assert.deepEqual(d.get(k as string), [v], k);
  }
  assert.deepEqual(d.get('RestrictAddressFamilies'), ['AF_UNIX AF_INET AF_INET6']);
  assert.equal(d.get('MemoryDenyWriteExecute'), undefined);
  assert.equal(d.get('PrivateDevices'), undefined, '/dev/disk/by-uuid is part of the self-test cache key');
  assert.ok((d.get('ReadWritePaths') ?? []).includes('-/var/lib/libvirt/images'));
  const filter = d.get('SystemCallFilter') ?? [];
  assert.deepEqual(filter, ['@system-service']);
  // What the self-test needs must be in the allowed set, as this systemd defines the groups.
  const groups = spawnSync(analyze as string, ['syscall-filter', '@system-service'], { encoding: 'utf8' }).stdout;
  const aio = spawnSync(analyze as string, ['syscall-filter', '@aio'], { encoding: 'utf8' }).stdout;
  const files = spawnSync(analyze as string, ['syscall-filter', '@file-system'], { encoding: 'utf8' }).stdout;
  assert.match(groups, /^\s+@aio$/m);
  assert.match(groups, /^\s+@file-system$/m);
  for (const s of ['io_setup', 'io_submit', 'io_getevents', 'io_destroy', 'io_uring_setup', 'io_uring_enter', 'io_uring_register']) assert.match(aio, new RegExp(`^\\s+${s}$`, 'm'), s);
  assert.match(files, /^\s+fallocate$/m);
});

// The readiness message, end to end: a real AF_UNIX datagram socket (python3), the addon's
// sdNotify from a separate node process, the datagram checked on arrival.
const addon = path.join(REPO_ROOT, 'build', 'Release', 'xfsguard_native.node');
const noNotifyPeer = !existsSync(addon) ? `native addon not built (${addon}): run npm run install` : which('python3') === null ? 'python3 is not installed' : false;

/** Binds a datagram socket (python3), calls send(), returns the first datagram; onReceive runs as it arrives. */
async function receiveOne(socketPath: string, send: () => void, onReceive?: () => void): Promise<string> {
  const py = 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\na=sys.argv[1]\ns.bind("\\0"+a[1:] if a.startswith("@") else a)\nprint("bound",flush=True)\ns.settimeout(20)\nd=s.recv(4096)\nsys.stdout.write(d.decode())\n';
  const child = spawn('python3', ['-c', py, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('bound\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`receiver exited early: ${err}`)));
  });
  send();
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => {
    onReceive?.();
    resolve(c);
  }));
  assert.equal(code, 0, err);
  return out.slice('bound\n'.length);
}

function notifyFromNode(socketPath: string, state: string): { sent: boolean; error: string | null } {
  const script = `import { loadNative } from './native/index.ts'; process.stdout.write(JSON.stringify(loadNative().sdNotify(${JSON.stringify(state)})));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NOTIFY_SOCKET: socketPath } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { sent: boolean; error: string | null };
}

test('sd_notify: READY=1 arrives as one datagram on $NOTIFY_SOCKET (path and abstract)', { skip: noNotifyPeer, timeout: 60_000 }, async (t) => {
  if (noNotifyPeer !== false) return;
  const dir = mkdtempSync(path.join(work, 'notify-'));
  const sock = path.join(dir, 'notify.sock');
  let result: { sent: boolean; error: string | null } | undefined;
  const got = await receiveOne(sock, () => (result = notifyFromNode(sock, 'READY=1')));
  assert.equal(got, 'READY=1');
  assert.deepEqual(result, { sent: true, error: null });
  // systemd also hands out abstract sockets ("@name": a leading NUL in the address).
  const abstractName = `xfsguard-test-${process.pid}`;
  const gotAbstract = await receiveOne(`@${abstractName}`, () => (result = notifyFromNode(`@${abstractName}`, 'READY=1\nSTATUS=listening')));
  assert.equal(gotAbstract, 'READY=1\nSTATUS=listening');
  t.diagnostic('datagrams received on a path socket and an abstract socket');
  // No NOTIFY_SOCKET: nothing sent, no error (not under systemd).
  const none = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import { loadNative } from './native/index.ts'; process.stdout.write(JSON.stringify(loadNative().sdNotify('READY=1')));"], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NOTIFY_SOCKET: '' } });
  assert.equal(none.status, 0, none.stderr);
  assert.equal((JSON.parse(none.stdout) as { sent: boolean }).sent, false);
});

test('xfsguard serve (the unit\'s ExecStart) sends READY=1 once its socket is listening, mode 0660', { skip: noNotifyPeer !== false ? noNotifyPeer : existsSync(CLI) ? false : `${CLI} not built`, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(work, 'serve-'));
  const notifySock = path.join(dir, 'notify.sock');
  const apiSock = path.join(dir, 'api.sock');
  let serve: ReturnType<typeof spawn> | undefined;
  let modeAtReady = -1;
  try {
    const got = await receiveOne(notifySock, () => {
      serve = spawn(process.execPath, [CLI, 'serve', '--socket', apiSock, '--state-dir', path.join(dir, 'state'), '--log-level', 'warn'], {
        env: { ...process.env, NOTIFY_SOCKET: notifySock }, stdio: 'ignore',
      });
    }, () => {
      modeAtReady = statSync(apiSock).mode & 0o777;
    });
    assert.equal(got.split('\n')[0], 'READY=1');
    assert.equal(modeAtReady, 0o660, 'the API socket exists when READY=1 arrives');
  } finally {
    serve?.kill('SIGTERM');
  }
});

test('roots under /home or /var/tmp: ProtectHome=/PrivateTmp= turned off so the self-test can reach them', { skip: noAnalyze }, () => {
  const render = (roots: string[]) => UNIT_NAMES.filter((n) => n.endsWith('.service')).map((n) => renderUnit(readFileSync(path.join(unitDir, n), 'utf8'), '/usr/local/bin/xfsguard', roots));
  for (const text of render(['/var/lib/libvirt/images'])) {
    assert.match(text, /^ProtectHome=yes$/m);
    assert.match(text, /^PrivateTmp=yes$/m);
  }
  for (const text of render(['/var/lib/libvirt/images', '/home/vms', '/var/tmp/images'])) {
    assert.deepEqual(directives(text).get('ProtectHome'), ['no']);
    assert.deepEqual(directives(text).get('PrivateTmp'), ['no']);
  }
  // Not fooled by a prefix that is not a parent directory.
  for (const text of render(['/homework/vms', '/tmpdata'])) {
    assert.deepEqual(directives(text).get('ProtectHome'), ['yes']);
    assert.deepEqual(directives(text).get('PrivateTmp'), ['yes']);
  }
  const dir = mkdtempSync(path.join(work, 'home-'));
  const bin = path.join(dir, 'xfsguard');
  writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
  const files = UNIT_NAMES.map((n) => {
    const f = path.join(dir, n);
    writeFileSync(f, renderUnit(readFileSync(path.join(unitDir, n), 'utf8'), bin, ['/home/vms', '/var/tmp/images']));
    return f;
  });
  const r = spawnSync(analyze as string, ['verify', ...files], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('refresh timer rewrites the node outputs well inside the NFD label expiry, without a new self-test', () => {
  const timer = directives(readFileSync(path.join(unitDir, 'xfsguard-refresh.timer'), 'utf8'));
  const hours = (v: string | undefined) => Number(/^(\d+)h$/.exec(v ?? '')?.[1] ?? NaN);
  const every = hours(timer.get('OnUnitActiveSec')?.[0]);
  assert.ok(every > 0 && every * 3 <= NFD_EXPIRY_MS / 3_600_000, `every ${every} h: at least three refreshes per ${NFD_EXPIRY_MS / 3_600_000} h expiry`);
  assert.ok(hours(timer.get('OnBootSec')?.[0]) <= every);
  assert.deepEqual(timer.get('WantedBy'), ['timers.target']);
  const refresh = directives(readFileSync(path.join(unitDir, 'xfsguard-refresh.service'), 'utf8'));
  assert.deepEqual(refresh.get('Type'), ['oneshot']);
  assert.match(refresh.get('ExecStart')?.[0] ?? '', /^\/usr\/local\/bin\/xfsguard boot-check --selftest auto$/);
  assert.equal(refresh.get('WantedBy'), undefined, 'started by its timer, not enabled itself');
  assert.ok(ENABLE_UNITS.includes('xfsguard-refresh.timer'));
  assert.ok(!(ENABLE_UNITS as readonly string[]).includes('xfsguard-refresh.service'));
});
