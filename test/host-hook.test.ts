// The libvirt qemu hook, spawned as libvirt runs it: arguments, domain XML on stdin, exit status
// and stderr. A stub xfsguard records what it was asked and answers per path; one test uses the
// real CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLI, REPO_ROOT } from './helpers/run-cli.js';

const HOOK = path.join(REPO_ROOT, 'service', 'hooks', 'libvirt-qemu');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'libvirt');
const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-hook-'));
chmodSync(work, 0o755);
test.after(() => rmSync(work, { recursive: true, force: true }));
const IMAGES = path.join(work, 'images');

// The stub answers like `xfsguard check --json`: paths containing "native" or "root" are affected,
// "unknown" unknown, "broken" prints garbage, "slow" hangs; everything else is fixed.
const stub = path.join(work, 'xfsguard-stub');
const stubLog = path.join(work, 'stub.log');
writeFileSync(stub, `#!/bin/sh
printf '%s\\n' "$*" >> ${JSON.stringify(stubLog)}
for last; do :; done
case "$last" in
  *slow*) exec sleep 30 ;;
  *broken*) echo 'not json'; exit 1 ;;
  *unknown*) echo '{"verdict":"unknown","enable_workaround":true,"reasons":[{"code":"kernel_unknown","detail":"nothing is known about this kernel"}]}'; exit 11 ;;
  *native*|*root*) echo '{"verdict":"affected","enable_workaround":true,"reasons":[{"code":"selftest_reproduced","detail":"the race was reproduced on this filesystem"}]}'; exit 10 ;;
esac
echo '{"verdict":"fixed","enable_workaround":false,"reasons":[{"code":"kernel_fixed_upstream","detail":"fixed"}]}'
`, { mode: 0o755 });

interface HookRun {
  code: number | null;
  stdout: string;
  stderr: string;
  asked: string[];
}

function xml(name: string): string {
  return readFileSync(path.join(FIXTURES, `${name}.xml`), 'utf8').replaceAll('@DIR@', IMAGES);
}

function runHook(args: string[], input: string, env: Record<string, string> = {}): HookRun {
  rmSync(stubLog, { force: true });
  const r = spawnSync(HOOK, args, {
    input, encoding: 'utf8', timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', XFSGUARD_HOOK_CONF: '/nonexistent', XFSGUARD_HOOK_XFSGUARD: stub, XFSGUARD_HOOK_SYSLOG: '0', ...env },
  });
  return {
    code: r.status, stdout: r.stdout, stderr: r.stderr,
    asked: existsSync(stubLog) ? readFileSync(stubLog, 'utf8').trimEnd().split('\n') : [],
  };
}

const prepare = (domain: string) => [domain, 'prepare', 'begin', '-'];

test('which disks are checked: file disks with io=native or io=io_uring only', () => {
  const cases: [string, string[]][] = [
    ['file-native', [`check --json --aio native --selftest never -- ${IMAGES}/vm-native.qcow2`]],
    ['file-io-uring', [`check --json --aio io_uring --selftest never -- ${IMAGES}/uring&co.raw`]],
    ['file-threads', []],
    ['block-disk', []],
    ['network-disk', []],
    ['no-disks', []],
    ['several-disks', [`check --json --aio native --selftest never -- ${IMAGES}/root.qcow2`, `check --json --aio io_uring --selftest never -- ${IMAGES}/data.raw`]],
  ];
  for (const [name, want] of cases) {
    const r = runHook(prepare(name), xml(name));
    assert.equal(r.code, 0, `${name}: log-only by default: ${r.stderr}`);
    assert.equal(r.stdout, '', `${name}: nothing on stdout`);
    assert.deepEqual(r.asked.sort(), [...want].sort(), name);
  }
});

test('log-only (default): an affected disk is logged, the start goes ahead', () => {
  const r = runHook(prepare('vm-native'), xml('file-native'));
  assert.equal(r.code, 0);
  assert.match(r.stderr, /disk vda \(.*vm-native\.qcow2, io=native\): verdict affected, workaround needed/);
});

