// Issue 8.5 and 8.6: special files where the CLI expects a small regular file or a state directory.
// A FIFO, /dev/zero or /dev/urandom named by --policy, a FIFO in place of a cached self-test record,
// --state-dir under /proc, and a state directory on a read-only filesystem: each answered at once
// with one clear line, never a hang, a spin or a wrong errno. Each spawn has a time limit, so a
// regression fails instead of hanging the suite.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FileTooLargeError, NotRegularFileError, readRegularFile, readRegularFileSync } from '../probes/regular-file.js';
import { StateDirError, checkStateDirSync, ensureDirectory } from '../probes/state-dir.js';
import { runCli, type CliResult } from './helpers/run-cli.js';
import { loopFsOrSkip, tmpfsOrSkip } from './helpers/scratch-fs.js';

const LIMIT_MS = 15_000;

const work = mkdtempSync(path.join('/var/tmp', 'xfsguard-security-files-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const fifo = path.join(work, 'fifo');
execFileSync('mkfifo', [fifo]);
const big = path.join(work, 'big.json');
writeFileSync(big, `{"mode":"conservative"${' '.repeat(2 * 1024 * 1024)}}`);
const state = path.join(work, 'state');

function assertOneLineUsage(r: CliResult, pattern: RegExp, what: string): void {
  assert.notEqual(r.code, null, `${what}: still running after ${LIMIT_MS} ms (killed)`);
  assert.equal(r.code, 2, `${what}: exit 2 expected, got ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${what}: one line: ${r.stderr}`);
  assert.match(r.stderr, pattern, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}

test('--policy naming a FIFO, /dev/zero, /dev/urandom, a directory or a huge file: exit 2 at once', () => {
  for (const [file, why] of [
    [fifo, /a FIFO, not a regular file/],
    ['/dev/zero', /a character device, not a regular file/],
    ['/dev/urandom', /a character device, not a regular file/],
    [work, /a directory, not a regular file/],
    [big, /larger than 1048576 bytes/],
  ] as const) {
    const r = runCli(['check', work, '--selftest', 'never', '--policy', file, '--state-dir', state], { timeout: LIMIT_MS });
    assertOneLineUsage(r, why, file);
    assert.ok(r.ms < LIMIT_MS / 2, `${file}: answered in ${Math.round(r.ms)} ms`);
  }
  // the same through the environment variable
  const viaEnv = runCli(['check', work, '--selftest', 'never', '--state-dir', state], { timeout: LIMIT_MS, env: { XFSGUARD_POLICY: fifo } });
  assertOneLineUsage(viaEnv, /a FIFO/, 'XFSGUARD_POLICY=fifo');
});

test('--state-dir under /proc or /sys: exit 2 at once, before any self-test', () => {
  for (const [dir, why] of [
    ['/proc/xg', /on proc, a pseudo filesystem/],
    ['/sys/xg/state', /on sysfs, a pseudo filesystem/],
  ] as const) {
    const r = runCli(['check', work, '--state-dir', dir], { timeout: LIMIT_MS });
    assertOneLineUsage(r, why, dir);
  }
});

test('a self-test on XFS with --state-dir /proc/xg is refused, not a 100 % CPU spin in mkdir', (t) => {
  const xfs = loopFsOrSkip(t);
  if (xfs === null) return;
  const r = runCli(['check', xfs.mountPoint, '--budget-ms', '500', '--state-dir', '/proc/xg'], { timeout: LIMIT_MS });
  assertOneLineUsage(r, /pseudo filesystem/, '/proc/xg');
});

test('a FIFO in place of the cached self-test record is ignored with a warning, not waited for', (t) => {
  const xfs = loopFsOrSkip(t);
  if (xfs === null) return;
  const dir = path.join(work, 'fifo-state');
  mkdirSync(dir);
  const device = execFileSync('mountpoint', ['-d', xfs.mountPoint], { encoding: 'utf8' }).trim();
  execFileSync('mkfifo', [path.join(dir, `selftest-${device.replace(':', '-')}.json`)]);
  const r = runCli(['check', xfs.mountPoint, '--selftest', 'never', '--state-dir', dir], { timeout: LIMIT_MS });
  assert.notEqual(r.code, null, `still running after ${LIMIT_MS} ms`);
  assert.ok(r.code === 0 || r.code === 10 || r.code === 11, `a decision, exit ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /cannot read .*selftest-.*\.json: ENOTREG; ignoring it/);
});

test('a state directory on a read-only filesystem is reported as EROFS, not ENOENT', async (t) => {
  const ro = tmpfsOrSkip(t, 8);
  if (ro === null) return;
  execFileSync('mount', ['-o', 'remount,ro', ro]);
  await assert.rejects(ensureDirectory(path.join(ro, 'xg', 'deeper')), { code: 'EROFS' });
  const xfs = loopFsOrSkip(t);
  if (xfs === null) return;
  const r = runCli(['check', xfs.mountPoint, '--selftest', 'always', '--budget-ms', '500', '--state-dir', path.join(ro, 'xg')], { timeout: 60_000 });
  assert.ok(r.code === 0 || r.code === 10 || r.code === 11, `a decision, exit ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /could not store the self-test result in .*: EROFS/);
});

test('readRegularFile: regular files only, capped, FIFOs never block', async () => {
  const small = path.join(work, 'small.json');
  writeFileSync(small, '{"a":1}');
  assert.equal(await readRegularFile(small, 100), '{"a":1}');
  assert.equal(readRegularFileSync(small, 100), '{"a":1}');
  assert.equal(await readRegularFile(small, 7), '{"a":1}', 'exactly the cap is fine');
  await assert.rejects(readRegularFile(small, 6), FileTooLargeError);
  assert.throws(() => readRegularFileSync(small, 6), FileTooLargeError);
  for (const special of [fifo, '/dev/zero', '/dev/urandom', work]) {
    await assert.rejects(readRegularFile(special, 100), NotRegularFileError, special);
    assert.throws(() => readRegularFileSync(special, 100), NotRegularFileError, special);
  }
  await assert.rejects(readRegularFile(path.join(work, 'absent'), 100), { code: 'ENOENT' });
});

test('ensureDirectory makes each missing level with the mode; checkStateDirSync refuses pseudo filesystems', async () => {
  const dir = path.join(work, 'made', 'a', 'b');
  await ensureDirectory(dir, 0o750);
  await ensureDirectory(dir, 0o750);
  assert.doesNotThrow(() => checkStateDirSync(dir));
  assert.doesNotThrow(() => checkStateDirSync(path.join(work, 'not', 'yet')));
  await assert.rejects(ensureDirectory('/proc/xg'), StateDirError);
  await assert.rejects(ensureDirectory('/proc/self/xg'), StateDirError);
  assert.throws(() => checkStateDirSync('/proc/xg'), StateDirError);
  assert.throws(() => checkStateDirSync('/dev/shm/xg'), StateDirError);
  await assert.rejects(ensureDirectory(path.join(big, 'x')), { code: 'ENOTDIR' });
});
