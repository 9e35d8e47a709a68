// The libvirt qemu hook as libvirt runs it: the installed sh shim, spawned with libvirt's
// arguments and the domain XML on stdin, running the built `xfsguard libvirt-hook`. Its service is
// a recording HTTP peer on a real unix socket that answers per path (so every verdict can be
// shown); the last tests use the real `xfsguard serve` and the in-process fallback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startDecisionPeer } from './helpers/decision-peer.js';
import { CLI, REPO_ROOT } from './helpers/run-cli.js';
import { waitServeReady } from './helpers/serve-ready.js';

const HOOK = path.join(REPO_ROOT, 'service', 'hooks', 'libvirt-qemu');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'libvirt');
const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-hook-'));
chmodSync(work, 0o755);
const IMAGES = path.join(work, 'images');
const POOLS = path.join(work, 'pools');
mkdirSync(POOLS);
const notBuilt = existsSync(CLI) ? false : `${CLI} not built`;

// The xfsguard command the shim runs: this checkout's built CLI, as `xfsguard install` wraps it.
const XFSGUARD = path.join(work, 'xfsguard');
writeFileSync(XFSGUARD, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });

// The service: a recording peer on a real unix socket (test/helpers/decision-peer.ts).
const SOCK = path.join(work, 'svc.sock');
const peer = await startDecisionPeer(SOCK);
const asked = peer.asked;
test.after(() => {
  peer.close();
  rmSync(work, { recursive: true, force: true });
});

interface HookRun {
  code: number | null;
  stdout: string;
  stderr: string;
  asked: typeof asked;
  ms: number;
}

function xml(name: string): string {
  return readFileSync(path.join(FIXTURES, `${name}.xml`), 'utf8').replaceAll('@DIR@', IMAGES);
}

/** Runs the shim asynchronously (the service peer lives in this process). */
function runHook(args: string[], input: string, env: Record<string, string> = {}): Promise<HookRun> {
  asked.length = 0;
  const started = Date.now();
  const child = spawn(HOOK, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', XFSGUARD_HOOK_CONF: '/nonexistent', XFSGUARD_HOOK_XFSGUARD: XFSGUARD, XFSGUARD_HOOK_SOCKET: SOCK, XFSGUARD_HOOK_SYSLOG: '0', XFSGUARD_HOOK_POOL_DIRS: POOLS, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, asked: [...asked], ms: Date.now() - started })));
}

const prepare = (domain: string) => [domain, 'prepare', 'begin', '-'];
const q = (p: string, aio: string) => ({ path: p, aio, selftest: 'never' });
const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);

test('which disks are asked about: file and volume disks with io=native|io_uring and O_DIRECT only', { skip: notBuilt }, async () => {
  const cases: [string, ReturnType<typeof q>[]][] = [
    ['file-native', [q(`${IMAGES}/vm-native.qcow2`, 'native')]],
    ['file-io-uring', [q(`${IMAGES}/uring&co.raw`, 'io_uring')]],
    ['file-threads', []],
    ['block-disk', []],
    ['network-disk', []],
    ['no-disks', []],
    ['several-disks', [q(`${IMAGES}/data.raw`, 'io_uring'), q(`${IMAGES}/root.qcow2`, 'native')]],
  ];
  for (const [name, want] of cases) {
    const r = await runHook(prepare(name), xml(name));
    assert.equal(r.code, 0, `${name}: log-only by default: ${r.stderr}`);
    assert.equal(r.stdout, '', `${name}: nothing on stdout`);
    assert.deepEqual(r.asked.sort(byPath), want, name);
  }
});

test('log-only (default): an affected disk is logged with the reason that decided it; the start goes ahead', { skip: notBuilt }, async () => {
  const r = await runHook(prepare('vm-native'), xml('file-native'));
  assert.equal(r.code, 0);
  assert.match(r.stderr, /domain vm-native: disk vda \(.*vm-native\.qcow2, io=native\): verdict affected, workaround needed: selftest_reproduced: the race was reproduced on this filesystem \[via service\]/);
  assert.doesNotMatch(r.stderr, /io_mode_exposed/, 'not the last reason listed');
});