test('enforce: refuses with one clear line naming disk, path and reason; allows when fixed', () => {
  const env = { XFSGUARD_HOOK_MODE: 'enforce' };
  const r = runHook(prepare('vm-several'), xml('several-disks'), env);
  assert.equal(r.code, 1);
  const refusal = r.stderr.split('\n').filter((l) => l.startsWith('xfsguard: refusing'));
  assert.equal(refusal.length, 1, r.stderr);
  assert.match(refusal[0] as string, /domain vm-several: .*disk vda \(.*\/root\.qcow2, io=native\): verdict affected \(the race was reproduced on this filesystem\)/);
  assert.doesNotMatch(refusal[0] as string, /vdb/, 'the fixed disk is not named');
  const ok = runHook(prepare('vm-uring'), xml('file-io-uring'), env);
  assert.equal(ok.code, 0, ok.stderr);
  // unknown refuses only when REFUSE_ON says so
  const unk = xml('file-native').replace('vm-native.qcow2', 'unknown.qcow2');
  assert.equal(runHook(prepare('vm-u'), unk, env).code, 0);
  assert.equal(runHook(prepare('vm-u'), unk, { ...env, XFSGUARD_HOOK_REFUSE_ON: 'affected,unknown' }).code, 1);
});

test('configuration file: MODE=enforce from hook.conf; the environment wins', () => {
  const conf = path.join(work, 'hook.conf');
  writeFileSync(conf, '# xfsguard hook\nMODE="enforce"\nREFUSE_ON=affected\n');
  assert.equal(runHook(prepare('vm'), xml('file-native'), { XFSGUARD_HOOK_CONF: conf }).code, 1);
  assert.equal(runHook(prepare('vm'), xml('file-native'), { XFSGUARD_HOOK_CONF: conf, XFSGUARD_HOOK_MODE: 'log' }).code, 0);
});

test('never fails another phase, whatever the input (reconnect, release, migrate, start, ...)', () => {
  const env = { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_ON_ERROR: 'refuse' };
  for (const op of ['start', 'started', 'stopped', 'release', 'migrate', 'restore', 'reconnect', 'attach', '']) {
    for (const input of [xml('file-native'), 'garbage <<<', '']) {
      const r = runHook(['vm', op, 'begin', '-'], input, env);
      assert.equal(r.code, 0, `${op}: ${r.stderr}`);
      assert.equal(r.stdout, '', `${op}: stdout is the XML filter for migrate/restore: must stay empty`);
      assert.deepEqual(r.asked, [], `${op}: nothing asked`);
    }
  }
  // No arguments at all.
  assert.equal(runHook([], '').code, 0);
});

test('fails open on problems: malformed XML, missing command, garbage answer, timeout; ON_ERROR=refuse', () => {
  const enforce = { XFSGUARD_HOOK_MODE: 'enforce' };
  const bad = runHook(prepare('vm-broken'), xml('malformed'), enforce);
  assert.equal(bad.code, 0);
  assert.match(bad.stderr, /cannot read the domain XML/);
  const missing = runHook(prepare('vm'), xml('file-native'), { ...enforce, XFSGUARD_HOOK_XFSGUARD: path.join(work, 'no-such-xfsguard') });
  assert.equal(missing.code, 0);
  assert.match(missing.stderr, /xfsguard command not found/);
  assert.equal(runHook(prepare('vm'), xml('file-native'), { ...enforce, XFSGUARD_HOOK_XFSGUARD: path.join(work, 'no-such-xfsguard'), XFSGUARD_HOOK_ON_ERROR: 'refuse' }).code, 1);
  const garbage = runHook(prepare('vm'), xml('file-native').replace('vm-native.qcow2', 'broken.qcow2'), enforce);
  assert.equal(garbage.code, 0);
  assert.match(garbage.stderr, /could not answer/);
  const started = Date.now();
  const slow = runHook(prepare('vm'), xml('file-native').replace('vm-native.qcow2', 'slow.qcow2'), { ...enforce, XFSGUARD_HOOK_TIMEOUT_MS: '1000' });
  assert.equal(slow.code, 0);
  assert.match(slow.stderr, /timed out after 1000 ms/);
  assert.ok(Date.now() - started < 15_000, 'the hook does not wait for the hung check');
});

