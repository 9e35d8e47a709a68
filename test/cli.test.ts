// The CLI as users run it: the built command, spawned, with real filesystems.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../service/cli/main.js';
import { loopFsOrSkip, tmpfsOrSkip } from './helpers/scratch-fs.js';
import { CLI, runCli } from './helpers/run-cli.js';

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-cli-'));
chmodSync(work, 0o755);
const policyFile = path.join(work, 'policy.json');
writeFileSync(policyFile, JSON.stringify({ mode: 'conservative' }));
const stateDir = path.join(work, 'state');
const env = { XFSGUARD_POLICY: policyFile, XFSGUARD_STATE_DIR: stateDir };
const ext4Dir = path.join(work, 'images');
mkdirSync(ext4Dir);
writeFileSync(path.join(ext4Dir, 'vm.qcow2'), 'not really an image');
test.after(() => rmSync(work, { recursive: true, force: true }));

function assertUsageError(r: ReturnType<typeof runCli>, pattern: RegExp) {
  assert.equal(r.code, 2, `exit 2 expected, got ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
  assert.match(lines[0] ?? '', /^xfsguard: /);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('bad input: one line on stderr, exit 2, no stack trace', () => {
  assertUsageError(runCli([], { env }), /a COMMAND is required/);
  assertUsageError(runCli(['frobnicate'], { env }), /unknown command "frobnicate"/);
  assertUsageError(runCli(['check'], { env }), /a PATH is required/);
  assertUsageError(runCli(['check', ext4Dir, ext4Dir], { env }), /one PATH only/);
  assertUsageError(runCli(['check', '--frob', ext4Dir], { env }), /--frob/);
  assertUsageError(runCli(['check', '--selftest', 'sometimes', ext4Dir], { env }), /--selftest must be one of auto, always, never/);
  assertUsageError(runCli(['check', '--aio', 'posix', ext4Dir], { env }), /--aio must be one of/);
  assertUsageError(runCli(['check', '--kernel-release', 'not a release; rm -rf', ext4Dir], { env }), /--kernel-release/);
  assertUsageError(runCli(['selftest', '--iterations', '0', ext4Dir], { env }), /--iterations must be a whole number/);
  assertUsageError(runCli(['selftest', '--engine', 'posix-aio', ext4Dir], { env }), /--engine/);
  assertUsageError(runCli(['check', '/proc/self'], { env }), /pseudo filesystem/);
  assertUsageError(runCli(['check', '/sys/kernel'], { env }), /pseudo filesystem/);
  assertUsageError(runCli(['check', '/dev/shm/images'], { env }), /pseudo filesystem/);
  assertUsageError(runCli(['check', `/${'x'.repeat(4200)}`], { env }), /PATH_MAX/);
  assertUsageError(runCli(['check', `${work}/${'x'.repeat(300)}/vm.qcow2`], { env }), /NAME_MAX/);
  assertUsageError(runCli(['check', ext4Dir], { env: { ...env, XFSGUARD_POLICY: path.join(work, 'absent.json') } }), /absent\.json/);
});

test('a NUL byte in the path is refused (argv cannot carry one: checked in-process)', async () => {
  const printed: string[] = [];
  const writes: string[] = [];
  const origWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    writes.push(String(chunk));
    return true;
  });
  try {
    const code = await main(['check', '/var/lib/a\0b'], { print: (t) => printed.push(t), usage: (m) => { throw new Error(m); } });
    assert.equal(code, 2);
  } finally {
    process.stderr.write = origWrite;
  }
  assert.deepEqual(printed, []);
  assert.match(writes.join(''), /NUL byte/);
});

test('a malformed policy file is refused with the file named', () => {
  const bad = path.join(work, 'bad-policy.json');
  writeFileSync(bad, '{"mode": "yolo"}');
  const r = runCli(['check', '--policy', bad, ext4Dir], { env });
  assertUsageError(r, /bad-policy\.json/);
  assert.match(r.stderr, /mode/);
});

test('permission denied is a usage error, not a crash', (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run the CLI as another user');
    return;
  }
  const locked = path.join(work, 'locked');
  mkdirSync(path.join(locked, 'inner'), { recursive: true });
  chmodSync(locked, 0o700);
  const r = runCli(['check', path.join(locked, 'inner')], { env, uid: 65534, gid: 65534 });
  assertUsageError(r, /permission denied/);
});

test('a full standard output (>/dev/full) or a closed pipe: one line on stderr, exit 1, no stack trace', (t) => {
  if (!existsSync('/dev/full')) {
    t.skip('no /dev/full here');
    return;
  }
  const full = openSync('/dev/full', 'w');
  t.after(() => closeSync(full));
  for (const args of [['check', ext4Dir], ['check', '--json', ext4Dir], ['explain', ext4Dir], ['--help']]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, 'xfsguard: cannot write to standard output: ENOSPC\n', args.join(' '));
  }
  // a reader that is gone (`| true` exits long before node has started): the kernel says EPIPE
  const piped = spawnSync('sh', ['-c', `"$0" "$1" explain "$2" | true`, process.execPath, CLI, ext4Dir], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  assert.match(piped.stderr, /^(xfsguard: cannot write to standard output: EPIPE\n)?$/, piped.stderr);
});

test('help lists the exit codes', () => {
  for (const args of [['--help'], ['check', '--help']]) {
    const r = runCli(args, { env });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /10 .*reproduced/);
    assert.match(r.stdout, /11 .*cannot be ruled out/);
  }
  assert.match(runCli(['--version'], { env }).stdout, /^\d+\.\d+\.\d+/);
});

test('ext4: not XFS, no workaround; a regular file is judged by its directory', () => {
  const r = runCli(['check', '--json', path.join(ext4Dir, 'vm.qcow2')], { env });
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as { enable_workaround: boolean; verdict: string; reasons: { code: string }[]; evidence: { filesystem: { judged_directory: string; path_kind: string; notes: string[] } } };
  assert.equal(d.enable_workaround, false);
  assert.equal(d.verdict, 'not_affected');
  assert.equal(d.evidence.filesystem.judged_directory, ext4Dir);
  assert.equal(d.evidence.filesystem.path_kind, 'file');
  assert.match(d.evidence.filesystem.notes.join(' '), /regular file/);
  assert.ok(d.reasons.length > 0);
  const human = runCli(['check', ext4Dir], { env });
  assert.equal(human.code, 0);
  assert.ok(human.stdout.length > 0);
});

test('XFS on a loop device: self-test runs once per boot, then answers from the cache', (t) => {
  const m = loopFsOrSkip(t);
  if (m === null) return;
  const images = path.join(m.mountPoint, 'images');
  mkdirSync(images);
  const state = path.join(work, 'xfs-state');
  const xenv = { ...env, XFSGUARD_STATE_DIR: state };

  const never = runCli(['check', '--json', '--selftest', 'never', images], { env: xenv });
  const first = JSON.parse(never.stdout) as { evidence: { selftest: unknown }; verdict: string };
  assert.equal(first.evidence.selftest, null, 'never: no self-test run');

  const auto = runCli(['check', '--json', '--budget-ms', '4000', images], { env: xenv });
  assert.ok(auto.code === 0 || auto.code === 10 || auto.code === 11, auto.stderr);
  const ran = JSON.parse(auto.stdout) as { evidence: { selftest: { cached: boolean; report: { outcome: string; runs: unknown[] } } } };
  assert.equal(ran.evidence.selftest.cached, false);
  assert.equal(ran.evidence.selftest.report.runs.length, 4, 'both engines × both modes');
  // This machine's own kernel is fixed: no false positive here.
  assert.notEqual(ran.evidence.selftest.report.outcome, 'reproduced');
  assert.deepEqual(readdirSync(images), [], 'nothing left in the directory under test');

  const cached = runCli(['check', '--json', images], { env: xenv });
  assert.equal(cached.code, auto.code);
  const again = JSON.parse(cached.stdout) as { evidence: { selftest: { cached: boolean } } };
  assert.equal(again.evidence.selftest.cached, true, 'answered from the state directory');
  t.diagnostic(`warm-cache check took ${cached.ms.toFixed(0)} ms (spawn included)`);

  // A corrupt state file: a warning, and the answer still comes.
  for (const f of readdirSync(state)) writeFileSync(path.join(state, f), '{"not": "ours"}');
  const corrupt = runCli(['check', '--json', '--selftest', 'never', images], { env: xenv });
  assert.equal(corrupt.code === 0 || corrupt.code === 10 || corrupt.code === 11, true);
  assert.match(corrupt.stderr, /warning: .*ignoring it/);
  JSON.parse(corrupt.stdout);

  // What-if: an old kernel on this XFS.
  const old = runCli(['check', '--json', '--kernel-release', '4.19.0', images], { env: xenv });
  assert.equal(old.code, 10, old.stdout + old.stderr);
  assert.equal((JSON.parse(old.stdout) as { verdict: string }).verdict, 'affected');
  const threads = runCli(['check', '--json', '--kernel-release', '4.19.0', '--aio', 'threads', images], { env: xenv });
  assert.equal(threads.code, 0, threads.stdout);
  const unknown = runCli(['check', '--json', '--kernel-release', '4.12.14-122.37-default', images], { env: xenv });
  assert.equal(unknown.code, 11, unknown.stdout);
  assert.equal((JSON.parse(unknown.stdout) as { verdict: string }).verdict, 'unknown');
});

test('selftest on tmpfs: ZERO_RANGE unsupported, reported as data', (t) => {
  const dir = tmpfsOrSkip(t);
  if (dir === null) return;
  const r = runCli(['selftest', '--json', '--engine', 'aio', '--budget-ms', '2000', dir], { env });
  const report = JSON.parse(r.stdout) as { runs: { mode: string; outcome: string; reason: { errno: string } | null }[] };
  const zero = report.runs.find((x) => x.mode === 'zero-range');
  assert.equal(zero?.outcome, 'unsupported');
  assert.equal(zero?.reason?.errno, 'EOPNOTSUPP');
  assert.notEqual(r.code, 10);
  const check = runCli(['check', '--json', dir], { env });
  assert.equal(check.code, 0);
  assert.equal((JSON.parse(check.stdout) as { verdict: string }).verdict, 'not_affected');
});

test('what-if kernel releases on a real XFS: verdicts and exit codes from the knowledge base', (t) => {
  const m = loopFsOrSkip(t);
  if (m === null) return;
  const table: [string, string, number][] = [
    ['5.4.68', 'affected', 10],
    ['5.4.69', 'fixed', 0],
    ['5.5.0-rc1', 'fixed', 0],
    ['4.19.0-0.bpo.9-amd64', 'affected', 10],
    ['3.10.0-1160.el7.x86_64', 'fixed', 0],
    ['3.10.0-1127.el7.x86_64', 'affected', 10],
    ['4.18.0-193.28.1.el8_2.x86_64', 'fixed', 0],
    ['5.14.0-70.13.1.el9_0.x86_64', 'fixed', 0],
    ['5.4.0-42-generic', 'affected', 10],
    ['5.4.0-55-generic', 'fixed', 0],
    ['5.4.0-1036-azure', 'unknown', 11],
    ['4.12.14-122.37-default', 'unknown', 11],
    // fixed by version only is a belief, and a belief never turns the workaround off: only a clean
    // self-test on the running kernel could (issue 10)
    ['6.1.192-xfsrace', 'unknown', 11],
    ['3.14.79', 'unknown', 11],
    ['3.10.0-123.el7.x86_64', 'not_affected', 0],
  ];
  for (const [release, verdict, code] of table) {
    const r = runCli(['check', '--json', '--selftest', 'never', '--kernel-release', release, m.mountPoint], { env });
    assert.equal(r.code, code, `${release}: ${r.stderr}`);
    const d = JSON.parse(r.stdout) as { verdict: string; reasons: { code: string }[]; provenance: { knowledge_base_revision: string } };
    assert.equal(d.verdict, verdict, release);
    assert.ok(d.reasons.some((x) => x.code === 'kernel_what_if'), `${release}: the answer says it is a what-if`);
    assert.match(d.provenance.knowledge_base_revision, /\S/);
  }
});