test('enforce: refuses with one clear line naming disk, path and deciding reason; allows when fixed', { skip: notBuilt }, async () => {
  const env = { XFSGUARD_HOOK_MODE: 'enforce' };
  const r = await runHook(prepare('vm-several'), xml('several-disks'), env);
  assert.equal(r.code, 1);
  const refusal = r.stderr.split('\n').filter((l) => l.startsWith('xfsguard: refusing'));
  assert.equal(refusal.length, 1, r.stderr);
  assert.match(refusal[0] as string, /domain vm-several: .*disk vda \(.*\/root\.qcow2, io=native\): verdict affected \(selftest_reproduced: the race was reproduced on this filesystem\)/);
  assert.doesNotMatch(refusal[0] as string, /vdb/, 'the fixed disk is not named');
  assert.equal((await runHook(prepare('vm-uring'), xml('file-io-uring'), env)).code, 0);
  // unknown refuses only when REFUSE_ON says so
  const unk = xml('file-native').replace('vm-native.qcow2', 'unknown.qcow2');
  assert.equal((await runHook(prepare('vm-u'), unk, env)).code, 0);
  const u = await runHook(prepare('vm-u'), unk, { ...env, XFSGUARD_HOOK_REFUSE_ON: 'affected,unknown' });
  assert.equal(u.code, 1);
  assert.match(u.stderr, /verdict unknown \(kernel_unknown: nothing is known about this kernel\)/);
});

test('configuration file: MODE=enforce from hook.conf; the environment wins', { skip: notBuilt }, async () => {
  const conf = path.join(work, 'hook.conf');
  writeFileSync(conf, '# xfsguard hook\nMODE="enforce"\nREFUSE_ON=affected\n');
  assert.equal((await runHook(prepare('vm'), xml('file-native'), { XFSGUARD_HOOK_CONF: conf })).code, 1);
  assert.equal((await runHook(prepare('vm'), xml('file-native'), { XFSGUARD_HOOK_CONF: conf, XFSGUARD_HOOK_MODE: 'log' })).code, 0);
});

test('never fails another phase, whatever the input (reconnect, release, migrate, start, ...)', { skip: notBuilt }, async () => {
  const env = { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_ON_ERROR: 'refuse' };
  for (const op of ['start', 'started', 'stopped', 'release', 'migrate', 'restore', 'reconnect', 'attach', '']) {
    for (const input of [xml('file-native'), 'garbage <<<', '']) {
      const r = await runHook(['vm', op, 'begin', '-'], input, env);
      assert.equal(r.code, 0, `${op}: ${r.stderr}`);
      assert.equal(r.stdout, '', `${op}: stdout is the XML filter for migrate/restore: must stay empty`);
      assert.deepEqual(r.asked, [], `${op}: nothing asked`);
    }
  }
  assert.equal((await runHook([], '')).code, 0, 'no arguments at all');
});

test('unreadable domain XML (malformed, truncated, empty): allowed by default, refused with ON_ERROR=refuse', { skip: notBuilt }, async () => {
  const enforce = { XFSGUARD_HOOK_MODE: 'enforce' };
  const full = xml('several-disks');
  for (const input of [xml('malformed'), full.slice(0, Math.floor(full.length / 2)), full.slice(0, -3), '']) {
    const allowed = await runHook(prepare('vm-broken'), input, enforce);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /cannot read the domain XML .*; not checked/);
    const refused = await runHook(prepare('vm-broken'), input, { ...enforce, XFSGUARD_HOOK_ON_ERROR: 'refuse' });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^xfsguard: refusing to start domain vm-broken: cannot read the domain XML/m);
    assert.deepEqual(refused.asked, []);
  }
  // Log mode never refuses, ON_ERROR or not.
  assert.equal((await runHook(prepare('vm'), xml('malformed'), { XFSGUARD_HOOK_ON_ERROR: 'refuse' })).code, 0);
});