test('node is found without PATH (a minimal daemon environment), by absolute fallbacks', () => {
  const r = spawnSync('/bin/sh', [HOOK, 'vm', 'prepare', 'begin', '-'], {
    input: xml('file-native'), encoding: 'utf8',
    env: { PATH: '/nonexistent', XFSGUARD_NODE: '/nonexistent/node', XFSGUARD_HOOK_XFSGUARD: stub, XFSGUARD_HOOK_SYSLOG: '0', XFSGUARD_HOOK_CONF: '/nonexistent' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /verdict affected/, 'the Node part ran');
});

test('with the real CLI: a file on this machine is judged and the start is allowed', { skip: existsSync(CLI) ? false : `${CLI} not built` }, () => {
  const wrapper = path.join(work, 'xfsguard-real');
  const policy = path.join(work, 'policy.json');
  writeFileSync(policy, JSON.stringify({ allowed_roots: [work] }));
  writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
  const r = runHook(prepare('vm-real'), xml('file-native'), {
    XFSGUARD_HOOK_XFSGUARD: wrapper, XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_POLICY: policy, XFSGUARD_STATE_DIR: path.join(work, 'state'),
  });
  assert.match(r.stderr, /disk vda \(.*vm-native\.qcow2, io=native\): verdict (fixed|not_affected|unknown|affected)/);
  // Refused only when this machine really is affected.
  assert.equal(r.code, /verdict affected/.test(r.stderr) ? 1 : 0, r.stderr);
});

test('a crashing or too old node never blocks the start, even in enforce mode with ON_ERROR=refuse', () => {
  const env = { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_ON_ERROR: 'refuse' };
  // An old distribution node fails to parse the Node part (exit 1); another dies from a signal.
  const oldNode = path.join(work, 'node-old');
  writeFileSync(oldNode, '#!/bin/sh\necho "SyntaxError: Unexpected token ?" >&2\nexit 1\n', { mode: 0o755 });
  const crashing = path.join(work, 'node-crash');
  writeFileSync(crashing, '#!/bin/sh\nkill -SEGV $$\n', { mode: 0o755 });
  for (const node of [oldNode, crashing]) {
    const r = runHook(prepare('vm'), xml('file-native'), { ...env, XFSGUARD_NODE: node });
    assert.equal(r.code, 0, `${node}: ${r.stderr}`);
    assert.match(r.stderr, /exited with status \d+; domain vm not checked/);
  }
  // A real refusal still refuses (exit 1, not the internal status).
  const refused = runHook(prepare('vm'), xml('file-native'), env);
  assert.equal(refused.code, 1, refused.stderr);
});

test('only O_DIRECT disks are asked about: cache=none|directsync; cdroms are read-only', () => {
  const r = runHook(prepare('vm-cache'), xml('cache-modes'), { XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_VERBOSE: '1' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.asked, [`check --json --aio native --selftest never -- ${IMAGES}/directsync.qcow2`]);
  assert.match(r.stderr, /vda: cache=writeback \(no O_DIRECT\), vdb: cache=default \(no O_DIRECT\), sda: read-only/);
});

test('disk paths reach xfsguard as one argument after "--", entities decoded, backing files not asked', () => {
  const argvDir = mkdtempSync(path.join(work, 'argv-'));
  const argvStub = path.join(work, 'xfsguard-argv');
  writeFileSync(argvStub, `#!/bin/sh
f=$(mktemp ${JSON.stringify(argvDir)}/argv.XXXXXX)
printf '%s\\0' "$@" > "$f"
echo '{"verdict":"fixed","enable_workaround":false,"reasons":[]}'
`, { mode: 0o755 });
  const r = runHook(prepare('vm-odd'), xml('odd-paths'), { XFSGUARD_HOOK_XFSGUARD: argvStub, XFSGUARD_HOOK_MODE: 'enforce', XFSGUARD_HOOK_ON_ERROR: 'refuse' });
  assert.equal(r.code, 0, r.stderr);
  const calls = readdirSync(argvDir).map((f) => readFileSync(path.join(argvDir, f), 'utf8').split('\0').slice(0, -1));
  const paths = calls.map((argv) => {
    assert.deepEqual(argv.slice(0, -1).filter((a) => a === '--'), ['--'], 'one "--"');
    assert.equal(argv.at(-2), '--', 'the path follows "--"');
    return argv.at(-1);
  }).sort();
  assert.deepEqual(paths, [
    '--help',
    `${IMAGES}/--version\n$(touch pwned);\`id\`.raw`,
    `${IMAGES}/it's "my" disk &amp; <1>.qcow2`,
  ].sort());
  assert.equal(existsSync(path.join(work, 'pwned')), false);
});
