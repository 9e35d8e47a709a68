// The compile cache's directory (service/cli/compile-cache.ts) holds code the CLI will run: it is
// used only when it is a real directory of this user's that nobody else can write to.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { privateCacheDir } from '../service/cli/compile-cache.js';
import { CLI } from './helpers/run-cli.js';

const root = mkdtempSync(path.join('/var/tmp', 'xfsguard-ccache-'));
after(() => rmSync(root, { recursive: true, force: true }));
const uid = process.getuid!();

test('made 0700 when absent, then used', () => {
  const dir = privateCacheDir(root, uid);
  assert.equal(dir, path.join(root, `xfsguard-compile-cache-${uid}`));
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(privateCacheDir(root, uid), dir);
});

test('refused: a symlink, a directory others may write to, one of another user, a file', (t) => {
  const other = mkdtempSync(path.join(root, 'o-'));
  symlinkSync(mkdtempSync(path.join(root, 'target-')), path.join(other, `xfsguard-compile-cache-${uid}`));
  assert.equal(privateCacheDir(other, uid), null, 'symlink');

  const open = mkdtempSync(path.join(root, 'w-'));
  mkdirSync(path.join(open, `xfsguard-compile-cache-${uid}`), { mode: 0o700 });
  chmodSync(path.join(open, `xfsguard-compile-cache-${uid}`), 0o777);
  assert.equal(privateCacheDir(open, uid), null, 'world-writable');

  assert.equal(privateCacheDir(path.join(root, 'no', 'such'), uid), null, 'unreachable root');
  if (uid !== 0) {
    t.diagnostic('not root: the owner check is covered by the mode checks only');
    return;
  }
  const foreign = mkdtempSync(path.join(root, 'u-'));
  mkdirSync(path.join(foreign, `xfsguard-compile-cache-${uid}`), { mode: 0o700 });
  chownSync(path.join(foreign, `xfsguard-compile-cache-${uid}`), 65534, 65534);
  assert.equal(privateCacheDir(foreign, uid), null, 'owned by nobody');
});

test('a compile cache Node cannot use (NODE_COMPILE_CACHE under a file) changes nothing in the answer', () => {
  // on Node >= 22 the cache is then off or failed; on Node 20 there is none: the same answer either way
  const env = { ...process.env, XFSGUARD_STATE_DIR: mkdtempSync(path.join(root, 's-')), NODE_COMPILE_CACHE: '/dev/null/x' };
  const r = spawnSync(process.execPath, [CLI, 'check', '--selftest', 'never', '--json', root], { env, encoding: 'utf8', timeout: 60_000 });
  assert.ok([0, 10, 11].includes(r.status ?? -1), r.stderr);
  assert.equal(r.stderr, '');
  assert.equal((JSON.parse(r.stdout) as { path: string }).path, root);
});