test('the service failing or slow: answered in this process instead, and the log says why', { skip: notBuilt }, async () => {
  const enforce = { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_SOCKET_TIMEOUT_MS: '300' };
  const broken = await runHook(prepare('vm'), xml('file-native').replace('vm-native.qcow2', 'broken.qcow2'), enforce);
  assert.equal(broken.code, 0, broken.stderr);
  assert.match(broken.stderr, /verdict \w+, workaround .* \[via in-process \(service: HTTP 500: boom\)\]/);
  const slow = await runHook(prepare('vm'), xml('file-native').replace('vm-native.qcow2', 'slow.qcow2'), enforce);
  assert.match(slow.stderr, /\[via in-process \(service: no answer within 300 ms\)\]/);
  const absent = await runHook(prepare('vm'), xml('file-native'), { ...enforce, XFSGUARD_HOOK_SOCKET: path.join(work, 'no.sock') });
  assert.match(absent.stderr, /\[via in-process \(service: socket absent\)\]/);
});

test('the hook\'s own failure never blocks a start: no command, a crash, a hang', { skip: notBuilt }, async () => {
  const env = { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_ON_ERROR: 'refuse' };
  const missing = await runHook(prepare('vm'), xml('file-native'), { ...env, XFSGUARD_HOOK_XFSGUARD: path.join(work, 'no-such-xfsguard'), PATH: '/nonexistent' });
  assert.equal(missing.code, 0);
  assert.match(missing.stderr, /xfsguard command not found; domain vm not checked/);
  const crashing = path.join(work, 'xfsguard-crash');
  writeFileSync(crashing, '#!/bin/sh\nkill -SEGV $$\n', { mode: 0o755 });
  const crash = await runHook(prepare('vm'), xml('file-native'), { ...env, XFSGUARD_HOOK_XFSGUARD: crashing });
  assert.equal(crash.code, 0, crash.stderr);
  assert.match(crash.stderr, /exited with status \d+; domain vm not checked/);
  const hanging = path.join(work, 'xfsguard-hang');
  writeFileSync(hanging, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
  const hang = await runHook(prepare('vm'), xml('file-native'), { ...env, XFSGUARD_HOOK_XFSGUARD: hanging, XFSGUARD_HOOK_SHIM_TIMEOUT: '1' });
  assert.equal(hang.code, 0, hang.stderr);
  assert.ok(hang.ms < 10_000, `the shim does not wait for a hung command (${hang.ms} ms)`);
  // A real refusal still refuses (exit 1, not the internal status 100).
  assert.equal((await runHook(prepare('vm'), xml('file-native'), env)).code, 1);
});

test('only O_DIRECT disks are asked about: cache=none|directsync; cdroms are read-only', { skip: notBuilt }, async () => {
  const r = await runHook(prepare('vm-cache'), xml('cache-modes'), { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_VERBOSE: '1' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.asked, [q(`${IMAGES}/directsync.qcow2`, 'native')]);
  assert.match(r.stderr, /not checked: vda: cache=writeback \(no O_DIRECT\), vdb: cache=default \(no O_DIRECT\), sda: read-only/);
});

test('disk paths reach the service exactly, entities decoded, backing files not asked; a relative path cannot be answered', { skip: notBuilt }, async () => {
  const r = await runHook(prepare('vm-odd'), xml('odd-paths'), { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_ON_ERROR: 'refuse' });
  assert.deepEqual(r.asked.map((a) => a.path).sort(), [
    `${IMAGES}/--version\n$(touch pwned);\`id\`.raw`,
    `${IMAGES}/it's "my" disk &amp; <1>.qcow2`,
  ].sort());
  assert.equal(r.code, 1, 'the relative "--help" disk cannot be answered: ON_ERROR=refuse refuses');
  assert.match(r.stderr, /disk vdc \(--help, io=native\): xfsguard could not answer: "--help" is not an absolute path/);
  assert.equal(existsSync(path.join(work, 'pwned')), false);
});

test('volume disks: resolved through the pool XML libvirt keeps (dumpxml and live-state forms); other pool types skipped', { skip: notBuilt }, async () => {
  const pool = (name: string, fixture: string) => writeFileSync(path.join(POOLS, `${name}.xml`), readFileSync(path.join(FIXTURES, `${fixture}.xml`), 'utf8').replaceAll('@POOL@', IMAGES).replaceAll('@POOLNAME@', name));
  pool('native-pool', 'pool-dir');
  pool('state-pool', 'pool-dir-state');
  pool('lvm-pool', 'pool-logical');
  const dom = (name: string) => xml('volume-disks').replaceAll('@POOLNAME@', name);
  const r = await runHook(prepare('vm-vol'), dom('native-pool'), { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_VERBOSE: '1' });
  assert.deepEqual(r.asked, [q(`${IMAGES}/vm1.qcow2`, 'native')], r.stderr);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /disk vda \(.*\/images\/vm1\.qcow2, io=native\): verdict fixed/);
  assert.match(r.stderr, /not checked: .*vdb: pool lvm-pool is type=logical: its volumes are not files/);
  assert.match(r.stderr, /vdc: io=threads/);
  const s = await runHook(prepare('vm-vol'), dom('state-pool'), {});
  assert.deepEqual(s.asked, [q(`${IMAGES}/vm1.qcow2`, 'native')], s.stderr);
  // A pool nobody knows: cannot be answered (refused only with ON_ERROR=refuse).
  const none = await runHook(prepare('vm-vol'), dom('no-such-pool'), { XFSGUARD_HOOK_MODE: 'enforce', PATH: '/usr/bin:/bin' });
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stderr, /disk vda \(volume vm1\.qcow2 in pool no-such-pool\): xfsguard could not answer/);
});

