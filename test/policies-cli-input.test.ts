// Bad input at the CLI edge of the policy engine (issue 8 item 6): one clear line and exit 2, or an
// unknown answer — never "internal error" (exit 1). Runs the built CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decide } from '../policies/decide.js';
import { parseKernelRelease } from '../policies/kernel-release.js';
import { runCli } from './helpers/run-cli.js';
import { input } from './policies-fixtures.js';

const dir = mkdtempSync(path.join(tmpdir(), 'xfsguard-policies-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { XFSGUARD_STATE_DIR: path.join(dir, 'state'), XFSGUARD_POLICY: '' };

describe('policy file with a duplicate key', () => {
  test('check refuses it: exit 2, one line naming the key', () => {
    const file = path.join(dir, 'dup.json');
    writeFileSync(file, '{"allowed_roots":["/x"],"allowed_roots":["/"]}');
    const r = runCli(['check', '--selftest', 'never', '--policy', file, dir], { env });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /duplicate key "allowed_roots"/);
  });
});

describe('a kernel release with an absurdly long version number', () => {
  const release = `5.4.${'9'.repeat(150)}`;
  test('--kernel-release: exit 2 with one line, never internal error', () => {
    for (const cmd of ['check', 'explain']) {
      const r = runCli([cmd, '--selftest', 'never', '--kernel-release', release, dir], { env });
      assert.equal(r.code, 2, `${cmd}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
  });
  test('the engine itself answers unknown (the HTTP API reaches it without the CLI check)', () => {
    assert.equal(parseKernelRelease(release).stream, 'unknown');
    const d = decide(input({ kernel_release_override: release }));
    assert.equal(d.verdict, 'unknown');
    assert.equal(d.enable_workaround, true);
    assert.equal(decide(input({ kernel_release_override: `5.5.0-rc${'9'.repeat(150)}` })).enable_workaround, true);
  });
});