/** Starts the real `xfsguard serve` on a socket and waits until it answers. */
async function realServe(dir: string, policy: string): Promise<{ sock: string; stop: () => void }> {
  const sock = path.join(dir, 'real.sock');
  const child = spawn(process.execPath, [CLI, 'serve', '--socket', sock, '--policy', policy, '--state-dir', path.join(dir, 'state'), '--log-level', 'warn'], { stdio: 'ignore' });
  assert.ok(await waitServeReady(sock), 'xfsguard serve is ready');
  return { sock, stop: () => child.kill('SIGTERM') };
}

test('the real service and the in-process fallback give the same verdicts', { skip: notBuilt, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(work, 'real-'));
  const policy = path.join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [IMAGES] }));
  const env = { XFSGUARD_POLICY: policy, XFSGUARD_STATE_DIR: path.join(dir, 'state'), XFSGUARD_HOOK_VERBOSE: '1' };
  const svc = await realServe(dir, policy);
  try {
    const verdicts = (stderr: string) => stderr.split('\n').filter((l) => / verdict /.test(l)).map((l) => l.replace(/ \[via .*\]$/, '')).sort();
    const viaSocket = await runHook(prepare('vm-real'), xml('several-disks'), { ...env, XFSGUARD_HOOK_SOCKET: svc.sock });
    const inProcess = await runHook(prepare('vm-real'), xml('several-disks'), { ...env, XFSGUARD_HOOK_SOCKET: '' });
    assert.equal(viaSocket.code, 0, viaSocket.stderr);
    assert.equal((viaSocket.stderr.match(/\[via service\]/g) ?? []).length, 2, viaSocket.stderr);
    assert.equal((inProcess.stderr.match(/\[via in-process/g) ?? []).length, 2, inProcess.stderr);
    assert.equal(verdicts(viaSocket.stderr).length, 2);
    assert.deepEqual(verdicts(viaSocket.stderr), verdicts(inProcess.stderr));
  } finally {
    svc.stop();
  }
});
